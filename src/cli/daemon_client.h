// A blocking client of the daemon's HTTP API (docs/HTTP_API.md), for the command line and the
// demo: JSON requests over the daemon's Unix socket (or loopback TCP with the bearer token) and
// the server-sent event stream, on libcurl's easy interface.
//
// Connect() finds the daemon the way `troupe serve` places it (daemon/daemon_paths.h; the lock
// file of a running daemon names its socket), checks GET /v1/health, and when nothing answers
// on the socket starts one: `<this binary> serve --detach --data-dir D --socket S <serve_args>`
// with S the socket it then waits on (this binary from /proc/self/exe), until it answers. It
// never talks to a socket whose directory another user owns or can write to
// (daemon_paths.h CheckSocketDir). Errors are one line with a hint.
//
// API errors (the {"error": {...}} body) become a Status carrying the API's message; the code
// follows the HTTP status (400 → InvalidArgument, 404 → NotFound, 409 → FailedPrecondition,
// 429 → ResourceExhausted, 503 → Unavailable, ...), and last_error() keeps the HTTP status and
// the API's code and field. A daemon that cannot be reached is Unavailable with last_error()
// http_status 0.
//
// Threading: one thread at a time. Get and Post may be called from inside an Events callback
// (the stream uses its own connection).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "daemon/daemon_paths.h"
#include "wire/sse_parser.h"

namespace troupe {

struct ClientOptions {
  std::string data_dir;  // "" = $TROUPE_DATA_DIR, else the default (daemon/daemon_paths.h)
  std::string socket;    // "" = $TROUPE_SOCKET, else what the running daemon's lock file says,
                         // else the default
  std::string url;       // "http://127.0.0.1:P" = talk TCP instead of the socket
  std::string token;     // for TCP; "" = read <data dir>/token
  bool autostart = true;
  std::vector<std::string> serve_args;  // extra arguments of `troupe serve` when autostarting
  int64_t start_timeout_ms = 15000;
  // Added for tests and embedders:
  std::string troupe_binary;            // the binary that autostarts; "" = /proc/self/exe
  int64_t request_timeout_ms = 60'000;  // default total time of one Get/Post
  int64_t connect_timeout_ms = 3'000;
};

// ClientOptions from the environment: TROUPE_URL, TROUPE_TOKEN, TROUPE_NO_AUTOSTART=1 (the data
// dir and socket variables are read by ResolveDaemonPaths). Command-line flags go on top.
ClientOptions ClientOptionsFromEnv();

// Details of the last failed request.
struct ApiErrorInfo {
  int http_status = 0;  // 0: no HTTP answer (the daemon could not be reached)
  std::string code;     // the API's error code ("not_found", ...), "" without an error body
  std::string message;
  std::string field;
};

struct EventsOptions {
  // Stop with DeadlineExceeded after this long (0 = never).
  int64_t timeout_ms = 0;
  // Called about every 100 ms between reads; returning false ends Events with OK.
  std::function<bool()> on_tick;
  // Called each time the stream is (re)opened and the daemon accepted it (its 200 head arrived),
  // before the first event of that connection.
  std::function<void()> on_open;
  // Reconnections tried in a row without receiving an event before giving up.
  int max_retries = 5;
  int64_t retry_delay_ms = 200;  // doubled after each failed attempt, at most 2 s
};

class DaemonClient {
 public:
  static Result<std::unique_ptr<DaemonClient>> Connect(const ClientOptions& options);
  ~DaemonClient();
  DaemonClient(const DaemonClient&) = delete;
  DaemonClient& operator=(const DaemonClient&) = delete;

  // `target` is the path with its query, e.g. "/v1/tasks?status=active".
  Result<nlohmann::json> Get(const std::string& target);
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& body);
  // With a total time limit other than ClientOptions::request_timeout_ms (long polls).
  Result<nlohmann::json> Get(const std::string& target, int64_t timeout_ms);
  Result<nlohmann::json> Post(const std::string& target, const nlohmann::json& body,
                              int64_t timeout_ms);

  // Streams GET target as server-sent events until on_event returns false (OK) or the stream
  // ends for good; reconnects with Last-Event-ID (and ?after=) after a dropped connection
  // (bounded retries, then Unavailable). A refused stream (an API error) is returned at once.
  Status Events(const std::string& target, const std::function<bool(const SseEvent&)>& on_event);
  Status Events(const std::string& target, const std::function<bool(const SseEvent&)>& on_event,
                const EventsOptions& options);

  // The socket this client talks to ("" over TCP).
  const std::string& socket() const { return socket_; }
  // Where the daemon lives and logs.
  const DaemonPaths& paths() const { return paths_; }
  // True when Connect started the daemon.
  bool started_daemon() const { return started_daemon_; }
  const ApiErrorInfo& last_error() const { return last_error_; }
  // "the troupe daemon at <socket or url>", for messages.
  std::string Where() const;
  // The base of request URLs: "http://localhost" over the socket, else the --url without a
  // trailing slash; and the bearer token sent over TCP ("" over the socket). For callers that
  // make their own requests (`troupe mcp`).
  std::string BaseUrl() const;
  const std::string& token() const { return token_; }

 private:
  DaemonClient(ClientOptions options, DaemonPaths paths, std::string socket);
  Result<nlohmann::json> Request(const char* method, const std::string& target,
                                 const nlohmann::json* body, int64_t timeout_ms);
  // Status for a transfer that got no HTTP answer.
  Status TransportError(int curl_code, const std::string& detail);
  // Status for an HTTP error answer with `body`.
  Status HttpError(int http_status, const std::string& body, const std::string& what);
  // The hint that ends "cannot reach" messages.
  std::string UnreachableHint() const;
  // The socket (when there is one) is safe to send to: daemon/daemon_paths.h CheckSocketDir.
  Status CheckSocket() const;
  Status Autostart();
  // After an autostart found the data directory taken: talk to the daemon that holds it, on the
  // socket its lock file names; an error at once when that daemon can never answer this client.
  Status FollowRunningDaemon();

  ClientOptions options_;
  DaemonPaths paths_;
  std::string socket_;
  std::string token_;
  void* curl_ = nullptr;  // CURL*, kept for keep-alive between requests
  bool started_daemon_ = false;
  ApiErrorInfo last_error_;
};

// Appends "?k=v" or "&k=v" to `target` (v percent-encoded).
std::string WithQuery(const std::string& target, const std::string& key, const std::string& value);

}  // namespace troupe
