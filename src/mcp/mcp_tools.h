// The tools troupe offers over MCP (mcp/mcp_tool_host.h): delegate_task, background_output,
// background_wait, background_cancel and background_list — the tools of the delegation service
// (agent/delegation_service.h), which decides rights, arguments, waiting and the Markdown
// answers (agent/task_reports.h) for every caller, here in the scope of the MCP session
// (DelegationScope::OwnedBy "mcp:<session>"): a task launched here is a top-level task owned by
// "mcp:<session>", not the child of an agent session. What is MCP's own is here: the answers
// shaped as content + structuredContent, progress notifications, MCP tasks, and the notices.
//
// MCP tasks (mcp/mcp_engine_tasks.h): a troupe task is an MCP task with the same id, and the
// tasks of an MCP session are those it owns (owner "mcp:<session>"), whether started as tasks or
// by delegate_task. delegate_task runs as a task (CreateTaskResult) with the same checks;
// tasks/result answers what delegate_task waiting for the task would (isError when it failed or
// was cancelled). WatchTasks reports a session's tasks that end without claiming their
// completion notices, which are still piggy-backed once.
//
// Every answer also carries structuredContent (the task, or the tasks, as JSON objects described
// by each tool's outputSchema) with what the model needs from the text besides (guidance, how to
// wait again, notices; mcp/mcp_answers.h), for the clients that show the model only that.
// Completion notices addressed to the calling MCP session (the engine's outbox, recipient
// "mcp:<session>") are claimed at the start of every answer to that session and put in front of
// it as one <system-reminder> text block (and as structuredContent `notices`), so each is
// delivered exactly once.
//
// Blocking calls (background_output with block=true, background_wait, delegate_task with
// background=false) wait at most max_wait_ms, below the 60 s after which most MCP clients give up
// on a tool call; a larger timeout_ms is lowered to it. A wait that ends there while tasks still
// run says so and names the call that waits again. Their progress notifications are a few steps
// (mcp/mcp_wait_progress.h). tasks/result is not bounded: the protocol has it wait for the end.
//
// Visibility (the scope's rules, agent/delegation_scope.h): a caller may read (background_output)
// and wait for (background_wait) any task id it knows, as in the reference system; listing, "all
// of my tasks", cancelling and continuing are limited to what this MCP session may act on —
// tasks it owns, and top-level sessions (a session an agent delegated belongs to that agent and
// cannot be continued from outside). MCP tasks (tasks/get, list, cancel, result) are the tasks
// it owns.
//
// Threading: loop thread only (the TaskManager's).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "agent/agent_catalog.h"
#include "agent/delegation_service.h"
#include "core/clock.h"
#include "engine/task_manager.h"
#include "mcp/mcp_tool_host.h"

namespace troupe {

// The longest one blocking call waits, by default: 50 s. MCP clients end a tool call that has not
// answered after a timeout, most of them after 60 s (the TypeScript SDK's default request
// timeout, which many clients keep; Codex's tool_timeout_sec); 10 s are left for the round trip
// and a daemon that starts first. A call cut by the client leaves the model with an error, while
// an answer at 50 s tells it how to wait again.
inline constexpr int64_t kMcpWaitLimitMs = 50'000;
// The largest timeout_ms accepted at all (a day); anything from max_wait_ms up to it is lowered.
inline constexpr int64_t kMcpTimeoutArgumentMaxMs = 86'400'000;

struct EngineMcpToolsOptions {
  // Workspace of the tasks launched here ("" = the TaskManager's default).
  std::string default_workspace;
  // timeout_ms of background_output (block=true) and background_wait when not given.
  int64_t default_wait_ms = kMcpWaitLimitMs;
  // The longest any blocking call waits: a larger timeout_ms is lowered to it (and the answer
  // says so); delegate_task with background=false waits this long before answering with the
  // status (the task keeps running). Must be > 0.
  int64_t max_wait_ms = kMcpWaitLimitMs;
};

// The delegation service's options for MCP callers: the limits above (a bounded wait that says
// how to wait again) and the catalog's agents (unknown names answered with the catalog's
// message; any name when `agents` is null).
DelegationServiceOptions McpDelegationOptions(const EngineMcpToolsOptions& options,
                                              const AgentCatalog* agents);

class EngineMcpTools : public McpToolHost {
 public:
  // All pointers must outlive the tools; `agents` may be null (every agent name is then left to
  // TaskManager::Launch to judge). Calls still waiting when the tools are destroyed are dropped
  // (their `done` is never called).
  EngineMcpTools(Clock* clock, TaskManager* manager, const AgentCatalog* agents,
                 EngineMcpToolsOptions options = {});
  ~EngineMcpTools() override;
  EngineMcpTools(const EngineMcpTools&) = delete;
  EngineMcpTools& operator=(const EngineMcpTools&) = delete;

  nlohmann::json ListTools() const override;
  std::unique_ptr<McpCall> Call(const McpCallContext& context, const std::string& name,
                                const nlohmann::json& arguments,
                                std::function<void(McpToolResult)> done) override;

  Result<McpTask> StartTask(const McpCallContext& context, const std::string& name,
                            const nlohmann::json& arguments) override;
  Result<McpTask> GetTask(const McpCallContext& context, const std::string& task_id) override;
  Result<std::vector<McpTask>> ListTasks(const McpCallContext& context) override;
  Result<McpTask> CancelTask(const McpCallContext& context, const std::string& task_id) override;
  std::unique_ptr<McpCall> AwaitTaskResult(const McpCallContext& context,
                                           const std::string& task_id,
                                           std::function<void(McpToolResult)> done) override;
  std::unique_ptr<McpTaskWatch> WatchTasks(
      const std::string& session_id, std::function<void(const McpTaskNotice&)> on_notice) override;
  std::unique_ptr<McpTaskWatch> WatchTask(const McpCallContext& context, const std::string& task_id,
                                          std::function<void(const McpTask&)> on_change) override;

  // WatchTasks and tasks/result waits alive (all share one EventBus subscription).
  size_t task_watches() const;

  // The owner of tasks launched through MCP session `session_id`: "mcp:<session_id>".
  static std::string OwnerOf(const std::string& session_id);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe
