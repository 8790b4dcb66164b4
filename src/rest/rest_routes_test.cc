#include "rest/rest_routes.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(RestRoutesTest, MatchesEachRouteAndItsId) {
  std::string id;
  EXPECT_EQ(MatchRoute("/v1/tasks", &id), Route::kTasks);
  EXPECT_EQ(MatchRoute("/v1/tasks/cancel", &id), Route::kCancelAll);
  EXPECT_EQ(MatchRoute("/v1/tasks/bg_1", &id), Route::kTask);
  EXPECT_EQ(id, "bg_1");
  EXPECT_EQ(MatchRoute("/v1/tasks/bg_2/cancel", &id), Route::kTaskCancel);
  EXPECT_EQ(id, "bg_2");
  EXPECT_EQ(MatchRoute("/v1/sessions/ses_1", &id), Route::kSession);
  EXPECT_EQ(id, "ses_1");
  EXPECT_EQ(MatchRoute("/v1/sessions/ses_2/messages", &id), Route::kMessages);
  EXPECT_EQ(id, "ses_2");
  EXPECT_EQ(MatchRoute("/v1/wait", &id), Route::kWait);
  EXPECT_EQ(MatchRoute("/v1/pools", &id), Route::kPools);
  EXPECT_EQ(MatchRoute("/v1/agents", &id), Route::kAgents);
  EXPECT_EQ(MatchRoute("/v1/events", &id), Route::kEvents);
  EXPECT_EQ(MatchRoute("/v1/health", &id), Route::kHealth);
  EXPECT_EQ(MatchRoute("/v1/shutdown", &id), Route::kShutdown);
  EXPECT_EQ(MatchRoute("/metrics", &id), Route::kMetrics);
}

TEST(RestRoutesTest, MatchesTheWorktreeRoutesOfATask) {
  std::string id;
  EXPECT_EQ(MatchRoute("/v1/tasks/bg_3/diff", &id), Route::kTaskDiff);
  EXPECT_EQ(id, "bg_3");
  EXPECT_EQ(MatchRoute("/v1/tasks/bg_4/apply", &id), Route::kTaskApply);
  EXPECT_EQ(id, "bg_4");
  EXPECT_EQ(AllowedMethods(Route::kTaskDiff), (std::vector<std::string>{"GET"}));
  EXPECT_EQ(AllowedMethods(Route::kTaskApply), (std::vector<std::string>{"POST"}));
}

TEST(RestRoutesTest, RefusesUnknownAndMalformedPaths) {
  std::string id;
  for (const char* path :
       {"", "v1/tasks", "/", "/v1", "/v1/", "/v1/tasks/", "/v1//tasks", "/v2/tasks", "/v1/nope",
        "/v1/tasks/a/b", "/v1/sessions/s/x", "/metrics/x"}) {
    EXPECT_EQ(MatchRoute(path, &id), Route::kNone) << path;
  }
}

TEST(RestRoutesTest, ListsTheMethodsOfEachRoute) {
  EXPECT_EQ(AllowedMethods(Route::kTasks), (std::vector<std::string>{"GET", "POST"}));
  EXPECT_EQ(AllowedMethods(Route::kWait), (std::vector<std::string>{"POST"}));
  EXPECT_EQ(AllowedMethods(Route::kTaskCancel), (std::vector<std::string>{"POST"}));
  EXPECT_EQ(AllowedMethods(Route::kTask), (std::vector<std::string>{"GET"}));
  EXPECT_TRUE(AllowedMethods(Route::kNone).empty());
}

}  // namespace
}  // namespace troupe
