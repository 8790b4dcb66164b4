// What an HTTP error status means as a StatusCode: the one mapping troupe uses wherever an HTTP
// answer becomes a Status — a provider's error reply (llm/provider_error.h) and the daemon's own
// API errors as the CLI receives them (cli/daemon_client.h) — so that a code means the same
// whichever server said it. The daemon's API errors also carry a `code` that says more (a
// 500 "internal" is the daemon's own bug): clients read that first (http/api_error.h,
// StatusCodeFromApiCode) and fall back on this.
#pragma once

#include "core/status.h"

namespace troupe {

// 400/413/415/422 -> kInvalidArgument (the request is wrong; sending it again fails again);
// 401/403/409 -> kFailedPrecondition (credentials or state must change first); 404 -> kNotFound;
// 405/501 -> kUnimplemented; 408/429/502/503/504 and other 5xx (Anthropic's 529 "overloaded")
// including 500 -> kUnavailable (try again later, as the providers' SDKs retry it); anything
// else -> kInternal.
StatusCode StatusCodeForHttpStatus(int http_status);

}  // namespace troupe
