// The MCP protocol for one client connection: lifecycle (initialize, version negotiation,
// notifications/initialized, ping), logging (logging/setLevel, notifications/message), and the
// tools (tools/list with cursor pagination, tools/call with progress and cancellation) over an
// McpToolHost. Transport-free: the transport feeds each incoming message to Receive and writes
// whatever `send` is given; stdio and Streamable HTTP both sit on top of this.
//
// Protocol decisions (the specification leaves these to the server):
// - Versions: "2025-11-25", "2025-06-18" and "2025-03-26" are spoken; a client asking for one of
//   them gets it, any other request gets the latest ("2025-11-25") and the client decides
//   whether to disconnect. With "2025-03-26", tool results carry no structuredContent (the
//   field came in 2025-06-18).
// - Before initialize, requests other than initialize and ping are answered with -32600
//   "server not initialized" (MCP defines no code for this; -32002 is MCP's "resource not
//   found", so it is not reused). Notifications before initialize are ignored. A second
//   initialize is -32600.
// - Requests between the initialize response and notifications/initialized are served, as most
//   servers do: the client SHOULD wait, but refusing gains nothing.
// - Logging: messages below the level set by logging/setLevel (default "info") are dropped;
//   nothing is logged before initialize has been answered.
// - tools/call with an unknown tool name is the protocol error -32602 "Unknown tool: X", as in
//   the specification's example; failures inside a known tool are results with isError.
// - notifications/cancelled for a tools/call in flight cancels it and no response is sent; for
//   anything else (finished, unknown, not cancellable) it is ignored.
// - Responses from the client (to server requests, which troupe does not send) and unknown
//   notifications are ignored. Task-augmented calls (params.task) run as ordinary calls: the
//   "tasks" capability is not declared.
//
// Threading: loop thread only. `send` is called on that thread, synchronously from Receive for
// everything answered at once, and later from the host's callbacks for deferred tool results
// and progress. `send` must not destroy the session. Messages given to `send` may hold text
// from the host that is not valid UTF-8: write them with jsonrpc::Serialize, which never throws.
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

#include "api/jsonrpc.h"
#include "api/mcp_tool_host.h"

namespace troupe {

// The protocol versions spoken, newest first.
inline constexpr const char* kMcpProtocolVersions[] = {"2025-11-25", "2025-06-18", "2025-03-26"};
inline constexpr const char* kMcpLatestProtocolVersion = "2025-11-25";

// The version to answer an initialize asking for `requested` with.
std::string NegotiateMcpProtocolVersion(std::string_view requested);

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
  // notifications/message below this level are dropped until the client sets one.
  McpLogLevel default_log_level = McpLogLevel::kInfo;
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

  // Cancels every call in flight (their responses are never sent) and stops the session: later
  // messages are ignored and nothing more is sent. Idempotent.
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
  // tools/call requests waiting for their result.
  size_t calls_in_flight() const { return in_flight_.size(); }

 private:
  // A request's answer: a result, or a JSON-RPC error.
  struct Answer {
    nlohmann::json result;
    std::optional<jsonrpc::Error> error;
  };
  struct InFlightCall {
    uint64_t serial = 0;  // tells this call from a later one reusing the same id
    nlohmann::json id;
    std::unique_ptr<McpCall> call;
  };

  void Dispatch(jsonrpc::Message message);
  void HandleRequest(jsonrpc::Request request);
  void HandleNotification(const jsonrpc::Notification& notification);

  Answer Initialize(const nlohmann::json& params);
  Answer SetLevel(const nlohmann::json& params);
  Answer ListTools(const nlohmann::json& params);
  // Answers at once for errors (returns the answer); otherwise starts the call and returns
  // nullopt, the response following from the host's `done`.
  std::optional<Answer> StartToolCall(const nlohmann::json& id, const nlohmann::json& params);
  void FinishToolCall(const std::string& key, uint64_t serial, McpToolResult result);
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

  uint64_t next_serial_ = 1;
  std::map<std::string, InFlightCall> in_flight_;  // by jsonrpc::IdKey
  // Host callbacks hold a weak_ptr to this: once the session is gone they do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace troupe
