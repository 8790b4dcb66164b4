#include "llm/rate_limit_headers.h"

#include <algorithm>
#include <limits>
#include <string>
#include <string_view>

#include "llm/header_values.h"
#include "llm/retry_policy.h"

namespace troupe {

namespace {

void SetIfUnset(std::optional<int64_t>* field, std::optional<int64_t> value) {
  if (!field->has_value()) *field = value;
}

// OpenAI: x-ratelimit-limit-<kind>, x-ratelimit-remaining-<kind>, x-ratelimit-reset-<kind>.
void ReadOpenAiBucket(std::span<const HttpHeader> headers, std::string_view kind, int64_t now_ms,
                      RateLimitBucket* bucket) {
  const std::string suffix(kind);
  if (auto v = FindHeaderValue(headers, "x-ratelimit-limit-" + suffix)) {
    SetIfUnset(&bucket->limit, ParseCount(*v));
  }
  if (auto v = FindHeaderValue(headers, "x-ratelimit-remaining-" + suffix)) {
    SetIfUnset(&bucket->remaining, ParseCount(*v));
  }
  if (auto v = FindHeaderValue(headers, "x-ratelimit-reset-" + suffix)) {
    if (std::optional<int64_t> ms = ParseGoDurationMs(*v)) {
      if (*ms <= std::numeric_limits<int64_t>::max() - now_ms) {
        SetIfUnset(&bucket->reset_at_ms, now_ms + *ms);
      }
    }
  }
}

// Anthropic: anthropic-ratelimit-<kind>-limit, -remaining, -reset.
void ReadAnthropicBucket(std::span<const HttpHeader> headers, std::string_view kind,
                         RateLimitBucket* bucket) {
  const std::string prefix = "anthropic-ratelimit-" + std::string(kind);
  if (auto v = FindHeaderValue(headers, prefix + "-limit")) {
    SetIfUnset(&bucket->limit, ParseCount(*v));
  }
  if (auto v = FindHeaderValue(headers, prefix + "-remaining")) {
    SetIfUnset(&bucket->remaining, ParseCount(*v));
  }
  if (auto v = FindHeaderValue(headers, prefix + "-reset")) {
    SetIfUnset(&bucket->reset_at_ms, ParseRfc3339(*v));
  }
}

}  // namespace

RateLimitInfo ParseRateLimitHeaders(std::span<const HttpHeader> headers, int64_t now_ms) {
  RateLimitInfo info;
  ReadOpenAiBucket(headers, "requests", now_ms, &info.requests);
  ReadOpenAiBucket(headers, "tokens", now_ms, &info.tokens);
  ReadAnthropicBucket(headers, "requests", &info.requests);
  ReadAnthropicBucket(headers, "tokens", &info.tokens);
  ReadAnthropicBucket(headers, "input-tokens", &info.input_tokens);
  ReadAnthropicBucket(headers, "output-tokens", &info.output_tokens);
  info.retry_after_ms = RequestedRetryDelayMs(headers, now_ms, std::numeric_limits<int64_t>::max());
  return info;
}

std::optional<int64_t> CooldownMs(int status, std::span<const HttpHeader> headers, int64_t now_ms) {
  if (status != 429 && status != 529) return std::nullopt;
  const RateLimitInfo info = ParseRateLimitHeaders(headers, now_ms);
  if (info.retry_after_ms) return std::min(*info.retry_after_ms, kMaxCooldownMs);

  // Every exhausted limit blocks requests until it resets, so wait for the last of them.
  int64_t until_reset = 0;
  for (const RateLimitBucket* bucket :
       {&info.requests, &info.tokens, &info.input_tokens, &info.output_tokens}) {
    if (bucket->exhausted() && bucket->reset_at_ms && *bucket->reset_at_ms > now_ms) {
      until_reset = std::max(until_reset, *bucket->reset_at_ms - now_ms);
    }
  }
  if (until_reset > 0) return std::min(until_reset, kMaxCooldownMs);
  return kDefaultCooldownMs;
}

}  // namespace troupe
