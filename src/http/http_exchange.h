// The seam between the HTTP transport (http/http_server.h: sockets, parsing, auth, limits) and
// the handlers that give requests meaning (rest/rest_api.h, later the MCP endpoint). A handler
// sees one HttpExchange per request; it answers once, either with a whole response or by
// opening a stream (server-sent events) and writing to it until it or the client ends it.
//
// Threading: the loop thread only. An exchange may be answered later (long polls): the handler
// keeps the shared_ptr, and registers OnClose to drop its watch if the client goes away first.
#pragma once

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
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
  // on TCP; handlers need not.
  std::string transport;

  // The header's value or "" (name in lower case).
  const std::string& Header(const std::string& name) const;
  // The query parameter's value or "".
  const std::string& Query(const std::string& name) const;
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

  // Starts a streamed response (status 200, chunked, no Content-Length) with these headers
  // (e.g. Content-Type: text/event-stream, Cache-Control: no-cache). False if the exchange was
  // already answered or the client is gone.
  virtual bool OpenStream(std::vector<std::pair<std::string, std::string>> headers) = 0;
  // Queues bytes on an open stream. Never blocks the loop: when more than the server's stream
  // buffer limit is waiting for a slow client, the stream is closed and false returned (the
  // client reconnects and resumes; see rest/event_stream.h). False also once closed.
  virtual bool Write(std::string bytes) = 0;
  // Bytes queued but not yet taken by the client.
  virtual size_t buffered() const = 0;
  // Ends the stream (or, if nothing was answered yet, drops the connection).
  virtual void Close() = 0;
  virtual bool closed() const = 0;

  // Called once when the exchange ends for any reason — the client disconnected, the stream
  // was closed, the server is stopping — but not after a plain Respond (nothing to clean up).
  // Replaces a previous callback. Called from the loop, never from inside the call that set it.
  virtual void OnClose(std::function<void()> callback) = 0;
};

class HttpHandler {
 public:
  virtual ~HttpHandler() = default;
  virtual void Handle(std::shared_ptr<HttpExchange> exchange) = 0;
  // The server is stopping: end streams and answer long polls now.
  virtual void Shutdown() {}

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
