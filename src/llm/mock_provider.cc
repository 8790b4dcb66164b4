#include "llm/mock_provider.h"

#include <cmath>
#include <utility>

#include "llm/provider_error.h"
#include "llm/stream_deltas.h"

namespace troupe {

namespace {

using StreamFault = MockPlan::StreamFault;

// Rough sizes on the wire, for on_bytes: the stale timer only needs to see activity.
constexpr int64_t kHeadBytes = 150;
constexpr int64_t kChunkOverheadBytes = 80;  // "data: {...}\n\n" around a delta's text

int64_t DeltaBytes(const StreamDelta& d) {
  return kChunkOverheadBytes + static_cast<int64_t>(d.text.size() + d.id.size() + d.name.size());
}

// One attempt playing a plan. Every callback is made through Call*, which tells whether the
// attempt is still alive afterwards: a callback may cancel or destroy it.
class MockAttempt final : public ChatCall {
 public:
  MockAttempt(Clock* clock, MockPlan plan, bool stream, AttemptCallbacks callbacks)
      : clock_(clock),
        plan_(std::move(plan)),
        stream_(stream),
        callbacks_(std::move(callbacks)),
        timer_(clock),
        alive_(std::make_shared<bool>(true)) {
    const double tps = plan_.tokens_per_second;
    tokens_per_second_ = std::isfinite(tps) && tps > 0 ? tps : 0.0;
    fault_index_ = std::min(plan_.fault_after_deltas, plan_.deltas.size());
    timer_.Start(plan_.head_delay_ms, [this] { Head(); });
  }
  ~MockAttempt() override { Stop(); }

  void Cancel() override { Stop(); }

 private:
  void Stop() {
    *alive_ = false;
    timer_.Cancel();
  }

  void Head() {
    if (plan_.http_error) {
      const MockPlan::HttpError& e = *plan_.http_error;
      AttemptError error;
      error.status = ProviderHttpError("mock", e.status, e.type, e.message);
      error.http_status = e.status;
      error.headers = e.headers;
      return Fail(std::move(error));
    }
    if (!CallBytes(kHeadBytes)) return;
    first_token_ms_ = clock_->NowMs() + plan_.first_token_delay_ms;
    if (!stream_) {
      const int64_t stall = plan_.fault == StreamFault::kStall ? plan_.stall_ms : 0;
      timer_.Start(plan_.first_token_delay_ms + stall, [this] { Body(); });
      return;
    }
    Step();
  }

  // A non-streamed reply: the whole body at once.
  void Body() {
    if (plan_.fault != StreamFault::kNone && plan_.fault != StreamFault::kStall) {
      return Fail(FaultError(0));
    }
    int64_t bytes = kHeadBytes;
    for (const StreamDelta& d : plan_.deltas) bytes += static_cast<int64_t>(d.text.size());
    if (!CallBytes(bytes)) return;
    Succeed();
  }

  // When event `e` falls due: delta e, or the end of the stream when e == deltas.size().
  int64_t DueMs(size_t e) const {
    const size_t paced = e < plan_.deltas.size() || e == 0 ? e : e - 1;
    int64_t due = first_token_ms_;
    if (tokens_per_second_ > 0) {
      due += static_cast<int64_t>(
          std::floor(static_cast<double>(paced) * 1000.0 / tokens_per_second_));
    }
    if (stalled_ && e >= fault_index_) due += plan_.stall_ms;
    return due;
  }

  // Sends everything due now, then waits for the next event.
  void Step() {
    while (true) {
      const int64_t due = DueMs(next_);
      if (due > clock_->NowMs()) {
        timer_.Start(due - clock_->NowMs(), [this] { Step(); });
        return;
      }
      if (plan_.fault != StreamFault::kNone && !fault_done_ && next_ == fault_index_) {
        fault_done_ = true;
        if (plan_.fault == StreamFault::kStall) {
          stalled_ = true;
          continue;
        }
        return Fail(FaultError(next_));
      }
      if (next_ == plan_.deltas.size()) {
        if (!CallDelta(stream_deltas::UsageSoFar(plan_.result.usage))) return;
        return Succeed();
      }
      const StreamDelta& delta = plan_.deltas[next_++];
      if (!CallBytes(DeltaBytes(delta)) || !CallDelta(delta)) return;
    }
  }

  AttemptError FaultError(size_t sent) const {
    const std::string after = std::to_string(sent) + (sent == 1 ? " delta" : " deltas");
    AttemptError error;
    switch (plan_.fault) {
      case StreamFault::kDrop:
        error.status = Status::Unavailable("mock: connection reset after " + after);
        error.transport = TransportError::kReset;
        break;
      case StreamFault::kMalformedChunk:
        error.status =
            Status::InvalidArgument("mock stream: chunk " + std::to_string(sent + 1) +
                                    " is not valid JSON (malformed after " + after + ")");
        break;
      case StreamFault::kErrorEvent:
        error.status =
            Status::Unavailable("mock: error event after " + after + ": " + plan_.error_message);
        error.transport = TransportError::kReset;
        break;
      case StreamFault::kTruncate:
        error.status = Status::Unavailable("mock: stream ended early after " + after);
        error.transport = TransportError::kReset;
        break;
      case StreamFault::kNone:
      case StreamFault::kStall:
        error.status = Status::Internal("mock: no fault to report");
        break;
    }
    return error;
  }

  bool CallBytes(int64_t bytes) {
    if (!callbacks_.on_bytes) return true;
    std::shared_ptr<bool> alive = alive_;
    callbacks_.on_bytes(bytes);
    return *alive;
  }

  bool CallDelta(const StreamDelta& delta) {
    streamed_ = true;
    if (!callbacks_.on_delta) return true;
    std::shared_ptr<bool> alive = alive_;
    callbacks_.on_delta(delta);
    return *alive;
  }

  void Succeed() {
    AttemptOutcome outcome;
    outcome.result = std::move(plan_.result);
    Done(std::move(outcome));
  }

  void Fail(AttemptError error) {
    AttemptOutcome outcome;
    outcome.error = std::move(error);
    Done(std::move(outcome));
  }

  // Last callback; `this` may be gone once on_done returns.
  void Done(AttemptOutcome outcome) {
    outcome.streamed_deltas = streamed_;
    Stop();
    auto on_done = std::move(callbacks_.on_done);
    if (on_done) on_done(std::move(outcome));
  }

  Clock* clock_;
  MockPlan plan_;
  bool stream_;
  AttemptCallbacks callbacks_;
  Timer timer_;
  std::shared_ptr<bool> alive_;
  double tokens_per_second_ = 0;  // 0: no pacing
  size_t fault_index_ = 0;
  int64_t first_token_ms_ = 0;
  size_t next_ = 0;  // the next event: a delta, or the end when == deltas.size()
  bool fault_done_ = false;
  bool stalled_ = false;
  bool streamed_ = false;
};

}  // namespace

std::unique_ptr<ChatCall> StartMockAttempt(Clock* clock, MockPlan plan, bool stream,
                                           AttemptCallbacks callbacks) {
  return std::make_unique<MockAttempt>(clock, std::move(plan), stream, std::move(callbacks));
}

MockProvider::MockProvider(std::string name, MockModelOptions options, Clock* clock,
                           RateLimitObserver* observer, RetryOptions retry)
    : name_(std::move(name)),
      model_(std::move(options)),
      clock_(clock),
      observer_(observer),
      retry_(std::move(retry)) {}

std::unique_ptr<ChatCall> MockProvider::Chat(ChatRequest request, ChatCallbacks callbacks) {
  auto shared = std::make_shared<const ChatRequest>(std::move(request));
  AttemptStarter start = [this, shared](AttemptCallbacks cb) {
    return StartMockAttempt(clock_, model_.Plan(*shared), shared->stream, std::move(cb));
  };
  return StartWithRetries(clock_, name_, observer_, retry_, std::move(start), std::move(callbacks));
}

}  // namespace troupe
