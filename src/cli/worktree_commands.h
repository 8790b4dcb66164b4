// `troupe diff ID` and `troupe apply ID`: the change an isolated task left on its worktree
// branch, and bringing it into the workspace (docs/CLI.md "Worktrees").
#pragma once

#include <string>

#include "cli/command_env.h"

namespace troupe {

struct WorktreeCommandOptions {
  std::string id;  // bg_…
  bool json = false;
};

// Prints the task's diff (from its base to its branch, or to its worktree while it runs).
int RunDiffCommand(CommandEnv& env, const WorktreeCommandOptions& options);
// Merges the task's branch into the workspace it was launched on; on a conflict prints the files
// and exits 1, with nothing in the workspace changed.
int RunApplyCommand(CommandEnv& env, const WorktreeCommandOptions& options);

}  // namespace troupe
