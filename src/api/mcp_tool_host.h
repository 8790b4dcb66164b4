// The seam between the MCP protocol (api/mcp_server.h: JSON-RPC, lifecycle, tools/list and
// tools/call, tasks) and the tools it offers (api/mcp_tools.h: delegate_task, background_* over
// the engine). The protocol side knows nothing of troupe's tasks; the tools know nothing of
// JSON-RPC.
//
// Threading: loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace troupe {

// What a tools/call returns (MCP CallToolResult): `content` is an array of content blocks
// ({"type":"text","text":…}); `structured` (an object, or null for none) is structuredContent;
// `is_error` marks a tool-level failure (bad arguments, unknown task) — not a protocol error.
struct McpToolResult {
  nlohmann::json content = nlohmann::json::array();
  nlohmann::json structured;
  bool is_error = false;

  static McpToolResult Text(std::string text);
  static McpToolResult Error(std::string text);
};

// Who is calling, for ownership and notifications.
struct McpCallContext {
  // The MCP session (Mcp-Session-Id, or the stdio connection's id): tasks launched through it
  // belong to owner "mcp:<session_id>", and its finished tasks are piggy-backed on its next
  // tool result.
  std::string session_id;
  // Reports progress of a long (blocking) call; empty when the client gave no progressToken.
  std::function<void(double progress, std::optional<double> total, const std::string& message)>
      progress;
};

// A call in flight; destroying it does not cancel it.
class McpCall {
 public:
  virtual ~McpCall() = default;
  // notifications/cancelled: stop waiting; `done` is not called afterwards.
  virtual void Cancel() = 0;
};

class McpToolHost {
 public:
  virtual ~McpToolHost() = default;
  // Tool definitions (MCP Tool objects: name, title, description, inputSchema, outputSchema,
  // annotations, execution), in a stable order.
  virtual nlohmann::json ListTools() const = 0;
  // Runs tool `name` with `arguments` (an object). `done` is called exactly once (unless
  // cancelled), possibly before Call returns. An unknown tool name is reported through `done`
  // as is_error (the protocol layer checks names against ListTools first).
  virtual std::unique_ptr<McpCall> Call(const McpCallContext& context, const std::string& name,
                                        const nlohmann::json& arguments,
                                        std::function<void(McpToolResult)> done) = 0;
};

}  // namespace troupe
