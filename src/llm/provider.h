// The provider interface: how the agent loop asks a model for one reply. Implementations: the
// HTTP clients for OpenAI-compatible and Anthropic endpoints (llm/http_chat_client.h) and the
// in-process scripted mock model (llm/mock_provider.h). The registry (llm/provider_registry.h)
// builds them from config.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"
#include "llm/chat_types.h"
#include "llm/rate_limit_headers.h"

namespace troupe {

// An attempt that failed and will be tried again after `delay_ms`.
struct RetryNotice {
  int attempt = 1;       // the attempt that failed (1-based)
  int64_t delay_ms = 0;  // wait before the next one
  std::string reason;    // "HTTP 429 rate_limit_error: …", "connection reset after 812 bytes"
  bool discarded_partial = false;  // deltas of the failed attempt were already reported; the
                                   // next attempt starts the reply over
};

struct ChatCallbacks {
  // Each increment of a streamed reply, in order (not called for non-streamed requests).
  std::function<void(const StreamDelta&)> on_delta;
  // Bytes received from the provider, as they arrive: activity for the stale timer.
  std::function<void(int64_t bytes)> on_bytes;
  // An attempt failed and will be retried.
  std::function<void(const RetryNotice&)> on_retry;
  // Exactly once unless cancelled, last: the complete reply, or why there is none after the
  // retry policy gave up. Never called from inside Chat().
  std::function<void(Result<ChatResult>)> on_done;
};

// A request in flight. Destroying it cancels it.
class ChatCall {
 public:
  virtual ~ChatCall() = default;
  // Aborts the request now (its connection is closed, a pending retry is dropped); no callback
  // runs afterwards. Safe at any moment, including from inside a callback. Idempotent.
  virtual void Cancel() = 0;
};

// Told when a provider refuses requests for load (429, 529), so the engine can cool down the
// provider's whole pool, not only the one request.
class RateLimitObserver {
 public:
  virtual ~RateLimitObserver() = default;
  // A 429 or 529 asked the provider's pool to wait this long.
  virtual void OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) = 0;
  // What a response's headers said about the provider's limits (shown with its pool).
  virtual void OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) {}
  // An attempt of a request to `provider` failed (any error: HTTP status, broken connection,
  // malformed reply); `will_retry` says whether another attempt follows. Not called for a
  // cancelled request. Called before ChatCallbacks::on_retry / on_done of that failure.
  virtual void OnAttemptFailed(std::string_view provider, std::string_view reason,
                               bool will_retry) {}
};

// One configured provider ("anthropic", "openai", "local", "mock"). Threading: used from the
// event loop thread only.
class Provider {
 public:
  virtual ~Provider() = default;
  // The provider's name: the part before '/' in "provider/model".
  virtual const std::string& name() const = 0;
  // Sends `request` (request.model is the model id without the provider prefix).
  virtual std::unique_ptr<ChatCall> Chat(ChatRequest request, ChatCallbacks callbacks) = 0;
};

}  // namespace troupe
