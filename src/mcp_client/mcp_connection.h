// The client side of the MCP protocol over one channel: tools/list with pagination, tools/call
// with a time limit, cancellation of calls given up. Server requests are answered (ping;
// anything else "method not found"); notifications are ignored but for tools/list_changed,
// which marks the tool list stale.
//
// Two eras, chosen at Start the way the official SDK v2 client's `auto` mode does:
// - It first probes `server/discover` carrying the 2026-07-28 envelope. A discover result
//   whose supportedVersions has 2026-07-28 makes the connection modern (stateless): every
//   request carries params._meta {protocolVersion, clientCapabilities (with the tasks
//   extension), clientInfo}; results are read by `resultType`: "complete" (or absent) is the
//   answer; "task" is polled with tasks/get every pollIntervalMs until it is terminal (its
//   `result`, its `error`, or cancelled), and tasks/cancel goes out when the call is given up
//   or times out; "input_required" is answered as an error (troupe has no user to ask; a task
//   that turns input_required is cancelled). tools/list's ttlMs bounds how long the listed
//   tools stay fresh. Cancellation is notifications/cancelled on stdio; over HTTP the aborted
//   POST is the signal (the channel says which, McpChannel::CancelsByClosing). A tools/call
//   given up before its answer came (timeout, Cancel) may still be answered later with a task
//   the server started meanwhile: that task gets tasks/cancel (the last 256 such calls are
//   remembered), so nothing is left running on the server.
// - Any other answer (a JSON-RPC error other than -32022 naming a 2026 version, an HTTP 4xx, a
//   result without a version troupe speaks, a stdio probe that times out) falls back to the
//   2025 initialize handshake (2025-11-25, accepting the older versions a server answers
//   with) on the same channel. An HTTP 401/403/5xx or an unreachable server fails the start;
//   a stdio server that exits on the probe fails it too and `probe_closed()` says so (the
//   owner starts the next process without the probe).
//
// Threading: loop thread only. Every callback runs on the loop, never from inside a method.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "mcp_client/mcp_channel.h"
#include "mcp_client/mcp_param_headers.h"
#include "wire/jsonrpc.h"

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
  // `probe_modern` false: straight to initialize (a server known to exit on the probe).
  McpConnection(std::unique_ptr<McpChannel> channel, Clock* clock, bool probe_modern = true);
  ~McpConnection();

  // Opens the channel and runs the probe, then initialize + notifications/initialized for a
  // 2025 server, within `timeout_ms`.
  // `on_closed` is called once if the channel closes later (not after `done` failed).
  void Start(int64_t timeout_ms, std::function<void(Status)> done,
             std::function<void(Status)> on_closed);
  // Every tool, following nextCursor (at most 100 pages).
  void ListTools(int64_t timeout_ms, std::function<void(Result<std::vector<McpToolInfo>>)> done);
  // Calls a tool; `done` gets the CallToolResult object, or an error (timeout, the server's
  // JSON-RPC error, the server gone, a task that failed). `timeout_ms` bounds the whole call,
  // a task's polling included. Returns the id to Cancel it with.
  uint64_t CallTool(const std::string& name, const nlohmann::json& arguments, int64_t timeout_ms,
                    std::function<void(Result<nlohmann::json>)> done);
  // Gives up a call: the server is told (notifications/cancelled, the POST aborted, or
  // tasks/cancel for a task), `done` is not called.
  void Cancel(uint64_t id, const std::string& reason);
  // Closes the channel (kills the process); pending callbacks are dropped.
  void Close();

  const std::string& protocol_version() const { return protocol_version_; }
  const std::string& server_name() const { return server_name_; }
  const std::string& server_version() const { return server_version_; }
  // tools/list_changed came, or (modern) the last list's ttlMs has passed.
  bool tools_stale() const;
  bool modern() const { return modern_; }
  bool probe_closed() const { return probe_closed_; }
  size_t pending() const { return pending_.size(); }
  size_t calls() const { return calls_.size(); }
  // Tools the last tools/list offered that were left out, each with why ("execute_sql: x-mcp-header
  // of property n is on a property whose type is \"number\"…"): over HTTP a 2026 server's tool
  // whose x-mcp-header annotations break the revision's rules is not offered.
  const std::vector<std::string>& rejected_tools() const { return rejected_tools_; }
  std::string Describe() const { return channel_->Describe(); }

 private:
  struct Pending {
    std::function<void(Result<nlohmann::json>)> done;
    // When set, an error answer goes here instead of to `done` (the probe reads its code).
    std::function<void(const jsonrpc::Error&)> on_error;
    std::unique_ptr<Timer> timer;
    std::string method;
  };
  // A tools/call of the modern era, from the call to its final answer.
  struct ToolCall {
    std::function<void(Result<nlohmann::json>)> done;
    uint64_t request_id = 0;  // the tools/call or tasks/get in flight; 0 when none
    std::string task_id;      // once the server made it a task
    std::string tool;
    std::unique_ptr<Timer> deadline;
    std::unique_ptr<Timer> poll;
    int64_t timeout_ms = 0;
    int polls = 0;
  };
  uint64_t Request(const std::string& method, nlohmann::json params, int64_t timeout_ms,
                   std::function<void(Result<nlohmann::json>)> done,
                   const std::vector<std::pair<std::string, std::string>>& headers = {});
  nlohmann::json Envelope() const;
  void Probe(int64_t timeout_ms, std::function<void(Status)> done);
  void Initialize(int64_t timeout_ms, std::function<void(Status)> done);
  void Modern(const nlohmann::json& discover);
  void SendCancelled(uint64_t id, const std::string& reason);
  uint64_t CallToolModern(const std::string& name, nlohmann::json params, int64_t timeout_ms,
                          std::function<void(Result<nlohmann::json>)> done);
  void OnCallAnswer(uint64_t call_id, Result<nlohmann::json> answer);
  void PollTask(uint64_t call_id, int64_t delay_ms);
  void OnTaskState(uint64_t call_id, Result<nlohmann::json> state);
  void FinishCall(uint64_t call_id, Result<nlohmann::json> answer);
  void CancelTask(const std::string& task_id);
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
  bool probe_modern_ = true;
  bool modern_ = false;
  bool probe_closed_ = false;
  int64_t tools_fresh_until_ms_ = -1;  // modern: when the listed tools go stale; -1 never
  std::map<uint64_t, ToolCall> calls_;
  // Modern tools/call requests given up before their answer: a late task answer is cancelled.
  std::set<uint64_t> abandoned_calls_;
  // Modern over HTTP: each listed tool's parameters mirrored into Mcp-Param-* headers.
  std::map<std::string, std::vector<McpParamHeader>> param_headers_;
  std::vector<std::string> rejected_tools_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// How a probe's answer decides the era (as the SDK v2 client's `auto` mode): modern, fall
// back to initialize, or fail the start. `answer` is the server/discover result or the error
// (Status::Unavailable whose message carries no detail: see McpProbeErrorOutcome).
enum class McpProbeOutcome { kModern, kLegacy, kFail };
McpProbeOutcome McpDiscoverResultOutcome(const nlohmann::json& result);
// An error answer: its JSON-RPC code and data (an HTTP channel's data has "httpStatus", and
// "rpcError" when the body was a JSON-RPC error; "transport" when the POST never got an answer).
McpProbeOutcome McpProbeErrorOutcome(int code, const nlohmann::json& data, std::string* why);

// Reads one tool of a tools/list result; an error naming what is wrong.
Result<McpToolInfo> ParseMcpTool(const nlohmann::json& tool);

}  // namespace troupe
