// JSON-RPC 2.0 as MCP uses it: one message in, a typed message out — pure functions, no I/O.
//
// ParseMessage classifies one incoming message as a request (with an id), a notification, a
// response from the peer, or an invalid message carrying the JSON-RPC error to answer with.
// MCP narrows JSON-RPC 2.0: an id is a string or an integer (never null, never fractional), and
// since MCP 2025-06-18 there is no batching — a top-level array is answered with one
// -32600 "batches are not supported" error (id null).
//
// Limits: messages above kMaxMessageBytes and values nested deeper than kMaxNestingDepth are
// refused with -32600 before anything else looks at them (copying or dumping an nlohmann::json
// recurses, so a 4 MiB "[[[[…" must never reach the rest of the server).
//
// Every error message says what was wrong and where, e.g. `id: expected a string or an integer,
// got null`.
//
// Threading: stateless; safe from any thread.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "core/status.h"

namespace troupe::jsonrpc {

inline constexpr size_t kMaxMessageBytes = 4 * 1024 * 1024;
inline constexpr int kMaxNestingDepth = 128;

// Standard JSON-RPC 2.0 error codes.
inline constexpr int kParseError = -32700;
inline constexpr int kInvalidRequest = -32600;
inline constexpr int kMethodNotFound = -32601;
inline constexpr int kInvalidParams = -32602;
inline constexpr int kInternalError = -32603;

// The "error" member of an error response; `data` is omitted when null.
struct Error {
  int code = kInternalError;
  std::string message;
  nlohmann::json data;
};

// A request: expects exactly one response carrying the same `id` (a string or an integer,
// echoed with its type).
struct Request {
  nlohmann::json id;
  std::string method;
  nlohmann::json params;  // an object or an array; null when absent
};

// A notification: no id, no response.
struct Notification {
  std::string method;
  nlohmann::json params;  // an object or an array; null when absent
};

// A response from the peer to one of our requests: `result`, or `error` when is_error.
struct Response {
  nlohmann::json id;  // a string or an integer; null only in an error response
  nlohmann::json result;
  bool is_error = false;
  Error error;
};

// A message that is not valid JSON-RPC: answer ErrorResponse(id, error). `id` is the message's
// id when it could be read as a valid id, else null.
struct Invalid {
  nlohmann::json id;
  Error error;
};

using Message = std::variant<Request, Notification, Response, Invalid>;

// Parses and classifies one message. Never throws.
Message ParseMessage(std::string_view text);
// Same for an already parsed value (a transport that parsed the body itself). Never throws.
// (A separate name: nlohmann::json converts implicitly from strings.)
Message ClassifyMessage(const nlohmann::json& message);

// OK, or ResourceExhausted when a message of `bytes` is above kMaxMessageBytes.
Status CheckMessageSize(size_t bytes);

// True for an id MCP accepts: a string or an integer.
bool IsValidId(const nlohmann::json& id);
// A key that tells ids apart with their type: 1 and "1" differ. `id` must be valid.
std::string IdKey(const nlohmann::json& id);

// {"jsonrpc":"2.0","id":id,"result":result}
nlohmann::json ResultResponse(const nlohmann::json& id, nlohmann::json result);
// {"jsonrpc":"2.0","id":id,"error":{"code","message","data"?}}
nlohmann::json ErrorResponse(const nlohmann::json& id, const Error& error);
nlohmann::json ErrorResponse(const nlohmann::json& id, int code, std::string message);
// {"jsonrpc":"2.0","method":method,"params":params} ("params" omitted when null).
nlohmann::json MakeNotification(std::string method, nlohmann::json params);

// Compact text of a message; invalid UTF-8 is replaced rather than thrown on.
std::string Serialize(const nlohmann::json& message);

// "null", "a string", "an integer", … — for error messages.
const char* DescribeType(const nlohmann::json& value);

}  // namespace troupe::jsonrpc
