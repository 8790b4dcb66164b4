#include "agent/process_runner.h"

#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

#include "agent/tool_output.h"

extern char** environ;

namespace troupe {
namespace {

using SteadyClock = std::chrono::steady_clock;

// How long output may still arrive after the group was killed, before the pipes are abandoned
// (a process that left the group with setsid may hold them open forever).
constexpr int kDrainGraceMs = 500;
// Poll period when the kernel has no pidfd_open (before Linux 5.3).
constexpr int kExitPollMs = 20;

uint64_t CountNewlines(std::string_view bytes) {
  return static_cast<uint64_t>(std::count(bytes.begin(), bytes.end(), '\n'));
}

void CloseFd(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

int64_t MsUntil(SteadyClock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - SteadyClock::now());
  return std::max<int64_t>(0, left.count());
}

// "K=V" strings: our environment (when `inherit`) with `extra` added or replacing same-named
// entries.
std::vector<std::string> BuildEnvironment(
    bool inherit, const std::vector<std::pair<std::string, std::string>>& extra) {
  std::vector<std::string> env;
  for (char** e = inherit ? environ : nullptr; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    std::string_view key = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [k, v] : extra) replaced = replaced || key == k;
    if (!replaced) env.emplace_back(entry);
  }
  for (const auto& [k, v] : extra) env.push_back(k + "=" + v);
  return env;
}

// Reads what is available from `fd` into `capture`; closes `fd` at end of file or error.
void ReadAvailable(int& fd, CapturedOutput& capture) {
  char buffer[64 * 1024];
  while (fd >= 0) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n > 0) {
      capture.Append(std::string_view(buffer, static_cast<size_t>(n)));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    CloseFd(fd);
  }
}

void DrainWakePipe(int fd) {
  char buffer[64];
  while (read(fd, buffer, sizeof buffer) > 0) {
  }
}

// `limits` with each value lowered to our own hard limit: setrlimit refuses to raise it.
std::vector<ProcessLimit> ClampLimits(const std::vector<ProcessLimit>& limits) {
  std::vector<ProcessLimit> out = limits;
  for (ProcessLimit& l : out) {
    rlimit current{};
    if (getrlimit(l.resource, &current) == 0 && current.rlim_max != RLIM_INFINITY &&
        (l.value == RLIM_INFINITY || l.value > current.rlim_max)) {
      l.value = current.rlim_max;
    }
  }
  return out;
}

// What a forked child that could not run its program tells the parent through a close-on-exec
// pipe: the step and its errno.
struct ExecFailure {
  int step = 0;  // 1: stdin, 2: stdout/stderr, 3: cwd, 4: a limit, 5: exec, 6: the cgroup
  int error = 0;
};

const char* ExecStepName(int step) {
  switch (step) {
    case 1:
      return "cannot open /dev/null";
    case 2:
      return "cannot set up its output";
    case 3:
      return "cannot change to the directory";
    case 4:
      return "cannot set a resource limit";
    case 6:
      return "cannot join its control group";
    default:
      return "cannot run the program";
  }
}

// Between fork and exec: async-signal-safe system calls only (the parent has other threads).
[[noreturn]] void ExecChild(const char* path, char* const* argv, char* const* envp, const char* cwd,
                            int out_w, int err_w, int report_w,
                            const std::vector<ProcessLimit>& limits, int cgroup_fd) {
  auto fail = [report_w](int step) {
    ExecFailure f{step, errno};
    [[maybe_unused]] ssize_t ignored = write(report_w, &f, sizeof f);
    _exit(127);
  };
  setpgid(0, 0);
  // First, so that nothing this process starts is outside the group.
  if (cgroup_fd >= 0 && write(cgroup_fd, "0", 1) != 1) fail(6);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  struct sigaction dfl {};
  dfl.sa_handler = SIG_DFL;
  for (int sig = 1; sig < NSIG; ++sig) sigaction(sig, &dfl, nullptr);
  int null_fd = open("/dev/null", O_RDONLY);
  if (null_fd < 0 || dup2(null_fd, STDIN_FILENO) < 0) fail(1);
  if (dup2(out_w, STDOUT_FILENO) < 0 || dup2(err_w, STDERR_FILENO) < 0) fail(2);
  if (cwd[0] != '\0' && chdir(cwd) != 0) fail(3);
  for (const ProcessLimit& l : limits) {
    rlimit value{l.value, l.value};
    if (setrlimit(l.resource, &value) != 0) fail(4);
  }
  // Nothing else of ours reaches the program (see Spawn); the report pipe closes on exec.
  if (syscall(SYS_close_range, STDERR_FILENO + 1, ~0U, CLOSE_RANGE_CLOEXEC) != 0) {
    for (int fd = STDERR_FILENO + 1; fd < 4096; ++fd) {
      if (fd != report_w) close(fd);
    }
  }
  execve(path, argv, envp);
  fail(5);
  _exit(127);  // not reached
}

}  // namespace

// --- CapturedOutput ---------------------------------------------------------------------------

void CapturedOutput::Append(std::string_view bytes) {
  total_bytes_ += bytes.size();
  if (head_.size() < head_limit_) {
    size_t take = std::min(bytes.size(), head_limit_ - head_.size());
    head_.append(bytes.substr(0, take));
    bytes.remove_prefix(take);
  }
  if (bytes.empty()) return;
  if (tail_limit_ == 0) {
    dropped_lines_ += CountNewlines(bytes);
    return;
  }
  tail_.append(bytes);
  if (tail_.size() > 2 * tail_limit_) {
    size_t excess = tail_.size() - tail_limit_;
    dropped_lines_ += CountNewlines(std::string_view(tail_).substr(0, excess));
    tail_.erase(0, excess);
  }
}

std::string CapturedOutput::tail() const {
  return tail_.size() <= tail_limit_ ? tail_ : tail_.substr(tail_.size() - tail_limit_);
}

uint64_t CapturedOutput::dropped_bytes() const {
  return total_bytes_ - head_.size() - std::min(tail_.size(), tail_limit_);
}

uint64_t CapturedOutput::dropped_lines() const {
  uint64_t lines = dropped_lines_;
  if (tail_.size() > tail_limit_) {
    lines += CountNewlines(std::string_view(tail_).substr(0, tail_.size() - tail_limit_));
  }
  return lines;
}

std::string CapturedOutput::Text() const {
  if (!truncated()) return ToValidUtf8(head_ + tail_);
  std::string out = ToValidUtf8(head_);
  if (!out.empty() && out.back() != '\n') out += '\n';
  const std::string what =
      FormatBytes(dropped_bytes()) + ", " + CountOf(dropped_lines(), "line break", "line breaks");
  if (tail_limit_ == 0) {
    out += TruncationMarker(what + " more not shown") + "\n";
  } else {
    out += TruncationMarker(what + " omitted from the middle") + "\n";
    out += ToValidUtf8(tail());
  }
  return out;
}

// --- ProcessHandle ----------------------------------------------------------------------------

void ProcessHandle::Kill() {
  std::lock_guard<std::mutex> lock(mu_);
  killed_ = true;
  if (running_) kill(-pgid_, SIGKILL);
  if (wake_fd_ >= 0) {
    [[maybe_unused]] ssize_t ignored = write(wake_fd_, "k", 1);
  }
}

bool ProcessHandle::killed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return killed_;
}

pid_t ProcessHandle::pgid() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pgid_;
}

// --- RunProcess -------------------------------------------------------------------------------

// One run's file descriptors and its registration with the handle. Not in an anonymous namespace:
// ProcessHandle names it as a friend.
class ProcessRun {
 public:
  ProcessRun(const ProcessOptions& options, ProcessHandle* handle)
      : options_(options), handle_(handle) {}
  ~ProcessRun() {
    if (handle_ != nullptr) {
      std::lock_guard<std::mutex> lock(handle_->mu_);
      handle_->running_ = false;
      handle_->wake_fd_ = -1;
    }
    for (int* fd : {&out_r_, &out_w_, &err_r_, &err_w_, &wake_r_, &wake_w_, &pidfd_}) {
      CloseFd(*fd);
    }
  }

  Result<ProcessResult> Run();

 private:
  Status MakePipes();
  Status Spawn();
  // Spawn's way when the child needs resource limits: fork, setrlimit, exec. Called with the
  // handle's mutex held.
  Status ForkExec(char* const* argv, char* const* envp);
  // SIGKILL to the group unless the leader has been reaped; `running` stays as it was unless
  // `finished`, which ends the handle's right to signal the group.
  void KillGroup(bool finished);
  bool ChildExited();
  void Reap();

  const ProcessOptions& options_;
  ProcessHandle* handle_;
  ProcessHandle own_handle_;  // used when the caller gave none
  ProcessResult result_;
  pid_t pid_ = -1;
  int out_r_ = -1, out_w_ = -1, err_r_ = -1, err_w_ = -1, wake_r_ = -1, wake_w_ = -1;
  int pidfd_ = -1;
};

Status ProcessRun::MakePipes() {
  auto make = [](int& r, int& w) -> Status {
    int fds[2];
    if (pipe2(fds, O_CLOEXEC) != 0) {
      return Status::IoError(std::string("cannot create a pipe: ") + strerror(errno));
    }
    r = fds[0];
    w = fds[1];
    fcntl(r, F_SETFL, O_NONBLOCK);
    return Status::Ok();
  };
  TROUPE_RETURN_IF_ERROR(make(out_r_, out_w_));
  if (!options_.merge_stderr) TROUPE_RETURN_IF_ERROR(make(err_r_, err_w_));
  TROUPE_RETURN_IF_ERROR(make(wake_r_, wake_w_));
  fcntl(wake_w_, F_SETFL, O_NONBLOCK);
  return Status::Ok();
}

Status ProcessRun::Spawn() {
  std::vector<std::string> env = BuildEnvironment(options_.inherit_environment, options_.env);
  std::vector<char*> envp;
  for (std::string& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = options_.argv;
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_w_, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, options_.merge_stderr ? out_w_ : err_w_,
                                   STDERR_FILENO);
  if (!options_.cwd.empty()) posix_spawn_file_actions_addchdir_np(&actions, options_.cwd.c_str());
  // Nothing else the daemon has open (listening sockets, client connections, the store, the
  // lock file) reaches the tool: a long-lived tool process must not keep them alive.
  posix_spawn_file_actions_addclosefrom_np(&actions, STDERR_FILENO + 1);

  // Own process group; no blocked signals; default dispositions, so a SIGPIPE the daemon ignores
  // is not ignored by `yes | head`.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t none, all;
  sigemptyset(&none);
  sigfillset(&all);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &all);

  Status status;
  {
    std::lock_guard<std::mutex> lock(handle_->mu_);
    if (handle_->killed_) {
      status = Status::Cancelled("the process was cancelled before it started");
    } else if (!options_.limits.empty() || options_.cgroup != nullptr) {
      status = ForkExec(argv.data(), envp.data());
      if (status.ok()) {
        handle_->running_ = true;
        handle_->pgid_ = pid_;
        handle_->wake_fd_ = wake_w_;
      }
    } else {
      int rc = posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
      if (rc != 0) {
        pid_ = -1;
        status = Status::Unavailable("cannot start " + options_.argv[0] +
                                     (options_.cwd.empty() ? "" : " in " + options_.cwd) + ": " +
                                     strerror(rc));
      } else {
        handle_->running_ = true;
        handle_->pgid_ = pid_;
        handle_->wake_fd_ = wake_w_;
      }
    }
  }
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&actions);
  return status;
}

Status ProcessRun::ForkExec(char* const* argv, char* const* envp) {
  const std::string& name = options_.argv[0];
  const char* path_env = getenv("PATH");
  const std::string path =
      FindExecutable(name, path_env != nullptr ? path_env : "/usr/local/bin:/usr/bin:/bin");
  const std::string where = options_.cwd.empty() ? "" : " in " + options_.cwd;
  if (path.empty()) {
    return Status::Unavailable("cannot start " + name + where + ": " + strerror(ENOENT));
  }
  const std::vector<ProcessLimit> limits = ClampLimits(options_.limits);
  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) {
    return Status::IoError(std::string("cannot create a pipe: ") + strerror(errno));
  }
  const int err_w = options_.merge_stderr ? out_w_ : err_w_;
  pid_t pid = fork();
  if (pid == 0) {
    ExecChild(path.c_str(), argv, envp, options_.cwd.c_str(), out_w_, err_w, report[1], limits,
              options_.cgroup != nullptr ? options_.cgroup->procs_fd() : -1);
  }
  const int fork_errno = errno;
  close(report[1]);
  if (pid < 0) {
    close(report[0]);
    return Status::Unavailable("cannot start " + name + where + ": " + strerror(fork_errno));
  }
  setpgid(pid, pid);  // also in the child: whichever runs first, the group exists before use
  ExecFailure failure;
  ssize_t n;
  while ((n = read(report[0], &failure, sizeof failure)) < 0 && errno == EINTR) {
  }
  close(report[0]);
  if (n == static_cast<ssize_t>(sizeof failure)) {
    while (waitpid(pid, nullptr, 0) < 0 && errno == EINTR) {
    }
    return Status::Unavailable("cannot start " + name + where + ": " + ExecStepName(failure.step) +
                               ": " + strerror(failure.error));
  }
  pid_ = pid;
  return Status::Ok();
}

void ProcessRun::KillGroup(bool finished) {
  std::lock_guard<std::mutex> lock(handle_->mu_);
  if (handle_->running_) kill(-pid_, SIGKILL);
  if (finished) handle_->running_ = false;
}

bool ProcessRun::ChildExited() {
  // WNOWAIT leaves the child unreaped, so its pid (= the pgid) cannot be reused while we may
  // still signal the group.
  siginfo_t info{};
  if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) != 0) {
    return errno == ECHILD;
  }
  return info.si_pid != 0;
}

void ProcessRun::Reap() {
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status)) {
    result_.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result_.term_signal = WTERMSIG(status);
  }
  // Group members that are our children (we may be a subreaper); all were sent SIGKILL.
  int ignored;
  while (waitpid(-pid_, &ignored, 0) > 0 || errno == EINTR) {
  }
}

Result<ProcessResult> ProcessRun::Run() {
  if (options_.argv.empty() || options_.argv[0].empty()) {
    return Status::InvalidArgument("no program to run");
  }
  if (handle_ == nullptr) handle_ = &own_handle_;
  const auto start = SteadyClock::now();
  const bool limited = options_.timeout_ms > 0;
  const auto deadline = start + std::chrono::milliseconds(limited ? options_.timeout_ms : 0);
  result_.out = CapturedOutput(options_.stdout_head, options_.stdout_tail);
  result_.err = CapturedOutput(options_.stderr_head, options_.stderr_tail);

  TROUPE_RETURN_IF_ERROR(MakePipes());
  TROUPE_RETURN_IF_ERROR(Spawn());
  result_.pgid = pid_;
  CloseFd(out_w_);
  CloseFd(err_w_);
  pidfd_ = static_cast<int>(syscall(SYS_pidfd_open, pid_, 0));

  // Phase 1: until the direct child exits, read its output, watch the clock and the handle.
  while (!ChildExited()) {
    int64_t wait_ms = limited ? MsUntil(deadline) : -1;
    if (limited && wait_ms == 0 && !result_.timed_out) {
      result_.timed_out = true;
      KillGroup(/*finished=*/false);
    }
    if (result_.timed_out) wait_ms = kExitPollMs;
    if (pidfd_ < 0) wait_ms = wait_ms < 0 ? kExitPollMs : std::min<int64_t>(wait_ms, kExitPollMs);
    pollfd fds[4] = {
        {out_r_, POLLIN, 0}, {err_r_, POLLIN, 0}, {wake_r_, POLLIN, 0}, {pidfd_, POLLIN, 0}};
    if (poll(fds, 4, static_cast<int>(wait_ms)) < 0 && errno != EINTR) break;
    if (fds[0].revents != 0) ReadAvailable(out_r_, result_.out);
    if (fds[1].revents != 0) ReadAvailable(err_r_, result_.err);
    if (fds[2].revents != 0) DrainWakePipe(wake_r_);
  }

  // Phase 2: the leader is gone; kill what it left in its group, then take the output still in
  // flight, for a bounded time.
  KillGroup(/*finished=*/true);
  // And what left the group (setsid, double fork) but not the control group.
  if (options_.cgroup != nullptr) options_.cgroup->KillAll();
  const auto drain_deadline = SteadyClock::now() + std::chrono::milliseconds(kDrainGraceMs);
  while (out_r_ >= 0 || err_r_ >= 0) {
    int64_t wait_ms = MsUntil(drain_deadline);
    pollfd fds[2] = {{out_r_, POLLIN, 0}, {err_r_, POLLIN, 0}};
    int n = poll(fds, 2, static_cast<int>(wait_ms));
    if (n < 0 && errno != EINTR) break;
    if (n == 0) break;
    if (fds[0].revents != 0) ReadAvailable(out_r_, result_.out);
    if (fds[1].revents != 0) ReadAvailable(err_r_, result_.err);
  }
  Reap();
  result_.killed = handle_->killed();
  result_.elapsed_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(SteadyClock::now() - start).count();
  return std::move(result_);
}

Result<ProcessResult> RunProcess(const ProcessOptions& options, ProcessHandle* handle) {
  ProcessRun run(options, handle);
  return run.Run();
}

std::string FindExecutable(std::string_view name, std::string_view search_path) {
  if (name.empty()) return "";
  if (name.find('/') != std::string_view::npos) return std::string(name);
  size_t start = 0;
  while (start <= search_path.size()) {
    size_t end = search_path.find(':', start);
    if (end == std::string_view::npos) end = search_path.size();
    std::string_view dir = search_path.substr(start, end - start);
    start = end + 1;
    if (dir.empty() || dir[0] != '/') continue;
    std::string candidate = std::string(dir) + "/" + std::string(name);
    struct stat st {};
    if (stat(candidate.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
        access(candidate.c_str(), X_OK) == 0) {
      return candidate;
    }
  }
  return "";
}

std::string DescribeSignal(int signal_number) {
  const char* abbrev = sigabbrev_np(signal_number);
  return "killed by signal " + std::to_string(signal_number) +
         (abbrev != nullptr ? std::string(" (SIG") + abbrev + ")" : std::string());
}

}  // namespace troupe
