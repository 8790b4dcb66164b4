// Running the system's real `git` for the daemon's own work on repositories (task worktrees):
// the binary from the system directories only, argv (never a shell string), a clean environment
// (no global or system git config, no terminal prompts, C locale, troupe's commit identity), on
// the process runner. Blocking: call it where blocking is allowed.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace troupe {

struct GitOutput {
  int exit_code = -1;
  std::string out;  // stdout (capped at 4 MiB, head kept)
  std::string err;  // stderr (capped)
};

// Runs `git -C <cwd> <args...>`. An error only when git could not be run at all (not installed,
// killed, timed out); a git that fails is an output with its exit code.
Result<GitOutput> RunGit(const std::string& cwd, const std::vector<std::string>& args,
                         int64_t timeout_ms = 60'000);

// Like RunGit, but a non-zero exit is an error saying which git command failed in `cwd` and
// what git said.
Result<std::string> RunGitOk(const std::string& cwd, const std::vector<std::string>& args);

// The first line of git's output `text`, without its newline.
std::string GitFirstLine(const std::string& text);

}  // namespace troupe
