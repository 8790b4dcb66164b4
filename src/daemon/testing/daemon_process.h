// For tests of the built `troupe` binary running as a separate process (`troupe serve`,
// `troupe mock-llm`): the child process, bounded waits, and a blocking libcurl client for the
// daemon's Unix socket, its loopback TCP port, or any loopback HTTP server.
//
// Every wait is bounded; a Process is killed (SIGKILL) and reaped when it goes, so a failing test
// leaves no child behind.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace troupe::testing {

void SleepMs(int ms);

// Polls `done` every 20 ms until it is true (true) or `timeout_ms` passed (false).
bool WaitUntil(const std::function<bool()>& done, int timeout_ms);

// The exit code of a process that ended with wait status `status`; -signal when a signal killed
// it.
int ExitCodeOf(int status);

// Waits (bounded) for child `pid`; nullopt when it still runs after `timeout_ms`.
std::optional<int> WaitPid(pid_t pid, int timeout_ms);

// The environment changes that keep a child from reading anything of the user's: no user config
// or agents (XDG_CONFIG_HOME is `config_home`), no inherited daemon socket or data dir, no proxy,
// no API key or endpoint of the user's (they would choose the default model). For Process's `env`.
std::map<std::string, std::optional<std::string>> HermeticEnv(const std::string& config_home);

// A child process running `binary` with `args`; stdout and stderr go to `<output_prefix>.out`
// and `.err`, so a chatty child never blocks on a full pipe; stdin is /dev/null. `env` changes
// the inherited environment: a value sets the variable, nullopt removes it.
class Process {
 public:
  static constexpr int kDefaultExitTimeoutMs = 15'000;

  Process(const std::string& binary, const std::vector<std::string>& args,
          const std::string& output_prefix,
          const std::map<std::string, std::optional<std::string>>& env);
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  // SIGKILL and reap, unless already reaped.
  ~Process();

  pid_t pid() const { return pid_; }
  // True while the process runs (reaps it when it has ended).
  bool Running();
  void Signal(int signo);
  // The exit code, or nullopt when it still runs after `timeout_ms`.
  std::optional<int> Wait(int timeout_ms = kDefaultExitTimeoutMs);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  std::string out_path_;
  std::string err_path_;
  pid_t pid_ = -1;
  std::optional<int> exit_code_;
};

class Client;

// `process`, a `troupe serve` just spawned, once GET /v1/health answers 200 through `client`;
// nullptr (with a test failure quoting its stderr) when it exits first or does not answer
// within `timeout_ms`.
std::unique_ptr<Process> AwaitHealthy(std::unique_ptr<Process> process, Client& client,
                                      int timeout_ms);

struct Reply {
  long status = 0;
  std::string body;
  std::string headers;  // the response head, as received
  std::string error;    // libcurl's error when no response came
  nlohmann::json Json() const;
};

// "HTTP 200 {…}" or "error <libcurl's message>", for failure messages.
std::string Describe(const Reply& reply);

// Blocking HTTP with libcurl: over a Unix socket, or to http://127.0.0.1:PORT with an optional
// bearer token. Never uses a proxy.
class Client {
 public:
  static Client Unix(const std::string& socket);
  static Client Tcp(int port, std::string token = "");

  Reply Get(const std::string& path) { return Send("GET", path, ""); }
  Reply Post(const std::string& path, const std::string& body) { return Send("POST", path, body); }
  Reply Post(const std::string& path, const nlohmann::json& body) {
    return Post(path, body.dump());
  }
  // `timeout_ms` bounds the whole exchange.
  Reply Send(const std::string& method, const std::string& path, const std::string& body,
             const std::vector<std::string>& extra_headers = {}, long timeout_ms = 60'000);

 private:
  std::string socket_;
  std::string base_;
  std::string token_;
};

}  // namespace troupe::testing
