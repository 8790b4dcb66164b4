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

StatusCode StatusCodeFromApiCode(std::string_view code, int http_status) {
  // The inverse of ApiErrorFromStatus for the codes it writes; any other code (the transport's
  // own: unauthorized, payload_too_large, …) goes by the HTTP status.
  if (code == "invalid_argument") return StatusCode::kInvalidArgument;
  if (code == "not_found") return StatusCode::kNotFound;
  if (code == "conflict") return StatusCode::kFailedPrecondition;
  if (code == "resource_exhausted") return StatusCode::kResourceExhausted;
  if (code == "unavailable") return StatusCode::kUnavailable;
  if (code == "store_unavailable") return StatusCode::kIoError;
  if (code == "deadline_exceeded") return StatusCode::kDeadlineExceeded;
  if (code == "internal") return StatusCode::kInternal;
  // A 500 from the daemon is its own bug, whatever its body says; a provider's 500 (which
  // StatusCodeForHttpStatus reads as try-again-later) never reaches this function.
  if (http_status == 500) return StatusCode::kInternal;
  return StatusCodeForHttpStatus(http_status);
}

ApiError ApiErrorFromStatus(const Status& status) {
  ApiError e;
  e.message = status.message();
  e.field = status.field();
  switch (status.code()) {
    case StatusCode::kInvalidArgument:
      e.status = 400, e.code = "invalid_argument";
      break;
    case StatusCode::kNotFound:
      e.status = 404, e.code = "not_found";
      break;
    case StatusCode::kAlreadyExists:
    case StatusCode::kFailedPrecondition:
      e.status = 409, e.code = "conflict";
      break;
    case StatusCode::kResourceExhausted:
      e.status = 429, e.code = "resource_exhausted";
      break;
    case StatusCode::kUnavailable:
      e.status = 503, e.code = "unavailable";
      break;
    case StatusCode::kIoError:  // the daemon cannot write (or read) its database: a full disk...
      e.status = 503, e.code = "store_unavailable";
      break;
    case StatusCode::kDeadlineExceeded:
      e.status = 504, e.code = "deadline_exceeded";
      break;
    default:
      e.status = 500, e.code = "internal";
      break;
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
