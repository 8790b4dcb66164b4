#include "core/http_status.h"

namespace troupe {

StatusCode StatusCodeForHttpStatus(int http_status) {
  switch (http_status) {
    case 400:
    case 413:
    case 415:
    case 422:
      return StatusCode::kInvalidArgument;
    case 401:
    case 403:
    case 409:
      return StatusCode::kFailedPrecondition;
    case 404:
      return StatusCode::kNotFound;
    case 405:
    case 501:
      return StatusCode::kUnimplemented;
    case 408:
    case 429:
      return StatusCode::kUnavailable;
    default:
      break;
  }
  if (http_status >= 500 && http_status <= 599) return StatusCode::kUnavailable;
  return StatusCode::kInternal;
}

}  // namespace troupe
