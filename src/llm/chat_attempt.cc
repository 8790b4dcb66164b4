#include "llm/chat_attempt.h"

#include <fmt/format.h>

#include <random>
#include <utility>

#include "llm/rate_limit_headers.h"

namespace troupe {
namespace {

// The state of one request across its attempts. Owned by a shared_ptr that the handle and every
// pending callback share, so a callback may destroy the handle (cancelling the request) while the
// state stays alive until the callback returns.
class RetryingRequest : public std::enable_shared_from_this<RetryingRequest> {
 public:
  RetryingRequest(Clock* clock, std::string provider, RateLimitObserver* observer,
                  RetryOptions options, AttemptStarter start, ChatCallbacks callbacks)
      : clock_(clock),
        provider_(std::move(provider)),
        observer_(observer),
        options_(std::move(options)),
        start_(std::move(start)),
        callbacks_(std::move(callbacks)),
        wait_(clock) {
    if (!options_.random) {
      // Jitter needs no quality, only spread between requests: one engine per thread, seeded
      // from the device on its first retry (not per request: opening the device costs more
      // than a whole request's encoding).
      options_.random = [] {
        thread_local std::minstd_rand engine(std::random_device{}());
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
      };
    }
    if (options_.max_attempts < 1) options_.max_attempts = 1;
  }

  void StartAttempt() {
    if (cancelled_) return;
    std::weak_ptr<RetryingRequest> weak = weak_from_this();
    AttemptCallbacks cb;
    cb.on_delta = [weak](const StreamDelta& d) {
      if (auto self = weak.lock(); self && !self->cancelled_) {
        self->streamed_ = true;
        if (self->callbacks_.on_delta) self->callbacks_.on_delta(d);
      }
    };
    cb.on_bytes = [weak](int64_t bytes) {
      if (auto self = weak.lock(); self && !self->cancelled_ && self->callbacks_.on_bytes) {
        self->callbacks_.on_bytes(bytes);
      }
    };
    cb.on_done = [weak](AttemptOutcome outcome) {
      if (auto self = weak.lock(); self && !self->cancelled_) self->AttemptDone(std::move(outcome));
    };
    streamed_ = false;
    attempt_ = start_(std::move(cb));
  }

  void Cancel() {
    if (cancelled_) return;
    cancelled_ = true;
    wait_.Cancel();
    if (attempt_) attempt_->Cancel();
  }

 private:
  void AttemptDone(AttemptOutcome outcome) {
    // The attempt is over; keep its handle until the next one replaces it (it may be on the
    // stack below us).
    if (outcome.result) return Finish(std::move(*outcome.result));

    AttemptError& error = outcome.error;
    const int64_t wall = clock_->WallMs();
    if (error.http_status == 429 || error.http_status == 529) {
      std::optional<int64_t> cooldown = CooldownMs(error.http_status, error.headers, wall);
      if (cooldown && observer_) observer_->OnProviderCooldown(provider_, *cooldown);
    }

    RetryInput in;
    in.attempt = attempt_number_;
    in.max_attempts = options_.max_attempts;
    in.http_status = error.http_status;
    in.headers = error.headers;
    in.transport_error = error.transport;
    in.now_ms = wall;
    in.random = options_.random();
    // An error no retry can fix (a malformed reply, a refused request) arrives with neither a
    // status nor a transport error; the policy would call it a connection error.
    const bool retryable_kind = error.http_status != 0 || error.transport != TransportError::kNone;
    RetryDecision decision = retryable_kind ? DecideRetry(in) : RetryDecision{};
    if (observer_) {
      // The observer may cancel the request (e.g. its task is stopped): keep the state alive.
      std::shared_ptr<RetryingRequest> keep = shared_from_this();
      observer_->OnAttemptFailed(provider_, error.status.message(), decision.retry);
      if (cancelled_) return;
    }
    if (!decision.retry) {
      Status status = error.status;
      if (attempt_number_ > 1) {
        status = Status(status.code(),
                        fmt::format("{} (after {} attempts)", status.message(), attempt_number_));
      }
      return Finish(std::move(status));
    }

    RetryNotice notice;
    notice.attempt = attempt_number_;
    notice.delay_ms = decision.delay_ms;
    notice.reason = error.status.message();
    notice.discarded_partial = outcome.streamed_deltas || streamed_;
    ++attempt_number_;
    if (callbacks_.on_retry) {
      std::shared_ptr<RetryingRequest> keep = shared_from_this();
      callbacks_.on_retry(notice);
      if (cancelled_) return;
    }
    std::weak_ptr<RetryingRequest> weak = weak_from_this();
    wait_.Start(decision.delay_ms, [weak] {
      if (auto self = weak.lock(); self && !self->cancelled_) self->StartAttempt();
    });
  }

  void Finish(Result<ChatResult> result) {
    cancelled_ = true;  // nothing may run after on_done
    auto on_done = std::move(callbacks_.on_done);
    if (on_done) on_done(std::move(result));
  }

  Clock* clock_;
  std::string provider_;
  RateLimitObserver* observer_;
  RetryOptions options_;
  AttemptStarter start_;
  ChatCallbacks callbacks_;
  Timer wait_;
  std::unique_ptr<ChatCall> attempt_;
  int attempt_number_ = 1;
  bool streamed_ = false;
  bool cancelled_ = false;
};

class RetryingCallHandle : public ChatCall {
 public:
  explicit RetryingCallHandle(std::shared_ptr<RetryingRequest> request)
      : request_(std::move(request)) {}
  ~RetryingCallHandle() override { Cancel(); }
  void Cancel() override {
    if (request_) request_->Cancel();
  }

 private:
  std::shared_ptr<RetryingRequest> request_;
};

}  // namespace

std::unique_ptr<ChatCall> StartWithRetries(Clock* clock, const std::string& provider,
                                           RateLimitObserver* observer, RetryOptions options,
                                           AttemptStarter start, ChatCallbacks callbacks) {
  auto request = std::make_shared<RetryingRequest>(clock, provider, observer, std::move(options),
                                                   std::move(start), std::move(callbacks));
  request->StartAttempt();
  return std::make_unique<RetryingCallHandle>(std::move(request));
}

}  // namespace troupe
