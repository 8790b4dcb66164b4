// The built binary in a user's session (see user_session.h).
#include "cli/testing/user_session.h"

#include <fcntl.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace troupe::testing {
namespace {

using Clock = std::chrono::steady_clock;

int LeftMs(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

}  // namespace

SessionChild::SessionChild(const UserSession& session, const std::string& binary,
                           const std::string& cwd, const std::vector<std::string>& args)
    : label_("troupe " + (args.empty() ? std::string() : args[0])) {
  int in[2], out[2], err[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  // Built before fork: the child makes async-signal-safe calls only.
  std::vector<std::string> env_strings;
  for (const auto& [name, value] : session.env) env_strings.push_back(name + "=" + value);
  std::vector<char*> envp;
  for (std::string& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);

  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    if (session.gid && (setgroups(0, nullptr) != 0 || setgid(*session.gid) != 0)) _exit(125);
    if (session.uid && setuid(*session.uid) != 0) _exit(125);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execve(binary.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_ = in[1];
  out_fd_ = out[0];
  err_fd_ = err[0];
}

SessionChild::~SessionChild() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  for (int fd : {in_, out_fd_, err_fd_}) {
    if (fd >= 0) close(fd);
  }
}

void SessionChild::Write(const std::string& bytes) {
  size_t off = 0;
  while (off < bytes.size()) {
    const ssize_t n = write(in_, bytes.data() + off, bytes.size() - off);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ADD_FAILURE() << label_ << " closed its stdin: " << std::strerror(errno);
      return;
    }
    off += static_cast<size_t>(n);
  }
}

void SessionChild::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

bool SessionChild::ReadSome(int timeout_ms) {
  if (out_fd_ < 0 && err_fd_ < 0) return false;
  pollfd fds[2] = {{out_fd_, POLLIN, 0}, {err_fd_, POLLIN, 0}};
  if (poll(fds, 2, timeout_ms) <= 0) return true;
  char buffer[4096];
  for (int i = 0; i < 2; ++i) {
    if (fds[i].revents == 0) continue;
    int& fd = i == 0 ? out_fd_ : err_fd_;
    const ssize_t n = read(fd, buffer, sizeof buffer);
    if (n <= 0) {
      close(fd);
      fd = -1;
    } else {
      (i == 0 ? out_ : err_).append(buffer, static_cast<size_t>(n));
    }
  }
  return true;
}

std::optional<std::string> SessionChild::ReadLine(int timeout_ms) {
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    const size_t newline = out_.find('\n');
    if (newline != std::string::npos) {
      std::string line = out_.substr(0, newline);
      out_.erase(0, newline + 1);
      return line;
    }
    if (out_fd_ < 0 || Clock::now() >= deadline || !ReadSome(LeftMs(deadline))) return std::nullopt;
  }
}

Ran SessionChild::Finish(int timeout_ms) {
  CloseStdin();
  const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
  Ran ran;
  while (out_fd_ >= 0 || err_fd_ >= 0) {
    if (Clock::now() >= deadline) {
      ADD_FAILURE() << label_ << " did not finish in " << timeout_ms << " ms; stderr: " << err_;
      kill(pid_, SIGKILL);
      break;
    }
    ReadSome(LeftMs(deadline));
  }
  int status = 0;
  waitpid(pid_, &status, 0);
  reaped_ = true;
  ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  ran.out = out_;
  ran.err = err_;
  return ran;
}

Ran RunAs(const UserSession& session, const std::string& binary, const std::string& cwd,
          const std::vector<std::string>& args, const std::string& input, int timeout_ms) {
  SessionChild child(session, binary, cwd, args);
  if (!input.empty()) child.Write(input);
  return child.Finish(timeout_ms);
}

}  // namespace troupe::testing
