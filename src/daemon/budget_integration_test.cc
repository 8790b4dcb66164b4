// The config's `budgets` reach the engine of the built `troupe serve`: GET /v1/budgets shows the
// configured limits, and the daily budget, once spent by a priced task, refuses the next launch
// over the real socket with the verdict — and still after a restart on the same store.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

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

// A lead on the scripted model fans out more children than its tree may have: the launches past
// the spawn cap are tool errors the model reads; the daemon is killed (SIGKILL) while the
// children run and the lead is in its next turn; after the restart the lead's further
// delegations are refused as well — the tree's count came back from the store, not from zero.
TEST_F(BudgetIntegrationTest, TheSpawnCapHoldsForAScriptedFanOutAcrossAKill) {
  h_.WriteConfig(R"({
  "default_model": "mock/scripted",
  "providers": { "mock": { "type": "mock", "script": "tps=0" } },
  "budgets": { "tree_max_tasks": 4 },
  "background_task": { "defaultConcurrency": 10 },
})");
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  // Turn 1 delegates six children (they think for a minute); turn 2, three seconds later,
  // delegates two more; turn 3 answers.
  std::string lead_prompt = "#mock latency=3s reply=\"fanned out\"";
  auto delegate = [](int turn, int i) {
    return " tool@" + std::to_string(turn) + "=delegate_task:" +
           json{{"description", "child " + std::to_string(i)},
                {"agent", "explore"},
                {"prompt", "#mock latency=60s reply=\"child done\"\nwork " + std::to_string(i)}}
               .dump();
  };
  for (int i = 1; i <= 6; ++i) lead_prompt += delegate(1, i);
  for (int i = 7; i <= 8; ++i) lead_prompt += delegate(2, i);
  json lead = h_.Launch({{"agent", "lead"}, {"prompt", lead_prompt + "\nFan out."}});
  ASSERT_TRUE(lead.is_object());
  const std::string root = lead.value("session_id", "");
  ASSERT_FALSE(root.empty()) << lead;

  auto tree_tasks = [&] { return h_.ListTasks("root=" + root).size(); };
  auto tool_messages = [&] {
    Reply r = h_.Unix().Get("/v1/sessions/" + root + "/messages");
    EXPECT_EQ(r.status, 200) << Describe(r);
    std::vector<std::string> out;
    for (const json& m : r.Json().value("messages", json::array())) {
      if (m.value("role", "") == "tool") out.push_back(m["message"].dump());
    }
    return out;
  };
  // Turn 1's six delegations are answered (four launched, two refused) before turn 2 asks.
  for (int i = 0; i < 400 && tool_messages().size() < 6; ++i) usleep(50'000);
  std::vector<std::string> turn1 = tool_messages();
  ASSERT_EQ(turn1.size(), 6u);
  int refused = 0;
  for (const std::string& m : turn1) {
    if (m.find("spawn cap reached: tree_max_tasks 4") != std::string::npos) ++refused;
  }
  const size_t before_kill = tree_tasks();
  EXPECT_EQ(refused, 2) << json(turn1).dump(2);
  EXPECT_EQ(before_kill, 5u) << "the lead and four children";

  daemon->Signal(SIGKILL);
  (void)daemon->Wait();
  daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  // The lead resumes in turn 2: both of its delegations are refused by the stored count.
  ASSERT_TRUE(h_.WaitAll({lead["id"]}, 60'000));
  std::vector<std::string> all = tool_messages();
  ASSERT_EQ(all.size(), 8u) << json(all).dump(2);
  for (size_t i = 6; i < all.size(); ++i) {
    EXPECT_THAT(all[i], HasSubstr("spawn cap reached: tree_max_tasks 4")) << all[i];
  }
  EXPECT_EQ(tree_tasks(), before_kill) << "no task was launched past the cap after the restart";
  json after = h_.GetTask(lead["id"]);
  EXPECT_EQ(after.value("state", ""), "completed") << after;
  EXPECT_EQ(after.value("attempt", 0), 2) << "the lead was interrupted by the kill and resumed";
  Reply cancel = h_.Unix().Post("/v1/tasks/cancel", json{{"root", root}}.dump());
  EXPECT_EQ(cancel.status, 200) << Describe(cancel);
}

}  // namespace
}  // namespace troupe
