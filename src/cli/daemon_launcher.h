// Starting `troupe serve --detach` from a client (DaemonClient's autostart): the child runs in
// its own session with stdin from /dev/null and its stdout and stderr in an unlinked temporary
// file, so that what it says before detaching can be shown when it fails, and a daemon that keeps
// the descriptors open can never block on a pipe nobody reads.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

namespace troupe {

// The path of the running executable (/proc/self/exe).
Result<std::string> SelfExecutablePath();

class LaunchedProcess {
 public:
  static Result<LaunchedProcess> Start(const std::string& binary,
                                       const std::vector<std::string>& args);
  LaunchedProcess(LaunchedProcess&& other) noexcept;
  LaunchedProcess& operator=(LaunchedProcess&&) = delete;
  ~LaunchedProcess();  // closes the output file; the process is left alone

  // nullopt while it runs; its exit code once it exited (128 + N when killed by signal N).
  std::optional<int> Poll();
  // What it printed so far (at most 64 KiB).
  std::string Output() const;
  pid_t pid() const { return pid_; }

 private:
  LaunchedProcess(pid_t pid, int output_fd) : pid_(pid), output_fd_(output_fd) {}
  pid_t pid_ = -1;
  int output_fd_ = -1;
  std::optional<int> exit_code_;
};

// True while process `pid` exists and has not exited (a zombie waiting to be reaped has).
bool ProcessRunning(pid_t pid);

// The first non-empty line of `text`, trimmed ("" when none).
std::string FirstLine(const std::string& text);

}  // namespace troupe
