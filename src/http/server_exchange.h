// The transport's side of one request: the HttpExchange a handler holds (http/http_exchange.h),
// forwarding its answer to the connection it came on (an ExchangeChannel, http/connection.h),
// and the OnClose bookkeeping: a callback is posted to the loop, never run inside the call that
// ended the exchange, and still run (ExchangeNotifier::RunPendingNow) when the server goes away
// before the loop gets to it.
//
// Lifecycle: pending → responded (Respond) | streaming (OpenStream) → closed (Close, the client
// leaving, the stream cut off, the server stopping). An exchange dropped while pending answers
// 500 "not answered"; one dropped while streaming ends its stream.
//
// Threading: loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "http/http_exchange.h"

namespace troupe {

// What an exchange asks of the connection it came on. Each call names the request (`seq`) and
// is ignored for a request the connection is no longer answering.
class ExchangeChannel {
 public:
  virtual ~ExchangeChannel() = default;
  virtual void Respond(uint64_t seq, ApiResponse response) = 0;
  virtual bool OpenStream(uint64_t seq, int status,
                          std::vector<std::pair<std::string, std::string>> headers) = 0;
  // False when the stream is over, or is closed now because the client is too far behind.
  virtual bool StreamWrite(uint64_t seq, std::string bytes) = 0;
  virtual size_t buffered(uint64_t seq) const = 0;
  virtual void EndStream(uint64_t seq) = 0;
  // Close() on an exchange that was not answered: the connection is dropped.
  virtual void Drop(uint64_t seq) = 0;
  // The handler let go of an exchange without answering it.
  virtual void Abandoned(uint64_t seq) = 0;
  // HttpExchange::Abort: reset the connection once what is queued is written.
  virtual void Abort(uint64_t seq) = 0;
  // HttpExchange::OnWriteProgress for request `seq`.
  virtual void ObserveWrites(uint64_t seq, std::function<void(WriteProgress)> observer) = 0;
};

class ServerExchange;

// Posts exchanges' OnClose callbacks to the loop and remembers those not run yet.
class ExchangeNotifier {
 public:
  explicit ExchangeNotifier(boost::asio::io_context& io) : io_(io) {}
  uint64_t NextId() { return next_id_++; }
  // Runs `exchange`'s due callback from the loop, soon.
  void Post(uint64_t id, const std::shared_ptr<ServerExchange>& exchange);
  void Done(uint64_t id) { pending_.erase(id); }
  // The server is going away: run every callback still due, now.
  void RunPendingNow();
  size_t pending() const { return pending_.size(); }

 private:
  boost::asio::io_context& io_;
  uint64_t next_id_ = 1;
  std::map<uint64_t, std::weak_ptr<ServerExchange>> pending_;
};

class ServerExchange final : public HttpExchange,
                             public std::enable_shared_from_this<ServerExchange> {
 public:
  ServerExchange(std::shared_ptr<ExchangeNotifier> notifier,
                 std::shared_ptr<ExchangeChannel> channel, uint64_t seq, ApiRequest request);
  ~ServerExchange() override;

  const ApiRequest& request() const override { return request_; }
  void Respond(ApiResponse response) override;
  using HttpExchange::OpenStream;
  bool OpenStream(int status, std::vector<std::pair<std::string, std::string>> headers) override;
  bool Write(std::string bytes) override;
  size_t buffered() const override;
  void Close() override;
  bool closed() const override { return state_ == State::kClosed; }
  void Abort() override;
  void OnWriteProgress(std::function<void(WriteProgress)> observer) override;
  void OnClose(std::function<void()> callback) override;

  // The exchange is over without its answer or stream end: the client left, the stream was cut,
  // or the server is stopping.
  void Ended();
  // Runs a due OnClose callback now (from the loop, or as the server goes away).
  void RunNotify();

 private:
  enum class State { kPending, kResponded, kStreaming, kClosed };

  // Posts the OnClose callback, so that it never runs inside the call that caused it.
  void Notify();

  std::shared_ptr<ExchangeNotifier> notifier_;
  std::shared_ptr<ExchangeChannel> channel_;  // while the exchange can still use it
  const uint64_t seq_;
  const uint64_t id_;
  const ApiRequest request_;
  State state_ = State::kPending;
  std::function<void()> on_close_;
  bool notified_ = false;
  bool post_pending_ = false;
};

}  // namespace troupe
