// Running a child process for a tool (ripgrep, bash) on a worker thread: its own process group,
// stdin from /dev/null, stdout and stderr captured (separately or merged) up to a cap that keeps
// the head and the tail, a time limit, and a handle another thread can kill it with at any time.
//
// When RunProcess returns, no process of the group is left running: when the direct child ends
// (or is killed, or times out), whatever it left behind in its group (`sleep 100 &`) is killed
// too, and the child is reaped. Group members that are not our children (grandchildren) are
// reaped by init, or by this process if it made itself a child subreaper (PR_SET_CHILD_SUBREAPER);
// RunProcess reaps every member of the group it can wait for.
#pragma once

#include <sys/resource.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/tool_cgroup.h"
#include "core/status.h"

namespace troupe {

// At most head_limit + tail_limit bytes of a stream: the first head_limit bytes and the last
// tail_limit bytes, with a count of the bytes and lines dropped between them.
class CapturedOutput {
 public:
  CapturedOutput(size_t head_limit, size_t tail_limit)
      : head_limit_(head_limit), tail_limit_(tail_limit) {}

  void Append(std::string_view bytes);

  const std::string& head() const { return head_; }
  std::string tail() const;
  uint64_t total_bytes() const { return total_bytes_; }
  uint64_t dropped_bytes() const;
  // Newlines in the dropped bytes.
  uint64_t dropped_lines() const;
  bool truncated() const { return dropped_bytes() > 0; }

  // Head and tail joined, valid UTF-8, with a marker where bytes were dropped:
  //   "… [truncated: 1,234 lines (56 KiB) omitted from the middle] …".
  std::string Text() const;

 private:
  size_t head_limit_;
  size_t tail_limit_;
  std::string head_;
  std::string tail_;  // the last bytes; may hold up to 2 * tail_limit_ before trimming
  uint64_t total_bytes_ = 0;
  uint64_t dropped_lines_ = 0;  // newlines trimmed from tail_ or never kept
};

// A resource limit the child gets before it runs its program: soft and hard both `value`
// (lowered to our own hard limit when that is smaller), so the program cannot raise it.
struct ProcessLimit {
  int resource = 0;  // RLIMIT_NPROC, RLIMIT_CPU, RLIMIT_AS, RLIMIT_FSIZE, ...
  rlim_t value = RLIM_INFINITY;
};

struct ProcessOptions {
  std::vector<std::string> argv;  // argv[0] is looked up in PATH when it has no '/'
  std::string cwd;                // "" = the current directory
  std::vector<std::pair<std::string, std::string>> env;  // added to (or replacing in) ours
  // false: the child's environment is `env` alone (an allow-list); nothing of ours reaches it.
  bool inherit_environment = true;
  // Set in the child between fork and exec (a posix_spawn cannot), so they hold from the
  // program's first instruction and for everything it starts.
  std::vector<ProcessLimit> limits;
  // The control group the child joins between fork and exec (with everything it starts); all
  // left in it is killed when the run ends. Null = none.
  std::shared_ptr<const ToolCgroup> cgroup;
  // What the run needs alive while it runs (the network proxy's endpoint of a sandboxed run):
  // held by these options, so as long as the caller keeps them.
  std::vector<std::shared_ptr<const void>> keep_alive;
  bool merge_stderr = false;    // stderr into the stdout capture, in the order written
  int64_t timeout_ms = 60'000;  // <= 0: no limit
  size_t stdout_head = 64 * 1024;
  size_t stdout_tail = 0;
  size_t stderr_head = 8 * 1024;
  size_t stderr_tail = 8 * 1024;
};

struct ProcessResult {
  int exit_code = -1;   // the exit status, or -1 when a signal ended the child
  int term_signal = 0;  // the signal that ended the child, or 0
  bool timed_out = false;
  bool killed = false;  // ProcessHandle::Kill ended it
  pid_t pgid = 0;
  int64_t elapsed_ms = 0;
  CapturedOutput out{0, 0};
  CapturedOutput err{0, 0};
};

// Lets another thread stop a RunProcess call. Thread-safe; one handle per call.
class ProcessHandle {
 public:
  ProcessHandle() = default;
  ProcessHandle(const ProcessHandle&) = delete;
  ProcessHandle& operator=(const ProcessHandle&) = delete;

  // Sends SIGKILL to the whole process group before returning (when the child runs), and makes
  // RunProcess return soon with `killed` set; before the start it keeps the child from starting.
  // Idempotent.
  void Kill();
  bool killed() const;
  // The child's process group while it runs, and afterwards the one it had; 0 before the start.
  pid_t pgid() const;

 private:
  friend class ProcessRun;

  mutable std::mutex mu_;
  bool killed_ = false;
  bool running_ = false;  // the group leader is not reaped yet: its pgid is ours to signal
  pid_t pgid_ = 0;
  int wake_fd_ = -1;  // written by Kill to wake the run's poll
};

// Runs the child to completion (or timeout, or kill). An error Status only when it could not be
// started (no such program, cwd missing, a cancelled handle: kCancelled); a child that fails is a
// result with its exit code. `handle` may be null.
Result<ProcessResult> RunProcess(const ProcessOptions& options, ProcessHandle* handle = nullptr);

// The first executable `name` in the directories of `search_path` (a PATH value), skipping
// empty and relative entries — an empty entry means the current directory, which must never
// decide which program a tool runs. "" when there is none. A `name` with a '/' is returned as
// it is.
std::string FindExecutable(std::string_view name, std::string_view search_path);

// "killed by signal 9 (SIGKILL)", for reports.
std::string DescribeSignal(int signal_number);

}  // namespace troupe
