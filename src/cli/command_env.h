// What every client command shares: its name for messages, its streams, the daemon client
// (connected on first use), and one way to report errors —
//   troupe <cmd>: <what> (hint: ...)
// on one line of stderr, with the exit code of cli/exit_codes.h.
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <ostream>
#include <string>

#include "cli/cli_io.h"
#include "cli/daemon_client.h"
#include "cli/table.h"
#include "core/status.h"

namespace troupe {

class CommandEnv {
 public:
  CommandEnv(std::string name, CliIo& io, ClientOptions options)
      : name_(std::move(name)), io_(io), options_(std::move(options)) {}

  const std::string& name() const { return name_; }
  CliIo& io() { return io_; }
  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }

  // The daemon client, connected (and the daemon started) on the first call.
  Result<DaemonClient*> Client();
  // For commands that must not start a daemon (stop).
  void DisableAutostart() { options_.autostart = false; }
  // How the client finds the daemon (for commands that connect again later: `mcp`).
  const ClientOptions& client_options() const { return options_; }

  // Prints "troupe <cmd>: <message> (hint: <hint>)" (no hint part when `hint` is empty or the
  // message has one) and returns the exit code for `status` (5 unreachable, else 1).
  int Fail(const Status& status, const std::string& hint = "");
  // The same for a failed request, with a hint chosen from the API error (unknown id: list
  // them with `troupe ps --all`; a busy session; a bad token).
  int FailRequest(const Status& status);
  // Prints the line and returns `exit_code`.
  int Error(int exit_code, const std::string& what, const std::string& hint = "");
  // A usage error: exit 2, the hint defaults to `troupe <cmd> --help`.
  int Usage(const std::string& what, const std::string& hint = "");

  // Pretty JSON on stdout.
  void PrintJson(const nlohmann::json& value);
  // Table options for stdout: its width and colours.
  TableOptions Table() const;

 private:
  std::string name_;
  CliIo& io_;
  ClientOptions options_;
  std::unique_ptr<DaemonClient> client_;
};

// The prompt of `run` / `continue`: the words joined by blanks, or stdin when there are none or
// the only one is "-". InvalidArgument (a usage error) when there is none: no words and stdin a
// terminal, or an empty text.
Result<std::string> ReadPrompt(const std::vector<std::string>& words, CliIo& io);

}  // namespace troupe
