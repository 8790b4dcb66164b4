#include "mcp_client/stdio_channel.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <cerrno>
#include <cstring>
#include <sstream>

#include "wire/jsonrpc.h"

namespace troupe {

namespace {

constexpr size_t kStderrTail = 4096;

std::string ErrnoText(int e) { return std::strerror(e); }

}  // namespace

std::string FindProgram(const std::string& name, const std::string& path) {
  if (name.find('/') != std::string::npos) return name;
  std::stringstream dirs(path);
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty() || dir[0] != '/') continue;
    const std::string candidate = dir + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "";
}

StdioChannel::StdioChannel(boost::asio::io_context& io, StdioServerSpec spec)
    : io_(io), spec_(std::move(spec)) {}

StdioChannel::~StdioChannel() { Close(); }

Status StdioChannel::Open(McpChannelCallbacks callbacks) {
  callbacks_ = std::move(callbacks);
  std::string path_value;
  for (const std::string& e : spec_.env) {
    if (e.rfind("PATH=", 0) == 0) path_value = e.substr(5);
  }
  const std::string program = FindProgram(spec_.program, path_value);
  if (program.empty()) {
    return Status::NotFound("program \"" + spec_.program + "\" was not found in PATH");
  }
  // Everything the child needs is built before fork: after it, only async-signal-safe calls.
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(spec_.program.c_str()));
  for (std::string& a : spec_.args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<char*> envp;
  for (std::string& e : spec_.env) envp.push_back(e.data());
  envp.push_back(nullptr);

  int in[2], out[2], err[2];
  if (pipe2(in, O_CLOEXEC) != 0) return Status::IoError("pipe: " + ErrnoText(errno));
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return Status::IoError("pipe: " + ErrnoText(errno));
  }
  if (pipe2(err, O_CLOEXEC) != 0) {
    for (int fd : {in[0], in[1], out[0], out[1]}) close(fd);
    return Status::IoError("pipe: " + ErrnoText(errno));
  }
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) close(fd);
    return Status::IoError("fork: " + ErrnoText(errno));
  }
  if (pid == 0) {
    setpgid(0, 0);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    dup2(in[0], 0);
    dup2(out[1], 1);
    dup2(err[1], 2);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (!spec_.cwd.empty() && chdir(spec_.cwd.c_str()) != 0) {
      const char msg[] = "cannot enter the working directory\n";
      (void)!write(2, msg, sizeof msg - 1);
      _exit(127);
    }
    execve(program.c_str(), argv.data(), envp.data());
    const char msg[] = "cannot run the program\n";
    (void)!write(2, msg, sizeof msg - 1);
    _exit(127);
  }
  setpgid(pid, pid);  // also here, so a Kill right after Open reaches the group
  pid_ = pid;
  close(in[0]);
  close(out[1]);
  close(err[1]);
  in_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, in[1]);
  out_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, out[0]);
  err_ = std::make_unique<boost::asio::posix::stream_descriptor>(io_, err[0]);
  ReadStdout();
  ReadStderr();
  return Status::Ok();
}

void StdioChannel::ReadStdout() {
  out_->async_read_some(
      boost::asio::buffer(out_buf_),
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, size_t n) {
        if (alive.expired() || closed_) return;
        if (ec) {
          // One loop turn later, so that a read of its stderr already done (its completion
          // queued before this) is kept for the message; Fail takes what is left unread.
          boost::asio::post(io_, [this, alive] {
            if (!alive.expired()) Fail(Status::Unavailable("the server closed its output"));
          });
          return;
        }
        std::string_view chunk(out_buf_.data(), n);
        while (!chunk.empty() && !closed_) {
          const size_t nl = chunk.find('\n');
          const std::string_view part = chunk.substr(0, nl);
          if (line_.size() + part.size() > spec_.max_line_bytes) {
            Fail(Status::ResourceExhausted("the server wrote a message over " +
                                           std::to_string(spec_.max_line_bytes) +
                                           " bytes on stdout"));
            return;
          }
          line_.append(part);
          if (nl == std::string_view::npos) break;
          chunk.remove_prefix(nl + 1);
          std::string line = std::move(line_);
          line_.clear();
          if (!line.empty() && line.back() == '\r') line.pop_back();
          if (line.find_first_not_of(" \t") == std::string::npos) continue;
          nlohmann::json message = nlohmann::json::parse(line, nullptr, false);
          if (message.is_discarded() || !message.is_object()) {
            Fail(Status::InvalidArgument("the server wrote a line on stdout that is not a "
                                         "JSON-RPC message: " +
                                         line.substr(0, 80)));
            return;
          }
          callbacks_.on_message(std::move(message));
        }
        if (!closed_) ReadStdout();
      });
}

void StdioChannel::ReadStderr() {
  err_->async_read_some(
      boost::asio::buffer(err_buf_),
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, size_t n) {
        if (alive.expired() || closed_ || ec) return;
        stderr_tail_.append(err_buf_.data(), n);
        if (stderr_tail_.size() > kStderrTail) {
          stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
        }
        ReadStderr();
      });
}

void StdioChannel::Send(const nlohmann::json& message) {
  if (closed_ || !in_) return;
  writes_.push_back(jsonrpc::Serialize(message) + "\n");
  if (writes_.size() == 1) WriteNext();
}

void StdioChannel::WriteNext() {
  boost::asio::async_write(
      *in_, boost::asio::buffer(writes_.front()),
      [this, alive = std::weak_ptr<bool>(alive_)](boost::system::error_code ec, size_t) {
        if (alive.expired() || closed_) return;
        if (ec) {
          Fail(Status::Unavailable("the server closed its input"));
          return;
        }
        writes_.pop_front();
        if (!writes_.empty()) WriteNext();
      });
}

std::string StdioChannel::Reap(int grace_polls) {
  if (pid_ <= 0) return "";
  int status = 0;
  pid_t r = 0;
  // A process that closed its output is usually exiting: give it a moment to say how.
  for (int i = 0; i <= grace_polls; ++i) {
    r = waitpid(pid_, &status, WNOHANG);
    if (r != 0 || i == grace_polls) break;
    usleep(5000);
  }
  kill(-pid_, SIGKILL);  // the whole group: it, or what it left behind
  while (r == 0) {
    r = waitpid(pid_, &status, 0);
    if (r < 0 && errno == EINTR) r = 0;
  }
  pid_ = 0;
  if (r < 0) return "";
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status));
  return "";
}

void StdioChannel::DrainStderr() {
  // What the process wrote to stderr before it ended may still wait in the pipe, behind an
  // asynchronous read the loop has not delivered yet: take it now, without blocking.
  if (!err_ || !err_->is_open()) return;
  const int fd = err_->native_handle();
  const int flags = fcntl(fd, F_GETFL);
  if (flags >= 0) fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  for (;;) {
    const ssize_t n = read(fd, err_buf_.data(), err_buf_.size());
    if (n <= 0) break;
    stderr_tail_.append(err_buf_.data(), static_cast<size_t>(n));
  }
  if (stderr_tail_.size() > kStderrTail) {
    stderr_tail_.erase(0, stderr_tail_.size() - kStderrTail);
  }
}

void StdioChannel::Fail(Status why) {
  if (closed_) return;
  closed_ = true;
  // Let the process finish dying (it closed stdout: usually it is exiting).
  const std::string exit = Reap(/*grace_polls=*/20);
  DrainStderr();
  std::string message = why.message();
  if (!exit.empty()) message += "; the process " + exit;
  std::string tail = stderr_tail_;
  while (!tail.empty() && (tail.back() == '\n' || tail.back() == ' ')) tail.pop_back();
  if (!tail.empty()) {
    message += "; its stderr ends: " + tail.substr(tail.size() > 400 ? tail.size() - 400 : 0);
  }
  in_.reset();
  out_.reset();
  err_.reset();
  auto on_closed = std::move(callbacks_.on_closed);
  callbacks_ = {};
  // From a later loop turn: the caller may be inside Send.
  boost::asio::post(io_, [on_closed = std::move(on_closed), code = why.code(),
                          message = std::move(message)] {
    if (on_closed) on_closed(Status(code, message));
  });
}

void StdioChannel::Close() {
  if (closed_) return;
  closed_ = true;
  in_.reset();  // EOF on its stdin: a well-behaved server exits
  out_.reset();
  err_.reset();
  Reap(/*grace_polls=*/0);
  callbacks_ = {};
}

std::string StdioChannel::Describe() const {
  return "stdio " + spec_.program + (pid_ > 0 ? " (pid " + std::to_string(pid_) + ")" : "");
}

}  // namespace troupe
