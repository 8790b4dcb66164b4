// How a provider's HTTP error becomes a Status: one mapping from HTTP status to StatusCode for
// every codec, so that retry decisions (kUnavailable = try again later) do not depend on which
// provider failed.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

// 400/413/422 -> kInvalidArgument; 401/403 -> kFailedPrecondition; 404 -> kNotFound;
// 408/429/5xx (including Anthropic's 529 "overloaded") -> kUnavailable; anything else ->
// kInternal.
StatusCode StatusCodeForHttpStatus(int http_status);

// "<provider>: HTTP <status> <kind>: <message>" (" <kind>" left out when empty), with the
// StatusCode above. 401/403 messages end with a hint to check the API key.
Status ProviderHttpError(std::string_view provider, int http_status, std::string_view kind,
                         std::string_view message);

// A response body that is not the provider's error JSON, made fit for a message: surrounding
// whitespace trimmed, at most 500 bytes, "(empty body)" when nothing is left.
std::string BodyForMessage(std::string_view body);

}  // namespace troupe
