#include "daemon/dashboard_listener.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(DashboardStateTest, RoundTripsThePort) {
  EXPECT_EQ(ParseDashboardState(DashboardStateJson(43210)), 43210);
}

TEST(DashboardStateTest, RefusesWhatIsNotAPort) {
  for (const char* text : {"", "{}", "[]", "{\"port\": \"1\"}", "{\"port\": 0}",
                           "{\"port\": 65536}", "{\"port\": -1}", "{\"port\": 1.5}", "nope"}) {
    EXPECT_EQ(ParseDashboardState(text), std::nullopt) << text;
  }
}

}  // namespace
}  // namespace troupe
