#include "cli/mcp_command.h"

#include <errno.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "cli/daemon_client.h"
#include "cli/exit_codes.h"
#include "cli/mcp_bridge.h"
#include "cli/mcp_line_framer.h"
#include "cli/mcp_transport.h"
#include "daemon/daemon_paths.h"

namespace troupe {
namespace {

// The loop takes the lines the reader has framed; the reader waits while this much is untaken.
constexpr size_t kInboxMaxBytes = size_t{16} << 20;
// After a stop signal, the watcher ends the process itself if the loop has not by then.
constexpr int64_t kStopWatchdogMs = 3'000;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

sigset_t StopSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  return set;
}

void WriteStderr(const std::string& line) {
  const std::string text = fmt::format("troupe mcp: {}\n", line);
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(STDERR_FILENO, text.data() + off, text.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      return;  // nowhere to log
    }
  }
}

// Lines from the stdin reader thread to the loop.
class StdinInbox {
 public:
  explicit StdinInbox(std::function<void()> wake) : wake_(std::move(wake)) {}

  // Reader side: hands over `lines` (and the end of stdin); waits while the loop has more than
  // kInboxMaxBytes to take. False once Close() was called.
  bool Push(std::vector<McpStdinLine> lines, bool end) {
    size_t bytes = 0;
    for (const McpStdinLine& line : lines) bytes += line.text.size();
    {
      std::unique_lock lock(mu_);
      room_.wait(lock, [&] { return closed_ || bytes_ < kInboxMaxBytes; });
      if (closed_) return false;
      for (McpStdinLine& line : lines) lines_.push_back(std::move(line));
      bytes_ += bytes;
      end_ = end_ || end;
    }
    wake_();
    return true;
  }

  // Loop side: everything handed over so far.
  void Take(std::vector<McpStdinLine>* lines, bool* end) {
    {
      std::lock_guard lock(mu_);
      lines->swap(lines_);
      lines_.clear();
      bytes_ = 0;
      *end = end_;
    }
    room_.notify_all();
  }

  void Close() {
    {
      std::lock_guard lock(mu_);
      closed_ = true;
    }
    room_.notify_all();
  }

 private:
  std::function<void()> wake_;
  std::mutex mu_;
  std::condition_variable room_;
  std::vector<McpStdinLine> lines_;
  size_t bytes_ = 0;
  bool end_ = false;
  bool closed_ = false;
};

// Reads stdin on its own thread, frames it, hands the lines to the inbox.
class StdinReader {
 public:
  explicit StdinReader(StdinInbox* inbox) : inbox_(inbox) {}
  ~StdinReader() { Stop(); }

  bool Start() {
    if (::pipe2(stop_pipe_, O_CLOEXEC) != 0) return false;
    thread_ = std::thread([this] { Run(); });
    return true;
  }

  void Stop() {
    if (!thread_.joinable()) return;
    (void)!::write(stop_pipe_[1], "x", 1);
    inbox_->Close();
    thread_.join();
    ::close(stop_pipe_[0]);
    ::close(stop_pipe_[1]);
  }

 private:
  void Run() {
    McpLineFramer framer;
    std::vector<char> buffer(size_t{64} << 10);
    while (true) {
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {stop_pipe_[0], POLLIN, 0}};
      if (::poll(fds, 2, -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[1].revents != 0) return;
      const ssize_t n = ::read(STDIN_FILENO, buffer.data(), buffer.size());
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      std::vector<McpStdinLine> lines;
      if (n <= 0) {
        framer.Finish(&lines);
        inbox_->Push(std::move(lines), /*end=*/true);
        return;
      }
      framer.Feed(std::string_view(buffer.data(), static_cast<size_t>(n)), &lines);
      if (!lines.empty() && !inbox_->Push(std::move(lines), /*end=*/false)) return;
    }
    std::vector<McpStdinLine> none;
    inbox_->Push(std::move(none), /*end=*/true);
  }

  StdinInbox* inbox_;
  int stop_pipe_[2] = {-1, -1};
  std::thread thread_;
};

// Takes the stop signals (blocked in every thread) with sigtimedwait: nothing runs in a signal
// handler. The first one wakes the loop; a second one, or the loop still running
// kStopWatchdogMs later, ends the process at once.
class StopSignalWatcher {
 public:
  explicit StopSignalWatcher(std::function<void()> wake) : wake_(std::move(wake)) {}
  ~StopSignalWatcher() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    if (!thread_.joinable()) return;
    stop_ = true;
    thread_.join();
  }
  int received() const { return received_.load(); }

 private:
  void Run() {
    const sigset_t set = StopSignals();
    int64_t deadline = 0;
    while (!stop_) {
      timespec wait = {0, 50'000'000L};
      const int sig = ::sigtimedwait(&set, nullptr, &wait);
      if (sig > 0) {
        if (received_.load() != 0) ::_exit(0);  // asked twice: now
        received_ = sig;
        deadline = NowMs() + kStopWatchdogMs;
        wake_();
      }
      if (deadline != 0 && NowMs() >= deadline && !stop_) ::_exit(0);
    }
  }

  std::function<void()> wake_;
  std::atomic<bool> stop_ = false;
  std::atomic<int> received_ = 0;
  std::thread thread_;
};

// The McpBridge's world: the transport, stdout, stderr, the daemon client and the timer.
class McpStdioLoop final : public McpBridgeIo {
 public:
  explicit McpStdioLoop(ClientOptions options) : options_(std::move(options)) {}

  int Run();

  void StartCall(const McpHttpCall& call) override { transport_.Start(call); }
  void AbortCall(uint64_t id) override { transport_.Abort(id); }
  void WriteLine(const std::string& line) override;
  void Log(const std::string& line) override { WriteStderr(line); }
  Status Reconnect() override;
  std::string Where() const override { return where_; }
  // Where the daemon should be, before Connect found it: "the troupe daemon at <socket or url>".
  std::string ExpectedWhere() const;
  void StartTimer(int64_t delay_ms) override { timer_at_ = NowMs() + delay_ms; }
  void CancelTimer() override { timer_at_.reset(); }
  void Finish(int exit_code) override { exit_code_ = exit_code; }

 private:
  ClientOptions options_;
  std::unique_ptr<DaemonClient> client_;
  std::string where_ = "the troupe daemon";
  McpTransport transport_;
  std::optional<int64_t> timer_at_;
  std::optional<int> exit_code_;
  bool stdout_gone_ = false;
};

void McpStdioLoop::WriteLine(const std::string& line) {
  if (stdout_gone_) return;
  std::string text = line;
  text.push_back('\n');
  size_t off = 0;
  while (off < text.size()) {
    const ssize_t n = ::write(STDOUT_FILENO, text.data() + off, text.size() - off);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && errno == EAGAIN) {  // a non-blocking stdout: wait until it drains
      pollfd fd = {STDOUT_FILENO, POLLOUT, 0};
      (void)::poll(&fd, 1, 1000);
    } else {
      stdout_gone_ = true;  // EPIPE: the client is gone
      return;
    }
  }
}

std::string McpStdioLoop::ExpectedWhere() const {
  if (!options_.url.empty()) return fmt::format("the troupe daemon at {}", options_.url);
  Result<DaemonPaths> paths =
      ResolveDaemonPaths(options_.data_dir, options_.socket, ProcessPathsEnv());
  return paths.ok() ? fmt::format("the troupe daemon at {}", paths->socket) : where_;
}

Status McpStdioLoop::Reconnect() {
  Result<std::unique_ptr<DaemonClient>> found = DaemonClient::Connect(options_);
  if (!found.ok()) {
    // Connect names the daemon when it cannot reach it; an answer it refused (a bad token) may
    // not.
    Status status = found.status();
    const std::string where = ExpectedWhere();
    if (status.code() != StatusCode::kInvalidArgument &&
        status.message().find(where) == std::string::npos) {
      status = Status(status.code(), fmt::format("{}: {}", where, status.message()));
    }
    transport_.ForgetAddress(status.message());
    return status;
  }
  client_ = std::move(found).value();
  where_ = client_->Where();
  transport_.SetAddress(McpDaemonAddress{client_->socket(), client_->BaseUrl(), client_->token()});
  if (client_->started_daemon()) {
    Log(fmt::format("started the daemon (data in {}, log {})", client_->paths().data_dir,
                    client_->paths().log));
  }
  return Status::Ok();
}

int McpStdioLoop::Run() {
  if (!transport_.ok()) {
    Log("cannot set up libcurl");
    return kExitError;
  }
  StopSignalWatcher signals([this] { transport_.Wakeup(); });
  signals.Start();

  Status found = Reconnect();
  if (found.code() == StatusCode::kInvalidArgument) {  // a bad --url: nothing to retry
    Log(found.message());
    return kExitUsage;
  }
  if (found.ok()) {
    Log(fmt::format("forwarding stdin/stdout to {} (/mcp)", where_));
  } else {
    Log(fmt::format("{}; each message will try again", found.message()));
  }

  McpBridge bridge(this);
  StdinInbox inbox([this] { transport_.Wakeup(); });
  StdinReader reader(&inbox);
  if (!reader.Start()) {
    Log(fmt::format("cannot start reading stdin: {}", ::strerror(errno)));
    return kExitError;
  }

  bool stopping = false;
  bool stdin_ended = false;
  std::vector<McpStdinLine> lines;
  while (!exit_code_) {
    if (!stopping && signals.received() != 0) {
      stopping = true;
      Log(fmt::format("{}: ending the MCP session", ::strsignal(signals.received())));
      bridge.Stop();
    }
    if (!stopping && stdout_gone_) {
      stopping = true;
      Log("stdout was closed: ending the MCP session");
      bridge.Stop();
    }
    if (!stopping && !exit_code_) {
      bool end = false;
      inbox.Take(&lines, &end);
      for (McpStdinLine& line : lines) {
        if (line.too_long()) {
          bridge.OnTooLongLine(line.too_long_bytes);
        } else {
          bridge.OnStdinLine(std::move(line.text));
        }
      }
      lines.clear();
      if (end && !stdin_ended) {
        stdin_ended = true;
        bridge.OnStdinEnd();
      }
    }
    if (timer_at_ && NowMs() >= *timer_at_) {
      timer_at_.reset();
      bridge.OnTimer();
    }
    if (exit_code_) break;
    transport_.Perform(&bridge);
    if (exit_code_) break;
    int64_t wait = 1000;
    if (timer_at_) wait = std::clamp<int64_t>(*timer_at_ - NowMs(), 0, wait);
    if (stdout_gone_ && !stopping) wait = 0;
    transport_.Poll(static_cast<int>(wait));
  }
  reader.Stop();
  signals.Stop();
  return *exit_code_;
}

}  // namespace

int RunMcpCommand(CommandEnv& env) {
  ::signal(SIGPIPE, SIG_IGN);
  // Blocked before any thread starts, so every thread (libcurl's too) inherits it and the
  // watcher's sigtimedwait is the only taker.
  const sigset_t stop = StopSignals();
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  McpStdioLoop loop(env.client_options());
  return loop.Run();
}

}  // namespace troupe
