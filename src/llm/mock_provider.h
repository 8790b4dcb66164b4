// The in-process `mock` provider: the scripted mock model (llm/mock_model.h) played on an
// injected Clock, with no network. Offline demos use it, and engine tests drive it with FakeClock
// to get exact timing, HTTP errors, retries and broken streams on demand.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "llm/chat_attempt.h"
#include "llm/mock_model.h"
#include "llm/mock_plan.h"
#include "llm/provider.h"

namespace troupe {

// Plays `plan` as one attempt, on `clock`'s timers:
//  - after plan.head_delay_ms, an HTTP error ends the attempt: AttemptError with the Status the
//    HTTP clients give (ProviderHttpError, provider "mock"), the status and the headers;
//  - otherwise the deltas follow, the first plan.first_token_delay_ms after the head, delta i
//    at i * 1000 / tokens_per_second ms after the first (all at once when tokens_per_second is
//    0; deltas due at the same millisecond come in one timer firing), then a kUsage delta with
//    the result's usage, then on_done with plan.result. on_bytes reports the head, and each
//    delta with its approximate size on the wire.
//  - the stream fault strikes once fault_after_deltas deltas were sent (at the end when there are
//    fewer): kDrop ends with Unavailable "mock: connection reset after N deltas"
//    (TransportError::kReset); kMalformedChunk with InvalidArgument (kNone: no retry repairs a
//    malformed reply); kErrorEvent with Unavailable carrying the event's message (kReset);
//    kTruncate with Unavailable "mock: stream ended early after N deltas" (kReset), as the
//    HTTP providers report a stream without its end; kStall delays the rest by stall_ms.
// When `stream` is false no delta is delivered: the result (or the fault, which then hits the
// whole body) arrives after the first-token delay, as a non-streamed body would.
// No callback runs inside this call (the first step runs on a timer, even at delay 0) or after
// Cancel or destruction of the returned handle; a callback may destroy or cancel the handle.
std::unique_ptr<ChatCall> StartMockAttempt(Clock* clock, MockPlan plan, bool stream,
                                           AttemptCallbacks callbacks);

// A provider of type mock: every attempt of every request gets a fresh plan from its MockModel
// (so `times=N` counts attempts), played by StartMockAttempt under StartWithRetries, so retries,
// waits and cool-downs behave exactly as for the HTTP providers.
//
// Threading: event loop only. `clock` and `observer` (may be null) must outlive the provider, and
// the provider every call it started.
class MockProvider : public Provider {
 public:
  MockProvider(std::string name, MockModelOptions options, Clock* clock,
               RateLimitObserver* observer, RetryOptions retry = {});

  const std::string& name() const override { return name_; }
  std::unique_ptr<ChatCall> Chat(ChatRequest request, ChatCallbacks callbacks) override;

  MockModel& model() { return model_; }

 private:
  std::string name_;
  MockModel model_;
  Clock* clock_;
  RateLimitObserver* observer_;
  RetryOptions retry_;
};

}  // namespace troupe
