// One client connection of the HTTP transport (http/http_server.h): reads requests one at a time
// with Beast's parser (the head with http::async_read_header, the body fed as
// http/request_feed.h says), checks them (request_checks.h, request_target.h), hands each to the
// handler as a ServerExchange (server_exchange.h), and writes its answer framed by
// response_framing.h — a whole response, or a stream.
//
// The connection is an explicit state machine (Phase):
//
//   kReading ──request──▶ kHandling ──Respond──▶ kWriting ──written──▶ kReading (keep-alive)
//       │                     │                                   └──▶ kLingering (close)
//       │                     └──OpenStream──▶ kStreaming ──end──▶ kEnding ──written──▶ (same)
//       │                     kHandling | kStreaming ──Abort──▶ kAborting ──written──▶ reset
//       └─ the server's own answer (401, 413, 431, 400, 503) ──▶ kWriting
//   any phase ──client gone / socket error / timer / Close()──▶ kClosed
//
// Besides the phase, the connection tracks only what the current request's head said (keep-alive,
// HTTP/1.0, HEAD — RequestFacts), whether a read is watching the socket while the request is
// handled (WatchState), and the bytes queued and in flight (the write is in flight exactly when
// `in_flight_` holds bytes).
//
// Lingering: after an answer that ends the connection the write side is shut and what the client
// still sends is read and discarded for up to a second, so the client reads the answer rather
// than a reset.
//
// An exchange may watch its answer being written (WriteProgress): told when its bytes are handed
// to the socket, when a write completes, when all is out, or that the connection was lost first.
//
// Threading: loop thread only. Held by shared_ptr: pending reads, writes and timers keep it alive.
#pragma once

#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "http/api_error.h"
#include "http/http_server.h"
#include "http/listener.h"
#include "http/response_framing.h"
#include "http/server_exchange.h"

namespace troupe {

// The server as its connections see it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual const HttpServerOptions& options() const = 0;
  // The bound TCP port (for HttpServerOptions::tcp_gate).
  virtual int tcp_port() const { return options().tcp_port; }
  // Null once the server is being destroyed.
  virtual HttpHandler* handler() const = 0;
  virtual bool stopping() const = 0;
  virtual const std::shared_ptr<ExchangeNotifier>& notifier() const = 0;
  virtual void ReportResponse(int status) = 0;
  // The TCP connection `id` sent a good bearer token (HttpServerOptions::max_unknown_tcp).
  virtual void Authenticated(uint64_t id) = 0;
  // The connection `id` is closed.
  virtual void Remove(uint64_t id) = 0;
};

class Connection final : public ExchangeChannel, public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<ConnectionHost> host, StreamSocket socket, uint64_t id, bool is_tcp);

  void Start() { ReadRequest(); }
  // Closes the socket now; an exchange still waiting for its answer or streaming ends.
  void Close();
  void OnServerStopping();

  // ExchangeChannel: for the exchange of request `seq`; each ignores a stale or finished one.
  void Respond(uint64_t seq, ApiResponse response) override;
  bool OpenStream(uint64_t seq, int status, ResponseHeaders headers) override;
  bool StreamWrite(uint64_t seq, std::string bytes) override;
  size_t buffered(uint64_t seq) const override;
  void EndStream(uint64_t seq) override;
  void Drop(uint64_t seq) override;
  void Abandoned(uint64_t seq) override;
  void Abort(uint64_t seq) override;
  void ObserveWrites(uint64_t seq, std::function<void(WriteProgress)> observer) override;

 private:
  enum class Phase {
    kReading,    // reading a request (or waiting for one)
    kHandling,   // the handler has the request; no answer yet
    kWriting,    // a whole response is queued
    kStreaming,  // a stream is open
    kEnding,     // the stream's end is queued
    kAborting,   // the exchange asked for a reset: written what is queued, then reset
    kLingering,  // the response is out; discarding input until the client closes
    kClosed,     // the socket is closed; nothing more happens
  };
  // A read kept pending while the request is handled or the connection lingers, to notice the
  // client leaving.
  enum class WatchState {
    kOff,
    kOn,
    kOnThenRead,  // the answer is out: read the next request once the watch read returns
  };
  // What the current request's head said.
  struct RequestFacts {
    bool keep_alive = false;
    bool http10 = false;
    bool head = false;  // a HEAD request: the answer has no body
  };

  bool closed() const { return phase_ == Phase::kClosed; }
  bool writing() const { return !in_flight_.empty(); }

  void ReadRequest();
  void OnHeader(const boost::system::error_code& ec);
  // Who a TCP request is (HttpServerOptions::tcp_gate, else the bearer token alone).
  TcpAdmission Admit(
      const boost::beast::http::request_parser<boost::beast::http::string_body>::value_type&
          message);
  // Reads the body, feeding the parser as http/request_feed.h says.
  void ReadBody();
  void OnBody(const boost::system::error_code& ec);
  void ReadFailed(const boost::system::error_code& ec);
  void Dispatch(ApiRequest request);
  // Answers with the server's own error; the connection closes after unless `keep_alive`.
  void ServerError(const ApiError& error, ResponseHeaders extra, bool keep_alive);
  // Refuses the request read so far with `error` (400, 413, 431), or with the handler's own
  // answer (HttpHandler::Refused).
  void Refuse(const ApiError& error, bool keep_alive);
  // Answers the server's own `response` (no exchange) now.
  void ServerAnswer(ApiResponse response, bool keep_alive);
  // Answers a body over body_limit_ (the handler's answer, or the server's 413) and closes.
  void BodyTooLarge();
  void WriteWhole(ApiResponse response);
  std::string Head(int status, std::string_view content_type, const ResponseHeaders& headers,
                   BodyFraming framing, size_t content_length = 0);

  void Watch();
  void OnWatch(const boost::system::error_code& ec, size_t bytes);

  void QueueBytes(std::string_view bytes);
  // Tells the exchange's write observer, if any; kFinished and kLost are the last it hears.
  void ReportWrite(WriteProgress progress);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  // The response is written: read the next request, or close.
  void FinishExchange();
  void Linger();

  void ArmTimer(int64_t ms);
  void DisarmTimer();
  void OnTimer();

  std::shared_ptr<ConnectionHost> host_;
  StreamSocket socket_;
  boost::asio::steady_timer timer_;  // idle limit while reading, linger limit after the answer
  uint64_t timer_generation_ = 0;
  const uint64_t id_;
  const bool is_tcp_;
  // A Unix-socket client, or a TCP client that sent a good token (or needs none).
  bool authenticated_;

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  Phase phase_ = Phase::kReading;
  WatchState watch_ = WatchState::kOff;
  RequestFacts request_;
  uint64_t seq_ = 0;  // the current request
  std::weak_ptr<ServerExchange> exchange_;
  std::string path_;       // the current request's path (target without query), as received
  size_t body_limit_ = 0;  // the current request's body limit
  int64_t head_received_us_ = -1;
  std::function<void(WriteProgress)> write_observer_;  // the current exchange's
  bool reset_on_close_ = false;  // Close resets the connection (Abort) instead of shutting down

  std::string out_;        // bytes waiting for the write in flight
  std::string in_flight_;  // bytes being written
};

}  // namespace troupe
