// One HTTP/1.1 connection of the mock-llm server (mock_llm_server.h): reads requests one at a
// time with Boost.Beast, hands each to the host, and writes the answer the host gives, either a
// whole response or a PlanPlayer's stream in chunked framing. It is the ResponseSink of the
// players it runs.
//
// What it promises:
//  - Keep-alive: after a response ends, the next request on the connection is read, unless the
//    client asked to close or the request could not be read (400, 413), in which case the
//    connection is closed after the response (after reading and discarding what the client
//    still sends for up to a second, so that the client reads the response before the close).
//  - `Expect: 100-continue` is answered with 100 Continue once the head is accepted; a declared
//    Content-Length over the limit is refused with 413 before the body is sent.
//  - While a response is in progress the connection keeps reading, so a client that goes away
//    is noticed at once: the player is stopped (its timers cancelled) and the request's log
//    entry ends as "client_closed". Bytes of a following (pipelined) request are kept for
//    later, up to 64 KiB.
//  - Streams use chunked framing; an HTTP/1.0 request gets its stream unframed, ended by the
//    close, as servers answer such clients.
//  - Drop (a plan's kDrop fault) resets the connection (SO_LINGER 0, then close) once the bytes
//    already sent are written: the client sees a chunked body without its last chunk, then a
//    reset.
//  - Memory: a socket, a read buffer sized by the largest request head seen, the current request
//    and the bytes waiting to be written. No thread.
//
// Threading: the loop thread of the socket's io_context only.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/http_message.h"
#include "http/listener.h"
#include "http/response_framing.h"
#include "mock_llm/plan_player.h"
#include "mock_llm/request_log.h"

namespace troupe {

struct ReceivedRequest {
  uint64_t connection = 0;        // MockLlmConnection::id()
  int64_t head_received_us = -1;  // ConnectionHost::NowUs() when the head had been read
  std::string method;             // "" when the request head could not be read
  std::string target;
  std::vector<HttpHeader> headers;
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHttpHeader(headers, name);
  }
};

class MockLlmConnection;

// The server side a connection reports to. Held by shared_ptr, so a connection's pending
// handlers never outlive it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  virtual Clock* clock() = 0;
  // Monotonic microseconds, for the log's *_us fields.
  virtual int64_t NowUs() = 0;
  virtual RequestLog* log() = 0;
  virtual size_t max_body_bytes() = 0;
  // A complete request. The host answers with connection.Respond or connection.Play, before
  // returning or later.
  virtual void OnRequest(MockLlmConnection& connection, ReceivedRequest request) = 0;
  // A request that cannot be read to its end: `status` 400 (not valid HTTP) or 413 (body over
  // the limit); `request` holds what was read (method and target when the head was complete).
  // The host answers as for OnRequest; the connection closes after the answer.
  virtual void OnUnreadableRequest(MockLlmConnection& connection, ReceivedRequest request,
                                   int status, std::string reason) = 0;
  // The connection is closed; the host drops its reference.
  virtual void OnClosed(MockLlmConnection& connection) = 0;
};

class MockLlmConnection : public std::enable_shared_from_this<MockLlmConnection>,
                          private ResponseSink {
 public:
  MockLlmConnection(StreamSocket socket, uint64_t id,
                    std::shared_ptr<ConnectionHost> host);
  ~MockLlmConnection() override;

  // Starts reading requests.
  void Start();
  // Closes now. A request in progress ends with `outcome` in its log entry.
  void Close(const char* outcome = "server_stopped");

  uint64_t id() const { return id_; }
  bool closed() const { return closed_; }
  // A response is in progress (a request was handed to the host and its response is not over).
  bool busy() const { return exchange_active_; }

  // Answering the current request, once. `entry` is its log record: this connection fills in the
  // status, byte times and (for Play) the outcome and deltas sent, and completes it in the log
  // when the response is written or the connection ends.
  //
  // A whole response; `headers` exclude the framing. Set entry->outcome before.
  void Respond(std::shared_ptr<RequestLogEntry> entry, int status, std::vector<HttpHeader> headers,
               std::string body);
  // Plays `player`, which must have been made with sink() as its sink.
  void Play(std::shared_ptr<RequestLogEntry> entry, std::unique_ptr<PlanPlayer> player);
  ResponseSink* sink() { return this; }

 private:
  // ResponseSink
  void SendResponse(int status, std::vector<HttpHeader> headers, std::string body) override;
  void StartStream(int status, std::vector<HttpHeader> headers) override;
  void SendChunk(std::string data) override;
  void EndStream() override;
  void Drop() override;

  void ReadHeader();
  // Answers a failed read (413 over the body limit, 400 for bad HTTP, or closes when the peer
  // left); false when `ec` is no error.
  bool ReadFailed(const boost::system::error_code& ec);
  void OnHeader(const boost::system::error_code& ec);
  void OnBody(const boost::system::error_code& ec);
  // The request in parser_ (as far as it was read), for the host.
  ReceivedRequest TakeRequest(bool with_body);
  void Unreadable(int status, std::string reason);

  // Reads while a response is in progress, to notice the client leaving.
  void Watch();
  void OnWatch(const boost::system::error_code& ec, size_t bytes);
  void PeerGone();

  // The head (http/response_framing.h); streams also say Cache-Control: no-cache.
  std::string Head(int status, std::vector<HttpHeader> headers, BodyFraming framing,
                   size_t content_length = 0) const;
  // The response is over once what is queued is written (the sink's last call).
  void EndResponse();
  void Write(std::string_view bytes);
  void Flush();
  void OnWritten(const boost::system::error_code& ec);
  // Ends the exchange once the response is over and written; runs from a handler, never from
  // inside a sink call.
  void MaybeFinishExchange();
  void FinishExchange();
  // Half-closes and discards what the client still sends, then closes.
  void Linger();

  StreamSocket socket_;
  const uint64_t id_;
  std::shared_ptr<ConnectionHost> host_;
  Timer timer_;  // the linger limit

  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  bool keep_alive_ = true;
  bool http10_ = false;            // the current request is HTTP/1.0: no chunked framing
  bool watching_ = false;          // a Watch read is pending
  bool read_after_watch_ = false;  // read the next request when that read completes
  bool lingering_ = false;
  int64_t head_received_us_ = -1;  // of the request being read

  bool exchange_active_ = false;
  bool response_done_ = false;  // the response's last bytes (or a drop) were asked for
  bool drop_ = false;
  std::shared_ptr<RequestLogEntry> entry_;
  std::unique_ptr<PlanPlayer> player_;

  std::string out_;        // bytes waiting for the write in flight
  std::string in_flight_;  // bytes being written
  bool writing_ = false;
  bool closed_ = false;
};

}  // namespace troupe
