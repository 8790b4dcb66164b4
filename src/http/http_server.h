// troupe's HTTP server (Boost.Beast on the engine's io_context): listens on a Unix socket and,
// when asked, on a loopback TCP port that requires a bearer token. Parses requests, enforces
// limits, and hands each request to an HttpHandler as an HttpExchange (http/http_exchange.h).
//
// Limits: request header block ≤ options.max_header_bytes, 16 KiB by default (431), body ≤ options.max_body_bytes or what the
// handler's BodyLimit says for the path (413, or the handler's BodyTooLarge answer; decided from
// the head, before the body is read), one request at a time per connection (HTTP/1.1 keep-alive, no
// pipelining beyond what Beast queues), idle keep-alive connections closed after
// options.idle_timeout_ms, and a stream whose client does not read is closed once
// options.max_stream_buffer_bytes are waiting — a slow or vanished client never stalls the loop.
// On TCP every request needs `Authorization: Bearer <token>` (compared in constant time);
// without it: 401 with a JSON error (http/api_error.h) and `WWW-Authenticate: Bearer`. (A test
// server may turn that off with TcpAuth::kNone; the daemon never does.)
//
// The server's own answers (http/api_error.h shape): 400 bad_request (not HTTP/1.1, or a target
// that is not a path), 400 invalid_argument (a bad %-escape in the path or query), 401
// unauthorized, 413 payload_too_large, 431 headers_too_large, 500 internal (the handler threw,
// or let go of an exchange without answering it), 503 unavailable (a request completed while
// stopping); a handler may give its own answer to the 400s, 413 and 431 (HttpHandler::Refused).
// Answers that end the connection (413, 431, malformed) linger up to a second,
// discarding input, so the client reads the answer instead of a reset.
//
// Unauthenticated TCP: at most options.max_unknown_tcp connections that have not yet sent a good
// token (more are closed on accept), each given options.header_timeout_ms for a request head.
//
// Timers: idle_timeout_ms bounds waiting for a request (between keep-alive requests or while
// one trickles in) and a whole response the client does not take; never the handler's time to
// answer, nor an open stream (a stream's slow reader is cut off by max_stream_buffer_bytes).
//
// Threading: loop thread only. Stop() closes the listeners (and removes the socket file), tells
// the handler to shut down, closes idle connections and ends streams (their OnClose fires), and
// lets responses in flight finish, force-closing what is left after options.drain_timeout_ms.
// Destroying the server stops it and force-closes everything at once; OnClose callbacks still
// due run before the destructor returns, so none runs after the server (and so the handler) is
// gone.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "http/api_error.h"
#include "http/http_exchange.h"

namespace troupe {

// How TCP clients prove who they are.
enum class TcpAuth {
  kBearerToken,  // every request carries `Authorization: Bearer <bearer_token>` (the daemon)
  kNone,  // nothing: a loopback test server (mock-llm) whose handler checks its own credentials
};

// What the transport knows of a TCP request once its head is read (before any of the body), for
// HttpServerOptions::tcp_gate. Views into the parser's buffers: valid during the call only.
struct TcpRequestHead {
  std::string_view method;         // as sent
  std::string_view path;           // the target without its query, still percent-encoded
  std::string_view host;           // Host header ("" when absent)
  std::string_view origin;         // Origin header ("" when absent)
  std::string_view sec_fetch_site;  // Sec-Fetch-Site header ("" when absent)
  std::string_view authorization;  // Authorization header ("" when absent)
  std::string_view cookie;         // Cookie header(s), joined with "; " ("" when absent)
  int port = 0;                    // the port of the listener the request came on
};

// How a TCP request was let in.
enum class TcpAccess {
  kToken,   // the bearer token
  kCookie,  // a browser session cookie (the dashboard)
  kPublic,  // no credential: a route that holds no data (the dashboard's page, its login)
};

// The gate's verdict: let in (`access`) or refused with `error` (+ `headers`, e.g.
// WWW-Authenticate), answered before the body is read.
struct TcpAdmission {
  bool allowed = false;
  TcpAccess access = TcpAccess::kToken;
  ApiError error;
  std::vector<std::pair<std::string, std::string>> headers;
};

struct HttpServerOptions {
  std::string unix_socket_path;  // "" = no Unix socket; an existing socket file is replaced
  std::string tcp_host;          // "" = no TCP listener; must be a loopback address
  int tcp_port = 0;              // 0 = any free port (see tcp_port() after Start)
  TcpAuth tcp_auth = TcpAuth::kBearerToken;
  std::string bearer_token;  // with kBearerToken: must be non-empty when tcp_host is set
  // With kBearerToken: decides who a TCP request is (the daemon's: token, dashboard cookie, a
  // public page, Host and Origin checks — dashboard/browser_guard.h). Null = the bearer token
  // alone. Called on the loop thread for every TCP request, before its body is read.
  std::function<TcpAdmission(const TcpRequestHead&)> tcp_gate;
  size_t max_header_bytes = 16 << 10;  // the request line and headers (431 over it)
  size_t max_body_bytes = 1 << 20;
  size_t max_stream_buffer_bytes = 4 << 20;
  int64_t idle_timeout_ms = 60'000;
  // TCP connections that have not sent a good bearer token yet (with TcpAuth::kBearerToken):
  // at most this many at a time (more are closed as they are accepted), and each has
  // header_timeout_ms to send a request head. So another local user who holds connections open
  // cannot take the descriptors the owner's Unix-socket requests need.
  size_t max_unknown_tcp = 64;
  int64_t header_timeout_ms = 5'000;
  int64_t drain_timeout_ms = 2'000;
  // Told of every response's status (for metrics); may be empty.
  std::function<void(int status)> on_response;
  // Microseconds of a monotonic clock, for ApiRequest::head_received_us; null = steady_clock.
  std::function<int64_t()> now_us;
};

class HttpServer {
 public:
  // `handler` must outlive the server.
  static Result<std::unique_ptr<HttpServer>> Start(boost::asio::io_context& io,
                                                   HttpHandler* handler, HttpServerOptions options);
  virtual ~HttpServer() = default;
  virtual int tcp_port() const = 0;  // the bound port, 0 without TCP
  virtual size_t connections() const = 0;
  virtual void Stop() = 0;
};

}  // namespace troupe
