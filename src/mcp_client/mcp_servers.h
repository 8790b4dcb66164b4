// The MCP servers of the config, as agents' tool sources: one connection per server, shared by
// every task (as in other MCP clients; a server holding per-client state holds it for the
// daemon), started on first use, listed once, restarted after a crash with backoff.
//
// States: idle (not started yet, or stopped), starting (spawn/connect + initialize +
// tools/list), ready, backoff (it failed; the next start waits until the backoff ends: 1 s,
// doubling to 60 s, reset by a start that reaches ready), blocked (a project file's server the
// user has not allowed: never started).
//
// A call on a server that is not ready starts it (or waits for the start under way, or for the
// backoff to end); a crash fails the calls in flight with the reason ("the server stopped: the
// server closed its output; the process exited with code 1") and puts the server in backoff.
//
// Threading: loop thread only; callbacks from later loop turns.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/status.h"
#include "mcp_client/mcp_connection.h"

namespace troupe {

enum class McpServerState { kIdle, kStarting, kReady, kBackoff, kBlocked };
const char* McpServerStateName(McpServerState state);

// What `troupe mcp-servers` shows of one server.
struct McpServerStatus {
  std::string name;
  std::string transport;  // "stdio" or "http"
  std::string target;     // the command line, or the URL without query
  McpServerState state = McpServerState::kIdle;
  std::string last_error;  // why it last failed or is blocked; "" if never
  int restarts = 0;        // starts after the first
  bool research = false;
  std::string protocol_version;
  std::string server_info;   // "name version" from initialize
  std::vector<McpToolInfo> tools;  // once listed
};

// A tools/call in flight; destroying it (or Cancel) sends notifications/cancelled.
class McpToolCall {
 public:
  virtual ~McpToolCall() = default;
  virtual void Cancel() = 0;
};

struct McpServersDeps {
  boost::asio::io_context* io = nullptr;
  Clock* clock = nullptr;
  HttpClient* http = nullptr;
  // Variables for "${VAR}" and the base environment of stdio servers; null = the process's.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::vector<std::string> environment;  // "NAME=value" of stdio servers before `env`
  std::string workspace;                 // cwd of stdio servers that name none
};

class McpServers {
 public:
  McpServers(std::map<std::string, McpServerConfig> configs, McpServersDeps deps);
  ~McpServers();

  bool Has(const std::string& name) const { return servers_.count(name) > 0; }
  // Configured names, in order.
  std::vector<std::string> Names() const;
  // Servers marked `research`.
  std::vector<std::string> ResearchServers() const;
  McpServerStatus Status(const std::string& name) const;
  std::vector<McpServerStatus> List() const;

  // Starts `name` if it is not ready and calls `done` once it is (with its tools) or failed.
  // Tools that went stale (tools/list_changed, or a 2026 server's ttlMs passed) are listed
  // again first.
  // The returned token drops `done` when destroyed.
  std::shared_ptr<void> WhenReady(
      const std::string& name,
      std::function<void(Result<std::vector<McpToolInfo>>)> done);

  // Calls `tool` on `server` (starting it if needed). `done` runs once unless the call is
  // cancelled or destroyed first.
  std::unique_ptr<McpToolCall> Call(const std::string& server, const std::string& tool,
                                const nlohmann::json& arguments,
                                std::function<void(Result<nlohmann::json>)> done);

  // Runs `fn` from a later loop turn (for answers that are known at once).
  void Later(std::function<void()> fn);

  // Stops every server (the daemon's shutdown).
  void StopAll();

 private:
  struct Server;
  void StartServer(Server& s);
  void Failed(Server& s, const troupe::Status& why);
  void Ready(Server& s);
  // `for_call`: the listed tools are good enough even when stale (a call names its tool).
  std::shared_ptr<void> WhenReady(const std::string& name,
                                  std::function<void(Result<std::vector<McpToolInfo>>)> done,
                                  bool for_call);
  std::unique_ptr<McpChannel> MakeChannel(const McpServerConfig& c, troupe::Status* error);

  McpServersDeps deps_;
  std::map<std::string, std::unique_ptr<Server>> servers_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace troupe
