#include "http/api_error.h"

#include <fmt/format.h>

#include "core/http_status.h"

namespace troupe {

ApiError ApiError::Of(int status, std::string code, std::string message) {
  ApiError e;
  e.status = status;
  e.code = std::move(code);
  e.message = std::move(message);
  return e;
}

ApiError ApiError::BadField(std::string field, std::string expected, std::string got) {
  ApiError e;
  e.status = 400;
  e.code = "invalid_argument";
  e.message = fmt::format("{}: expected {}, got {}", field, expected, got);
  e.field = std::move(field);
  e.expected = std::move(expected);
  e.got = std::move(got);
  return e;
}

ApiError ApiError::NotFound(std::string message) {
  return Of(404, "not_found", std::move(message));
}

namespace {

// How each StatusCode is answered: the HTTP status and the error body's `code`. Read both ways:
// ApiErrorFromStatus finds the row of a StatusCode, a client the row of a `code` (the first, for
// "conflict"). A code not listed is a 500 "internal".
struct ApiCodeRow {
  StatusCode status_code;
  int http_status;
  std::string_view code;
};
constexpr ApiCodeRow kApiCodes[] = {
    {StatusCode::kInvalidArgument, 400, "invalid_argument"},
    {StatusCode::kNotFound, 404, "not_found"},
    {StatusCode::kFailedPrecondition, 409, "conflict"},
    {StatusCode::kAlreadyExists, 409, "conflict"},
    {StatusCode::kResourceExhausted, 429, "resource_exhausted"},
    {StatusCode::kUnavailable, 503, "unavailable"},
    // The daemon cannot write (or read) its database: a full disk...
    {StatusCode::kIoError, 503, "store_unavailable"},
    {StatusCode::kDeadlineExceeded, 504, "deadline_exceeded"},
    {StatusCode::kInternal, 500, "internal"},
};

}  // namespace

StatusCode StatusCodeFromApiCode(std::string_view code, int http_status) {
  for (const ApiCodeRow& row : kApiCodes) {
    if (row.code == code) return row.status_code;
  }
  // Any other code (the transport's own: unauthorized, payload_too_large, …) goes by the HTTP
  // status. A 500 from the daemon is its own bug, whatever its body says; a provider's 500
  // (which StatusCodeForHttpStatus reads as try-again-later) never reaches this function.
  if (http_status == 500) return StatusCode::kInternal;
  return StatusCodeForHttpStatus(http_status);
}

ApiError ApiErrorFromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  e.field = status.field();
  e.status = 500, e.code = "internal";
  for (const ApiCodeRow& row : kApiCodes) {
    if (row.status_code == status.code()) {
      e.status = row.http_status, e.code = std::string(row.code);
      break;
    }
  }
  return e;
}

nlohmann::json ApiErrorJson(const ApiError& error) {
  nlohmann::json e = {{"status", error.status}, {"code", error.code}, {"message", error.message}};
  if (!error.field.empty()) e["field"] = error.field;
  if (!error.expected.empty()) e["expected"] = error.expected;
  if (!error.got.empty()) e["got"] = error.got;
  return nlohmann::json{{"error", std::move(e)}};
}

ApiResponse ApiErrorResponse(const ApiError& error) {
  ApiResponse r;
  r.status = error.status;
  r.body = ApiErrorJson(error).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  r.body += '\n';
  return r;
}

std::string JsonTypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::boolean:
      return "boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
    case nlohmann::json::value_t::number_float:
      return "number";
    case nlohmann::json::value_t::string:
      return "string";
    case nlohmann::json::value_t::array:
      return "array";
    case nlohmann::json::value_t::object:
      return "object";
    default:
      return "binary";
  }
}

}  // namespace troupe
