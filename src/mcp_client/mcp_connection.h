// The client side of the MCP protocol over one channel: initialize (protocol 2025-11-25,
// accepting the older versions a server answers with), tools/list with pagination, tools/call
// with a time limit, notifications/cancelled for calls given up. Server requests are answered
// (ping; anything else "method not found"); notifications are ignored but for
// tools/list_changed, which marks the tool list stale.
//
// Threading: loop thread only. Every callback runs on the loop, never from inside a method.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "mcp_client/mcp_channel.h"

namespace troupe {

inline constexpr const char* kMcpClientProtocolVersion = "2025-11-25";
// Versions troupe speaks as a client, newest first.
bool IsKnownMcpProtocolVersion(const std::string& version);

struct McpToolInfo {
  std::string name;
  std::string title;
  std::string description;
  nlohmann::json input_schema;   // as the server wrote it (an object)
  nlohmann::json output_schema;  // null when none
};

class McpConnection {
 public:
  McpConnection(std::unique_ptr<McpChannel> channel, Clock* clock);
  ~McpConnection();

  // Opens the channel and runs initialize + notifications/initialized within `timeout_ms`.
  // `on_closed` is called once if the channel closes later (not after `done` failed).
  void Start(int64_t timeout_ms, std::function<void(Status)> done,
             std::function<void(Status)> on_closed);
  // Every tool, following nextCursor (at most 100 pages).
  void ListTools(int64_t timeout_ms, std::function<void(Result<std::vector<McpToolInfo>>)> done);
  // Calls a tool; `done` gets the CallToolResult object, or an error (timeout, the server's
  // JSON-RPC error, the server gone). Returns the id to Cancel it with.
  uint64_t CallTool(const std::string& name, const nlohmann::json& arguments, int64_t timeout_ms,
                    std::function<void(Result<nlohmann::json>)> done);
  // Gives up a call: notifications/cancelled goes to the server, `done` is not called.
  void Cancel(uint64_t id, const std::string& reason);
  // Closes the channel (kills the process); pending callbacks are dropped.
  void Close();

  const std::string& protocol_version() const { return protocol_version_; }
  const std::string& server_name() const { return server_name_; }
  const std::string& server_version() const { return server_version_; }
  bool tools_stale() const { return tools_stale_; }
  size_t pending() const { return pending_.size(); }
  std::string Describe() const { return channel_->Describe(); }

 private:
  struct Pending {
    std::function<void(Result<nlohmann::json>)> done;
    std::unique_ptr<Timer> timer;
    std::string method;
  };
  uint64_t Request(const std::string& method, nlohmann::json params, int64_t timeout_ms,
                   std::function<void(Result<nlohmann::json>)> done);
  void OnMessage(nlohmann::json message);
  void OnClosed(Status why);
  void ListPage(std::string cursor, int page, int64_t timeout_ms,
                std::shared_ptr<std::vector<McpToolInfo>> tools,
                std::function<void(Result<std::vector<McpToolInfo>>)> done);

  std::unique_ptr<McpChannel> channel_;
  Clock* clock_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, Pending> pending_;
  std::function<void(Status)> on_closed_;
  std::string protocol_version_;
  std::string server_name_;
  std::string server_version_;
  bool tools_stale_ = false;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Reads one tool of a tools/list result; an error naming what is wrong.
Result<McpToolInfo> ParseMcpTool(const nlohmann::json& tool);

}  // namespace troupe
