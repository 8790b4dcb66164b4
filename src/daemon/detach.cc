#include "daemon/detach.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace troupe {

void StartReport::Failed(int code, const std::string& message) {
  Send(fmt::format("E{}{}", code, message));
}

void StartReport::Send(const std::string& text) {
  if (fd_ < 0) return;
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  Close();
}

void StartReport::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

int DetachAndServe(const std::string& log_path, const std::function<int(int report_fd)>& serve) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    std::fprintf(stderr, "troupe: cannot create a pipe: %s\n", std::strerror(errno));
    return kExitStartError;
  }
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t child = ::fork();
  if (child < 0) {
    std::fprintf(stderr, "troupe: cannot fork: %s\n", std::strerror(errno));
    return kExitStartError;
  }
  if (child == 0) {
    ::close(pipe_fds[0]);
    ::setsid();
    const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd >= 0) {
      ::dup2(null_fd, STDIN_FILENO);
      ::close(null_fd);
    }
    const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (log_fd < 0) {
      StartReport report(pipe_fds[1]);
      report.Failed(kExitStartError,
                    fmt::format("cannot open the log {}: {}", log_path, std::strerror(errno)));
      std::_Exit(kExitStartError);
    }
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    ::close(log_fd);
    // Keep nothing else the launcher had open (a caller's pipe would otherwise never see EOF):
    // the report pipe moves to 3, everything above is closed.
    int report_fd = pipe_fds[1];
    if (report_fd != 3 && ::dup3(report_fd, 3, O_CLOEXEC) == 3) {
      ::close(report_fd);
      report_fd = 3;
    }
    if (report_fd == 3) ::close_range(4, ~0U, 0);
    return serve(report_fd);
  }

  ::close(pipe_fds[1]);
  std::string message;
  bool eof = false;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kDetachWaitMs);
  while (!eof) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) break;
    pollfd p{pipe_fds[0], POLLIN, 0};
    const int ready = ::poll(&p, 1, static_cast<int>(left));
    if (ready < 0 && errno == EINTR) continue;
    if (ready <= 0) break;
    char buffer[1024];
    const ssize_t n = ::read(pipe_fds[0], buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      eof = true;
    } else {
      message.append(buffer, static_cast<size_t>(n));
    }
  }
  ::close(pipe_fds[0]);

  if (eof && !message.empty() && message[0] == 'L') {
    std::printf("%s\n", message.c_str() + 1);
    std::fflush(stdout);
    return 0;
  }
  if (eof && message.size() >= 2 && message[0] == 'E') {
    const int code = message[1] - '0';
    std::fprintf(stderr, "troupe: %s\n", message.c_str() + 2);
    ::waitpid(child, nullptr, 0);
    return code > 0 && code <= 9 ? code : kExitStartError;
  }
  if (eof) {
    int status = 0;
    ::waitpid(child, &status, 0);
    if (WIFEXITED(status)) {
      std::fprintf(stderr, "troupe: the daemon exited with code %d before it listened; see %s\n",
                   WEXITSTATUS(status), log_path.c_str());
      return WEXITSTATUS(status) != 0 ? WEXITSTATUS(status) : kExitStartError;
    }
    std::fprintf(stderr, "troupe: the daemon was killed by %s before it listened; see %s\n",
                 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "a signal", log_path.c_str());
    return kExitStartError;
  }
  std::fprintf(stderr,
               "troupe: the daemon (pid %d) is not listening after %lld s; it may still be "
               "starting: see %s\n",
               static_cast<int>(child), static_cast<long long>(kDetachWaitMs / 1000),
               log_path.c_str());
  return kExitStartError;
}

}  // namespace troupe
