// A scriptable HTTP/1.1 server for testing HTTP clients. It listens on 127.0.0.1 (never another
// interface) on an ephemeral port and runs on the caller's io_context — normally the same loop as
// the client under test, so a test stays on one thread and its events happen in a deterministic
// order. Requests are parsed with Boost.Beast; responses are written as raw bytes following a
// script, so a test can produce what a well-behaved server never would: stalls, truncated
// bodies, dropped connections, interim 1xx heads.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/http_message.h"
#include "core/status.h"

namespace troupe::testing {

// A point a scripted response waits at until the test opens it, e.g. from a client callback.
class TestGate {
 public:
  // Runs every waiter (they resume on the loop) and lets later ones pass at once.
  void Open();
  bool is_open() const { return open_; }
  // Runs `resume` when the gate opens; at once if it is open.
  void Wait(std::function<void()> resume);

 private:
  bool open_ = false;
  std::vector<std::function<void()>> waiters_;
};

struct RecordedRequest {
  std::string method;
  std::string target;
  std::vector<HttpHeader> headers;  // as received
  std::string body;

  std::optional<std::string> Header(std::string_view name) const {
    return FindHttpHeader(headers, name);
  }
};

struct ScriptedResponse {
  enum class Framing {
    kContentLength,  // Content-Length: the size of all pieces
    kChunked,        // Transfer-Encoding: chunked, one chunk per non-empty piece
    kUntilClose,     // no length: the body ends when the server closes
  };
  struct Piece {
    Piece(std::string data, int64_t delay_ms = 0, std::shared_ptr<TestGate> gate = nullptr)
        : data(std::move(data)), delay_ms(delay_ms), gate(std::move(gate)) {}
    std::string data;
    int64_t delay_ms = 0;            // waited before writing it
    std::shared_ptr<TestGate> gate;  // waited for (after the delay) before writing it
  };

  int status = 200;
  std::vector<HttpHeader> headers;
  std::vector<int> interim_statuses;  // 1xx heads written before the final one, each with an
                                      // "X-Interim: <status>" header
  int64_t head_delay_ms = 0;          // before anything is written
  std::shared_ptr<TestGate> head_gate;
  Framing framing = Framing::kContentLength;
  std::vector<Piece> body;
  bool close_mid_body = false;  // after the pieces, close without ending the body (a
                                // Content-Length 1000 bytes too long, or no last chunk)
  bool never_answer = false;    // write nothing; keep the connection open
  bool close_after = false;     // send "Connection: close" and close after the response

  // A complete response with one body piece.
  static ScriptedResponse Text(int status, std::string body);
};

struct HttpTestServerState;

class HttpTestServer {
 public:
  using Handler = std::function<ScriptedResponse(const RecordedRequest&)>;

  // Listens on 127.0.0.1:0 and starts accepting on `io`, which must outlive the server.
  static Result<std::unique_ptr<HttpTestServer>> Start(boost::asio::io_context& io);
  // Closes the listener and every connection.
  ~HttpTestServer();
  HttpTestServer(const HttpTestServer&) = delete;
  HttpTestServer& operator=(const HttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" + path.
  std::string Url(std::string_view path = "/") const;

  // Decides the response to each request; the default answers 200 "ok".
  void SetHandler(Handler handler);
  // Accept connections but never read from them (a server that hangs before parsing).
  void set_stall_after_accept(bool stall);

  int accepted_connections() const;
  // Connections the client closed or reset (noticed while reading a request, while writing, or
  // while holding a response back).
  int peer_closes() const;
  int open_connections() const;
  const std::vector<RecordedRequest>& requests() const;

 private:
  explicit HttpTestServer(boost::asio::io_context& io);
  void Accept();

  boost::asio::ip::tcp::acceptor acceptor_;
  uint16_t port_ = 0;
  std::shared_ptr<HttpTestServerState> state_;
};

// A 127.0.0.1 port that was just bound and released, so connecting to it is refused (unless
// something else grabs it in between, which is unlikely).
Result<uint16_t> UnusedLoopbackPort();

}  // namespace troupe::testing
