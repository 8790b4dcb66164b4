#include "cli/daemon_launcher.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <iterator>

namespace troupe {

Result<std::string> SelfExecutablePath() {
  std::string path(4096, '\0');
  const ssize_t n = ::readlink("/proc/self/exe", path.data(), path.size() - 1);
  if (n <= 0) {
    return Status::IoError(fmt::format("cannot read /proc/self/exe: {}", std::strerror(errno)));
  }
  path.resize(static_cast<size_t>(n));
  return path;
}

Result<LaunchedProcess> LaunchedProcess::Start(const std::string& binary,
                                               const std::vector<std::string>& args) {
  const char* tmp = std::getenv("TMPDIR");
  std::string pattern = fmt::format("{}/troupe-start-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  const int out = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (out < 0) {
    return Status::IoError(
        fmt::format("cannot create a temporary file {}: {}", pattern, std::strerror(errno)));
  }
  ::unlink(pattern.c_str());
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);

  // Built before fork: between fork and exec the child makes async-signal-safe calls only.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(out);
    if (null_fd >= 0) ::close(null_fd);
    return Status::IoError(fmt::format("cannot fork: {}", std::strerror(err)));
  }
  if (pid == 0) {
    ::setsid();  // not in the terminal's process group: Ctrl-C in the shell leaves it alone
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(out, STDOUT_FILENO);
    ::dup2(out, STDERR_FILENO);
    // Default signal dispositions and no blocked signal for the daemon, whatever the client
    // changed (`troupe mcp` blocks the stop signals in its threads to take them synchronously).
    ::signal(SIGPIPE, SIG_DFL);
    ::signal(SIGINT, SIG_DFL);
    sigset_t none;
    ::sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    ::execv(binary.c_str(), argv.data());
    const char msg[] = "cannot run the troupe binary\n";
    (void)!::write(STDERR_FILENO, msg, sizeof msg - 1);
    ::_exit(127);
  }
  if (null_fd >= 0) ::close(null_fd);
  return LaunchedProcess(pid, out);
}

LaunchedProcess::LaunchedProcess(LaunchedProcess&& other) noexcept
    : pid_(other.pid_), output_fd_(other.output_fd_), exit_code_(other.exit_code_) {
  other.pid_ = -1;
  other.output_fd_ = -1;
}

LaunchedProcess::~LaunchedProcess() {
  if (output_fd_ >= 0) ::close(output_fd_);
}

std::optional<int> LaunchedProcess::Poll() {
  if (exit_code_ || pid_ <= 0) return exit_code_;
  int status = 0;
  pid_t r;
  while ((r = ::waitpid(pid_, &status, WNOHANG)) < 0 && errno == EINTR) {
  }
  if (r == 0) return std::nullopt;
  if (r < 0) {
    exit_code_ = 1;  // not our child any more; say it failed
  } else if (WIFEXITED(status)) {
    exit_code_ = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    exit_code_ = 128 + WTERMSIG(status);
  } else {
    return std::nullopt;
  }
  return exit_code_;
}

std::string LaunchedProcess::Output() const {
  std::string text;
  if (output_fd_ < 0) return text;
  char buffer[4096];
  off_t offset = 0;
  while (text.size() < 64 * 1024) {
    const ssize_t n = ::pread(output_fd_, buffer, sizeof buffer, offset);
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
  }
  return text;
}

std::string FirstLine(const std::string& text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    size_t first = line.find_first_not_of(" \t");
    if (first != std::string::npos) return line.substr(first);
    start = end + 1;
  }
  return "";
}

bool ProcessRunning(pid_t pid) {
  if (pid <= 0) return false;
  if (::kill(pid, 0) != 0) return errno == EPERM;  // EPERM: it exists, as someone else's
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  // "pid (comm) S …": the state follows the last ')'.
  const size_t paren = text.rfind(')');
  return paren == std::string::npos || paren + 2 >= text.size() || text[paren + 2] != 'Z';
}

}  // namespace troupe
