#include <gtest/gtest.h>

#include <deque>
#include <filesystem>
#include <functional>

#include "agent/git_command.h"
#include "agent/testing/git_repo.h"
#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"
#include "engine/testing/held_executor.h"

namespace troupe {
namespace {

using testing::HeldExecutor;
using testing::MakeGitRepo;
using testing::ReadFileBytes;
using testing::TestDir;
using testing::WriteFileBytes;

class TaskIsolationTest : public EngineTest {
 protected:
  void SetUp() override {
    MakeGitRepo(repo_, {{"notes.txt", "one\ntwo\n"}});
    // Each run writes its prompt into notes.txt of the directory it was given, then waits.
    runner_.set_chooser([this](const RunRequest& r) {
      workspaces_.push_back(r.workspace);
      WriteFileBytes(r.workspace + "/notes.txt", r.prompt + "\n");
      return Script{};
    });
    Build(Options());
  }

  TaskManagerOptions Options() {
    TaskManagerOptions options;
    options.default_workspace = repo_;
    options.worktrees = &worktrees_;
    return options;
  }

  LaunchRequest Isolated(const std::string& prompt) {
    LaunchRequest r = Req(prompt);
    r.agent = "general";
    r.isolation = "worktree";
    return r;
  }

  TaskWorktree WorktreeOf(const std::string& id) {
    Result<TaskWorktree> w = ParseTaskWorktree(ViewOf(id).task.worktree_json);
    EXPECT_TRUE(w.ok()) << w.status().message();
    return w.ok() ? *w : TaskWorktree{};
  }

  // Options whose git work waits in `held_`.
  TaskManagerOptions HeldOptions() {
    TaskManagerOptions options = Options();
    options.blocking = &held_;
    return options;
  }

  // LaunchAsync, keeping what it answers (nullopt until it did).
  std::shared_ptr<std::optional<Result<TaskView>>> LaunchLater(const LaunchRequest& r) {
    auto answer = std::make_shared<std::optional<Result<TaskView>>>();
    manager_->LaunchAsync(r, [answer](Result<TaskView> view) { *answer = std::move(view); });
    return answer;
  }

  size_t TaskCount() {
    Result<std::vector<TaskView>> all = manager_->List({});
    EXPECT_TRUE(all.ok());
    return all.ok() ? all->size() : 0;
  }

  std::string TroupeBranches() {
    Result<std::string> branches = RunGitOk(repo_, {"branch", "--list", "troupe/*"});
    EXPECT_TRUE(branches.ok());
    return branches.ok() ? *branches : "?";
  }

  TestDir dir_;
  HeldExecutor held_;
  std::string repo_ = dir_.File("repo");
  Worktrees worktrees_{dir_.File("data/worktrees")};
  std::vector<std::string> workspaces_;
};

TEST_F(TaskIsolationTest, AnIsolatedTaskRunsInItsWorktreeAndLeavesItsChangeOnItsBranch) {
  const std::string id = LaunchOk(Isolated("from the task"));
  ASSERT_EQ(workspaces_.size(), 1u);
  EXPECT_EQ(workspaces_[0], dir_.File("data/worktrees/" + id));
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "one\ntwo\n");  // the user's copy untouched
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("edited notes")));

  TaskView view = ViewOf(id);
  EXPECT_EQ(view.task.state, TaskState::kCompleted);
  EXPECT_NE(view.task.result.find("edited notes\n\nWorktree: branch troupe/" + id),
            std::string::npos)
      << view.task.result;
  TaskWorktree w = WorktreeOf(id);
  EXPECT_TRUE(w.removed);
  EXPECT_TRUE(w.auto_committed);
  EXPECT_EQ(w.commits.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(w.path));

  Result<std::string> diff = manager_->WorktreeDiff(id);
  ASSERT_TRUE(diff.ok()) << diff.status().message();
  EXPECT_NE(diff->find("+from the task"), std::string::npos) << *diff;
  Result<ApplyReport> applied = manager_->ApplyWorktree(id);
  ASSERT_TRUE(applied.ok()) << applied.status().message();
  EXPECT_TRUE(applied->applied) << applied->message;
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "from the task\n");
}

TEST_F(TaskIsolationTest, ANonGitWorkspaceIsRefusedAtLaunchOnIsolation) {
  std::filesystem::create_directories(dir_.File("plain"));
  LaunchRequest r = Isolated("x");
  r.workspace = dir_.File("plain");
  Result<TaskView> launched = manager_->Launch(r);
  ASSERT_FALSE(launched.ok());
  EXPECT_EQ(launched.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(launched.status().field(), "isolation");
  EXPECT_TRUE(workspaces_.empty());
  Result<std::vector<TaskView>> all = manager_->List({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->empty());

  LaunchRequest odd = Isolated("x");
  odd.isolation = "container";
  EXPECT_EQ(manager_->Launch(odd).status().field(), "isolation");
  LaunchRequest base_alone = Req("x");
  base_alone.base = "main";
  EXPECT_EQ(manager_->Launch(base_alone).status().field(), "base");
}

TEST_F(TaskIsolationTest, CancelRemovesTheWorktreeAndKeepsTheBranch) {
  const std::string id = LaunchOk(Isolated("half done"));
  ASSERT_TRUE(manager_->Cancel(id, "changed my mind").ok());
  EXPECT_EQ(StateOf(id), TaskState::kCancelled);
  TaskWorktree w = WorktreeOf(id);
  EXPECT_TRUE(w.removed);
  EXPECT_FALSE(std::filesystem::exists(w.path));
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/" + id + ":notes.txt"}), "half done\n");
}

TEST_F(TaskIsolationTest, AContinuationWorksInTheSameWorktreeOnTheSameBranch) {
  const std::string id = LaunchOk(Isolated("turn one"));
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("1")));
  const std::string session = ViewOf(id).task.session_id;
  Result<TaskView> next = manager_->Continue(session, "turn two");
  ASSERT_TRUE(next.ok()) << next.status().message();
  ASSERT_EQ(workspaces_.size(), 2u);
  EXPECT_EQ(workspaces_[1], workspaces_[0]);
  ASSERT_TRUE(runner_.Finish(next->task.id, RunOutcome::Completed("2")));
  TaskWorktree w = WorktreeOf(next->task.id);
  EXPECT_EQ(w.branch, "troupe/" + id);
  EXPECT_EQ(w.commits.size(), 2u);
  EXPECT_TRUE(w.removed);

  LaunchRequest plain = Req("no worktree");
  const std::string other = LaunchOk(plain);
  ASSERT_TRUE(runner_.Finish(other, RunOutcome::Completed("3")));
  LaunchRequest switched = Isolated("now isolated?");
  switched.session_id = ViewOf(other).task.session_id;
  EXPECT_EQ(manager_->Launch(switched).status().field(), "isolation");
}

TEST_F(TaskIsolationTest, AnInterruptedTaskResumesInItsWorktreeAndOrphansAreRemoved) {
  const std::string db = dir_.File("troupe.db");
  store_.reset();
  Build(Options(), db);
  ASSERT_TRUE(manager_->Recover().ok());
  const std::string id = LaunchOk(Isolated("before the crash"));
  const std::string path = WorktreeOf(id).path;
  std::filesystem::create_directories(dir_.File("data/worktrees/bg_left_by_a_crash"));

  manager_.reset();  // kill -9
  store_.reset();
  workspaces_.clear();
  Build(Options(), db);
  ASSERT_TRUE(manager_->Recover().ok());
  Result<std::vector<std::string>> removed = manager_->RemoveOrphanedWorktrees();
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, std::vector<std::string>{dir_.File("data/worktrees/bg_left_by_a_crash")});
  ASSERT_EQ(workspaces_.size(), 1u);  // resumed
  EXPECT_EQ(workspaces_[0], path);
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("after")));
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/" + id + ":notes.txt"}), "before the crash\n");
}

TEST_F(TaskIsolationTest, TheEngineServesOthersWhileAWorktreeIsBeingMade) {
  Build(HeldOptions());
  auto isolated = LaunchLater(Isolated("in my worktree"));
  // git is held: no answer, no task yet, nothing started.
  EXPECT_FALSE(isolated->has_value());
  EXPECT_EQ(held_.held(), 1u);
  EXPECT_EQ(manager_->preparing_launches(), 1u);
  EXPECT_EQ(TaskCount(), 0u);
  EXPECT_TRUE(workspaces_.empty());

  // Meanwhile another task (in another workspace) launches, runs and completes, and queries
  // answer.
  std::filesystem::create_directories(dir_.File("elsewhere"));
  LaunchRequest meanwhile = Req("meanwhile");
  meanwhile.workspace = dir_.File("elsewhere");
  const std::string other = LaunchOk(meanwhile);
  ASSERT_EQ(workspaces_.size(), 1u);
  EXPECT_EQ(workspaces_[0], dir_.File("elsewhere"));
  ASSERT_TRUE(runner_.Finish(other, RunOutcome::Completed("done meanwhile")));
  EXPECT_EQ(StateOf(other), TaskState::kCompleted);
  EXPECT_EQ(TaskCount(), 1u);
  EXPECT_FALSE(isolated->has_value());

  held_.Release();  // git made the worktree
  ASSERT_TRUE(isolated->has_value());
  ASSERT_TRUE((*isolated)->ok()) << (*isolated)->status().message();
  const std::string id = (**isolated)->task.id;
  EXPECT_EQ(manager_->preparing_launches(), 0u);
  EXPECT_EQ(StateOf(id), TaskState::kRunning);
  ASSERT_EQ(workspaces_.size(), 2u);
  EXPECT_EQ(workspaces_[1], dir_.File("data/worktrees/" + id));
  EXPECT_EQ(WorktreeOf(id).branch, "troupe/" + id);
  // The order the world saw: the other task's whole life, then the isolated task's launch.
  std::vector<std::string> order;
  for (const RecordedEvent& e : events_) {
    if (e.kind == EngineEvent::Kind::kState)
      order.push_back(e.task_id + ":" + std::string(TaskStateName(e.to)));
  }
  const std::vector<std::string> expected = {other + ":pending", other + ":running",
                                             other + ":completed", id + ":pending",
                                             id + ":running"};
  EXPECT_EQ(order, expected);

  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("edited")));
  held_.Release();  // its worktree finished off the loop too
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/" + id + ":notes.txt"}), "in my worktree\n");

  // Diff and apply run on the executor too: no answer until git ran.
  std::optional<Result<std::string>> diff;
  manager_->WorktreeDiffAsync(id, [&](Result<std::string> d) { diff = std::move(d); });
  std::optional<Result<ApplyReport>> applied;
  manager_->ApplyWorktreeAsync(id, [&](Result<ApplyReport> r) { applied = std::move(r); });
  EXPECT_FALSE(diff.has_value());
  EXPECT_FALSE(applied.has_value());
  EXPECT_EQ(held_.held(), 2u);
  held_.ReleaseAll();
  ASSERT_TRUE(diff.has_value() && diff->ok());
  EXPECT_NE((*diff)->find("+in my worktree"), std::string::npos) << **diff;
  ASSERT_TRUE(applied.has_value() && applied->ok());
  EXPECT_TRUE((*applied)->applied) << (*applied)->message;
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "in my worktree\n");
}

// Worktrees of one repository are made one at a time, in launch order; another repository's
// set-up does not wait for them.
TEST_F(TaskIsolationTest, SetUpsOfOneRepositoryTakeTurnsAndOthersDoNotWait) {
  Build(HeldOptions());
  const std::string other_repo = dir_.File("other");
  MakeGitRepo(other_repo, {{"notes.txt", "other\n"}});
  auto first = LaunchLater(Isolated("first"));
  auto second = LaunchLater(Isolated("second"));
  auto third = LaunchLater(Isolated("third"));
  LaunchRequest elsewhere_request = Isolated("elsewhere");
  elsewhere_request.workspace = other_repo;
  auto elsewhere = LaunchLater(elsewhere_request);
  EXPECT_EQ(manager_->preparing_launches(), 4u);
  EXPECT_EQ(held_.held(), 2u) << "one set-up per repository runs: repo's first, and other's";

  held_.Release();  // repo's first
  ASSERT_TRUE(first->has_value() && (*first)->ok());
  EXPECT_FALSE(second->has_value());
  EXPECT_EQ(held_.held(), 2u) << "other's set-up, then repo's second, now running";
  held_.Release();  // other's
  ASSERT_TRUE(elsewhere->has_value() && (*elsewhere)->ok());
  EXPECT_EQ(held_.held(), 1u);
  held_.Release();  // repo's second
  ASSERT_TRUE(second->has_value() && (*second)->ok());
  EXPECT_FALSE(third->has_value());
  EXPECT_EQ(held_.held(), 1u);
  held_.Release();
  ASSERT_TRUE(third->has_value() && (*third)->ok());
  EXPECT_EQ(held_.held(), 0u);
  EXPECT_EQ(manager_->preparing_launches(), 0u);
  EXPECT_EQ(TaskCount(), 4u);
  for (const auto& launched : {first, second, third}) {
    const std::string id = (**launched)->task.id;
    EXPECT_EQ(WorktreeOf(id).branch, "troupe/" + id);
  }
}

TEST_F(TaskIsolationTest, AFailedSetUpRefusesTheLaunchWithGitsMessageAndStoresNothing) {
  Build(HeldOptions());
  std::filesystem::create_directories(dir_.File("plain"));
  LaunchRequest outside = Isolated("x");
  outside.workspace = dir_.File("plain");
  auto refused = LaunchLater(outside);
  LaunchRequest no_base = Isolated("y");
  no_base.base = "no-such-branch";
  auto no_such_base = LaunchLater(no_base);
  EXPECT_FALSE(refused->has_value());
  held_.ReleaseAll();
  ASSERT_TRUE(refused->has_value());
  ASSERT_FALSE((*refused)->ok());
  EXPECT_EQ((*refused)->status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*refused)->status().field(), "isolation");
  EXPECT_NE((*refused)->status().message().find("not in a git repository"), std::string::npos);
  ASSERT_TRUE(no_such_base->has_value());
  EXPECT_EQ((*no_such_base)->status().field(), "base");
  EXPECT_EQ(TaskCount(), 0u);
  EXPECT_EQ(manager_->preparing_launches(), 0u);
  EXPECT_TRUE(workspaces_.empty());
  EXPECT_EQ(TroupeBranches(), "");
}

TEST_F(TaskIsolationTest, CancellingDuringSetUpRemovesTheWorktreeAndItsBranch) {
  Build(HeldOptions());
  LaunchRequest r = Isolated("never runs");
  r.owner = "mcp:one";
  auto cancelled = LaunchLater(r);
  LaunchRequest kept = Isolated("runs");
  kept.owner = "mcp:two";
  auto launched = LaunchLater(kept);
  manager_->CancelAll("mcp:one");
  held_.ReleaseAll();  // both worktrees made; the cancelled one's removal runs there too
  ASSERT_TRUE(cancelled->has_value());
  ASSERT_FALSE((*cancelled)->ok());
  EXPECT_EQ((*cancelled)->status().code(), StatusCode::kCancelled);
  EXPECT_NE((*cancelled)->status().message().find("were removed"), std::string::npos)
      << (*cancelled)->status().message();
  ASSERT_TRUE(launched->has_value() && (*launched)->ok());
  const std::string id = (**launched)->task.id;
  // Only the launched task's worktree and branch are left; nothing of the cancelled one.
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir_.File("data/worktrees")))
    left.push_back(entry.path().string());
  EXPECT_EQ(left, std::vector<std::string>{dir_.File("data/worktrees/" + id)});
  EXPECT_EQ(TroupeBranches(), "+ troupe/" + id + "\n");
  EXPECT_EQ(TaskCount(), 1u);
  ASSERT_EQ(workspaces_.size(), 1u);
}

TEST_F(TaskIsolationTest, AShutdownDuringSetUpLaunchesNothingAndACrashLeavesAnOrphanForStartUp) {
  const std::string db = dir_.File("troupe.db");
  store_.reset();
  Build(HeldOptions(), db);
  ASSERT_TRUE(manager_->Recover().ok());
  auto graceful = LaunchLater(Isolated("shut down meanwhile"));
  manager_->Shutdown();
  held_.ReleaseAll();
  ASSERT_TRUE(graceful->has_value());
  EXPECT_EQ((*graceful)->status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(std::filesystem::is_empty(dir_.File("data/worktrees")));
  EXPECT_EQ(TroupeBranches(), "");

  manager_.reset();
  store_.reset();
  Build(HeldOptions(), db);
  ASSERT_TRUE(manager_->Recover().ok());
  auto crashed = LaunchLater(Isolated("killed meanwhile"));
  held_.RunWithoutDelivering();  // git made the worktree; the daemon died before it heard
  manager_.reset();              // kill -9
  store_.reset();
  Build(Options(), db);
  ASSERT_TRUE(manager_->Recover().ok());
  EXPECT_EQ(TaskCount(), 0u);  // the launch was never answered, so it never was
  Result<std::vector<std::string>> removed = manager_->RemoveOrphanedWorktrees();
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  ASSERT_EQ(removed->size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(removed->front()));
  EXPECT_FALSE(crashed->has_value());
  EXPECT_TRUE(workspaces_.empty());
}

// The end of an isolated task: its model is done, so its slot goes to the next task at once;
// git commits, summarises and removes its worktree off the loop; only then does the task reach
// its final state — once, with the summary in its result and one completion notice. A cancel
// meanwhile does not change how it ends.
TEST_F(TaskIsolationTest, AnEndingTaskReleasesItsSlotAndEndsOnceGitFinishedItsWorktree) {
  TaskManagerOptions options = HeldOptions();
  options.limits.model_concurrency = {{"mock/m", 1}};
  Build(std::move(options));
  auto launched = LaunchLater(Isolated("the change"));
  held_.Release();
  ASSERT_TRUE(launched->has_value() && (*launched)->ok());
  const std::string id = (**launched)->task.id;
  std::filesystem::create_directories(dir_.File("elsewhere"));
  LaunchRequest next_request = Req("next");
  next_request.workspace = dir_.File("elsewhere");
  const std::string next = LaunchOk(next_request);
  EXPECT_EQ(StateOf(next), TaskState::kPending);  // the one slot is the isolated task's
  std::optional<bool> watched;
  ASSERT_TRUE(
      manager_
          ->Watch({id}, WaitMode::kAll, 0,
                  [&](const std::vector<TaskView>&, bool timed_out) { watched = timed_out; })
          .ok());

  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("edited notes")));
  // The model is done: the slot went to the next task; the isolated one is finishing.
  EXPECT_EQ(StateOf(next), TaskState::kRunning);
  TaskView finishing = ViewOf(id);
  EXPECT_EQ(finishing.task.state, TaskState::kRunning);
  EXPECT_TRUE(finishing.finishing);
  EXPECT_EQ(held_.held(), 1u);
  EXPECT_FALSE(watched.has_value());
  EXPECT_TRUE(std::filesystem::exists(dir_.File("data/worktrees/" + id)));
  EXPECT_TRUE((*store_->ListNotificationsForTask(id)).empty());
  // A cancel (the task's own, its owner's) while it finishes does not change how it ends.
  Result<TaskView> cancelled = manager_->Cancel(id, "too late");
  ASSERT_TRUE(cancelled.ok());
  EXPECT_TRUE(cancelled->finishing);
  manager_->CancelAll("nobody");

  held_.Release();  // git committed, summarised and removed it
  EXPECT_EQ(held_.held(), 0u);
  TaskView view = ViewOf(id);
  EXPECT_EQ(view.task.state, TaskState::kCompleted);
  EXPECT_FALSE(view.finishing);
  EXPECT_NE(view.task.result.find("edited notes\n\nWorktree: branch troupe/" + id),
            std::string::npos)
      << view.task.result;
  TaskWorktree w = WorktreeOf(id);
  EXPECT_TRUE(w.removed);
  EXPECT_EQ(w.finishing, "");
  EXPECT_EQ(w.commits.size(), 1u);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/worktrees/" + id)));
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/" + id + ":notes.txt"}), "the change\n");
  ASSERT_TRUE(watched.has_value());
  EXPECT_FALSE(*watched);
  EXPECT_EQ((*store_->ListNotificationsForTask(id)).size(), 1u);
  int completed_events = 0;
  for (const RecordedEvent& e : events_) {
    if (e.task_id == id && e.kind == EngineEvent::Kind::kState && e.to == TaskState::kCompleted)
      ++completed_events;
  }
  EXPECT_EQ(completed_events, 1);
}

// A daemon killed while a task's worktree is being finished: the task was stored as running
// with the end it was finishing for, so the restart finishes it — not the model again — and the
// start-up's orphan removal has nothing left to remove. Before git ran, or after.
TEST_F(TaskIsolationTest, AKillWhileFinishingLeavesTheRestartToFinishTheTask) {
  const std::string db = dir_.File("troupe.db");
  for (const bool git_ran : {false, true}) {
    SCOPED_TRACE(git_ran ? "git ran, the daemon died before it heard" : "killed before git ran");
    manager_.reset();
    store_.reset();
    workspaces_.clear();
    Build(HeldOptions(), db);
    ASSERT_TRUE(manager_->Recover().ok());
    auto launched = LaunchLater(Isolated(git_ran ? "second" : "first"));
    held_.Release();
    ASSERT_TRUE(launched->has_value() && (*launched)->ok());
    const std::string id = (**launched)->task.id;
    ASSERT_TRUE(runner_.Finish(id, RunOutcome::Failed("gave up")));
    EXPECT_TRUE(ViewOf(id).finishing);
    if (git_ran) held_.RunWithoutDelivering();
    held_.Forget();    // what had not run dies with the daemon
    manager_.reset();  // kill -9
    store_.reset();
    workspaces_.clear();
    Build(Options(), db);
    ASSERT_TRUE(manager_->Recover().ok());
    EXPECT_TRUE(workspaces_.empty()) << "the model does not run again";
    TaskView view = ViewOf(id);
    EXPECT_EQ(view.task.state, TaskState::kError);
    EXPECT_EQ(view.task.error, "gave up");
    TaskWorktree w = WorktreeOf(id);
    EXPECT_TRUE(w.removed);
    EXPECT_EQ(w.finishing, "");
    EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/" + id + ":notes.txt"}),
              std::string(git_ran ? "second" : "first") + "\n");
    EXPECT_EQ((*store_->ListNotificationsForTask(id)).size(), 1u);
    Result<std::vector<std::string>> removed = manager_->RemoveOrphanedWorktrees();
    ASSERT_TRUE(removed.ok());
    EXPECT_TRUE(removed->empty());
  }
}

// A continuation's worktree (removed when the session's previous task ended) is added again off
// the loop: the run starts once it is there. A cancel meanwhile removes what git added; the
// branch stays.
TEST_F(TaskIsolationTest, AContinuationReopensItsWorktreeOffTheLoop) {
  Build(HeldOptions());
  auto launched = LaunchLater(Isolated("turn one"));
  held_.Release();
  ASSERT_TRUE(launched->has_value() && (*launched)->ok());
  const std::string id = (**launched)->task.id;
  const std::string session = (**launched)->task.session_id;
  const std::string path = dir_.File("data/worktrees/" + id);
  ASSERT_TRUE(runner_.Finish(id, RunOutcome::Completed("1")));
  held_.Release();
  ASSERT_EQ(StateOf(id), TaskState::kCompleted);
  ASSERT_FALSE(std::filesystem::exists(path));

  Result<TaskView> next = manager_->Continue(session, "turn two");
  ASSERT_TRUE(next.ok()) << next.status().message();
  EXPECT_EQ(next->task.state, TaskState::kRunning);
  EXPECT_EQ(workspaces_.size(), 1u) << "no run before its worktree is there";
  EXPECT_EQ(held_.held(), 1u);
  held_.Release();
  ASSERT_EQ(workspaces_.size(), 2u);
  EXPECT_EQ(workspaces_[1], path);
  ASSERT_TRUE(runner_.Finish(next->task.id, RunOutcome::Completed("2")));
  held_.Release();
  EXPECT_EQ(StateOf(next->task.id), TaskState::kCompleted);
  EXPECT_EQ(WorktreeOf(next->task.id).commits.size(), 2u);

  Result<TaskView> third = manager_->Continue(session, "turn three");
  ASSERT_TRUE(third.ok()) << third.status().message();
  ASSERT_TRUE(manager_->Cancel(third->task.id, "changed my mind").ok());
  EXPECT_EQ(StateOf(third->task.id), TaskState::kCancelled);
  held_.ReleaseAll();  // git added it, then removes it: nobody works there
  EXPECT_EQ(workspaces_.size(), 2u);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(TroupeBranches(), "  troupe/" + id + "\n");
  EXPECT_EQ(WorktreeOf(third->task.id).commits.size(), 0u);
}

}  // namespace
}  // namespace troupe
