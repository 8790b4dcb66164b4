// The seam between the HTTP transport (http/http_server.h: sockets, parsing, auth, limits) and
// the handlers that give requests meaning (rest/rest_api.h, later the MCP endpoint). A handler
// sees one HttpExchange per request; it answers once, either with a whole response or by
// opening a stream (server-sent events) and writing to it until it or the client ends it.
//
// Threading: the loop thread only. An exchange may be answered later (long polls): the handler
// keeps the shared_ptr, and registers OnClose to drop its watch if the client goes away first.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe {

// An inbound request as the server parsed it (core/http_message.h has the outbound kind).
struct ApiRequest {
  std::string method;  // "GET", "POST", ... as sent (upper case)
  std::string target;  // as sent: path and query, percent-encoded
  std::string path;    // decoded path, without the query ("/v1/tasks/bg_1")
  // Decoded query parameters; a repeated key keeps its last value.
  std::map<std::string, std::string> query;
  // Header names in lower case; a repeated header's values joined with ", ".
  std::map<std::string, std::string> headers;
  std::string body;
  // How the client reached us: "unix" or "tcp". The server has already checked the bearer token
  // on TCP (unless HttpServerOptions::tcp_auth says none); handlers need not.
  std::string transport;
  // The connection it came on (1, 2, … per server; keep-alive requests share one), and when its
  // head had been read, on HttpServerOptions::now_us's microsecond clock.
  uint64_t connection = 0;
  int64_t head_received_us = -1;

  // The header's value or "" (name in lower case).
  const std::string& Header(const std::string& name) const;
  // The query parameter's value or "".
  const std::string& Query(const std::string& name) const;
};

// Where the answer to an exchange is (HttpExchange::OnWriteProgress).
enum class WriteProgress {
  kStarted,   // some of its bytes were handed to the socket (loopback: they left then)
  kWritten,   // a write of its bytes completed
  kFinished,  // the answer is written in full (the whole response, or the stream's end)
  kLost,      // the connection closed before the answer was written in full
};

struct ApiResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  // Extra headers (e.g. "Allow", "Retry-After"); Content-Type and Content-Length are set from
  // the fields above.
  std::vector<std::pair<std::string, std::string>> headers;
};

class HttpExchange {
 public:
  virtual ~HttpExchange() = default;
  virtual const ApiRequest& request() const = 0;

  // Sends the whole response. Only the first answer (Respond or OpenStream) counts; later calls
  // and calls after the client went away are ignored.
  virtual void Respond(ApiResponse response) = 0;

  // Starts a streamed response (chunked, no Content-Length) with `status` and these headers
  // (e.g. Content-Type: text/event-stream, Cache-Control: no-cache). False if the exchange was
  // already answered or the client is gone.
  virtual bool OpenStream(int status, std::vector<std::pair<std::string, std::string>> headers) = 0;
  bool OpenStream(std::vector<std::pair<std::string, std::string>> headers) {
    return OpenStream(200, std::move(headers));
  }
  // Queues bytes on an open stream. Never blocks the loop: when more than the server's stream
  // buffer limit is waiting for a slow client, the stream is closed and false returned (the
  // client reconnects and resumes; see rest/event_stream.h). False also once closed.
  virtual bool Write(std::string bytes) = 0;
  // Bytes queued but not yet taken by the client.
  virtual size_t buffered() const = 0;
  // Ends the stream (or, if nothing was answered yet, drops the connection).
  virtual void Close() = 0;
  virtual bool closed() const = 0;

  // Ends the exchange by resetting the connection (TCP RST, no FIN) once what is already queued
  // is written: the client sees the answer cut short, as from a crashed peer. For fault
  // injection (mock-llm's dropped connections); a real server never needs it.
  virtual void Abort() = 0;
  // Tells `observer` how the answer's bytes are written (WriteProgress), until kFinished or
  // kLost; may be called from inside Respond, Write, Close or Abort. Replaces a previous one.
  virtual void OnWriteProgress(std::function<void(WriteProgress)> observer) = 0;

  // Called once when the exchange ends for any reason — the client disconnected, the stream
  // was closed, the server is stopping — but not after a plain Respond (nothing to clean up).
  // Replaces a previous callback. Called from the loop, never from inside the call that set it.
  virtual void OnClose(std::function<void()> callback) = 0;
};

// A request the server refuses itself, as far as it was read.
struct RefusedRequest {
  int status = 400;
  std::string message;  // what is wrong, as the server's own answer would say it
  std::string method;   // "" when the request line could not be read
  std::string target;   // as sent, "" when the request line could not be read
  std::string path;     // the target without its query, as received
  size_t body_limit = 0;  // for 413: the limit the body is over
  uint64_t connection = 0;
  int64_t head_received_us = -1;  // -1 when the head was not read
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(std::shared_ptr<HttpExchange> exchange) = 0;
  // The server is stopping: end streams and answer long polls now.
  virtual void Shutdown() {}

  // The answer to a request the server refuses before a handler sees it (`refused.status`: 400
  // not HTTP/1.1 or a bad target, 413 a body over its limit, 431 a head over the limit);
  // nullopt = the server's own answer (http/api_error.h shape). By default BodyTooLarge answers
  // 413s. The connection is closed after a 413, 431 or unreadable request.
  virtual std::optional<ApiResponse> Refused(const RefusedRequest& refused) {
    if (refused.status == 413) return BodyTooLarge(refused.path, refused.body_limit);
    return std::nullopt;
  }

  // The largest request body accepted for `path` (the target without its query, as received),
  // decided from the request head before any of the body is read; 0 = the server's default
  // (HttpServerOptions::max_body_bytes).
  virtual size_t BodyLimit(std::string_view path) const { return 0; }
  // The answer to a request for `path` whose body is over `limit`; nullopt = the server's own
  // 413 (http/api_error.h shape). The connection is closed after it either way.
  virtual std::optional<ApiResponse> BodyTooLarge(std::string_view path, size_t limit) const {
    return std::nullopt;
  }
};

}  // namespace troupe
