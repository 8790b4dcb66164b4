#include <gtest/gtest.h>

#include <filesystem>

#include "agent/git_command.h"
#include "agent/testing/git_repo.h"
#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

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

  TestDir dir_;
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

}  // namespace
}  // namespace troupe
