// The MCP servers of the config, as agents' tool sources, started on first use, listed, restarted
// after a crash with backoff.
//
// Sharing: an HTTP server, and a stdio server whose config says `shared`, has one connection
// for every owner (a task, to the layers above). Any other stdio server gets one process per
// owner: an owner's first call or WhenReady starts its own, and it is stopped when the last token
// of Hold(owner) is dropped (the task ended). Owner "" uses the one shared instance.
//
// States (of each instance): idle (not started yet, or stopped), starting (spawn/connect +
// initialize + tools/list), ready, backoff (it failed; the next start waits until the backoff
// ends: 1 s, doubling to 60 s, reset by a start that reaches ready), blocked (a project file's
// server the user has not allowed: never started).
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
  // Tools it listed that are not offered, each with why (McpConnection::rejected_tools).
  std::vector<std::string> rejected_tools;
  bool shared = true;  // one connection for every task (false: a process per task)
  int processes = 0;   // per-task servers: the instances running or starting now
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

  // Whether `name` gives each owner its own process.
  bool PerOwner(const std::string& name) const;

  // Keeps `owner`'s own server processes while the token lives; when its last token is dropped
  // they are stopped (their calls in flight dropped, as Close does).
  std::shared_ptr<void> Hold(const std::string& owner);

  // Starts `name` (for `owner`: its own instance when the server is per owner) if it is not
  // ready and calls `done` once it is (with its tools) or failed. Tools that went stale
  // (tools/list_changed, or a 2026 server's ttlMs passed) are listed again first.
  // The returned token drops `done` when destroyed.
  std::shared_ptr<void> WhenReady(const std::string& name, const std::string& owner,
                                  std::function<void(Result<std::vector<McpToolInfo>>)> done);

  // Calls `tool` on `server` (`owner`'s instance; starting it if needed). `done` runs once
  // unless the call is cancelled or destroyed first.
  std::unique_ptr<McpToolCall> Call(const std::string& server, const std::string& owner,
                                    const std::string& tool, const nlohmann::json& arguments,
                                    std::function<void(Result<nlohmann::json>)> done);

  // Runs `fn` from a later loop turn (for answers that are known at once).
  void Later(std::function<void()> fn);

  // Stops every server (the daemon's shutdown).
  void StopAll();

 private:
  struct Server;
  // The instance `owner` uses of server `name` (made when missing); null if none is configured.
  Server* Instance(const std::string& name, const std::string& owner);
  void Release(const std::string& owner);
  void StartServer(Server& s);
  void Failed(Server& s, const troupe::Status& why);
  void Ready(Server& s);
  // `for_call`: the listed tools are good enough even when stale (a call names its tool).
  std::shared_ptr<void> WhenReady(Server* s, const std::string& name,
                                  std::function<void(Result<std::vector<McpToolInfo>>)> done,
                                  bool for_call);
  std::unique_ptr<McpChannel> MakeChannel(const McpServerConfig& c, troupe::Status* error);

  McpServersDeps deps_;
  std::map<std::string, std::unique_ptr<Server>> servers_;  // by name: the shared instances
  // Per-owner instances by (name, owner).
  std::map<std::pair<std::string, std::string>, std::unique_ptr<Server>> owned_;
  std::map<std::string, int> holds_;  // owner -> live Hold tokens
  // Released instances, destroyed from a later loop turn (a callback of theirs may be running).
  std::vector<std::unique_ptr<Server>> retired_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace troupe
