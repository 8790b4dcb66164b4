// When the store fails (a full disk): writes fail at every point of a task's life, the store is
// healed, and then the disk and the engine's memory agree, every acknowledged result is there,
// and after a restart finished tasks stay finished (docs/DESIGN.md "When the store fails").
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using testing::TestDir;

class StoreFailureTest : public EngineTest {
 protected:
  // A manager over a FaultInjectionStore wrapping the database file.
  void BuildFaulty(TaskManagerOptions options = {}) {
    options.store_health_changed = [this](const StoreHealth& h) { health_changes_.push_back(h); };
    auto real = OpenSqliteStore(db_);
    ASSERT_TRUE(real.ok()) << real.status().ToString();
    store_ = std::move(*real);
    fault_ = std::make_unique<FaultInjectionStore>(store_.get());
    manager_ = std::make_unique<TaskManager>(&clock_, fault_.get(), &runner_, &ids_, options);
    manager_->events().Subscribe([this](const EngineEvent& e) {
      events_.push_back({e.kind, e.id, e.task->id, e.from, e.task->state});
    });
    Status s = manager_->Recover();
    ASSERT_TRUE(s.ok()) << s.ToString();
  }

  // Drops the manager without a shutdown (as kill -9 would) and opens the file again.
  void Restart() {
    manager_.reset();
    fault_.reset();
    store_.reset();
    BuildFaulty();
  }

  TaskRecord OnDisk(const std::string& id) {
    auto t = store_->GetTask(id);
    EXPECT_TRUE(t.ok() && t->has_value()) << id;
    return t.ok() && t->has_value() ? **t : TaskRecord{};
  }

  // Long enough for the retry timer at its longest backoff.
  void LetRetriesRun() { clock_.AdvanceMs(TaskManagerOptions{}.store_retry_max_ms + 1); }

  TestDir dir_;
  std::string db_ = dir_.File("troupe.db");
  std::vector<StoreHealth> health_changes_;
};

TEST_F(StoreFailureTest, ATaskThatFinishesWhileTheDiskIsFullIsSavedWhenItHealsAndNeverRunsAgain) {
  runner_.set_chooser([](const RunRequest&) { return Working(1, 10, "the result"); });
  BuildFaulty();
  const std::string id = LaunchOk(Req("work"));
  ASSERT_EQ(StateOf(id), TaskState::kRunning);

  fault_->FailWritesFromNow();
  clock_.AdvanceMs(20);  // progress, then completion: its write fails
  // Memory holds the final state, and every read answers with it.
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
  EXPECT_EQ(ViewOf(id).task.result, "the result");
  EXPECT_EQ(OnDisk(id).state, TaskState::kRunning);  // what the disk has meanwhile
  auto listed = manager_->List({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].task.state, TaskState::kCompleted);

  // A wait answers with the real final state, not at once with the stale "running".
  std::vector<TaskView> seen;
  bool timed_out = true;
  auto w = manager_->Watch({id}, WaitMode::kAll, 3000, [&](const auto& v, bool t) {
    seen = v;
    timed_out = t;
  });
  ASSERT_TRUE(w.ok());
  clock_.AdvanceMs(0);
  ASSERT_EQ(seen.size(), 1u);
  EXPECT_EQ(seen[0].task.state, TaskState::kCompleted);
  EXPECT_FALSE(timed_out);

  // Degraded, said once, with SQLite's error; a launch is refused with it.
  StoreHealth h = manager_->store_health();
  EXPECT_TRUE(h.degraded);
  EXPECT_GT(h.since_wall_ms, 0);
  EXPECT_GT(h.failures, 0);
  EXPECT_GT(h.unsaved_writes, 0u);
  EXPECT_NE(h.last_error.message().find("database or disk is full"), std::string::npos);
  ASSERT_EQ(health_changes_.size(), 1u);
  EXPECT_TRUE(health_changes_[0].degraded);
  auto refused = manager_->Launch(Req("more"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kIoError);
  EXPECT_NE(refused.status().message().find("database or disk is full"), std::string::npos);
  // Retries with backoff while it fails: still one change reported.
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(health_changes_.size(), 1u);

  fault_->Heal();
  LetRetriesRun();
  h = manager_->store_health();
  EXPECT_FALSE(h.degraded);
  EXPECT_EQ(h.unsaved_writes, 0u);
  ASSERT_EQ(health_changes_.size(), 2u);
  EXPECT_FALSE(health_changes_[1].degraded);
  const TaskRecord disk = OnDisk(id);
  EXPECT_EQ(disk.state, TaskState::kCompleted);
  EXPECT_EQ(disk.result, "the result");
  EXPECT_EQ(disk.turns, 1);
  auto notes = store_->ListNotificationsForTask(id);
  ASSERT_TRUE(notes.ok());
  EXPECT_EQ(notes->size(), 1u);

  const size_t runs = runner_.started();
  Restart();
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
  clock_.AdvanceMs(1000);
  EXPECT_EQ(runner_.started(), runs);  // not run (and paid for) twice
}

TEST_F(StoreFailureTest, OneFailedWriteInABatchDoesNotLoseTheOtherTasksTransitions) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });  // run until cancelled
  TaskManagerOptions o;
  o.limits.default_concurrency = 2;
  BuildFaulty(o);
  const std::string a = LaunchOk(Req("a"));
  const std::string b = LaunchOk(Req("b"));
  {
    TaskManager::Batch batch(manager_.get());
    ASSERT_TRUE(manager_->Cancel(a).ok());
    fault_->FailNextWrites(1);  // b's first write: SQLite rolls back the whole transaction
    ASSERT_TRUE(manager_->Cancel(b).ok());
  }
  EXPECT_EQ(OnDisk(a).state, TaskState::kCancelled);
  EXPECT_EQ(OnDisk(b).state, TaskState::kCancelled);
  EXPECT_FALSE(manager_->store_health().degraded);  // the retry at once worked
  EXPECT_EQ(manager_->store_failures(), 1);
}

TEST_F(StoreFailureTest, ALaunchThatCannotBeSavedIsRefusedWithTheDiskErrorAndLeavesNothing) {
  BuildFaulty();
  fault_->FailNextWrites(1, FaultInjectionStore::DiskFull(), /*skip=*/2);  // in the middle
  auto v = manager_->Launch(Req("work"));
  ASSERT_FALSE(v.ok());
  EXPECT_NE(v.status().message().find("database or disk is full"), std::string::npos);
  auto all = store_->ListTasks({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());
  EXPECT_EQ(runner_.started(), 0u);
  EXPECT_FALSE(manager_->store_health().degraded);
  EXPECT_TRUE(manager_->Launch(Req("again")).ok());
}

TEST_F(StoreFailureTest, ALaunchWhoseCommitFailsIsHeldAndItsRunReadsItsPromptFromMemory) {
  runner_.set_chooser([](const RunRequest&) { return Script{}; });  // runs until cancelled
  BuildFaulty();
  // Begin, the session, the prompt, the task, its event, its start (3 writes): then the commit.
  fault_->FailWritesFromNow(FaultInjectionStore::DiskFull(), /*skip=*/8);
  auto v = manager_->Launch(Req("work"));
  ASSERT_TRUE(v.ok()) << v.status().ToString();  // acknowledged before the commit failed
  EXPECT_EQ(fault_->writes_failed(), 2);         // the commit, and the retry's Begin
  ASSERT_TRUE(manager_->store_health().degraded);
  auto held = manager_->Messages(v->task.session_id);  // what the agent loop loads at start
  ASSERT_TRUE(held.ok());
  ASSERT_EQ(held->size(), 1u);
  EXPECT_EQ((*held)[0].role, "user");
  EXPECT_EQ((*held)[0].seq, 1);

  fault_->Heal();
  LetRetriesRun();
  auto stored = store_->ListMessages(v->task.session_id);
  ASSERT_TRUE(stored.ok());
  ASSERT_EQ(stored->size(), 1u);
  EXPECT_EQ((*stored)[0].content, (*held)[0].content);
  EXPECT_EQ(OnDisk(v->task.id).state, TaskState::kRunning);
  EXPECT_EQ(manager_->Messages(v->task.session_id)->size(), 1u);  // not twice
}

// A task's whole life — launch, start, progress, a message of its run, completion with its
// notification, the claim of that notification — with the store failing from the k-th write on
// (or only at the k-th write), for every k. Then the store heals: what was acknowledged is on
// disk, disk and memory agree, and a restart runs nothing again.
class StoreFailureAtEveryWrite : public StoreFailureTest,
                                 public ::testing::WithParamInterface<std::tuple<int, bool>> {};

constexpr int kWritesInALife = 24;  // more than a life has (checked below)

TEST_P(StoreFailureAtEveryWrite, AcknowledgedResultsSurviveAndFinishedTasksStayFinished) {
  const auto [k, until_healed] = GetParam();
  runner_.set_chooser([](const RunRequest&) {
    ProgressUpdate u;
    u.turns = 1;
    u.tool = "grep";
    return Script{ScriptStep::Progress(10, u), ScriptStep::Complete(20, "the result")};
  });
  BuildFaulty();
  if (until_healed) {
    fault_->FailWritesFromNow(FaultInjectionStore::DiskFull(), k);
  } else {
    fault_->FailNextWrites(1, FaultInjectionStore::DiskFull(), k);
  }

  auto launched = manager_->Launch(Req("work"));
  std::string id;
  if (launched.ok()) id = launched->task.id;
  clock_.AdvanceMs(10);  // progress
  bool message_saved = false;
  if (!id.empty()) {
    MessageRecord m;
    m.session_id = launched->task.session_id;
    m.task_id = id;
    m.role = "assistant";
    m.content = R"({"role":"assistant","content":"looking"})";
    message_saved = manager_->AppendMessage(&m).ok();
  }
  clock_.AdvanceMs(20);  // completion
  auto claimed = manager_->ClaimNotifications("test");
  const bool claim_saved = claimed.ok() && !claimed->empty();

  if (k == kWritesInALife - 1) EXPECT_EQ(fault_->writes_failed(), 0) << "a life has more writes";
  fault_->Heal();
  LetRetriesRun();
  EXPECT_FALSE(manager_->store_health().degraded);
  EXPECT_EQ(manager_->store_health().unsaved_writes, 0u);

  auto on_disk = store_->ListTasks({});
  ASSERT_TRUE(on_disk.ok());
  if (id.empty()) {  // refused: nothing of it exists
    EXPECT_TRUE(on_disk->empty());
    return;
  }
  ASSERT_EQ(on_disk->size(), 1u);
  const TaskRecord disk = (*on_disk)[0];
  const TaskView memory = ViewOf(id);
  EXPECT_EQ(disk.state, TaskState::kCompleted);
  EXPECT_EQ(memory.task.state, disk.state);
  EXPECT_EQ(disk.result, "the result");
  EXPECT_EQ(disk.turns, 1);
  EXPECT_EQ(memory.task.updated_at_ms, disk.updated_at_ms);
  auto attempts = store_->ListAttempts(id);
  ASSERT_TRUE(attempts.ok());
  ASSERT_EQ(attempts->size(), 1u);
  EXPECT_EQ((*attempts)[0].outcome, "completed");
  auto notes = store_->ListNotificationsForTask(id);
  ASSERT_TRUE(notes.ok());
  ASSERT_EQ(notes->size(), 1u);
  EXPECT_EQ((*notes)[0].delivered_at_ms != 0, claim_saved);
  auto messages = store_->ListMessages(disk.session_id);
  ASSERT_TRUE(messages.ok());
  EXPECT_EQ(messages->size(), message_saved ? 2u : 1u);  // the prompt, and the reply if saved
  auto events = store_->ListEvents(0);
  ASSERT_TRUE(events.ok());
  EXPECT_EQ(events->size(), 3u);  // pending, running, completed

  Restart();
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
  clock_.AdvanceMs(1000);
  EXPECT_EQ(runner_.started(), 1u);
}

INSTANTIATE_TEST_SUITE_P(EveryWrite, StoreFailureAtEveryWrite,
                         ::testing::Combine(::testing::Range(0, kWritesInALife),
                                            ::testing::Bool()));

}  // namespace
}  // namespace troupe
