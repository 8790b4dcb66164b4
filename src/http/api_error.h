// The one error shape of troupe's HTTP API, so clients (the CLI, scripts) can show precisely
// what was wrong:
//   {"error":{"status":400,"code":"invalid_argument",
//             "message":"prompt: expected a non-empty string, got number",
//             "field":"prompt","expected":"a non-empty string","got":"number"}}
// `field`, `expected` and `got` appear only when the error is about one field of the body or
// query. `got` describes the value (its JSON type, or a short quote of a bad string), never a
// secret.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"
#include "http/http_exchange.h"

namespace troupe {

struct ApiError {
  int status = 400;
  std::string code;     // invalid_json, invalid_argument, not_found, method_not_allowed,
                        // unauthorized, payload_too_large, conflict, unavailable, internal, ...
  std::string message;  // one line
  std::string field;
  std::string expected;
  std::string got;

  // An error that is not about one field.
  static ApiError Of(int status, std::string code, std::string message);
  // 400 invalid_argument with message "<field>: expected <expected>, got <got>".
  static ApiError BadField(std::string field, std::string expected, std::string got);
  static ApiError NotFound(std::string message);
};

// Maps an engine Status by its typed reason, never its text: the code picks the answer —
// InvalidArgument → 400 invalid_argument, NotFound → 404 not_found, AlreadyExists and
// FailedPrecondition → 409 conflict, ResourceExhausted → 429 resource_exhausted, Unavailable →
// 503 unavailable, IoError → 503 store_unavailable, DeadlineExceeded → 504 deadline_exceeded,
// others → 500 internal — and the status's field, when it names one, becomes `field`. The
// message is the status message. (The other way, HTTP status → StatusCode, is
// core/http_status.h.)
ApiError ApiErrorFromStatus(const Status& status);
// What a client makes of an API error: the StatusCode that the `code` of the error body stands
// for (the inverse of ApiErrorFromStatus), else the HTTP status's (core/http_status.h) — except
// that a 500 from the daemon, with or without a code, is its own bug (kInternal), while a 500
// from a model provider is a try-again-later.
StatusCode StatusCodeFromApiCode(std::string_view code, int http_status);

nlohmann::json ApiErrorJson(const ApiError& error);
ApiResponse ApiErrorResponse(const ApiError& error);

// "number", "string", "array", "object", "boolean", "null" — for `got`.
std::string JsonTypeName(const nlohmann::json& value);

}  // namespace troupe
