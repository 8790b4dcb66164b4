// Pure parsing of an HTTP request target ("/v1/tasks/bg_1?wait_ms=3000") into the decoded path
// and query parameters an ApiRequest carries (http/http_exchange.h). No I/O; fuzzed by
// http/request_target_fuzz.cc.
//
// Rules: the target must start with '/' (no absolute-form or authority-form targets); a '#'
// fragment is ignored; the path is %-decoded ('+' stays '+') and may not decode to a NUL byte;
// the query is split at '&', each pair at its first '=', and both halves %-decoded with '+' as a
// space; empty pairs are skipped and a repeated key keeps its last value.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "http/api_error.h"
#include "http/http_exchange.h"

namespace troupe {

// Decodes %XX escapes (and '+' as a space when `plus_is_space`) into `out`. False for a '%' not
// followed by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out);

// Fills request->path and request->query from `target`; an ApiError (400 bad_request for a
// target that is not a path, 400 invalid_argument naming the bad piece for a bad %-escape or an
// encoded NUL) when it cannot.
std::optional<ApiError> ParseRequestTarget(std::string_view target, ApiRequest* request);

// The target's path as received (without the query), for decisions made from the head alone.
std::string_view RawPath(std::string_view target);

}  // namespace troupe
