// What a provider's response headers say about its rate limits, and how long a provider's pool
// should cool down after it refused a request for load. Pure functions; `now_ms` (wall clock, ms
// since the Unix epoch) is passed in.
//
// Headers read (an absent, unknown or malformed value leaves its field unset):
//   OpenAI     x-ratelimit-{limit,remaining}-{requests,tokens}       counts
//              x-ratelimit-reset-{requests,tokens}                   Go durations: "1s", "6m0s"
//   Anthropic  anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining}
//              anthropic-ratelimit-…-reset                           RFC 3339 timestamps
//   Both       retry-after-ms, retry-after                           see llm/retry_policy.h
#pragma once

#include <cstdint>
#include <optional>
#include <span>

#include "core/http_message.h"

namespace troupe {

// One limit of a provider, e.g. requests per minute.
struct RateLimitBucket {
  std::optional<int64_t> limit;
  std::optional<int64_t> remaining;
  std::optional<int64_t> reset_at_ms;  // when it is full again, ms since the Unix epoch

  bool exhausted() const { return remaining.has_value() && *remaining <= 0; }
  bool empty() const { return !limit && !remaining && !reset_at_ms; }
  friend bool operator==(const RateLimitBucket&, const RateLimitBucket&) = default;
};

struct RateLimitInfo {
  RateLimitBucket requests;
  RateLimitBucket tokens;                 // Anthropic: whichever of its token limits is tightest
  RateLimitBucket input_tokens;           // Anthropic only
  RateLimitBucket output_tokens;          // Anthropic only
  std::optional<int64_t> retry_after_ms;  // the wait the server asks for, if positive

  bool empty() const {
    return requests.empty() && tokens.empty() && input_tokens.empty() && output_tokens.empty() &&
           !retry_after_ms;
  }
  friend bool operator==(const RateLimitInfo&, const RateLimitInfo&) = default;
};

// Reads the headers above. OpenAI's relative resets are made absolute with `now_ms`, the time the
// response arrived. When a response carries both families, a field OpenAI's headers set is kept.
RateLimitInfo ParseRateLimitHeaders(std::span<const HttpHeader> headers, int64_t now_ms);

// Default cool-down when a 429 or 529 says nothing about when to come back.
inline constexpr int64_t kDefaultCooldownMs = 1'000;
// Longest cool-down a header can impose; a longer hint is cut to this, so that a wrong header
// cannot park a provider for hours (if the limit still holds, the next request gets another 429).
inline constexpr int64_t kMaxCooldownMs = 10 * 60'000;

// How long the provider's whole pool should wait after a response with HTTP `status`: for 429
// (rate limited) and 529 (Anthropic overloaded) the first of: the server's retry-after-ms /
// retry-after; the latest reset among the limits the headers show as exhausted (remaining 0);
// kDefaultCooldownMs. At most kMaxCooldownMs. nullopt for any other status.
std::optional<int64_t> CooldownMs(int status, std::span<const HttpHeader> headers, int64_t now_ms);

}  // namespace troupe
