// Task worktrees (docs/DESIGN.md "Worktrees"): a fresh `git worktree` per isolated task, on its
// own branch, under the daemon's data directory; what the task left on the branch when it ends;
// its diff; applying it to the user's workspace; and removing worktrees nobody owns any more.
//
// All of it runs the real git (agent/git_command.h), so every call blocks for a few git
// processes (seconds on a large repository): the daemon calls it on its blocking executor, off
// the loop. It keeps no state but its root, so calls may run on several threads at once; two
// calls on the same worktree or two Applies on the same repository should not (git's own locks
// then refuse one with its message). Commands that touch a
// worktree name its git directory explicitly (never the worktree's own `.git` file, which the
// agent could have rewritten to point at a repository with hostile config).
#pragma once

#include <set>
#include <string>
#include <vector>

#include "agent/task_worktree.h"
#include "core/status.h"

namespace troupe {

// What `Worktrees::Apply` did.
struct ApplyReport {
  bool applied = false;                // the branch is merged into the workspace now
  bool already_applied = false;        // nothing to do: the workspace has it already
  std::string merge_commit;            // the merge commit made, when applied
  std::vector<std::string> conflicts;  // files in conflict (nothing was changed then)
  std::string message;                 // one readable sentence (or a few) of what happened
};

class Worktrees {
 public:
  // `root` holds one directory per worktree (made when needed), e.g. "<data dir>/worktrees".
  explicit Worktrees(std::string root) : root_(std::move(root)) {}

  const std::string& root() const { return root_; }

  // A fresh worktree of the repository holding `workspace`, at `base_ref` ("" = its HEAD), on a
  // new branch troupe/<task_id>. InvalidArgument with field "isolation" when the workspace is not
  // in a git repository (or the repository has no commit yet), field "base" when `base_ref` names
  // no commit.
  Result<TaskWorktree> Create(const std::string& workspace, const std::string& base_ref,
                              const std::string& task_id);

  // Makes sure the worktree's directory exists (a continuation after the task's end, a resumed
  // task whose directory is gone): adds it again on its branch. Clears `removed`.
  Status Ensure(TaskWorktree* worktree);
  // Whether its directory is there, so that Ensure runs no git (a look at the file system only).
  bool Present(const TaskWorktree& worktree) const;
  // Removes the worktree's directory and git's entry for it; the branch stays.
  Status Remove(const TaskWorktree& worktree);

  // The task ended: commits what the agent left uncommitted (`commit_message`), records the
  // branch's commits and diff stat, and removes the worktree (the branch stays). Problems are
  // kept in `finish_error` rather than returned: the task's end must be recorded regardless.
  void Finish(TaskWorktree* worktree, const std::string& commit_message);

  // The change: `git diff` from the base to the branch, and, while the worktree exists, to what
  // its files hold now (committed or not, new files included).
  Result<std::string> Diff(const TaskWorktree& worktree);

  // Merges the branch into the repository's current HEAD (`git merge --no-ff`) when that can be
  // done without conflicts and without touching the user's uncommitted changes; otherwise changes
  // nothing and names the files in conflict.
  Result<ApplyReport> Apply(const TaskWorktree& worktree, const std::string& message);

  // Removes a worktree no task will own (a launch that did not happen) and its branch.
  Status Discard(const TaskWorktree& worktree);

  // Removes every worktree directory under the root whose path is not in `keep` (its git
  // administrative entry too); returns the paths removed. Branches stay.
  Result<std::vector<std::string>> RemoveOrphans(const std::set<std::string>& keep);

 private:
  std::string root_;
};

}  // namespace troupe
