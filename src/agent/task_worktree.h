// The git worktree a task runs in (docs/DESIGN.md "Worktrees"): where it is, which branch and
// base, and — once the task ended — what it left on its branch. Stored with the task as JSON
// (TaskRecord::worktree_json), so a continuation and a restart find it again.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace troupe {

struct TaskWorktree {
  std::string repo;     // top-level directory of the repository the task was launched on
  std::string git_dir;  // the worktree's own git directory (<repo>/.git/worktrees/<name>)
  std::string path;     // the worktree directory (under the daemon's data directory)
  std::string subdir;   // the launch workspace relative to `repo` ("" = its top)
  std::string branch;   // troupe/<task id of the session's first task>
  std::string base;     // the commit the branch started from
  // Filled in when the task ends (Worktrees::Finish).
  bool removed = false;              // the directory is gone; the branch stays
  bool auto_committed = false;       // troupe committed what the agent left uncommitted
  std::vector<std::string> commits;  // "<short hash> <subject>", oldest first, base..branch
  std::string diff_stat;             // `git diff --stat base branch`
  std::string finish_error;          // why finishing went wrong, if it did
  // While Finish runs off the loop: the final state the task reaches once it ran ("completed",
  // "error", "cancelled"); the task's record already holds that state's result and error. A
  // restart finds it and finishes the task (docs/DESIGN.md "Worktrees").
  std::string finishing;

  // Where the task works: the worktree, or its subdirectory matching the launch workspace.
  std::string workspace() const;
};

std::string TaskWorktreeJson(const TaskWorktree& worktree);
// Corruption naming the problem when `json` is not a stored worktree.
Result<TaskWorktree> ParseTaskWorktree(std::string_view json);

// What a task's result says about its branch, e.g.
//   "Worktree: branch troupe/bg_1 (2 commits on abc1234): …" plus the diff stat.
std::string WorktreeSummary(const TaskWorktree& worktree);

}  // namespace troupe
