// The config's `budgets` reach the engine of the built `troupe serve`: GET /v1/budgets shows the
// configured limits, and the daily budget, once spent by a priced task, refuses the next launch
// over the real socket with the verdict — and still after a restart on the same store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::DaemonHarness;
using testing::Describe;
using ::testing::HasSubstr;
using testing::Reply;

constexpr int kTaskTimeoutMs = 30'000;

class BudgetIntegrationTest : public ::testing::Test {
 protected:
  BudgetIntegrationTest() : h_(TROUPE_BINARY) {
    // $1000 per million tokens: 1000 in + 500 out = $1.50, the whole day's budget.
    h_.WriteConfig(R"({
  "default_model": "mock/scripted",
  "providers": { "mock": { "type": "mock", "script": "latency=0 tps=0" } },
  "prices": { "mock/scripted": { "input": 1000, "output": 1000 } },
  "budgets": { "task_max_tokens": 900000, "tree_max_tasks": 7, "tree_max_running": 2,
               "daily_max_cost_usd": 1.5 },
})");
  }

  json Budgets() {
    Reply r = h_.Unix().Get("/v1/budgets");
    EXPECT_EQ(r.status, 200) << Describe(r);
    return r.Json();
  }

  DaemonHarness h_;
};

TEST_F(BudgetIntegrationTest, TheConfigsBudgetsAreTheEnginesAndTheDailyOneRefusesWork) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  json budgets = Budgets();
  ASSERT_TRUE(budgets.contains("budgets")) << budgets;
  EXPECT_EQ(budgets["budgets"]["task_max_tokens"], 900000);
  EXPECT_EQ(budgets["budgets"]["tree_max_tasks"], 7);
  EXPECT_EQ(budgets["budgets"]["tree_max_running"], 2);
  EXPECT_EQ(budgets["budgets"]["daily_max_cost_usd"], 1.5);
  EXPECT_EQ(budgets["daily_stopped"], "");

  json task = h_.Launch(
      {{"agent", "explore"}, {"prompt", "#mock usage=1000/500 reply=\"spent\"\nSpend it."}});
  ASSERT_TRUE(task.is_object());
  ASSERT_TRUE(h_.WaitAll({task["id"]}, kTaskTimeoutMs));
  json done = h_.GetTask(task["id"]);
  EXPECT_EQ(done.value("state", ""), "completed") << done;

  auto refused = [&] {
    Reply r = h_.Unix().Post(
        "/v1/tasks",
        json{{"agent", "explore"}, {"owner", "it"}, {"prompt", "#mock reply=\"no\"\nMore."}});
    EXPECT_EQ(r.status, 429) << Describe(r);
    EXPECT_THAT(r.body, HasSubstr("daily budget reached: daily_max_cost_usd"));
  };
  refused();
  EXPECT_THAT(Budgets().value("daily_stopped", ""), HasSubstr("daily budget reached"));

  // The spend is in the store: a daemon killed with SIGKILL (nothing flushed on the way out) and
  // started again refuses as well.
  daemon->Signal(SIGKILL);
  (void)daemon->Wait();
  daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  refused();
}

}  // namespace
}  // namespace troupe
