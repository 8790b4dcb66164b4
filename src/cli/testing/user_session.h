// For tests of the built binary the way a user's machine runs it: an exact environment (nothing
// of the test's inherited, as `env -i` gives) and, when the test runs as root, another user's
// uid. A SessionChild is one process of that session with its three pipes: a command run to its
// end, or `troupe mcp` spoken to line by line. Every wait is bounded; a child still running when
// its SessionChild goes is killed and reaped.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cli/testing/daemon_sandbox.h"

namespace troupe::testing {

struct UserSession {
  std::map<std::string, std::string> env;  // the whole environment
  std::optional<uid_t> uid;                // another user (needs root); groups are cleared
  std::optional<gid_t> gid;
};

class SessionChild {
 public:
  // Starts `binary args…` in `cwd` as `session`.
  SessionChild(const UserSession& session, const std::string& binary, const std::string& cwd,
               const std::vector<std::string>& args);
  ~SessionChild();
  SessionChild(const SessionChild&) = delete;
  SessionChild& operator=(const SessionChild&) = delete;

  // Writes all of `bytes` to its stdin (a test failure when it closed it).
  void Write(const std::string& bytes);
  void CloseStdin();
  // The next line of its stdout (without the newline); nullopt when its stdout ended or no
  // line came within `timeout_ms`.
  std::optional<std::string> ReadLine(int timeout_ms);
  // Closes stdin, reads both outputs to their end and reaps it; killed (and a test failure
  // added) after `timeout_ms`. Ran::out holds what ReadLine did not take.
  Ran Finish(int timeout_ms);
  // What it wrote to stderr so far.
  const std::string& err() const { return err_; }

 private:
  // Waits up to `timeout_ms` for output and appends what came; false when nothing is open.
  bool ReadSome(int timeout_ms);

  std::string label_;
  pid_t pid_ = -1;
  int in_ = -1, out_fd_ = -1, err_fd_ = -1;
  std::string out_;
  std::string err_;
  bool reaped_ = false;
};

// `binary args…` as `session` to its end, with `input` on stdin.
Ran RunAs(const UserSession& session, const std::string& binary, const std::string& cwd,
          const std::vector<std::string>& args, const std::string& input = "",
          int timeout_ms = 60'000);

}  // namespace troupe::testing
