// One request to the mock-llm server (mock_llm_server.h) and its answer, over the daemon's HTTP
// transport (http/http_server.h): the request as the routes read it (ReceivedRequest), the
// ResponseSink a PlanPlayer plays into, and the request log entry kept up to date from the
// transport's write progress (http/http_exchange.h WriteProgress).
//
// What it promises:
//  - A whole response is sent as the host gives it; a stream is chunked (unframed, ended by the
//    close, for an HTTP/1.0 client) with Cache-Control: no-cache, at the status the plan says.
//  - Drop (a plan's kDrop fault) resets the connection once the bytes already queued are
//    written (HttpExchange::Abort): the client sees a chunked body without its last chunk, then a
//    reset.
//  - The log entry gets the status, the byte times (first/last write started, first/last write
//    completed) and, when the answer is written or the connection is lost, its outcome and the
//    deltas sent; then it is completed in the log, once. A client that leaves stops the player
//    (its timers cancelled) and the entry ends "client_closed"; a stopping server ends it
//    "server_stopped".
//
// Threading: loop thread only. Held by shared_ptr; the host releases it from the loop, never
// from inside the player's own call.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"
#include "http/http_exchange.h"
#include "mock_llm/plan_player.h"
#include "mock_llm/request_log.h"

namespace troupe {

// A request as mock-llm's routes read it.
struct ReceivedRequest {
  uint64_t connection = 0;        // ApiRequest::connection
  int64_t head_received_us = -1;  // ApiRequest::head_received_us
  std::string method;             // "" when the request head could not be read
  std::string target;
  std::vector<HttpHeader> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHttpHeader(headers, name);
  }
};

// What a MockExchange reports to.
class MockExchangeHost {
 public:
  virtual ~MockExchangeHost() = default;
  virtual Clock* clock() = 0;
  // Monotonic microseconds, for the log's *_us fields.
  virtual int64_t NowUs() = 0;
  virtual RequestLog* log() = 0;
  // `exchange`'s answer is over and its log entry complete: the host lets go of it.
  virtual void Finished(const std::shared_ptr<class MockExchange>& exchange) = 0;
};

class MockExchange : public std::enable_shared_from_this<MockExchange>, private ResponseSink {
 public:
  MockExchange(std::shared_ptr<HttpExchange> exchange, std::weak_ptr<MockExchangeHost> host);
  ~MockExchange() override;
  MockExchange(const MockExchange&) = delete;
  MockExchange& operator=(const MockExchange&) = delete;

  // Starts watching the answer's progress. Call once, before answering.
  void Start();
  const ReceivedRequest& request() const { return request_; }
  // The answer is not over yet.
  bool busy() const { return !ended_; }

  // Answering the request, once. `entry` is its log record (null: not recorded).
  // A whole response; `headers` exclude the framing. Set entry->outcome before.
  void Respond(std::shared_ptr<RequestLogEntry> entry, int status, std::vector<HttpHeader> headers,
               std::string body);
  // Plays `player`, which must have been made with sink() as its sink.
  void Play(std::shared_ptr<RequestLogEntry> entry, std::unique_ptr<PlanPlayer> player);
  ResponseSink* sink() { return this; }

  // The server is stopping: the player stops, the entry ends with `outcome`, the connection is
  // reset.
  void Stop(const char* outcome);

 private:
  // ResponseSink
  void SendResponse(int status, std::vector<HttpHeader> headers, std::string body) override;
  void StartStream(int status, std::vector<HttpHeader> headers) override;
  void SendChunk(std::string data) override;
  void EndStream() override;
  void Drop() override;

  void OnProgress(WriteProgress progress);
  // The answer is over: completes the entry with the player's (or the preset) outcome when it
  // was `finished` (written in full), else with `lost_outcome` (unless the player dropped it).
  void End(bool finished, const char* lost_outcome);

  std::shared_ptr<HttpExchange> exchange_;
  std::weak_ptr<MockExchangeHost> host_;
  ReceivedRequest request_;
  std::shared_ptr<RequestLogEntry> entry_;
  std::unique_ptr<PlanPlayer> player_;
  bool ended_ = false;
};

}  // namespace troupe
