// How `troupe mcp` turns the daemon's HTTP answer to one forwarded message into what its stdio
// client sees: JSON-RPC messages for stdout, or log lines for stderr. Pure: bytes and HTTP
// statuses in, JSON values out — the caller does the I/O and decides about retries (a 404 for a
// forgotten session, an unreachable daemon) before asking for the answer's routing.
//
// Routing (mcp/mcp_http.h is the other side):
// - 200 application/json: the body is one message.
// - 200 text/event-stream: each event's data is one message, delivered as it arrives
//   (progress notifications, then the response). A progress notification after the response is
//   dropped: nothing may follow the answer on the token of a finished request.
// - 202 (or any 2xx without a body): nothing.
// - Another status whose body is a JSON-RPC error: for a request, that error with the request's
//   id (the daemon names id null when it refused before reading it); for a message that was not
//   valid JSON-RPC, the error as the daemon sent it (a client sending broken JSON gets the
//   daemon's -32700); for a notification or a response, a log line (nothing may answer those).
// - Anything else — another body, a broken connection, a stream that ends before the response —
//   for a request is a synthesized -32603 error with the request's id naming the daemon and what
//   it answered (e.g. "the troupe daemon at /run/troupe.sock answered HTTP 503: stopping"), so a
//   request is always answered exactly once; for a notification, a log line.
//
// Every message is parsed and handed out as a value, so the caller writes it re-serialized on one
// line whatever whitespace the daemon used.
//
// Threading: plain values; one thread at a time.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/jsonrpc.h"
#include "wire/sse_parser.h"

namespace troupe {

// One message from the stdio client, classified (wire/jsonrpc.h) as far as the bridge needs.
struct McpForwarded {
  enum class Kind { kRequest, kNotification, kResponse, kInvalid };
  Kind kind = Kind::kInvalid;
  // kRequest: its id; kInvalid: the id the daemon will name in its error (null when unreadable).
  nlohmann::json id;
  std::string method;  // kRequest and kNotification
  // Kept only where the bridge acts on them: initialize, logging/setLevel and
  // notifications/cancelled; null otherwise.
  nlohmann::json params;
  // A request of MCP 2026-07-28 (mcp/mcp_modern.h): its _meta protocol version ("" when it has
  // none) and what its Mcp-Name header mirrors (McpNameSource: params.name, .uri or .taskId;
  // "" when none).
  bool modern = false;
  std::string modern_version;
  std::string name;
  // What is wrong with its _meta envelope (ReadMcpEnvelope), answered by the bridge itself:
  // on stdio there are no headers to blame.
  std::optional<jsonrpc::Error> modern_error;

  // Never throws; anything that is not valid JSON-RPC is kInvalid.
  static McpForwarded Classify(std::string_view line);
  bool is_request() const { return kind == Kind::kRequest; }
};

// What one piece of an answer produced, in order.
struct McpRouted {
  std::vector<nlohmann::json> messages;  // for stdout
  std::vector<std::string> logs;         // for stderr (without the "troupe mcp: " prefix)
};

class McpAnswerDecoder {
 public:
  // `sent`: what the POST carried (its id, method and kind only are read); `where`: "the troupe
  // daemon at …", for synthesized errors.
  McpAnswerDecoder(const McpForwarded& sent, std::string where);

  // The answer's head (after any 1xx). Called once, before OnData.
  void OnHead(int status, std::string_view content_type);
  // The next bytes of the body.
  void OnData(std::string_view bytes, McpRouted* out);
  // The answer is complete.
  void OnEnd(McpRouted* out);
  // The exchange broke (`reason`: what the connection did) before the answer was complete.
  void OnFailure(std::string_view reason, McpRouted* out);

  int status() const { return status_; }
  // A response to the forwarded request has been handed out (received or synthesized).
  bool answered() const { return answered_; }

 private:
  void Emit(nlohmann::json message, McpRouted* out);
  // A synthesized -32603 answer to the request (or to the invalid message), or a log line.
  void Fail(const std::string& what, McpRouted* out);
  // "answered HTTP 503: <first line of the body or its error message>"
  std::string DescribeStatus() const;

  McpForwarded::Kind kind_;
  nlohmann::json id_;
  std::string method_;
  std::string where_;
  int status_ = 0;
  bool event_stream_ = false;
  bool answered_ = false;
  bool wrote_any_ = false;
  bool body_overflow_ = false;
  std::string body_;
  SseParser sse_;
};

// The most body bytes a JSON answer may have (an SSE event is bounded by the parser's own limit).
inline constexpr size_t kMcpMaxAnswerBytes = size_t{64} << 20;

}  // namespace troupe
