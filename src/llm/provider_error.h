// How a provider's HTTP error becomes a Status, with the one HTTP status -> StatusCode mapping
// of core/http_status.h for every codec, so that retry decisions (kUnavailable = try again
// later) do not depend on which provider failed.
#pragma once

#include <string>
#include <string_view>

#include "core/http_status.h"
#include "core/status.h"

namespace troupe {

// "<provider>: HTTP <status> <kind>: <message>" (" <kind>" left out when empty), with the
// StatusCode of StatusCodeForHttpStatus. 401/403 messages end with a hint to check the API key.
Status ProviderHttpError(std::string_view provider, int http_status, std::string_view kind,
                         std::string_view message);

// A response body that is not the provider's error JSON, made fit for a message: surrounding
// whitespace trimmed, at most 500 bytes, "(empty body)" when nothing is left.
std::string BodyForMessage(std::string_view body);

}  // namespace troupe
