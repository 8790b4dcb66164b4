// Restart: the store survives a manager that was dropped mid-run (as in kill -9), and a new
// manager on the same file finds completed results intact, interrupted tasks re-queued and
// finished, outbox rows kept, and nothing duplicated.
#include <gtest/gtest.h>

#include <map>

#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using testing::TestDir;

class RecoveryTest : public EngineTest {
 protected:
  // Drops the manager without a shutdown and closes the store, as a crash would leave them.
  void Crash() {
    manager_.reset();
    store_.reset();
    events_.clear();
  }
  void Restart(TaskManagerOptions o) {
    Build(o, db_);
    Status s = manager_->Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  std::vector<TaskState> StatesOf(const std::string& id) {
    std::vector<TaskState> out;
    for (const auto& e : events_) {
      if (e.kind == EngineEvent::Kind::kState && e.task_id == id) out.push_back(e.to);
    }
    return out;
  }
  int Notifications(const std::string& id) {
    auto n = store_->ListNotificationsForTask(id);
    EXPECT_TRUE(n.ok());
    return n.ok() ? static_cast<int>(n->size()) : -1;
  }

  TestDir dir_;
  std::string db_ = dir_.File("troupe.db");
};

TEST_F(RecoveryTest, CrashMidRunInterruptsRunningTasksAndRequeuesThemInOrder) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 2;
  runner_.set_chooser([](const RunRequest& r) {
    if (r.prompt == "quick") return Script{ScriptStep::Complete(10, "quick result")};
    return Script{};  // hangs: still running at the crash
  });
  Build(o, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  const std::string a = LaunchOk(Req("quick"));
  clock_.AdvanceMs(10);
  const std::string b = LaunchOk(Req("long b"));
  const std::string c = LaunchOk(Req("long c"));
  const std::string d = LaunchOk(Req("queued d"));
  EXPECT_EQ(StateOf(d), TaskState::kPending);
  Crash();

  runner_.set_chooser([](const RunRequest& r) {
    return Script{
        ScriptStep::Complete(100, "resumed " + r.prompt + " attempt " + std::to_string(r.attempt))};
  });
  Restart(o);
  // The completed result is intact and was not touched again.
  EXPECT_EQ(ViewOf(a).task.result, "quick result");
  EXPECT_TRUE(StatesOf(a).empty());
  // Running tasks went interrupted -> pending -> running (attempt 2); the queued one waits its
  // turn.
  EXPECT_EQ(StatesOf(b), (std::vector<TaskState>{TaskState::kInterrupted, TaskState::kPending,
                                                 TaskState::kRunning}));
  EXPECT_EQ(ViewOf(b).task.attempt, 2);
  EXPECT_EQ(StateOf(c), TaskState::kRunning);
  EXPECT_EQ(StateOf(d), TaskState::kPending);
  CheckInvariants();
  clock_.AdvanceMs(200);
  EXPECT_EQ(ViewOf(b).task.result, "resumed long b attempt 2");
  EXPECT_EQ(ViewOf(d).task.result, "resumed queued d attempt 1");
  auto attempts = store_->ListAttempts(b);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 2u);
  EXPECT_EQ((*attempts)[0].outcome, "interrupted");
  EXPECT_EQ((*attempts)[1].outcome, "completed");
  // One outbox row per task; a's row from before the crash survived and was not duplicated.
  for (const auto& id : {a, b, c, d}) EXPECT_EQ(Notifications(id), 1) << id;
  auto claimed = manager_->ClaimNotifications("test");
  ASSERT_TRUE(claimed.ok());
  EXPECT_EQ(claimed->size(), 4u);
}

TEST_F(RecoveryTest, DeliveredNotificationsStayDeliveredAcrossRestarts) {
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(5, "x")}; });
  Build({}, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  LaunchOk(Req("one"));
  clock_.AdvanceMs(5);
  auto first = manager_->ClaimNotifications("test");
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->size(), 1u);
  LaunchOk(Req("two"));
  clock_.AdvanceMs(5);
  Crash();
  Restart({});
  auto second = manager_->ClaimNotifications("test");
  ASSERT_TRUE(second.ok());
  ASSERT_EQ(second->size(), 1u);  // only the undelivered one
}

TEST_F(RecoveryTest, WithoutResumeInterruptedTasksWaitForAnExplicitResume) {
  TaskManagerOptions o;
  o.limits.resume_interrupted = false;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  const std::string a = LaunchOk(Req("a"));
  Crash();
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(1, "back")}; });
  Restart(o);
  TaskView v = ViewOf(a);
  EXPECT_EQ(v.task.state, TaskState::kInterrupted);
  EXPECT_NE(v.task.error.find("troupe stopped while this task ran"), std::string::npos);
  EXPECT_EQ(manager_->active_tasks(), 0u);
  // Its session is not busy: resuming is the way back.
  auto r = manager_->Resume(a);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  clock_.AdvanceMs(1);
  EXPECT_EQ(ViewOf(a).task.result, "back");
  EXPECT_EQ(manager_->Resume(a).status().code(), StatusCode::kFailedPrecondition);
}

TEST_F(RecoveryTest, GracefulShutdownInterruptsRunningTasksAndKeepsPendingOnes) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  const std::string a = LaunchOk(Req("a"));
  const std::string b = LaunchOk(Req("b"));
  manager_->Shutdown();
  EXPECT_EQ(StateOf(a), TaskState::kInterrupted);
  EXPECT_EQ(runner_.cancelled().count(a), 1u);
  EXPECT_EQ(StateOf(b), TaskState::kPending);  // the freed slot was not handed out
  EXPECT_EQ(runner_.started(), 1u);
  EXPECT_EQ(manager_->Launch(Req("late")).status().code(), StatusCode::kUnavailable);
  Crash();
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(1, "ok")}; });
  Restart(o);
  clock_.AdvanceMs(10);
  EXPECT_EQ(StateOf(a), TaskState::kCompleted);
  EXPECT_EQ(StateOf(b), TaskState::kCompleted);
}

TEST_F(RecoveryTest, SessionsCanBeContinuedAfterARestart) {
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(1, "first")}; });
  Build({}, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  auto first = manager_->Launch(Req("question"));
  ASSERT_TRUE(first.ok());
  clock_.AdvanceMs(1);
  Crash();
  runner_.set_chooser([](const RunRequest&) { return Script{ScriptStep::Complete(1, "second")}; });
  Restart({});
  auto next = manager_->Continue(first->task.session_id, "follow-up");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  clock_.AdvanceMs(1);
  EXPECT_EQ(ViewOf(next->task.id).task.result, "second");
  EXPECT_EQ(next->task.agent, "explore");
  auto messages = store_->ListMessages(first->task.session_id);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), 2u);
}

TEST_F(RecoveryTest, PendingTtlKeepsCountingAcrossARestart) {
  TaskManagerOptions o;
  o.limits.default_concurrency = 1;
  o.limits.pending_ttl_ms = 10'000;
  runner_.set_chooser([](const RunRequest&) { return Script{}; });
  Build(o, db_);
  ASSERT_TRUE(manager_->Recover().ok());
  LaunchOk(Req("holder"));
  const std::string waiting = LaunchOk(Req("waiting"));
  clock_.AdvanceMs(6000);
  Crash();
  Restart(o);  // the holder resumes first (launched first), so `waiting` keeps waiting
  clock_.AdvanceMs(3999);
  EXPECT_EQ(StateOf(waiting), TaskState::kPending);
  clock_.AdvanceMs(1);
  EXPECT_EQ(StateOf(waiting), TaskState::kError);
}

}  // namespace
}  // namespace troupe
