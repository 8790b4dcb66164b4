// For tests of the built `troupe` binary against a real daemon: a scratch data directory and
// config in the environment (the offline mock model), a working directory, running the binary
// to its end, and the daemon stopped — politely, then for sure — when the sandbox goes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/testing/scoped_env.h"
#include "core/testing/test_dir.h"

namespace troupe::testing {

// What a finished `troupe` command did.
struct Ran {
  int code = -1;  // -1: killed, or did not exit normally
  std::string out;
  std::string err;
};

// Runs `binary args…` in `cwd` with `input` on stdin, to its end; killed (and a test failure
// added) after `timeout_ms`.
Ran RunBinary(const std::string& binary, const std::string& cwd,
              const std::vector<std::string>& args, const std::string& input = "",
              int timeout_ms = 60'000);

// Alive and not a zombie (a detached daemon is nobody's child here, so whoever inherits it may
// reap it late).
bool ProcessAlive(int64_t pid);

class DaemonSandbox {
 public:
  // `config_jsonc` becomes the user config ($XDG_CONFIG_HOME/troupe/troupe.jsonc). Sets
  // TROUPE_DATA_DIR to <dir>/data and clears TROUPE_SOCKET, TROUPE_URL, TROUPE_TOKEN,
  // TROUPE_NO_AUTOSTART; NO_COLOR=1.
  DaemonSandbox(std::string binary, const std::string& config_jsonc);
  // StopDaemon().
  ~DaemonSandbox();
  DaemonSandbox(const DaemonSandbox&) = delete;
  DaemonSandbox& operator=(const DaemonSandbox&) = delete;

  TestDir& dir() { return dir_; }
  // The working directory commands run in (<dir>/work).
  const std::string& work() const { return work_; }
  // `troupe args…` in work().
  Ran Run(const std::vector<std::string>& args, const std::string& input = "",
          int timeout_ms = 60'000) const;
  // The pid in the data directory's lock file; 0 without one.
  int64_t DaemonPid() const;
  // When a daemon ran: `troupe stop` must succeed and leave no daemon process (test failures
  // otherwise; a survivor is killed).
  void StopDaemon();

 private:
  std::string binary_;
  TestDir dir_;
  ScopedEnv data_env_;
  ScopedEnv config_env_;
  ScopedEnv socket_env_;
  ScopedEnv url_env_;
  ScopedEnv token_env_;
  ScopedEnv autostart_env_;
  ScopedEnv color_env_;
  std::string work_;
};

}  // namespace troupe::testing
