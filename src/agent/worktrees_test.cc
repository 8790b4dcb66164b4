#include "agent/worktrees.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "agent/git_command.h"
#include "agent/testing/git_repo.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using testing::MakeGitRepo;
using testing::ReadFileBytes;
using testing::TestDir;
using testing::WriteFileBytes;

class WorktreesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MakeGitRepo(repo_, {{"notes.txt", "one\ntwo\nthree\n"}, {"src/main.c", "int main;\n"}});
  }

  TestDir dir_;
  std::string repo_ = dir_.File("repo");
  Worktrees worktrees_{dir_.File("data/worktrees")};
};

TEST_F(WorktreesTest, CreatesAWorktreeOnItsOwnBranchUnderTheRoot) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_1");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->repo, repo_);
  EXPECT_EQ(w->path, dir_.File("data/worktrees/bg_1"));
  EXPECT_EQ(w->branch, "troupe/bg_1");
  EXPECT_EQ(w->base, GitFirstLine(*RunGitOk(repo_, {"rev-parse", "HEAD"})));
  EXPECT_EQ(w->workspace(), w->path);
  EXPECT_EQ(ReadFileBytes(w->path + "/notes.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(w->git_dir, repo_ + "/.git/worktrees/bg_1");
}

TEST_F(WorktreesTest, ASubdirectoryWorkspaceWorksInTheSameSubdirectoryOfTheWorktree) {
  Result<TaskWorktree> w = worktrees_.Create(repo_ + "/src", "", "bg_2");
  ASSERT_TRUE(w.ok()) << w.status().message();
  EXPECT_EQ(w->repo, repo_);
  EXPECT_EQ(w->subdir, "src");
  EXPECT_EQ(ReadFileBytes(w->workspace() + "/main.c"), "int main;\n");
}

TEST_F(WorktreesTest, ANonGitWorkspaceIsAnErrorOnIsolation) {
  std::filesystem::create_directories(dir_.File("plain"));
  Result<TaskWorktree> w = worktrees_.Create(dir_.File("plain"), "", "bg_3");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(w.status().field(), "isolation");
  EXPECT_NE(w.status().message().find("is not in a git repository"), std::string::npos)
      << w.status().message();
}

TEST_F(WorktreesTest, AnUnknownBaseIsAnErrorOnBase) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "no-such-branch", "bg_4");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().field(), "base");
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/worktrees/bg_4")));
}

TEST_F(WorktreesTest, FinishCommitsLeftoversRecordsTheBranchAndRemovesTheWorktree) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_5");
  ASSERT_TRUE(w.ok());
  WriteFileBytes(w->path + "/notes.txt", "one\nTWO\nthree\n");
  WriteFileBytes(w->path + "/new.txt", "fresh\n");
  worktrees_.Finish(&*w, "troupe: edit notes (task bg_5)");
  EXPECT_EQ(w->finish_error, "");
  EXPECT_TRUE(w->removed);
  EXPECT_TRUE(w->auto_committed);
  ASSERT_EQ(w->commits.size(), 1u);
  EXPECT_NE(w->commits[0].find("troupe: edit notes (task bg_5)"), std::string::npos);
  EXPECT_NE(w->diff_stat.find("2 files changed"), std::string::npos) << w->diff_stat;
  EXPECT_FALSE(std::filesystem::exists(w->path));
  // The branch stays, with the change; the user's files are untouched.
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/bg_5:notes.txt"}), "one\nTWO\nthree\n");
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "one\ntwo\nthree\n");
  EXPECT_EQ(RunGitOk(repo_, {"worktree", "list", "--porcelain"})->find("bg_5"), std::string::npos);
  Result<std::string> diff = worktrees_.Diff(*w);
  ASSERT_TRUE(diff.ok()) << diff.status().message();
  EXPECT_NE(diff->find("+TWO"), std::string::npos) << *diff;
  EXPECT_NE(diff->find("+fresh"), std::string::npos) << *diff;
}

TEST_F(WorktreesTest, DiffOfALiveWorktreeShowsUncommittedAndNewFiles) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_6");
  ASSERT_TRUE(w.ok());
  WriteFileBytes(w->path + "/notes.txt", "one\n");
  WriteFileBytes(w->path + "/added.txt", "brand new\n");
  Result<std::string> diff = worktrees_.Diff(*w);
  ASSERT_TRUE(diff.ok()) << diff.status().message();
  EXPECT_NE(diff->find("-two"), std::string::npos) << *diff;
  EXPECT_NE(diff->find("+brand new"), std::string::npos) << *diff;
}

TEST_F(WorktreesTest, NoChangeLeavesNoCommitAndNothingToApply) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_7");
  ASSERT_TRUE(w.ok());
  worktrees_.Finish(&*w, "unused");
  EXPECT_FALSE(w->auto_committed);
  EXPECT_TRUE(w->commits.empty());
  Result<ApplyReport> report = worktrees_.Apply(*w, "apply");
  ASSERT_TRUE(report.ok());
  EXPECT_FALSE(report->applied);
  EXPECT_NE(report->message.find("nothing to apply"), std::string::npos);
}

TEST_F(WorktreesTest, ApplyMergesTheFirstAndReportsTheConflictingSecondChangingNothing) {
  Result<TaskWorktree> a = worktrees_.Create(repo_, "", "bg_a");
  Result<TaskWorktree> b = worktrees_.Create(repo_, "", "bg_b");
  ASSERT_TRUE(a.ok() && b.ok());
  WriteFileBytes(a->path + "/notes.txt", "one\nA\nthree\n");
  WriteFileBytes(b->path + "/notes.txt", "one\nB\nthree\n");
  worktrees_.Finish(&*a, "edit a");
  worktrees_.Finish(&*b, "edit b");

  Result<ApplyReport> first = worktrees_.Apply(*a, "troupe: apply troupe/bg_a");
  ASSERT_TRUE(first.ok()) << first.status().message();
  EXPECT_TRUE(first->applied) << first->message;
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "one\nA\nthree\n");
  const std::string head = *RunGitOk(repo_, {"rev-parse", "HEAD"});

  Result<ApplyReport> second = worktrees_.Apply(*b, "troupe: apply troupe/bg_b");
  ASSERT_TRUE(second.ok()) << second.status().message();
  EXPECT_FALSE(second->applied);
  EXPECT_EQ(second->conflicts, std::vector<std::string>{"notes.txt"});
  EXPECT_NE(second->message.find("notes.txt"), std::string::npos) << second->message;
  // Nothing lost: the workspace holds the first change, clean, no merge in progress; the
  // second change is intact on its branch.
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "one\nA\nthree\n");
  EXPECT_EQ(*RunGitOk(repo_, {"rev-parse", "HEAD"}), head);
  EXPECT_EQ(*RunGitOk(repo_, {"status", "--porcelain"}), "");
  EXPECT_EQ(*RunGitOk(repo_, {"show", "troupe/bg_b:notes.txt"}), "one\nB\nthree\n");

  Result<ApplyReport> again = worktrees_.Apply(*a, "again");
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_applied);
}

TEST_F(WorktreesTest, ApplyRefusesToTouchUncommittedChangesInTheSameFile) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_u");
  ASSERT_TRUE(w.ok());
  WriteFileBytes(w->path + "/notes.txt", "one\nfrom the task\nthree\n");
  worktrees_.Finish(&*w, "edit");
  WriteFileBytes(repo_ + "/notes.txt", "my own unsaved work\n");
  Result<ApplyReport> report = worktrees_.Apply(*w, "apply");
  ASSERT_TRUE(report.ok()) << report.status().message();
  EXPECT_FALSE(report->applied);
  EXPECT_EQ(report->conflicts, std::vector<std::string>{"notes.txt"}) << report->message;
  EXPECT_EQ(ReadFileBytes(repo_ + "/notes.txt"), "my own unsaved work\n");
}

TEST_F(WorktreesTest, EnsureAddsARemovedWorktreeAgainOnItsBranch) {
  Result<TaskWorktree> w = worktrees_.Create(repo_, "", "bg_c");
  ASSERT_TRUE(w.ok());
  WriteFileBytes(w->path + "/notes.txt", "first turn\n");
  worktrees_.Finish(&*w, "turn 1");
  ASSERT_TRUE(w->removed);
  ASSERT_TRUE(worktrees_.Ensure(&*w).ok());
  EXPECT_FALSE(w->removed);
  EXPECT_EQ(ReadFileBytes(w->path + "/notes.txt"), "first turn\n");
  WriteFileBytes(w->path + "/notes.txt", "second turn\n");
  worktrees_.Finish(&*w, "turn 2");
  EXPECT_EQ(w->commits.size(), 2u);
}

TEST_F(WorktreesTest, RemoveOrphansKeepsTheOwnedAndForgetsTheRest) {
  Result<TaskWorktree> kept = worktrees_.Create(repo_, "", "bg_k");
  Result<TaskWorktree> orphan = worktrees_.Create(repo_, "", "bg_o");
  ASSERT_TRUE(kept.ok() && orphan.ok());
  std::filesystem::create_directories(dir_.File("data/worktrees/stray"));
  Result<std::vector<std::string>> removed = worktrees_.RemoveOrphans({kept->path});
  ASSERT_TRUE(removed.ok()) << removed.status().message();
  EXPECT_EQ(*removed, (std::vector<std::string>{orphan->path, dir_.File("data/worktrees/stray")}));
  EXPECT_TRUE(std::filesystem::exists(kept->path));
  const std::string listed = *RunGitOk(repo_, {"worktree", "list", "--porcelain"});
  EXPECT_EQ(listed.find("bg_o"), std::string::npos) << listed;
  EXPECT_NE(listed.find("bg_k"), std::string::npos) << listed;
  EXPECT_TRUE(RunGitOk(repo_, {"rev-parse", "--verify", "troupe/bg_o"}).ok());
}

TEST(TaskWorktreeJson, RoundTrips) {
  TaskWorktree w;
  w.repo = "/r";
  w.git_dir = "/r/.git/worktrees/bg_1";
  w.path = "/d/bg_1";
  w.subdir = "src";
  w.branch = "troupe/bg_1";
  w.base = "abc";
  w.removed = true;
  w.auto_committed = true;
  w.commits = {"abc1 one", "abc2 two"};
  w.diff_stat = " 1 file changed";
  Result<TaskWorktree> back = ParseTaskWorktree(TaskWorktreeJson(w));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(TaskWorktreeJson(*back), TaskWorktreeJson(w));
  EXPECT_EQ(ParseTaskWorktree("{\"repo\":1}").status().code(), StatusCode::kCorruption);
  EXPECT_NE(WorktreeSummary(w).find("branch troupe/bg_1"), std::string::npos);
  EXPECT_NE(WorktreeSummary(w).find("2 commits"), std::string::npos);
}

}  // namespace
}  // namespace troupe
