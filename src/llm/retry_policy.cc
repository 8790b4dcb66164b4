#include "llm/retry_policy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "llm/header_values.h"

namespace troupe {

namespace {

constexpr double kInitialRetryDelayMs = 500.0;
constexpr double kMaxRetryDelayMs = 8000.0;

// A delay in ms as a double, if it is in (0, max_ms], rounded up.
std::optional<int64_t> InRange(double delay_ms, int64_t max_ms) {
  if (!(delay_ms > 0) || delay_ms > static_cast<double>(max_ms)) return std::nullopt;
  return std::min(static_cast<int64_t>(std::ceil(std::min(delay_ms, 9e18))), max_ms);
}

bool IsRetryableStatus(int status) {
  return status == 408 || status == 409 || status == 429 || status >= 500;
}

const char* TransportErrorText(TransportError error) {
  switch (error) {
    case TransportError::kConnect:
      return "the connection failed";
    case TransportError::kTimeout:
      return "the request timed out";
    case TransportError::kReset:
      return "the connection broke";
    case TransportError::kNone:
      break;
  }
  return "no response and no transport error";
}

}  // namespace

std::optional<int64_t> RequestedRetryDelayMs(std::span<const HttpHeader> headers, int64_t now_ms,
                                             int64_t max_ms) {
  if (std::optional<std::string_view> ms = FindHeaderValue(headers, "retry-after-ms")) {
    if (std::optional<double> v = ParseDecimal(*ms)) {
      if (std::optional<int64_t> delay = InRange(*v, max_ms)) return delay;
    }
  }
  std::optional<std::string_view> after = FindHeaderValue(headers, "retry-after");
  if (!after) return std::nullopt;
  if (std::optional<double> seconds = ParseDecimal(*after)) return InRange(*seconds * 1000, max_ms);
  if (std::optional<int64_t> date_ms = ParseHttpDate(*after, now_ms)) {
    return InRange(static_cast<double>(*date_ms - now_ms), max_ms);
  }
  return std::nullopt;
}

int64_t BackoffDelayMs(int attempt, double random) {
  // retries so far = attempt - 1; the exponent is capped long after the delay reaches 8 s.
  const int retries_so_far = std::clamp(attempt - 1, 0, 32);
  const double base =
      std::min(kInitialRetryDelayMs * std::ldexp(1.0, retries_so_far), kMaxRetryDelayMs);
  const double jitter = 1.0 - 0.25 * std::clamp(random, 0.0, 1.0);
  return std::llround(base * jitter);
}

RetryDecision DecideRetry(const RetryInput& in) {
  const int attempt = std::max(in.attempt, 1);
  const int max_attempts = std::max(in.max_attempts, 1);

  std::string failure;  // why this failure may be retried
  if (in.http_status == 0) {
    failure = TransportErrorText(in.transport_error);
    if (in.transport_error == TransportError::kNone) {
      return {false, 0, failure + ": nothing to retry"};
    }
  } else {
    const std::optional<std::string_view> should_retry =
        FindHeaderValue(in.headers, "x-should-retry");
    if (should_retry == "false") {
      return {false, 0, fmt::format("HTTP {} with x-should-retry: false", in.http_status)};
    }
    if (should_retry == "true") {
      failure = fmt::format("HTTP {} with x-should-retry: true", in.http_status);
    } else if (IsRetryableStatus(in.http_status)) {
      failure = fmt::format("HTTP {} is retryable", in.http_status);
    } else {
      return {false, 0, fmt::format("HTTP {} is not retryable", in.http_status)};
    }
  }

  if (attempt >= max_attempts) {
    return {false, 0, fmt::format("{}, but all {} attempts are used", failure, max_attempts)};
  }

  // A transport failure has no headers to read.
  const std::span<const HttpHeader> headers =
      in.http_status == 0 ? std::span<const HttpHeader>() : in.headers;
  if (std::optional<int64_t> requested = RequestedRetryDelayMs(headers, in.now_ms)) {
    return {true, *requested,
            fmt::format("{}; attempt {} of {} in {} ms, as the server asks", failure, attempt + 1,
                        max_attempts, *requested)};
  }
  const int64_t backoff = BackoffDelayMs(attempt, in.random);
  return {true, backoff,
          fmt::format("{}; attempt {} of {} in {} ms (exponential backoff)", failure, attempt + 1,
                      max_attempts, backoff)};
}

}  // namespace troupe
