#include "engine/task_manager.h"

#include <gtest/gtest.h>

#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using State = TaskState;

class TaskManagerTest : public EngineTest {};

TEST_F(TaskManagerTest, LaunchRunsToCompletionAndPersistsEveryTransition) {
  runner_.set_chooser([](const RunRequest&) { return Working(2, 100, "found src/auth.cc:12"); });
  Build();
  auto v = manager_->Launch(Req("find auth"));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->task.state, State::kRunning);
  EXPECT_TRUE(IsWellFormedId(v->task.id, "bg_"));
  EXPECT_TRUE(IsWellFormedId(v->task.session_id, "ses_"));
  EXPECT_EQ(v->task.attempt, 1);
  EXPECT_EQ(v->pool, "default:mock/m");
  const std::string id = v->task.id;

  clock_.AdvanceMs(200);
  TaskView mid = ViewOf(id);
  EXPECT_EQ(mid.task.turns, 2);
  EXPECT_EQ(mid.task.last_tool, "grep");
  EXPECT_EQ(mid.task.output_tokens, 20);
  clock_.AdvanceMs(100);

  TaskView done = ViewOf(id);
  EXPECT_EQ(done.task.state, State::kCompleted);
  EXPECT_EQ(done.task.result, "found src/auth.cc:12");
  EXPECT_EQ(done.task.finished_at_ms - done.task.started_at_ms, 300);
  EXPECT_EQ(manager_->active_tasks(), 0u);

  // What the store holds is what the manager said.
  auto stored = store_->GetTask(id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->state, State::kCompleted);
  EXPECT_EQ((*stored)->result, "found src/auth.cc:12");
  EXPECT_EQ((*stored)->turns, 2);
  auto attempts = store_->ListAttempts(id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].outcome, "completed");
  auto messages = store_->ListMessages(v->task.session_id);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 1u);
  EXPECT_EQ((*messages)[0].role, "user");
  EXPECT_NE((*messages)[0].content.find("find auth"), std::string::npos);

  // Durable state events pending -> running -> completed, with increasing ids; progress between.
  std::vector<State> states;
  int64_t last_id = 0;
  int progress = 0;
  for (const auto& e : events_) {
    if (e.kind == EngineEvent::Kind::kProgress) {
      ++progress;
      EXPECT_EQ(e.id, 0);
      continue;
    }
    EXPECT_GT(e.id, last_id);
    last_id = e.id;
    states.push_back(e.to);
  }
  EXPECT_EQ(states, (std::vector<State>{State::kPending, State::kRunning, State::kCompleted}));
  EXPECT_EQ(progress, 2);
  auto log = store_->ListEvents(0);
  ASSERT_TRUE(log.ok());
  EXPECT_EQ(log->size(), 3u);
}

TEST_F(TaskManagerTest, FinalStateWritesOneOutboxRowForTheParentClaimedOnce) {
  runner_.set_chooser([](const RunRequest& r) {
    if (r.prompt == "fail") return Script{ScriptStep::Fail(10, "provider said no")};
    return Script{ScriptStep::Complete(10, "fine")};
  });
  Build();
  const std::string a = LaunchOk(Req("ok"));
  const std::string b = LaunchOk(Req("fail"));
  clock_.AdvanceMs(10);
  EXPECT_EQ(StateOf(a), State::kCompleted);
  EXPECT_EQ(StateOf(b), State::kError);
  EXPECT_EQ(ViewOf(b).task.error, "provider said no");

  auto claimed = manager_->ClaimNotifications("test");
  ASSERT_TRUE(claimed.ok());
  ASSERT_EQ(claimed->size(), 2u);
  EXPECT_EQ((*claimed)[0].task_id, a);
  EXPECT_EQ((*claimed)[0].state, "completed");
  EXPECT_EQ((*claimed)[1].state, "error");
  EXPECT_NE((*claimed)[1].summary.find("provider said no"), std::string::npos);
  auto again = manager_->ClaimNotifications("test");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->empty());
}

TEST_F(TaskManagerTest, PendingTaskShowsItsPoolPositionAndReasonThenStartsWhenASlotFrees) {
  TaskManagerOptions o;
  o.limits.model_concurrency = {{"mock/m", 1}};
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(1000, "x")}; });
  Build(o);
  const std::string a = LaunchOk(Req("a"));
  auto b = manager_->Launch(Req("b"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->task.state, State::kPending);
  EXPECT_EQ(b->queue_position, 1);
  EXPECT_EQ(b->pool, "model:mock/m");
  EXPECT_EQ(b->waiting_reason, "pool model:mock/m full (1/1 running), position 1");
  clock_.AdvanceMs(1000);
  EXPECT_EQ(StateOf(a), State::kCompleted);
  EXPECT_EQ(StateOf(b->task.id), State::kRunning);
  // The hand-off happened at the same instant the first task finished.
  EXPECT_EQ(ViewOf(b->task.id).task.started_at_ms, ViewOf(a).task.finished_at_ms);
  CheckInvariants();
}

TEST_F(TaskManagerTest, CancelledPendingTaskNeverStarts) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(100, "x")}; });
  Build(o);
  const std::string a = LaunchOk(Req("a"));
  const std::string b = LaunchOk(Req("b"));
  const std::string c = LaunchOk(Req("c"));
  auto cancelled = manager_->Cancel(b);
  ASSERT_TRUE(cancelled.ok());
  EXPECT_EQ(cancelled->task.state, State::kCancelled);
  EXPECT_EQ(cancelled->task.started_at_ms, 0);
  clock_.AdvanceMs(1000);
  EXPECT_EQ(StateOf(a), State::kCompleted);
  EXPECT_EQ(StateOf(c), State::kCompleted);
  for (const auto& r : runner_.requests()) EXPECT_NE(r.task_id, b);
  EXPECT_EQ(runner_.started(), 2u);
  // Cancel is idempotent on a final task.
  auto again = manager_->Cancel(b);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->task.state, State::kCancelled);
  EXPECT_EQ(manager_->Cancel("bg_nope").status().code(), StatusCode::kNotFound);
}

TEST_F(TaskManagerTest, CancelRunningAbortsTheRunBeforeTheSlotGoesToTheNextTask) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });  // hangs until told
  Build(o);
  const std::string a = LaunchOk(Req("a"));
  const std::string b = LaunchOk(Req("b"));
  bool a_was_cancelled_when_b_started = false;
  manager_->events().Subscribe([&](const EngineEvent& e) {
    if (e.task->id == b && e.task->state == State::kRunning) {
      a_was_cancelled_when_b_started = runner_.cancelled().count(a) == 1;
    }
  });
  ASSERT_TRUE(manager_->Cancel(a, "user changed their mind").ok());
  EXPECT_TRUE(a_was_cancelled_when_b_started);
  EXPECT_EQ(ViewOf(a).task.error, "user changed their mind");
  EXPECT_EQ(StateOf(b), State::kRunning);
  // A late finish from the cancelled run is ignored.
  EXPECT_FALSE(runner_.Finish(a, RunOutcome::Completed("too late")));
  EXPECT_EQ(StateOf(a), State::kCancelled);
  CheckInvariants();
}

TEST_F(TaskManagerTest, CancelCascadesToTasksTheSessionDelegatedRecursively) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build();
  auto lead = manager_->Launch(Req("lead"));
  ASSERT_TRUE(lead.ok());
  LaunchRequest child = Req("child");
  child.parent_session_id = lead->task.session_id;
  auto c1 = manager_->Launch(child);
  ASSERT_TRUE(c1.ok());
  EXPECT_EQ(c1->task.depth, 1);
  LaunchRequest grandchild = Req("grandchild");
  grandchild.parent_session_id = c1->task.session_id;
  auto g = manager_->Launch(grandchild);
  ASSERT_TRUE(g.ok());
  const std::string unrelated = LaunchOk(Req("other"));

  ASSERT_TRUE(manager_->Cancel(lead->task.id).ok());
  EXPECT_EQ(StateOf(lead->task.id), State::kCancelled);
  EXPECT_EQ(StateOf(c1->task.id), State::kCancelled);
  EXPECT_EQ(StateOf(g->task.id), State::kCancelled);
  EXPECT_EQ(StateOf(unrelated), State::kRunning);
  // The child's notification is addressed to the lead's session.
  auto n = manager_->ClaimNotifications(lead->task.session_id);
  ASSERT_TRUE(n.ok());
  ASSERT_EQ(n->size(), 1u);
  EXPECT_EQ((*n)[0].task_id, c1->task.id);
}

TEST_F(TaskManagerTest, CancelChildrenAndCancelAll) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build();
  auto lead = manager_->Launch(Req("lead"));
  ASSERT_TRUE(lead.ok());
  LaunchRequest child = Req("child");
  child.parent_session_id = lead->task.session_id;
  LaunchOk(child);
  LaunchOk(child);
  LaunchRequest mine = Req("mine");
  mine.owner = "mcp:abc";
  const std::string m = LaunchOk(mine);
  EXPECT_EQ(manager_->CancelChildren(lead->task.session_id).size(), 2u);
  EXPECT_EQ(StateOf(lead->task.id), State::kRunning);
  auto mcp = manager_->CancelAll("mcp:abc");
  ASSERT_EQ(mcp.size(), 1u);
  EXPECT_EQ(mcp[0].task.id, m);
  EXPECT_EQ(mcp[0].task.state, State::kRunning);  // the view from before the cancel
  EXPECT_EQ(manager_->CancelAll().size(), 1u);
  EXPECT_EQ(manager_->active_tasks(), 0u);
  EXPECT_EQ(manager_->scheduler().running(), 0);
}

TEST_F(TaskManagerTest, ContinueAddsATaskToTheSameSessionOnlyWhenItIsIdle) {
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(50, "answer")}; });
  Build();
  auto first = manager_->Launch(Req("first question"));
  ASSERT_TRUE(first.ok());
  const std::string session = first->task.session_id;
  auto busy = manager_->Continue(session, "too early");
  EXPECT_EQ(busy.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(busy.status().message().find(first->task.id), std::string::npos);
  clock_.AdvanceMs(50);
  auto second = manager_->Continue(session, "follow-up", "", "test");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(second->task.session_id, session);
  EXPECT_EQ(second->task.agent, "explore");
  EXPECT_EQ(second->task.model, "mock/m");
  EXPECT_NE(second->task.id, first->task.id);
  clock_.AdvanceMs(50);
  EXPECT_EQ(StateOf(second->task.id), State::kCompleted);
  auto messages = store_->ListMessages(session);
  ASSERT_TRUE(messages.ok());
  ASSERT_EQ(messages->size(), 2u);
  EXPECT_NE((*messages)[1].content.find("follow-up"), std::string::npos);
  EXPECT_EQ(manager_->Continue("ses_missing", "x").status().code(), StatusCode::kNotFound);
}

TEST_F(TaskManagerTest, DelegationDeeperThanMaxDepthIsRefused) {
  TaskManagerOptions o;
  o.limits.max_depth = 2;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o);
  auto t = manager_->Launch(Req("depth 0"));
  ASSERT_TRUE(t.ok());
  for (int depth = 1; depth <= 2; ++depth) {
    LaunchRequest r = Req("deeper");
    r.parent_session_id = t->task.session_id;
    t = manager_->Launch(r);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_EQ(t->task.depth, depth);
  }
  LaunchRequest r = Req("too deep");
  r.parent_session_id = t->task.session_id;
  auto refused = manager_->Launch(r);
  EXPECT_EQ(refused.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(refused.status().message().find("maxDepth 2"), std::string::npos);
}

TEST_F(TaskManagerTest, BadLaunchRequestsAreRefusedAndStoreNothing) {
  Build();
  EXPECT_EQ(manager_->Launch(Req("")).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(manager_->Launch(Req("x", "no-provider")).status().code(),
            StatusCode::kInvalidArgument);
  LaunchRequest no_agent = Req("x");
  no_agent.agent.clear();
  EXPECT_EQ(manager_->Launch(no_agent).status().code(), StatusCode::kInvalidArgument);
  LaunchRequest orphan = Req("x");
  orphan.parent_session_id = "ses_gone";
  EXPECT_EQ(manager_->Launch(orphan).status().code(), StatusCode::kNotFound);
  auto all = store_->ListTasks({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
}

TEST_F(TaskManagerTest, TaskTtlFiresExactlyWhenDueAndAbortsTheRun) {
  TaskManagerOptions o;
  o.limits.task_ttl_ms = 5000;
  o.limits.stale_timeout_ms = 1'000'000;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o);
  const std::string id = LaunchOk(Req("long"));
  clock_.AdvanceMs(4999);
  EXPECT_EQ(StateOf(id), State::kRunning);
  clock_.AdvanceMs(1);
  EXPECT_EQ(StateOf(id), State::kError);
  EXPECT_EQ(ViewOf(id).task.error, "timed out after 5.0s (taskTtlMs 5000)");
  EXPECT_EQ(runner_.cancelled().count(id), 1u);
  EXPECT_EQ(manager_->scheduler().running(), 0);
}

TEST_F(TaskManagerTest, PerTaskTtlOverrideWins) {
  TaskManagerOptions o;
  o.limits.task_ttl_ms = 5000;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o);
  LaunchRequest r = Req("short leash");
  r.task_ttl_ms = 100;
  const std::string id = LaunchOk(r);
  clock_.AdvanceMs(100);
  EXPECT_EQ(StateOf(id), State::kError);
}

TEST_F(TaskManagerTest, PendingTtlFiresExactlyWhenDueForAWaitingTask) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  o.limits.pending_ttl_ms = 3000;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o);
  const std::string a = LaunchOk(Req("a"));
  clock_.AdvanceMs(1000);
  const std::string b = LaunchOk(Req("b"));
  clock_.AdvanceMs(2999);
  EXPECT_EQ(StateOf(b), State::kPending);
  EXPECT_EQ(StateOf(a), State::kRunning);  // running tasks are not subject to the pending TTL
  clock_.AdvanceMs(1);
  EXPECT_EQ(StateOf(b), State::kError);
  EXPECT_NE(ViewOf(b).task.error.find("pendingTtlMs 3000"), std::string::npos);
  EXPECT_NE(ViewOf(b).task.error.find("default:mock/m"), std::string::npos);
  EXPECT_EQ(runner_.started(), 1u);
  CheckInvariants();
}

TEST_F(TaskManagerTest, StaleTimeoutFiresWhenDueAndNotWhileProgressKeepsArriving) {
  TaskManagerOptions o;
  o.limits.stale_timeout_ms = 1000;
  runner_.set_chooser([](const RunRequest& r) {
    if (r.prompt == "chatty") return Working(10, 900);  // progress every 900 ms, 9.9 s total
    return Script{};                                    // silent
  });
  Build(o);
  const std::string chatty = LaunchOk(Req("chatty"));
  const std::string silent = LaunchOk(Req("silent"));
  clock_.AdvanceMs(999);
  EXPECT_EQ(StateOf(silent), State::kRunning);
  clock_.AdvanceMs(1);
  EXPECT_EQ(StateOf(silent), State::kError);
  EXPECT_NE(ViewOf(silent).task.error.find("stale: no output"), std::string::npos);
  EXPECT_EQ(runner_.cancelled().count(silent), 1u);
  clock_.AdvanceMs(9000);
  EXPECT_EQ(StateOf(chatty), State::kCompleted);
}

TEST_F(TaskManagerTest, StaleTimerCountsFromTheLastProgress) {
  TaskManagerOptions o;
  o.limits.stale_timeout_ms = 1000;
  Script s;
  s.push_back(ScriptStep::Progress(600, {}));  // then silence
  runner_.set_chooser([s](const RunRequest&) { return s; });
  Build(o);
  const std::string id = LaunchOk(Req("x"));
  clock_.AdvanceMs(1599);
  EXPECT_EQ(StateOf(id), State::kRunning);
  clock_.AdvanceMs(1);
  EXPECT_EQ(StateOf(id), State::kError);
}

TEST_F(TaskManagerTest, WatchAnyAllAndTimeout) {
  runner_.set_chooser([](const RunRequest& r) {
    return Script{ScriptStep::Complete(r.prompt == "fast" ? 100 : 500, r.prompt)};
  });
  Build();
  const std::string fast = LaunchOk(Req("fast"));
  const std::string slow = LaunchOk(Req("slow"));
  std::vector<std::string> any_result, all_result;
  int64_t any_at = 0, all_at = 0;
  bool timeout_fired = false;
  ASSERT_TRUE(manager_
                  ->Watch({fast, slow}, WaitMode::kAny, 0,
                          [&](const std::vector<TaskView>& v, bool timed_out) {
                            EXPECT_FALSE(timed_out);
                            any_at = clock_.NowMs();
                            for (auto& t : v)
                              any_result.push_back(std::string(TaskStateName(t.task.state)));
                          })
                  .ok());
  ASSERT_TRUE(manager_
                  ->Watch({fast, slow}, WaitMode::kAll, 0,
                          [&](const std::vector<TaskView>& v, bool) {
                            all_at = clock_.NowMs();
                            for (auto& t : v) all_result.push_back(t.task.result);
                          })
                  .ok());
  ASSERT_TRUE(manager_
                  ->Watch({slow}, WaitMode::kAll, 200,
                          [&](const std::vector<TaskView>&, bool t) { timeout_fired = t; })
                  .ok());
  const int64_t start = clock_.NowMs();
  clock_.AdvanceMs(1000);
  EXPECT_EQ(any_at - start, 100);
  EXPECT_EQ(any_result, (std::vector<std::string>{"completed", "running"}));
  EXPECT_EQ(all_at - start, 500);
  EXPECT_EQ(all_result, (std::vector<std::string>{"fast", "slow"}));
  EXPECT_TRUE(timeout_fired);
  // Already-final tasks answer on a later turn, not inside Watch.
  bool answered = false;
  ASSERT_TRUE(
      manager_->Watch({fast}, WaitMode::kAll, 0, [&](const auto&, bool) { answered = true; }).ok());
  EXPECT_FALSE(answered);
  clock_.RunDue();
  EXPECT_TRUE(answered);
  EXPECT_EQ(
      manager_->Watch({"bg_unknown"}, WaitMode::kAny, 0, [](const auto&, bool) {}).status().code(),
      StatusCode::kNotFound);
}

TEST_F(TaskManagerTest, LaunchAndWaitReturnsTheResult) {
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(300, "42")}; });
  Build();
  std::string result;
  auto v = manager_->LaunchAndWait(Req("answer"), 0, [&](const std::vector<TaskView>& tasks, bool) {
    result = tasks.at(0).task.result;
  });
  ASSERT_TRUE(v.ok());
  clock_.AdvanceMs(300);
  EXPECT_EQ(result, "42");
}

TEST_F(TaskManagerTest, InstantRunnerChainsThousandsOfHandOffsWithoutRecursion) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  Build(o);  // default script completes synchronously inside Start
  runner_.set_record_requests(false);
  for (int i = 0; i < 2000; ++i) {
    auto v = manager_->Launch(Req("t" + std::to_string(i)));
    ASSERT_TRUE(v.ok());
    ASSERT_EQ(v->task.state, State::kCompleted) << v->task.error;
  }
  EXPECT_EQ(manager_->active_tasks(), 0u);
  CheckInvariants();
}

TEST_F(TaskManagerTest, RateLimitCoolsTheProviderPoolDown) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build();
  manager_->ReportRateLimit("anthropic", 2000);
  auto held = manager_->Launch(Req("x", "anthropic/claude"));
  ASSERT_TRUE(held.ok());
  EXPECT_EQ(held->task.state, State::kPending);
  EXPECT_NE(held->waiting_reason.find("cooling down"), std::string::npos);
  EXPECT_EQ(StateOf(LaunchOk(Req("y", "openai/gpt"))), State::kRunning);
  clock_.AdvanceMs(2000);
  EXPECT_EQ(StateOf(held->task.id), State::kRunning);
}

TEST_F(TaskManagerTest, ListFiltersByStateAndParent) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o);
  auto lead = manager_->Launch(Req("lead"));
  ASSERT_TRUE(lead.ok());
  LaunchRequest child = Req("child");
  child.parent_session_id = lead->task.session_id;
  LaunchOk(child);
  TaskFilter pending;
  pending.states = {State::kPending};
  auto p = manager_->List(pending);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->size(), 1u);
  EXPECT_EQ((*p)[0].queue_position, 1);
  TaskFilter by_parent;
  by_parent.parent_session_id = lead->task.session_id;
  auto c = manager_->List(by_parent);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->size(), 1u);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST_F(TaskManagerTest, LaunchOnAModelThatCannotRunIsRefusedWithTheCheckersReason) {
  TaskManagerOptions options;
  std::vector<std::string> asked;
  options.check_model = [&asked](const std::string& model) -> Status {
    asked.push_back(model);
    if (model.starts_with("anthropic/")) {
      return Status::FailedPrecondition(
          "provider \"anthropic\" has no API key: set ANTHROPIC_API_KEY");
    }
    return Status::Ok();
  };
  Build(options);
  LaunchRequest req = Req("needs a key");
  req.model = "Anthropic/Claude-Sonnet-4-5";
  auto refused = manager_->Launch(req);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.status().message().find("set ANTHROPIC_API_KEY"), std::string::npos);
  EXPECT_EQ(asked.back(), "anthropic/claude-sonnet-4-5");  // canonical name
  auto stored = manager_->List(TaskFilter{});
  ASSERT_TRUE(stored.ok());
  EXPECT_TRUE(stored.value().empty());  // nothing was written for the refused launch

  req.model = "mock/scripted";
  EXPECT_TRUE(manager_->Launch(req).ok());
}

}  // namespace
}  // namespace troupe
