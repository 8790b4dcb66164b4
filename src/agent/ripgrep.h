// Running ripgrep for the search tools (list, glob, grep). ripgrep, not hand-written rules,
// decides what is ignored: .gitignore (inside a git repository or not), .ignore, .rgignore, and
// hidden files unless asked for. It never follows symbolic links, so a search cannot wander out of
// the workspace through one.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/process_runner.h"
#include "agent/sandbox.h"
#include "core/status.h"

namespace troupe {

// How the search tools run rg.
struct RipgrepOptions {
  std::string program = "rg";  // without a '/': found in the system directories only
  int64_t timeout_ms = 60'000;
  // Where rg runs; null = DefaultSandbox(). When the sandbox is unavailable, rg (which only
  // reads) still runs, with the clean environment and the limits.
  std::shared_ptr<const Sandbox> sandbox;
};

// A sandbox with the default policy, created (and probed) once per process.
std::shared_ptr<const Sandbox> DefaultSandbox();

// Flags every search uses: no user config file, .gitignore honoured outside git repositories
// too, no colours.
std::vector<std::string> RipgrepBaseArgs();

// Whether `glob` names hidden files or directories (a path component starting with '.', such as
// ".github/**" or "**/.env"), so the search must include hidden files to find them.
bool GlobNamesHidden(std::string_view glob);

// Adds --hidden (with .git/ still excluded) when `glob` names hidden files.
void AddHiddenFlags(std::string_view glob, std::vector<std::string>& args);

// Runs `program` with `args` in `cwd` (inside `workspace`), in the sandbox, as every tool
// process; stdout keeps its first `stdout_cap` bytes. An error only
// when rg cannot be started: "cannot run ripgrep (rg): …; it must be installed in /usr/bin…".
Result<ProcessResult> RunRipgrep(const RipgrepOptions& options, std::vector<std::string> args,
                                 const std::string& workspace, const std::string& cwd,
                                 size_t stdout_cap, ProcessHandle* handle);

// Splits NUL-terminated paths (rg --null --files) and drops a leading "./".
std::vector<std::string> SplitNulPaths(std::string_view output);

// `prefix` + "/" + `path`, or `path` when prefix is "." (paths relative to the workspace root).
std::string JoinRelative(std::string_view prefix, std::string_view path);

// rg's stderr, trimmed, for an error a model reads.
std::string RipgrepMessage(const ProcessResult& result);

}  // namespace troupe
