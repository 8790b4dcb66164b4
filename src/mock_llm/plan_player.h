// Plays one MockPlan as the HTTP response to one request: when to send the head, each delta and
// the end, and which fault to inject, on an injected Clock. What the bytes are is the
// ReplyEncoder's business; how they reach the socket is the ResponseSink's. So the timing rules
// are tested alone with a FakeClock, and the server (mock_llm_server.h) only wires the three.
//
// Timeline of a streamed reply (MockPlan field names):
//   head_delay_ms, then the head (200, text/event-stream) with the encoder's StreamStart events;
//   first_token_delay_ms, then the deltas: with tokens_per_second > 0 delta i is due
//   i * 1000 / tokens_per_second ms after the first, and every delta due when a timer fires is
//   sent in one chunk (each delta still its own SSE event), so a coarse timer never slows the
//   stream down; with 0 all are sent at once. Then the end events.
// A fault fires once `fault_after_deltas` deltas were sent (after all of them when the plan has
// fewer): kDrop resets the connection (ResponseSink::Drop); kMalformedChunk sends one event that
// is not JSON and goes on; kErrorEvent sends the error event and ends the response without the
// end events; kStall sends nothing for stall_ms, then goes on at the plan's pace from there;
// kTruncate ends the response cleanly without the end events.
//
// A reply that was not asked to stream is sent whole (200, application/json) when its last delta
// would have been sent: head_delay + first_token_delay + the pacing of the deltas (+ stall_ms
// for kStall). Its faults: kDrop resets the connection instead of answering; kMalformedChunk
// answers 200 with a body that is not JSON; kErrorEvent answers 500 with the protocol's error;
// kTruncate answers 200 with the first half of the body.
//
// An http_error plan answers after head_delay_ms with its status, its headers and the protocol's
// error body.
//
// Threading: loop thread only. Zero delays take no timer: the next step runs at once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"
#include "llm/mock_plan.h"
#include "mock_llm/reply_encoder.h"

namespace troupe {

// Where a PlanPlayer writes its response. Calls come in this order: either one SendResponse, or
// StartStream, any number of SendChunk, then EndStream; either way possibly ended early by Drop.
// None of them may call back into the player.
class ResponseSink {
 public:
  virtual ~ResponseSink() = default;
  // A complete response; `headers` exclude the framing (Content-Length is the sink's).
  virtual void SendResponse(int status, std::vector<HttpHeader> headers, std::string body) = 0;
  // The head of a streamed response (the sink frames the body, e.g. chunked).
  virtual void StartStream(int status, std::vector<HttpHeader> headers) = 0;
  // Body bytes of the streamed response; never empty.
  virtual void SendChunk(std::string data) = 0;
  // The streamed response is complete.
  virtual void EndStream() = 0;
  // Ends the connection abruptly (a reset) once what was already sent is written.
  virtual void Drop() = 0;
};

class PlanPlayer {
 public:
  // `encoder` writes `plan.result` in the request's protocol; `stream` is the request's flag;
  // `headers` go on every response (e.g. a request id). `clock` and `sink` must outlive the
  // player.
  PlanPlayer(Clock* clock, MockPlan plan, WireProtocol protocol,
             std::unique_ptr<ReplyEncoder> encoder, bool stream, std::vector<HttpHeader> headers,
             ResponseSink* sink);
  PlanPlayer(const PlanPlayer&) = delete;
  PlanPlayer& operator=(const PlanPlayer&) = delete;

  // Starts playing; may call the sink before returning (no delay before the head).
  void Start();
  // Stops playing (the client left): cancels the pending timer; the sink is not called again.
  void Stop();

  bool done() const { return done_; }
  // As RequestLogEntry::outcome: "in_progress" until the sink's last call, then "completed",
  // "http_error", "error_event", "dropped" or "truncated". Stop leaves it as it was.
  const std::string& outcome() const { return outcome_; }
  int64_t deltas_sent() const { return deltas_sent_; }

 private:
  void SendHead();
  void SendWholeReply();
  // The first token is due: the pacing counts from now.
  void StartDeltas();
  // Sends every delta due, fires the fault when its turn comes, then waits or ends.
  void Pump();
  // The ms offset from the first delta at which delta `i` is due, counted from `base_index_`.
  int64_t DueMs(size_t i) const;
  // Runs `step` after `delay_ms`, or now when it is not positive.
  void After(int64_t delay_ms, void (PlanPlayer::*step)());
  void Finish(const char* outcome);
  std::vector<HttpHeader> Headers(const char* content_type) const;
  // The error type for kErrorEvent in this protocol.
  const char* StreamErrorType() const;

  Clock* clock_;
  Timer timer_;
  MockPlan plan_;
  WireProtocol protocol_;
  std::unique_ptr<ReplyEncoder> encoder_;
  bool stream_;
  std::vector<HttpHeader> headers_;
  ResponseSink* sink_;

  bool stopped_ = false;
  bool done_ = false;
  bool fault_fired_ = false;
  std::string outcome_ = "in_progress";
  size_t next_ = 0;  // next delta to send
  int64_t deltas_sent_ = 0;
  int64_t base_ms_ = 0;    // when delta `base_index_` was (or is) due
  size_t base_index_ = 0;  // the delta the pacing counts from: 0, or the first after a stall
};

}  // namespace troupe
