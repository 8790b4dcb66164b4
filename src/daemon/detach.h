// `troupe serve --detach`: the process forks, the child serves in the background (its own
// session, stdin from /dev/null, stdout and stderr appended to the log) and the parent waits until
// the child listens or fails, then exits with the child's start result — "listening" on stdout
// and 0, or the child's one-line reason on stderr and its exit code. The child tells the parent
// over a pipe through a StartReport.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace troupe {

// Exit codes of `troupe serve` (daemon.h).
constexpr int kExitStartError = 1;
constexpr int kExitAlreadyRunning = 3;

// How long `serve --detach` waits for the daemon to listen.
constexpr int64_t kDetachWaitMs = 15'000;

// Tells the `serve --detach` parent how the start went, over a pipe: "L<start line>" once
// listening, or "E<exit code digit><message>". Does nothing in the foreground (fd -1). The pipe
// is closed after the first report.
class StartReport {
 public:
  explicit StartReport(int fd) : fd_(fd) {}
  StartReport(const StartReport&) = delete;
  StartReport& operator=(const StartReport&) = delete;
  ~StartReport() { Close(); }

  void Listening(const std::string& line) { Send("L" + line); }
  void Failed(int code, const std::string& message);

 private:
  void Send(const std::string& text);
  void Close();
  int fd_;
};

// Forks. In the child: detaches from the terminal, sends output to `log_path`, closes every
// other inherited descriptor, and returns serve(report_fd), `report_fd` being the pipe its
// StartReport writes to. In the parent: waits (at most kDetachWaitMs) for the report and returns
// the exit code of the command.
int DetachAndServe(const std::string& log_path, const std::function<int(int report_fd)>& serve);

}  // namespace troupe
