// Spend through the TaskManager: every model request charged to its task, tree and UTC day and
// kept in the store; budgets checked at launch, before a request and after it; all of it across
// a crash.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using testing::TestDir;

// A model request's report, as the agent loop sends it.
ProgressUpdate Request(int64_t input, int64_t output, int64_t cache_write = 0,
                       int64_t cache_read = 0, int64_t reasoning = 0) {
  ProgressUpdate u;
  u.turns = 1;
  u.requests = 1;
  u.input_tokens = input;
  u.output_tokens = output;
  u.cache_write_tokens = cache_write;
  u.cache_read_tokens = cache_read;
  u.reasoning_tokens = reasoning;
  return u;
}

class SpendTest : public EngineTest {
 protected:
  SpendTest() {
    runner_.set_chooser([](const RunRequest&) { return Script{}; });  // runs until told
    options_.limits.default_concurrency = 0;
    // $3 / $15 / $3.75 / $0.30 per million, like Claude Sonnet 4.5.
    options_.prices = PriceTable({{"corp/priced", ModelPrice{3, 15, 3.75, 0.30}}}, false);
  }
  void Start() {
    Build(options_, db_);
    ASSERT_TRUE(manager_->Recover().ok());
  }
  void Crash() {
    manager_.reset();
    store_.reset();
  }
  std::string Child(const std::string& parent_task, const std::string& prompt,
                    const std::string& model = "corp/priced") {
    LaunchRequest r = Req(prompt, model);
    r.parent_session_id = ViewOf(parent_task).task.session_id;
    return LaunchOk(r);
  }
  UsageTotals Usage(const std::string& id) { return UsageOf(ViewOf(id).task); }

  TaskManagerOptions options_;
  TestDir dir_;
  std::string db_ = dir_.File("troupe.db");
};

TEST_F(SpendTest, TaskAndTreeTotalsAreTheSumOfTheirRequestsPricedToTheCent) {
  Start();
  const std::string lead = LaunchOk(Req("lead", "corp/priced"));
  const std::string child = Child(lead, "child");
  const std::string unpriced = Child(lead, "child on a model without a price", "mock/m");
  ASSERT_TRUE(runner_.Progress(lead, Request(100'000, 2'000, 10'000, 50'000, 500)));
  ASSERT_TRUE(runner_.Progress(lead, Request(120'000, 3'000, 0, 110'000)));
  ASSERT_TRUE(runner_.Progress(child, Request(1'000'000, 100'000)));
  ASSERT_TRUE(runner_.Progress(unpriced, Request(7'000, 300)));

  // lead: 40k uncached $0.12 + 10k written $0.0375 + 50k read $0.015 + 2k out $0.03 = $0.2025;
  // then 10k uncached $0.03 + 110k read $0.033 + 3k out $0.045 = $0.108. Total $0.3105.
  UsageTotals lead_usage = Usage(lead);
  EXPECT_EQ(lead_usage, (UsageTotals{2, 220'000, 5'000, 10'000, 160'000, 500, 310'500'000, 0}));
  EXPECT_EQ(FormatCost(lead_usage), "$0.3105");
  // child: $3 + $1.50.
  EXPECT_EQ(FormatCost(Usage(child)), "$4.50");
  EXPECT_EQ(FormatCost(Usage(unpriced)), "cost unknown");
  EXPECT_EQ(Usage(unpriced).tokens(), 7'300);

  // The ledger holds each request; the task row is their sum.
  auto requests = manager_->ModelRequests(lead);
  ASSERT_TRUE(requests.ok());
  ASSERT_EQ(requests->size(), 2u);
  UsageTotals sum;
  for (const ModelRequestRecord& r : *requests) {
    EXPECT_EQ(r.model, "corp/priced");
    EXPECT_EQ(r.agent, "explore");
    sum += r.usage;
  }
  EXPECT_EQ(sum, lead_usage);

  // The tree: all three tasks, cost unknown for one request.
  auto tree = manager_->TreeSpend(ViewOf(lead).task.session_id);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->tasks, 3);
  EXPECT_EQ(tree->delegated, 2);
  EXPECT_EQ(tree->running, 3);
  EXPECT_EQ(tree->usage.requests, 4);
  EXPECT_EQ(tree->usage.cost_nano_usd, 310'500'000 + 4'500'000'000);
  EXPECT_EQ(FormatCost(tree->usage), "≥ $4.81, cost unknown for 1 of 4 requests");
  UsageFilter by_tree;
  by_tree.root_session_id = tree->root_session_id;
  EXPECT_EQ(*store_->SumUsage(by_tree), tree->usage);
  EXPECT_EQ(ViewOf(child).task.root_session_id, tree->root_session_id);
}

TEST_F(SpendTest, ATaskEndsInErrorAtItsTokenBudgetAndItsRunIsStopped) {
  options_.budgets.task_max_tokens = 10'000;
  Start();
  LaunchRequest r = Req("loop forever", "corp/priced");
  r.max_tokens = 50'000;  // a launch cannot raise the config's limit
  const std::string id = LaunchOk(r);
  int requests = 0;
  while (StateOf(id) == TaskState::kRunning && requests < 100) {
    ASSERT_TRUE(runner_.AdmitRequest(id, 2'000).ok());  // no output asked: the prompt alone
    runner_.Progress(id, Request(2'000, 500));
    ++requests;
  }
  EXPECT_EQ(requests, 4);  // 4 x 2,500 = 10,000 tokens
  TaskView v = ViewOf(id);
  EXPECT_EQ(v.task.state, TaskState::kError);
  EXPECT_EQ(v.task.error,
            "task budget reached: max_tokens 10000, spent 10000 tokens (8000 in, 2000 out) in 4 "
            "requests");
  EXPECT_EQ(runner_.cancelled().count(id), 1u);
  CheckInvariants();
}

TEST_F(SpendTest, TheNextRequestIsRefusedBeforeItIsSentWhenItsPromptPassesTheBudget) {
  Start();
  LaunchRequest r = Req("costly", "corp/priced");
  r.max_cost_usd = 1.0;
  const std::string id = LaunchOk(r);
  runner_.Progress(id, Request(200'000, 10'000));          // $0.60 + $0.15
  EXPECT_TRUE(runner_.AdmitRequest(id, 80'000).ok());      // + at least $0.24 < $1
  Result<int> refused = runner_.AdmitRequest(id, 90'000);  // + at least $0.27
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refused.status().message(),
            "task budget would be passed by the next model request: max_cost_usd $1.00, spent "
            "$0.7500 in 1 request, and the next request's prompt costs about $0.2700, leaving "
            "$0.00 — room for 0 output tokens (fewer than 256, the smallest reply worth asking "
            "for)");
}

TEST_F(SpendTest, TheNextRequestsOutputIsPricedAndLoweredToWhatTheBudgetLeaves) {
  Start();
  LaunchRequest r = Req("costly", "corp/priced");
  r.max_cost_usd = 1.0;
  const std::string id = LaunchOk(r);
  runner_.Progress(id, Request(200'000, 10'000));  // $0.75 spent
  // A 50k-token prompt costs $0.15: the $0.10 left pays for 6,666 output tokens at $15/M.
  Result<int> lowered = runner_.AdmitRequest(id, 50'000, 32'000);
  ASSERT_TRUE(lowered.ok()) << lowered.status().ToString();
  EXPECT_EQ(*lowered, 6'666);
  Result<int> as_asked = runner_.AdmitRequest(id, 50'000, 4'000);
  ASSERT_TRUE(as_asked.ok());
  EXPECT_EQ(*as_asked, 4'000);
  // $0.004 left after an 82k prompt: 266 tokens, still a reply; at 82.5k, 166: refused.
  EXPECT_EQ(*runner_.AdmitRequest(id, 82'000, 8'192), 266);
  Result<int> refused = runner_.AdmitRequest(id, 82'500, 8'192);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.status().message(), HasSubstr("room for 166 output tokens"));
}

TEST_F(SpendTest, ACostBudgetRefusesAModelWithoutAPriceNamingTheBudgetAndTheModel) {
  options_.budgets.tree_max_cost_usd = 10.0;
  Start();
  // The tree's budget applies to every task of it.
  Result<TaskView> tree = manager_->Launch(Req("free", "corp/unpriced"));
  ASSERT_FALSE(tree.ok());
  EXPECT_EQ(tree.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(tree.status().field(), "model");
  EXPECT_EQ(tree.status().message(),
            "model corp/unpriced has no price, so the cost budget tree_max_cost_usd $10.00 could "
            "not count what it spends; add its price under \"prices\" in the config "
            "(docs/CONFIG.md \"Prices\"), or set budgets.allow_unpriced_models to true to run "
            "unpriced models with only their token budgets enforced");
  // The task's own budget is named first.
  LaunchRequest own = Req("free", "corp/unpriced");
  own.max_cost_usd = 2.0;
  Result<TaskView> task = manager_->Launch(own);
  ASSERT_FALSE(task.ok());
  EXPECT_THAT(task.status().message(), HasSubstr("the cost budget task max_cost_usd $2.00"));
  // A priced model runs; a token budget alone does not need a price.
  EXPECT_FALSE(LaunchOk(Req("priced", "corp/priced")).empty());
  // So is the launch's model list checked, each model of it: a fallback onto an unpriced model
  // would only end the task later.
  LaunchRequest listed = Req("listed", "corp/priced");
  listed.fallback_models = {"corp/unpriced"};
  Result<TaskView> list = manager_->Launch(listed);
  ASSERT_FALSE(list.ok());
  EXPECT_EQ(list.status().field(), "model");
  EXPECT_THAT(list.status().message(),
              HasSubstr("model corp/unpriced has no price, so the cost budget tree_max_cost_usd"));
}

TEST_F(SpendTest, TheDailyBudgetRefusesUnpricedModelsUnlessTheConfigAllowsThem) {
  options_.budgets.daily_max_cost_usd = 5.0;
  Start();
  Result<TaskView> refused = manager_->Launch(Req("free", "corp/unpriced"));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("model corp/unpriced has no price, so the cost budget daily_max_cost_usd "
                        "$5.00 could not count what it spends"));

  Crash();
  options_.budgets.allow_unpriced_models = true;
  Start();
  const std::string id = LaunchOk(Req("free", "corp/unpriced"));
  Result<int> admitted = runner_.AdmitRequest(id, 1'000'000, 8'192);  // not priced: not counted
  ASSERT_TRUE(admitted.ok()) << admitted.status().ToString();
  EXPECT_EQ(*admitted, 8'192);
}

TEST_F(SpendTest, ARequestOnAnUnpricedFallbackModelIsRefusedBeforeItIsSent) {
  Start();
  LaunchRequest r = Req("costly", "corp/priced");
  r.max_cost_usd = 1.0;
  const std::string id = LaunchOk(r);
  RunOutcome failed = RunOutcome::Failed("529 overloaded");
  failed.fallback_model = "corp/unpriced";
  ASSERT_TRUE(runner_.Finish(id, failed));
  ASSERT_EQ(StateOf(id), TaskState::kRunning);  // the next attempt, on the fallback model
  Result<int> refused = runner_.AdmitRequest(id, 10, 8'192);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(),
              HasSubstr("model corp/unpriced has no price, so the cost budget task max_cost_usd "
                        "$1.00"));
}

TEST_F(SpendTest, AChildCanOnlyNarrowItsParentsBudget) {
  Start();
  LaunchRequest lead_request = Req("lead", "corp/priced");
  lead_request.max_tokens = 1'000;
  const std::string lead = LaunchOk(lead_request);
  LaunchRequest wide = Req("wide child", "corp/priced");
  wide.parent_session_id = ViewOf(lead).task.session_id;
  wide.max_tokens = 1'000'000;
  const std::string child = LaunchOk(wide);
  runner_.Progress(child, Request(900, 100));
  EXPECT_EQ(StateOf(child), TaskState::kError);
  EXPECT_NE(ViewOf(child).task.error.find("max_tokens 1000,"), std::string::npos);
}

TEST_F(SpendTest, AFanOutStopsAtTheSpawnCapWithARefusalThatSaysWhy) {
  Start();  // the default cap: 50 tasks under a root
  const std::string lead = LaunchOk(Req("fan out", "corp/priced"));
  const std::string root = ViewOf(lead).task.session_id;
  int launched = 0;
  std::vector<Status> refusals;
  for (int i = 0; i < 1000; ++i) {
    LaunchRequest r = Req("child " + std::to_string(i), "corp/priced");
    r.parent_session_id = root;
    Result<TaskView> v = manager_->Launch(r);
    if (v.ok()) {
      ++launched;
    } else {
      refusals.push_back(v.status());
    }
  }
  EXPECT_EQ(launched, 50);
  ASSERT_EQ(refusals.size(), 950u);
  EXPECT_EQ(refusals[0].code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(refusals[0].message(),
            "spawn cap reached: tree_max_tasks 50 for the tree of session " + root +
                ", and 50 tasks were already launched in it; no more tasks can be started in "
                "this tree — finish the work with the results you have");
  TaskFilter in_tree;
  in_tree.root_session_id = root;
  EXPECT_EQ(store_->ListTasks(in_tree)->size(), 51u);
  auto tree = manager_->TreeSpend(root);
  EXPECT_EQ(tree->tasks, 51);
  EXPECT_EQ(tree->delegated, 50);
  // Another tree has its own cap.
  EXPECT_FALSE(LaunchOk(Req("another lead", "corp/priced")).empty());
}

TEST_F(SpendTest, ATreeOverItsCostBudgetCancelsItsRunningTasksAndFreesTheirSlots) {
  options_.limits.default_concurrency = 3;
  Start();
  LaunchRequest lead_request = Req("lead", "corp/priced");
  lead_request.tree_max_cost_usd = 5.0;
  const std::string lead = LaunchOk(lead_request);
  const std::string a = Child(lead, "a");
  const std::string b = Child(lead, "b");
  const std::string queued = Child(lead, "queued");  // the pool holds 3
  const std::string other = LaunchOk(Req("another tree", "corp/priced"));
  EXPECT_EQ(StateOf(queued), TaskState::kPending);
  runner_.Progress(a, Request(1'000'000, 0));  // $3
  EXPECT_EQ(StateOf(a), TaskState::kRunning);
  runner_.Progress(b, Request(700'000, 0));  // $2.10: the tree has spent $5.10
  const std::string verdict =
      "tree budget reached: tree_max_cost_usd $5.00 for the tree of session " +
      ViewOf(lead).task.session_id + ", spent $5.10 by its 4 tasks";
  EXPECT_EQ(ViewOf(b).task.state, TaskState::kError);
  EXPECT_EQ(ViewOf(b).task.error, verdict);
  for (const std::string& id : {lead, a, queued}) {
    EXPECT_EQ(StateOf(id), TaskState::kCancelled) << id;
    EXPECT_EQ(ViewOf(id).task.error, verdict) << id;
  }
  // Their slots went to the other tree's work; the tree launches nothing more.
  EXPECT_EQ(StateOf(other), TaskState::kRunning);
  EXPECT_EQ(manager_->active_tasks(), 1u);
  CheckInvariants();
  LaunchRequest more = Req("more", "corp/priced");
  more.session_id = ViewOf(lead).task.session_id;
  Result<TaskView> refused = manager_->Launch(more);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), verdict + "; no more tasks can be started in it");
}

TEST_F(SpendTest, ATreeIsHeldOnlyWhileItWorksAndReadBackWholeWhenItWorksAgain) {
  options_.limits.default_concurrency = 4;
  options_.budgets.tree_max_tasks = 2;
  Start();
  // Many finished trees leave nothing behind in memory.
  for (int i = 0; i < 20; ++i) {
    const std::string id = LaunchOk(Req("one-off " + std::to_string(i), "corp/priced"));
    ASSERT_TRUE(runner_.Progress(id, Request(1'000, 10)));
    ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("ok")));
  }
  EXPECT_EQ(manager_->cached_trees(), 0u);

  // A tree at work is held; once its last task ends it is let go.
  const std::string lead = LaunchOk(Req("lead", "corp/priced"));
  const std::string child = Child(lead, "child");
  ASSERT_TRUE(runner_.Progress(child, Request(1'000'000, 0)));  // $3
  EXPECT_EQ(manager_->cached_trees(), 1u);
  ASSERT_TRUE(runner_.Finish(child, RunOutcome::Completed("found")));
  EXPECT_EQ(manager_->cached_trees(), 1u);  // the lead still runs
  ASSERT_TRUE(runner_.Finish(lead, RunOutcome::Completed("done")));
  EXPECT_EQ(manager_->cached_trees(), 0u);

  // Reading its spend does not keep it either, and the figures come back from the store.
  const std::string root = ViewOf(lead).task.session_id;
  auto tree = manager_->TreeSpend(root);
  ASSERT_TRUE(tree.ok()) << tree.status().ToString();
  EXPECT_EQ(tree->tasks, 2);
  EXPECT_EQ(tree->delegated, 1);
  EXPECT_EQ(tree->usage.cost_nano_usd, 3'000'000'000);
  EXPECT_EQ(manager_->cached_trees(), 0u);

  // Continued, the tree works again with what it had: one more child fits under the spawn cap
  // of 2 delegated tasks, the next is refused.
  LaunchRequest again = Req("again", "corp/priced");
  again.session_id = root;
  const std::string continued = LaunchOk(again);
  const std::string second = Child(continued, "second child");
  LaunchRequest third = Req("third child", "corp/priced");
  third.parent_session_id = root;
  Result<TaskView> refused = manager_->Launch(third);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(manager_->TreeSpend(root)->usage.cost_nano_usd, 3'000'000'000);
  EXPECT_EQ(manager_->cached_trees(), 1u);
  ASSERT_TRUE(runner_.Finish(second, RunOutcome::Completed("ok")));
  ASSERT_TRUE(runner_.Finish(continued, RunOutcome::Completed("ok")));
  EXPECT_EQ(manager_->cached_trees(), 0u);
  CheckInvariants();
}

TEST_F(SpendTest, TheDailyBudgetRefusesNewWorkUntilTheUtcDayRolls) {
  options_.budgets.daily_max_cost_usd = 2.0;
  Start();
  const int64_t midnight = UtcDayStartMs(clock_.WallMs()) + kDayMs;
  clock_.AdvanceMs(midnight - clock_.WallMs() - 60'000);  // 23:59 UTC
  const std::string id = LaunchOk(Req("spend", "corp/priced"));
  runner_.Progress(id, Request(700'000, 0));  // $2.10
  Status next = runner_.AdmitRequest(id, 10).status();
  EXPECT_EQ(next.code(), StatusCode::kResourceExhausted);
  const std::string day = UtcDay(clock_.WallMs());
  EXPECT_EQ(next.message(), "daily budget reached: daily_max_cost_usd $2.00, spent $2.10 on " +
                                day + " (UTC); new work is refused until 00:00 UTC");
  Result<TaskView> refused = manager_->Launch(Req("more", "corp/priced"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().message(), next.message());
  EXPECT_EQ(refused.status().field(), "budget");
  clock_.AdvanceMs(60'000);  // 00:00 UTC
  EXPECT_TRUE(runner_.AdmitRequest(id, 10).ok());
  EXPECT_FALSE(LaunchOk(Req("tomorrow", "corp/priced")).empty());
  auto spend = manager_->Spend();
  ASSERT_TRUE(spend.ok());
  EXPECT_EQ(spend->today.cost_nano_usd, 0);
  EXPECT_NE(spend->day, day);
}

TEST_F(SpendTest, SpendAndCapsSurviveACrash) {
  options_.budgets.daily_max_cost_usd = 10.0;
  Start();
  LaunchRequest lead_request = Req("lead", "corp/priced");
  lead_request.tree_max_tasks = 2;
  lead_request.max_tokens = 3'000'000;
  const std::string lead = LaunchOk(lead_request);
  const std::string root = ViewOf(lead).task.session_id;
  const std::string a = Child(lead, "a");
  runner_.Progress(lead, Request(1'000'000, 0));  // $3
  runner_.Progress(a, Request(1'000'000, 0));     // $3
  Crash();  // nothing more is written: the spend must already be on disk

  Start();
  EXPECT_EQ(Usage(lead).cost_nano_usd, 3'000'000'000);
  EXPECT_EQ(Usage(a).cost_nano_usd, 3'000'000'000);
  auto tree = manager_->TreeSpend(root);
  ASSERT_TRUE(tree.ok());
  EXPECT_EQ(tree->usage.cost_nano_usd, 6'000'000'000);
  EXPECT_EQ(tree->budget.max_tasks, 2);
  // The tree's cap and the daily spend came back from the store.
  EXPECT_FALSE(Child(lead, "b").empty());
  LaunchRequest c = Req("c", "corp/priced");
  c.parent_session_id = root;
  EXPECT_NE(manager_->Launch(c).status().message().find("spawn cap reached: tree_max_tasks 2"),
            std::string::npos);
  auto spend = manager_->Spend();
  ASSERT_TRUE(spend.ok());
  EXPECT_EQ(spend->today.cost_nano_usd, 6'000'000'000);
  // The resumed lead keeps its budget: 2,000,000 more tokens pass its 3,000,000.
  ASSERT_EQ(StateOf(lead), TaskState::kRunning);
  runner_.Progress(lead, Request(1'000'000, 1'000'000));
  EXPECT_EQ(StateOf(lead), TaskState::kError);
  EXPECT_NE(ViewOf(lead).task.error.find("max_tokens 3000000"), std::string::npos);
}

}  // namespace
}  // namespace troupe
