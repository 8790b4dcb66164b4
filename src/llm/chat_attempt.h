// One attempt at a provider request, and the loop that retries attempts under the SDKs' policy
// (llm/retry_policy.h). Every provider is made of the two: an attempt starter that speaks its
// transport (HTTP + a wire codec, or the in-process mock), and StartWithRetries around it, so
// retries, waits, cool-downs and their reporting are the same for all providers.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"
#include "core/status.h"
#include "llm/chat_types.h"
#include "llm/provider.h"
#include "llm/retry_policy.h"

namespace troupe {

// Why an attempt produced no reply, with what the retry policy needs to decide.
struct AttemptError {
  Status status;                                     // reported to the caller if no retry follows
  int http_status = 0;                               // of an error response; 0 when none arrived
  std::vector<HttpHeader> headers;                   // of that response
  TransportError transport = TransportError::kNone;  // when http_status is 0: kReset for a
                                                     // connection or stream that broke (an
                                                     // overload error event mid-stream included),
                                                     // kNone for an error no retry can fix
                                                     // (malformed reply)
};

struct AttemptOutcome {
  std::optional<ChatResult> result;  // set when the attempt succeeded
  AttemptError error;                // otherwise
  bool streamed_deltas = false;      // on_delta ran at least once during the attempt
};

struct AttemptCallbacks {
  std::function<void(const StreamDelta&)> on_delta;
  std::function<void(int64_t bytes)> on_bytes;
  std::function<void(AttemptOutcome)> on_done;  // once unless cancelled; never from the starter
};

// Starts one attempt of a request; returns the handle that cancels it. The handle may be
// destroyed from inside the attempt's own callbacks.
using AttemptStarter = std::function<std::unique_ptr<ChatCall>(AttemptCallbacks)>;

struct RetryOptions {
  int max_attempts = kDefaultMaxAttempts;
  std::function<double()> random;  // uniform [0, 1) for jitter; unset = a seeded engine
};

// Runs attempts via `start` until one succeeds or the policy gives up; reports each retry via
// callbacks.on_retry and a 429/529's cool-down to `observer` (may be null) under `provider`.
// Waits run on `clock`. The returned call cancels the current attempt or wait.
std::unique_ptr<ChatCall> StartWithRetries(Clock* clock, const std::string& provider,
                                           RateLimitObserver* observer, RetryOptions options,
                                           AttemptStarter start, ChatCallbacks callbacks);

}  // namespace troupe
