#include "mock_llm/plan_player.h"

#include <utility>

namespace troupe {

PlanPlayer::PlanPlayer(Clock* clock, MockPlan plan, WireProtocol protocol,
                       std::unique_ptr<ReplyEncoder> encoder, bool stream,
                       std::vector<HttpHeader> headers, ResponseSink* sink)
    : clock_(clock),
      timer_(clock),
      plan_(std::move(plan)),
      protocol_(protocol),
      encoder_(std::move(encoder)),
      stream_(stream),
      headers_(std::move(headers)),
      sink_(sink) {}

void PlanPlayer::Start() { After(plan_.head_delay_ms, &PlanPlayer::SendHead); }

void PlanPlayer::Stop() {
  stopped_ = true;
  timer_.Cancel();
}

void PlanPlayer::After(int64_t delay_ms, void (PlanPlayer::*step)()) {
  if (stopped_) return;
  if (delay_ms <= 0) {
    (this->*step)();
    return;
  }
  timer_.Start(delay_ms, [this, step] { (this->*step)(); });
}

std::vector<HttpHeader> PlanPlayer::Headers(const char* content_type) const {
  std::vector<HttpHeader> headers = headers_;
  headers.push_back({"Content-Type", content_type});
  return headers;
}

const char* PlanPlayer::StreamErrorType() const {
  return protocol_ == WireProtocol::kAnthropic ? "api_error" : "server_error";
}

void PlanPlayer::Finish(const char* outcome) {
  done_ = true;
  outcome_ = outcome;
}

int64_t PlanPlayer::DueMs(size_t i) const {
  if (plan_.tokens_per_second <= 0 || i <= base_index_) return 0;
  return int64_t(double(i - base_index_) * 1000.0 / plan_.tokens_per_second);
}

void PlanPlayer::SendHead() {
  if (plan_.http_error.has_value()) {
    const MockPlan::HttpError& e = *plan_.http_error;
    std::vector<HttpHeader> headers = Headers("application/json");
    headers.insert(headers.end(), e.headers.begin(), e.headers.end());
    Finish("http_error");
    sink_->SendResponse(e.status, std::move(headers), ErrorBody(protocol_, e.type, e.message));
    return;
  }
  if (!stream_) {
    int64_t wait = plan_.first_token_delay_ms;
    if (!plan_.deltas.empty()) wait += DueMs(plan_.deltas.size() - 1);
    if (plan_.fault == MockPlan::StreamFault::kStall) wait += plan_.stall_ms;
    After(wait, &PlanPlayer::SendWholeReply);
    return;
  }
  sink_->StartStream(200, Headers("text/event-stream; charset=utf-8"));
  std::string start = encoder_->StreamStart();
  if (!start.empty()) sink_->SendChunk(std::move(start));
  After(plan_.first_token_delay_ms, &PlanPlayer::StartDeltas);
}

void PlanPlayer::StartDeltas() {
  base_ms_ = clock_->NowMs();
  Pump();
}

void PlanPlayer::SendWholeReply() {
  switch (plan_.fault) {
    case MockPlan::StreamFault::kDrop:
      Finish("dropped");
      sink_->Drop();
      return;
    case MockPlan::StreamFault::kMalformedChunk:
      deltas_sent_ = int64_t(plan_.deltas.size());
      Finish("completed");
      sink_->SendResponse(200, Headers("application/json"), "{not json");
      return;
    case MockPlan::StreamFault::kErrorEvent:
      Finish("error_event");
      sink_->SendResponse(500, Headers("application/json"),
                          ErrorBody(protocol_, StreamErrorType(), plan_.error_message));
      return;
    case MockPlan::StreamFault::kTruncate: {
      std::string body = encoder_->Response();
      body.resize(body.size() / 2);
      Finish("truncated");
      sink_->SendResponse(200, Headers("application/json"), std::move(body));
      return;
    }
    case MockPlan::StreamFault::kNone:
    case MockPlan::StreamFault::kStall:
      break;
  }
  deltas_sent_ = int64_t(plan_.deltas.size());
  Finish("completed");
  sink_->SendResponse(200, Headers("application/json"), encoder_->Response());
}

void PlanPlayer::Pump() {
  std::string batch;
  const auto flush = [&] {
    if (!batch.empty()) sink_->SendChunk(std::move(batch));
    batch.clear();
  };
  for (;;) {
    const bool fault_due = plan_.fault != MockPlan::StreamFault::kNone && !fault_fired_ &&
                           (next_ == plan_.fault_after_deltas ||
                            (next_ == plan_.deltas.size() && plan_.fault_after_deltas > next_));
    if (fault_due) {
      fault_fired_ = true;
      switch (plan_.fault) {
        case MockPlan::StreamFault::kDrop:
          flush();
          Finish("dropped");
          sink_->Drop();
          return;
        case MockPlan::StreamFault::kMalformedChunk:
          batch += encoder_->StreamMalformed();
          continue;
        case MockPlan::StreamFault::kErrorEvent:
          batch += encoder_->StreamError(StreamErrorType(), plan_.error_message.empty()
                                                                ? "mock-llm: stream error"
                                                                : plan_.error_message);
          flush();
          Finish("error_event");
          sink_->EndStream();
          return;
        case MockPlan::StreamFault::kTruncate:
          flush();
          Finish("truncated");
          sink_->EndStream();
          return;
        case MockPlan::StreamFault::kStall:
          flush();
          if (plan_.stall_ms > 0) {
            timer_.Start(plan_.stall_ms, [this] {
              base_ms_ = clock_->NowMs();
              base_index_ = next_;
              Pump();
            });
            return;
          }
          continue;
        case MockPlan::StreamFault::kNone:
          break;
      }
    }
    if (next_ == plan_.deltas.size()) {
      batch += encoder_->StreamEnd();
      flush();
      Finish("completed");
      sink_->EndStream();
      return;
    }
    const int64_t wait = base_ms_ + DueMs(next_) - clock_->NowMs();
    if (wait > 0) {
      flush();
      timer_.Start(wait, [this] { Pump(); });
      return;
    }
    batch += encoder_->StreamDelta(plan_.deltas[next_]);
    ++next_;
    ++deltas_sent_;
  }
}

}  // namespace troupe
