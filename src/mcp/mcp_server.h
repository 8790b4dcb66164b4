// The MCP protocol for one client connection: lifecycle (initialize, version negotiation,
// notifications/initialized, ping), logging (logging/setLevel, notifications/message), the tools
// (tools/list with cursor pagination, tools/call with progress and cancellation) and tasks
// (task-augmented tools/call, tasks/get, tasks/list, tasks/cancel, tasks/result, and
// notifications/tasks/status) over an McpToolHost. Transport-free: the transport feeds each
// incoming message to Receive and writes whatever `send` is given; stdio and Streamable HTTP
// both sit on top of this.
//
// Protocol decisions (the specification leaves these to the server):
// - Versions: "2025-11-25", "2025-06-18" and "2025-03-26" are spoken; a client asking for one of
//   them gets it, any other request gets the latest ("2025-11-25") and the client decides
//   whether to disconnect. With "2025-03-26", tool results carry no structuredContent (the
//   field came in 2025-06-18).
// - Before initialize, requests other than initialize and ping are answered with -32600
//   "server not initialized" (MCP defines no code for this; -32002 is MCP's "resource not
//   found", so it is not reused), except server/discover — the probe of the 2026-07-28
//   revision, which troupe does not speak yet — which is -32601 (Method not found): a client
//   then falls back to initialize. Notifications before initialize are ignored. A second
//   initialize is -32600. (McpPreInitializeError; `troupe mcp` answers the same on stdio.)
// - Requests between the initialize response and notifications/initialized are served, as most
//   servers do: the client SHOULD wait, but refusing gains nothing.
// - Logging: messages below the level set by logging/setLevel (default "info") are dropped;
//   nothing is logged before initialize has been answered.
// - tools/call with an unknown tool name is the protocol error -32602 "Unknown tool: X", as in
//   the specification's example; failures inside a known tool are results with isError.
// - notifications/cancelled for a tools/call or tasks/result in flight cancels it and no
//   response is sent; for anything else (finished, unknown, not cancellable) it is ignored.
// - Responses from the client (to server requests, which troupe does not send) and unknown
//   notifications are ignored.
// - Tasks exist only when "2025-11-25" was negotiated and the host has a tool whose
//   execution.taskSupport is "optional" or "required": initialize then declares
//   capabilities.tasks {list, cancel, requests.tools.call}. Otherwise params.task of tools/call
//   is ignored (an ordinary call) and tasks/* are -32601.
// - Task-augmented tools/call: params.task must be an object whose ttl, if any, is an integer
//   (else -32602). A tool with no taskSupport (or "forbidden") called with a task is -32601
//   naming the tool; a tool with "required" called without one is -32601 too. The answer is a
//   CreateTaskResult at once; arguments the tool refuses are -32602 with the tool's message (a
//   CallToolResult with isError cannot stand where a CreateTaskResult is expected). A
//   progressToken on such a call is accepted but unused: progress comes with tasks/result.
// - Task objects carry ttl null (the host keeps tasks; a requested ttl is accepted and
//   overridden) and pollInterval (McpSessionOptions::task_poll_interval_ms); createdAt and
//   lastUpdatedAt are ISO 8601 UTC with milliseconds.
// - tasks/get, tasks/cancel and tasks/result need params.taskId, a string (-32602); a task that
//   is unknown or not this session's is -32602 "no task X in this session". tasks/cancel of a
//   terminal task is -32602 "Cannot cancel task: it is already <status>". tasks/list pages like
//   tools/list (McpSessionOptions::task_page_size), oldest first; a cursor not given out is
//   -32602. tasks/result waits like a tools/call in flight (progress through its own
//   _meta.progressToken, notifications/cancelled, Close) and answers the CallToolResult with
//   _meta "io.modelcontextprotocol/related-task".
// - When one of the session's tasks becomes terminal the client is told unasked, once
//   initialized: notifications/message (logger = server_name, level "info" when completed,
//   "warning" when failed or cancelled, data = the host's details; subject to logging/setLevel)
//   and, when tasks exist, notifications/tasks/status with the Task.
//
// Threading: loop thread only. `send` is called on that thread, synchronously from Receive for
// everything answered at once, and later from the host's callbacks for deferred tool results,
// progress and task notices. `send` must not destroy the session. Messages given to `send` may
// hold text from the host that is not valid UTF-8: write them with jsonrpc::Serialize, which
// never throws.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mcp/mcp_modern.h"
#include "mcp/mcp_tool_host.h"
#include "wire/jsonrpc.h"

namespace troupe {

// The protocol versions spoken, newest first.
inline constexpr const char* kMcpProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
inline constexpr const char* kMcpLatestProtocolVersion = "2025-11-25";

// The first version with tasks.
inline constexpr const char* kMcpTasksProtocolVersion = "2025-11-25";

// The version to answer an initialize asking for `requested` with.
std::string NegotiateMcpProtocolVersion(std::string_view requested);

// The error answering request `method` (neither initialize nor ping) before initialize: -32601
// for server/discover, -32600 naming `method` and saying to initialize first otherwise.
jsonrpc::Error McpPreInitializeError(std::string_view method);

// `wall_ms` (milliseconds since the Unix epoch) as ISO 8601 UTC with milliseconds:
// "2026-01-01T00:00:00.000Z".
std::string FormatMcpTimestamp(int64_t wall_ms);

// The MCP Task object of `task` (ttl null, pollInterval `poll_interval_ms`).
nlohmann::json McpTaskJson(const McpTask& task, int64_t poll_interval_ms);

// RFC 5424 severities, least severe first.
enum class McpLogLevel { kDebug, kInfo, kNotice, kWarning, kError, kCritical, kAlert, kEmergency };

// "debug", "info", …
const char* McpLogLevelName(McpLogLevel level);
// The level named `name`, or nullopt.
std::optional<McpLogLevel> ParseMcpLogLevel(std::string_view name);

struct McpSessionOptions {
  // Identifies the session to the tools (McpCallContext::session_id).
  std::string session_id;
  std::string server_name = "troupe";
  std::string server_title = "troupe";
  std::string server_version = "0.1.0";
  // InitializeResult.instructions; omitted when empty.
  std::string instructions;
  // Tools per tools/list page; 0 = all in one page.
  size_t page_size = 50;
  // Tasks per tasks/list page; 0 = all in one page.
  size_t task_page_size = 50;
  // Task.pollInterval: how often a client polling tasks/get should ask, in milliseconds.
  int64_t task_poll_interval_ms = 500;
  // notifications/message below this level are dropped until the client sets one.
  McpLogLevel default_log_level = McpLogLevel::kInfo;
  // 2026-07-28: tools/list ttlMs (the tools change only with the daemon's version).
  int64_t tools_ttl_ms = 5 * 60 * 1000;
  // 2026-07-28: mints a session handle for a caller that gave none (mcp_session_modern.cc);
  // empty = random.
  std::function<std::string()> new_handle;
};

class McpSession {
 public:
  using SendFn = std::function<void(nlohmann::json message)>;

  // `host` must outlive the session.
  McpSession(McpToolHost* host, McpSessionOptions options, SendFn send);
  // Close()s.
  ~McpSession();
  McpSession(const McpSession&) = delete;
  McpSession& operator=(const McpSession&) = delete;

  // Handles one incoming message (text as received, or a value the transport parsed). Replies
  // go through `send`. Never throws; any input is answered or ignored per JSON-RPC and MCP.
  // Ignored after Close().
  void Receive(std::string_view text);
  void ReceiveParsed(const nlohmann::json& message);

  // Sends notifications/message when the session is initialized and `level` passes the
  // client's filter. `logger` is omitted when empty.
  void Log(McpLogLevel level, const std::string& logger, nlohmann::json data);

  // Cancels every call in flight (their responses are never sent), ends the watch on the
  // session's tasks and stops the session: later messages are ignored and nothing more is sent.
  // Idempotent.
  void Close();

  // initialize has been answered.
  bool initialized() const { return initialized_; }
  // notifications/initialized has been received (after initialize).
  bool ready() const { return ready_; }
  bool closed() const { return closed_; }
  // The negotiated version; empty before initialize.
  const std::string& protocol_version() const { return protocol_version_; }
  // clientInfo from initialize (null before).
  const nlohmann::json& client_info() const { return client_info_; }
  McpLogLevel log_level() const { return log_level_; }
  // Tasks were negotiated (see the protocol decisions above).
  bool tasks_enabled() const { return tasks_enabled_; }
  // tools/call and tasks/result requests waiting for their result.
  size_t calls_in_flight() const { return in_flight_.size(); }
  // 2026-07-28 subscriptions/listen requests open (counted in calls_in_flight too).
  size_t listens_open() const;

 private:
  // A request's answer: a result, or a JSON-RPC error.
  struct Answer {
    nlohmann::json result;
    std::optional<jsonrpc::Error> error;
  };
  struct InFlightCall {
    uint64_t serial = 0;  // tells this call from a later one reusing the same id
    nlohmann::json id;
    std::string related_task;  // tasks/result: the task named in the result's _meta
    std::unique_ptr<McpCall> call;
    // 2026-07-28 tools/call: the result is stamped (resultType, serverInfo), and names the
    // session handle minted for it ("" = the caller gave its own).
    bool modern = false;
    std::string minted_handle;
    bool listen = false;  // subscriptions/listen: open until cancelled, never answered
    // subscriptions/listen with notifications.taskIds: the tasks it reports.
    std::vector<std::unique_ptr<McpTaskWatch>> task_watches;
  };
  // Starts a host call that answers through `done` (McpToolHost::Call or AwaitTaskResult).
  using HostCall = std::function<std::unique_ptr<McpCall>(const McpCallContext& context,
                                                          std::function<void(McpToolResult)> done)>;

  void Dispatch(jsonrpc::Message message);
  void HandleRequest(jsonrpc::Request request);
  void HandleNotification(const jsonrpc::Notification& notification);

  Answer Initialize(const nlohmann::json& params);
  Answer SetLevel(const nlohmann::json& params);
  Answer ListTools(const nlohmann::json& params);
  // Answers at once for errors and task-augmented calls (returns the answer); otherwise starts
  // the call and returns nullopt, the response following from the host's `done`.
  std::optional<Answer> StartToolCall(const nlohmann::json& id, const nlohmann::json& params);
  // Task-augmented tools/call of `tool`, its params checked: a CreateTaskResult or an error.
  Answer StartTask(const std::string& tool, const nlohmann::json& arguments);

  // mcp_session_tasks.cc: tasks/get, tasks/list, tasks/cancel, tasks/result.
  void HandleTaskRequest(const nlohmann::json& id, const std::string& method,
                         const nlohmann::json& params);
  Answer GetTask(const nlohmann::json& params);
  Answer ListTasks(const nlohmann::json& params);
  Answer CancelTask(const nlohmann::json& params);
  std::optional<Answer> StartTaskResult(const nlohmann::json& id, const nlohmann::json& params);
  void OnTaskNotice(const McpTaskNotice& notice);

  // mcp_session_modern.cc: requests of revision 2026-07-28 (mcp/mcp_modern.h), each on its own.
  void HandleModern(const nlohmann::json& id, const std::string& method,
                    const nlohmann::json& params);
  Answer Discover() const;
  Answer ListToolsModern(const nlohmann::json& params);
  std::optional<Answer> StartModernToolCall(const nlohmann::json& id, const nlohmann::json& params,
                                            const McpEnvelope& envelope);
  Answer GetTaskModern(const nlohmann::json& params);
  Answer CancelTaskModern(const nlohmann::json& params);
  Answer UpdateTaskModern(const nlohmann::json& params);
  void Listen(const nlohmann::json& id, const nlohmann::json& params, const McpEnvelope& envelope);
  // notifications/tasks for `task_id` on the listen `id` (its state as tasks/get tells it).
  void SendTaskStatus(const nlohmann::json& id, const std::string& task_id);
  // `result` with resultType (when absent) and the server's info in _meta.
  nlohmann::json StampModern(nlohmann::json result) const;
  // A 2026 CallToolResult `body`, stamped, telling the handle minted for the call (if any).
  nlohmann::json ModernToolResult(nlohmann::json body, const std::string& minted_handle) const;
  std::string NewHandle() const;
  // Whether the host has a tool that declares task support.
  bool HostRunsTasks() const;
  McpCallContext Context() const;
  nlohmann::json TaskJson(const McpTask& task) const;

  // The one path of every request answered later (tools/call, tasks/result): registers `id` in
  // flight, starts `call` with a context reporting progress to `progress_token` (if not null),
  // and sends the CallToolResult when the host is done (with `related_task` in its _meta).
  void StartInFlight(const nlohmann::json& id, const nlohmann::json& progress_token,
                     std::string related_task, const HostCall& call, bool modern = false,
                     std::string minted_handle = "");
  void FinishInFlight(const std::string& key, uint64_t serial, McpToolResult result);
  void SendProgress(const std::string& key, uint64_t serial, const nlohmann::json& token,
                    double progress, std::optional<double> total, const std::string& message);

  void Send(nlohmann::json message);
  void SendAnswer(const nlohmann::json& id, Answer answer);

  McpToolHost* host_;
  McpSessionOptions options_;
  SendFn send_;

  bool initialized_ = false;
  bool ready_ = false;
  bool closed_ = false;
  std::string protocol_version_;
  nlohmann::json client_info_;
  McpLogLevel log_level_;
  bool tasks_enabled_ = false;
  std::unique_ptr<McpTaskWatch> task_watch_;

  uint64_t next_serial_ = 1;
  std::map<std::string, InFlightCall> in_flight_;  // by jsonrpc::IdKey
  // Host callbacks hold a weak_ptr to this: once the session is gone they do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace troupe
