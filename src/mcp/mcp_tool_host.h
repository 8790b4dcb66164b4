// The seam between the MCP protocol (mcp/mcp_server.h: JSON-RPC, lifecycle, tools/list and
// tools/call, tasks) and the tools it offers (mcp/mcp_tools.h: delegate_task, background_* over
// the engine). The protocol side knows nothing of troupe's tasks; the tools know nothing of
// JSON-RPC.
//
// MCP tasks (protocol 2025-11-25) are the host's too: a tool whose definition declares
// execution.taskSupport "optional" or "required" can be started as a task, and the host then
// answers for its tasks (get, list, cancel, await the result) and reports those that end. The
// protocol side decides what the client may ask (version, capability, taskSupport), checks the
// requests, paginates and keeps the calls in flight.
//
// Threading: loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"

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
  // MCP 2026-07-28 tasks/get and tasks/cancel (mcp/mcp_modern.h): the task id is the handle, so
  // the task is found among every task launched through MCP, and acted on as its owner's.
  bool by_task_handle = false;
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

// MCP's TaskStatus. completed, failed and cancelled are terminal: the task never changes again.
enum class McpTaskStatus { kWorking, kInputRequired, kCompleted, kFailed, kCancelled };

// "working", "input_required", "completed", "failed", "cancelled".
const char* McpTaskStatusName(McpTaskStatus status);
bool IsTerminal(McpTaskStatus status);

// A task as the host reports it; the protocol side adds its own policy (ttl, pollInterval) and
// writes the times as ISO 8601.
struct McpTask {
  std::string task_id;
  McpTaskStatus status = McpTaskStatus::kWorking;
  std::string status_message;  // for people; "" = none
  int64_t created_at_ms = 0;   // wall clock, milliseconds since the Unix epoch
  int64_t updated_at_ms = 0;
};

// One of a session's tasks became terminal.
struct McpTaskNotice {
  McpTask task;
  // What notifications/message carries about it (an object).
  nlohmann::json details;
};

// A subscription of WatchTasks: destroying it ends it (no callback once the destructor returned).
class McpTaskWatch {
 public:
  virtual ~McpTaskWatch() = default;
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

  // ---- tasks: called only for hosts with a tool that declares task support ----
  // The defaults are those of a host without tasks. A session's tasks are those started through
  // it — as tasks, or by whatever else its tools launch.

  // Starts tool `name` (one that declares task support) with `arguments` as a task of
  // `context.session_id` and returns it at once. An error carries the tool's own message (bad
  // arguments, a launch refused) for the client.
  virtual Result<McpTask> StartTask(const McpCallContext& context, const std::string& name,
                                    const nlohmann::json& arguments);
  // Task `task_id` of the session; NotFound when there is none (unknown, or another session's).
  virtual Result<McpTask> GetTask(const McpCallContext& context, const std::string& task_id);
  // The session's tasks, oldest first.
  virtual Result<std::vector<McpTask>> ListTasks(const McpCallContext& context);
  // Cancels the session's task `task_id`, which is not terminal, and returns it afterwards.
  // NotFound as GetTask.
  virtual Result<McpTask> CancelTask(const McpCallContext& context, const std::string& task_id);
  // Calls `done` when the session's task `task_id` is terminal, with the result its tools/call
  // would have answered; as Call: exactly once unless cancelled, possibly before returning,
  // progress through `context.progress`. A task it cannot find is reported as is_error.
  virtual std::unique_ptr<McpCall> AwaitTaskResult(const McpCallContext& context,
                                                   const std::string& task_id,
                                                   std::function<void(McpToolResult)> done);
  // Calls `on_notice` each time one of session `session_id`'s tasks becomes terminal, until the
  // returned watch is destroyed. Never from inside WatchTasks; possibly from inside any other
  // call of the host (a cancel ends a task at once). Null: nothing will be reported.
  virtual std::unique_ptr<McpTaskWatch> WatchTasks(
      const std::string& session_id, std::function<void(const McpTaskNotice&)> on_notice);
  // Calls `on_change` each time task `task_id` (found as GetTask finds it with `context`)
  // changes state, until the returned watch is destroyed; same call rules as WatchTasks. Null:
  // nothing will be reported (the default, and a task GetTask would not find).
  virtual std::unique_ptr<McpTaskWatch> WatchTask(const McpCallContext& context,
                                                  const std::string& task_id,
                                                  std::function<void(const McpTask&)> on_change);
};

}  // namespace troupe
