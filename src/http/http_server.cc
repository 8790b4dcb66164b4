#include "http/http_server.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/text_case.h"
#include "http/api_error.h"

namespace troupe {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;
using Socket = asio::generic::stream_protocol::socket;
using HeaderList = std::vector<std::pair<std::string, std::string>>;
using RequestParser = http::request_parser<http::string_body>;

constexpr size_t kMaxHeaderBytes = 16 << 10;
// Bytes a client may send ahead (pipelining) while its current request is answered; beyond
// that the server stops reading until the answer is out.
constexpr size_t kMaxPipelinedBytes = 64 << 10;
constexpr size_t kWatchReadBytes = 4 << 10;
// After a response that ends the connection: how long to keep discarding what the client still
// sends (an unread body), so that closing does not reset the connection before the client has
// read the response.
constexpr int64_t kLingerMs = 1000;
constexpr int64_t kAcceptRetryMs = 50;

// --- Small helpers ---

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool IsPeerGone(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message || ec == asio::error::operation_aborted;
}

std::string_view Reason(int status) {
  const auto beast_reason =
      http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status)));
  const std::string_view reason(beast_reason.data(), beast_reason.size());
  if (reason.empty() || reason.front() == '<') return "Unknown";
  return reason;
}

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

// A header a handler may set: a token name, a value without line breaks or NUL, and not one of
// the framing headers the server writes itself.
bool IsAllowedHeader(const std::string& name, const std::string& value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    if (c == '\r' || c == '\n' || c == '\0') return false;
  }
  const std::string lower = AsciiLowercase(name);
  return lower != "content-length" && lower != "transfer-encoding" && lower != "connection";
}

// Equal-length strings compared without an early exit, so the time taken does not tell how
// much of a guessed token was right. Different lengths are simply unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool HasBearerToken(const http::request<http::string_body>& message, const std::string& token) {
  auto it = message.find(http::field::authorization);
  if (it == message.end()) return false;
  std::string_view value = View(it->value());
  if (value.size() < 7 || AsciiLowercase(value.substr(0, 6)) != "bearer" ||
      (value[6] != ' ' && value[6] != '\t')) {
    return false;
  }
  value.remove_prefix(7);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return !token.empty() && ConstantTimeEquals(value, token);
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Decodes %XX escapes (and '+' as a space when `plus_is_space`). False for a '%' not followed
// by two hex digits.
bool PercentDecode(std::string_view in, bool plus_is_space, std::string* out) {
  out->clear();
  out->reserve(in.size());
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return false;
      const int hi = HexValue(in[i + 1]);
      const int lo = HexValue(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out->push_back(static_cast<char>(hi * 16 + lo));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out->push_back(' ');
    } else {
      out->push_back(c);
    }
  }
  return true;
}

// A short quote of a bad piece of the target for an error message.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() > kMax) return fmt::format("\"{}…\"", s.substr(0, kMax));
  return fmt::format("\"{}\"", s);
}

// Splits the request target into the decoded path and query parameters; an ApiError (400) for
// a target that is not a path or holds a bad %-escape.
std::optional<ApiError> ParseTarget(std::string_view target, ApiRequest* request) {
  ApiError error;
  error.status = 400;
  error.code = "invalid_argument";
  if (target.empty() || target.front() != '/') {
    error.code = "bad_request";
    error.message =
        fmt::format("the request target must be a path starting with '/', got {}", Quote(target));
    return error;
  }
  const size_t question = target.find('?');
  std::string_view path = target.substr(0, question);
  const size_t hash = path.find('#');
  if (hash != std::string_view::npos) path = path.substr(0, hash);
  if (!PercentDecode(path, /*plus_is_space=*/false, &request->path)) {
    error.message =
        fmt::format("the path {} has a bad %-escape (expected % and two hex digits)", Quote(path));
    return error;
  }
  if (request->path.find('\0') != std::string::npos) {
    error.message = "the path contains an encoded NUL byte (%00)";
    return error;
  }
  if (question == std::string_view::npos) return std::nullopt;
  std::string_view query = target.substr(question + 1);
  const size_t qhash = query.find('#');
  if (qhash != std::string_view::npos) query = query.substr(0, qhash);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (pair.empty()) continue;
    const size_t eq = pair.find('=');
    const std::string_view raw_key = pair.substr(0, eq);
    const std::string_view raw_value =
        eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1);
    std::string key;
    std::string value;
    if (!PercentDecode(raw_key, /*plus_is_space=*/true, &key) ||
        !PercentDecode(raw_value, /*plus_is_space=*/true, &value)) {
      error.message = fmt::format(
          "the query parameter {} has a bad %-escape (expected % and two hex digits)", Quote(pair));
      error.field = key.empty() ? std::string(raw_key) : key;
      return error;
    }
    request->query[std::move(key)] = std::move(value);
  }
  return std::nullopt;
}

ApiError MakeError(int status, std::string code, std::string message) {
  return ApiError::Of(status, std::move(code), std::move(message));
}

class Connection;
class ServerExchange;

// --- The server's state, shared by the listeners, connections and exchanges ---

struct Core : std::enable_shared_from_this<Core> {
  Core(asio::io_context& io_context, HttpHandler* h, HttpServerOptions o)
      : io(io_context),
        handler(h),
        options(std::move(o)),
        unix_peer(io_context),
        tcp_peer(io_context),
        unix_retry(io_context),
        tcp_retry(io_context),
        drain_timer(io_context) {}

  Status ListenUnix();
  Status ListenTcp();
  void StartAccepting();
  template <typename Acceptor>
  void Accept(Acceptor* acceptor, Socket* peer, asio::steady_timer* retry, bool is_tcp);
  void Adopt(Socket socket, bool is_tcp);
  void Remove(uint64_t id);
  void CloseListeners();
  void Stop();
  void ForceCloseAll();
  // The HttpServer is being destroyed: stop, close everything now, run OnClose callbacks that
  // are still due, and forget the handler and the response observer.
  void Destroy();
  void ReportResponse(int status) {
    if (!options.on_response) return;
    try {
      options.on_response(status);
    } catch (...) {
    }
  }

  asio::io_context& io;
  HttpHandler* handler;
  HttpServerOptions options;

  std::optional<asio::local::stream_protocol::acceptor> unix_acceptor;
  std::optional<tcp::acceptor> tcp_acceptor;
  Socket unix_peer;
  Socket tcp_peer;
  asio::steady_timer unix_retry;
  asio::steady_timer tcp_retry;
  asio::steady_timer drain_timer;
  int tcp_port = 0;
  // The socket file this server created, to unlink it only if it is still ours.
  bool socket_bound = false;
  dev_t socket_dev = 0;
  ino_t socket_ino = 0;

  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections;
  uint64_t next_connection_id = 1;
  uint64_t next_exchange_id = 1;
  bool stopping = false;
  // Exchanges whose OnClose callback is posted but has not run yet.
  std::map<uint64_t, std::weak_ptr<ServerExchange>> pending_notifications;
};

// --- One client connection ---

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  Connection(std::shared_ptr<Core> core, Socket socket, uint64_t id, bool is_tcp)
      : core_(std::move(core)),
        socket_(std::move(socket)),
        timer_(core_->io),
        id_(id),
        is_tcp_(is_tcp) {}

  void Start() { ReadRequest(); }
  // Closes the socket now; an exchange still waiting for its answer or streaming ends.
  void Close();
  void OnServerStopping();

  // For the exchange of request `seq`; each ignores a stale or finished exchange.
  void Respond(uint64_t seq, ApiResponse response);
  bool OpenStream(uint64_t seq, HeaderList headers);
  // False when the stream is over, or is closed now because the client is too far behind.
  bool StreamWrite(uint64_t seq, std::string bytes);
  size_t buffered(uint64_t seq) const {
    return seq == seq_ && !closed_ ? in_flight_.size() + out_.size() : 0;
  }
  void EndStream(uint64_t seq);
  // Close() on an exchange that was not answered: the connection is dropped.
  void Drop(uint64_t seq);
  // The handler let go of an exchange without answering it.
  void Abandoned(uint64_t seq);

 private:
  enum class Phase {
    kReading,    // reading a request (or waiting for one)
    kHandling,   // the handler has the request; no answer yet
    kWriting,    // a whole response is queued
    kStreaming,  // a stream is open
    kEnding,     // the stream's end is queued
    kLingering,  // the response is out; discarding input until the client closes
  };

  void ReadRequest();
  void OnHeader(const error_code& ec);
  void OnBody(const error_code& ec);
  void ReadFailed(const error_code& ec);
  void Dispatch(ApiRequest request);
  // Answers with the server's own error; the connection closes after unless `keep_alive`.
  void ServerError(const ApiError& error, HeaderList extra, bool keep_alive);
  // Answers the server's own `response` (no exchange) now.
  void ServerAnswer(ApiResponse response, bool keep_alive);
  // Answers a body over body_limit_ (the handler's answer, or the server's 413) and closes.
  void BodyTooLarge();
  void WriteWhole(ApiResponse response);
  std::string Head(int status, const std::string& content_type, const HeaderList& headers,
                   std::string_view framing);

  // A read kept pending while the request is handled, to notice the client leaving.
  void Watch();
  void OnWatch(const error_code& ec, size_t bytes);

  void QueueBytes(std::string_view bytes);
  void Flush();
  void OnWritten(const error_code& ec);
  // The response is written: read the next request, or close.
  void FinishExchange();
  void Linger();

  void ArmTimer(int64_t ms);
  void DisarmTimer();
  void OnTimer();

  std::shared_ptr<Core> core_;
  Socket socket_;
  asio::steady_timer timer_;  // idle limit while reading, linger limit after the last answer
  uint64_t timer_generation_ = 0;
  const uint64_t id_;
  const bool is_tcp_;

  boost::beast::flat_buffer buffer_;
  std::optional<RequestParser> parser_;
  Phase phase_ = Phase::kReading;
  uint64_t seq_ = 0;  // the current request
  std::weak_ptr<ServerExchange> exchange_;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_request_ = false;
  std::string path_;       // the current request's path (target without query), as received
  size_t body_limit_ = 0;  // the current request's body limit
  bool watching_ = false;
  bool read_after_watch_ = false;

  std::string out_;        // bytes waiting for the write in flight
  std::string in_flight_;  // bytes being written
  bool writing_ = false;
  bool closed_ = false;
};

// --- The handler's view of one request ---

class ServerExchange final : public HttpExchange,
                             public std::enable_shared_from_this<ServerExchange> {
 public:
  ServerExchange(std::shared_ptr<Core> core, std::shared_ptr<Connection> connection, uint64_t seq,
                 ApiRequest request)
      : core_(std::move(core)),
        connection_(std::move(connection)),
        seq_(seq),
        id_(core_->next_exchange_id++),
        request_(std::move(request)) {}

  ~ServerExchange() override {
    std::shared_ptr<Connection> connection = std::move(connection_);
    if (connection == nullptr) return;
    if (state_ == State::kPending) connection->Abandoned(seq_);
    if (state_ == State::kStreaming) connection->EndStream(seq_);
  }

  const ApiRequest& request() const override { return request_; }

  void Respond(ApiResponse response) override {
    if (state_ != State::kPending) return;
    state_ = State::kResponded;
    on_close_ = nullptr;
    std::shared_ptr<Connection> connection = std::move(connection_);
    if (connection != nullptr) connection->Respond(seq_, std::move(response));
  }

  bool OpenStream(HeaderList headers) override {
    if (state_ != State::kPending) return false;
    std::shared_ptr<Connection> connection = connection_;
    if (connection == nullptr || !connection->OpenStream(seq_, std::move(headers))) return false;
    state_ = State::kStreaming;
    return true;
  }

  bool Write(std::string bytes) override {
    if (state_ != State::kStreaming) return false;
    std::shared_ptr<Connection> connection = connection_;
    if (connection != nullptr && connection->StreamWrite(seq_, std::move(bytes))) return true;
    Ended();  // usually done already by the connection closing
    return false;
  }

  size_t buffered() const override {
    return state_ == State::kStreaming && connection_ != nullptr ? connection_->buffered(seq_) : 0;
  }

  void Close() override {
    if (state_ != State::kPending && state_ != State::kStreaming) return;
    const bool was_streaming = state_ == State::kStreaming;
    state_ = State::kClosed;
    std::shared_ptr<Connection> connection = std::move(connection_);
    Notify();
    if (connection == nullptr) return;
    if (was_streaming) {
      connection->EndStream(seq_);
    } else {
      connection->Drop(seq_);
    }
  }

  bool closed() const override { return state_ == State::kClosed; }

  void OnClose(std::function<void()> callback) override {
    if (state_ == State::kResponded || notified_) return;
    on_close_ = std::move(callback);
    if (state_ == State::kClosed) Notify();
  }

  // The exchange is over without its answer or stream end: the client left, the stream was cut,
  // or the server is stopping.
  void Ended() {
    if (state_ != State::kPending && state_ != State::kStreaming) return;
    state_ = State::kClosed;
    connection_.reset();
    Notify();
  }

  // Runs a due OnClose callback now (the server is going away).
  void NotifyNow() { RunNotify(); }

 private:
  enum class State { kPending, kResponded, kStreaming, kClosed };

  // Posts the OnClose callback, so that it never runs inside the call that caused it.
  void Notify() {
    if (notified_ || post_pending_ || !on_close_) return;
    post_pending_ = true;
    core_->pending_notifications[id_] = weak_from_this();
    asio::post(core_->io, [self = shared_from_this()] { self->RunNotify(); });
  }

  void RunNotify() {
    if (post_pending_) {
      post_pending_ = false;
      core_->pending_notifications.erase(id_);
    }
    if (notified_ || !on_close_) return;
    notified_ = true;
    std::function<void()> callback = std::move(on_close_);
    on_close_ = nullptr;
    try {
      callback();
    } catch (...) {
    }
  }

  std::shared_ptr<Core> core_;
  std::shared_ptr<Connection> connection_;  // while the exchange can still use it
  const uint64_t seq_;
  const uint64_t id_;
  const ApiRequest request_;
  State state_ = State::kPending;
  std::function<void()> on_close_;
  bool notified_ = false;
  bool post_pending_ = false;
};

// --- Connection: reading requests ---

void Connection::ReadRequest() {
  if (closed_) return;
  phase_ = Phase::kReading;
  if (core_->stopping) {
    Close();
    return;
  }
  keep_alive_ = false;
  http10_ = false;
  head_request_ = false;
  if (buffer_.size() == 0) buffer_.shrink_to_fit();  // an idle connection keeps no buffer
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(kMaxHeaderBytes));
  // The limit depends on the path (HttpHandler::BodyLimit): none until the head is read, then
  // OnHeader checks Content-Length and sets it for the body. (Not boost::none: Beast 1.74
  // compares a Content-Length with it and finds every length over "none".)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  ArmTimer(core_->options.idle_timeout_ms);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
}

void Connection::OnHeader(const error_code& ec) {
  if (closed_) return;
  if (ec) {
    ReadFailed(ec);
    return;
  }
  const auto& message = parser_->get();
  keep_alive_ = message.keep_alive();
  http10_ = message.version() < 11;
  head_request_ = message.method() == http::verb::head;
  const std::string_view target = View(message.target());
  path_.assign(target.substr(0, target.find('?')));
  body_limit_ = core_->options.max_body_bytes;
  if (core_->handler != nullptr) {
    if (size_t limit = core_->handler->BodyLimit(path_); limit > 0) body_limit_ = limit;
  }
  if (is_tcp_ && !HasBearerToken(message, core_->options.bearer_token)) {
    // Answered before the body is read: nothing of an unauthenticated client is buffered.
    ServerError(MakeError(401, "unauthorized",
                          "this TCP listener needs `Authorization: Bearer <token>` with the "
                          "daemon's token"),
                {{"WWW-Authenticate", "Bearer"}}, keep_alive_ && parser_->is_done());
    return;
  }
  if (const auto length = parser_->content_length(); length && *length > body_limit_) {
    BodyTooLarge();  // before a byte of the body is read
    return;
  }
  parser_->body_limit(body_limit_);  // chunked bodies are counted as they arrive
  auto expect = message.find(http::field::expect);
  if (!http10_ && !parser_->is_done() && expect != message.end() &&
      boost::beast::iequals(expect->value(), "100-continue")) {
    QueueBytes("HTTP/1.1 100 Continue\r\n\r\n");
  }
  ArmTimer(core_->options.idle_timeout_ms);
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](const error_code& ec, size_t) { self->OnBody(ec); });
}

void Connection::OnBody(const error_code& ec) {
  if (closed_) return;
  if (ec) {
    ReadFailed(ec);
    return;
  }
  DisarmTimer();
  auto& message = parser_->get();
  ApiRequest request;
  request.method = std::string(View(message.method_string()));
  request.target = std::string(View(message.target()));
  for (const auto& field : message) {
    auto [it, inserted] = request.headers.emplace(AsciiLowercase(View(field.name_string())),
                                                  std::string(View(field.value())));
    if (!inserted) {
      it->second += ", ";
      it->second += View(field.value());
    }
  }
  request.body = std::move(message.body());
  request.transport = is_tcp_ ? "tcp" : "unix";
  parser_.reset();
  if (core_->stopping) {
    ServerError(MakeError(503, "unavailable", "the daemon is shutting down"), {}, false);
    return;
  }
  if (std::optional<ApiError> error = ParseTarget(request.target, &request)) {
    ServerError(*error, {}, keep_alive_);
    return;
  }
  Dispatch(std::move(request));
}

void Connection::ReadFailed(const error_code& ec) {
  DisarmTimer();
  if (ec == http::error::body_limit) {
    BodyTooLarge();
  } else if (ec == http::error::header_limit) {
    ServerError(MakeError(431, "headers_too_large",
                          fmt::format("the request line and headers are larger than the limit "
                                      "of {} bytes",
                                      kMaxHeaderBytes)),
                {}, false);
  } else if (IsPeerGone(ec)) {
    Close();
  } else {
    // Not HTTP/1.1 (or a socket error): answer if we can, then close.
    ServerError(MakeError(400, "bad_request", "the request is not valid HTTP/1.1: " + ec.message()),
                {}, false);
  }
}

void Connection::Dispatch(ApiRequest request) {
  phase_ = Phase::kHandling;
  ++seq_;
  auto exchange =
      std::make_shared<ServerExchange>(core_, shared_from_this(), seq_, std::move(request));
  exchange_ = exchange;
  Watch();
  if (core_->handler == nullptr) {
    exchange->Respond(
        ApiErrorResponse(MakeError(503, "unavailable", "the daemon is shutting down")));
    return;
  }
  try {
    core_->handler->Handle(exchange);
  } catch (const std::exception& e) {
    exchange->Respond(ApiErrorResponse(
        MakeError(500, "internal", std::string("the request handler failed: ") + e.what())));
  } catch (...) {
    exchange->Respond(ApiErrorResponse(MakeError(500, "internal", "the request handler failed")));
  }
  // If the handler kept no reference and gave no answer, `exchange` answers 500 as it goes.
}

// --- Connection: answering ---

void Connection::ServerError(const ApiError& error, HeaderList extra, bool keep_alive) {
  ApiResponse response = ApiErrorResponse(error);
  for (auto& header : extra) response.headers.push_back(std::move(header));
  ServerAnswer(std::move(response), keep_alive);
}

void Connection::ServerAnswer(ApiResponse response, bool keep_alive) {
  DisarmTimer();
  parser_.reset();
  ++seq_;  // no exchange of an earlier request may touch this answer
  exchange_.reset();
  phase_ = Phase::kWriting;
  keep_alive_ = keep_alive;
  WriteWhole(std::move(response));
}

void Connection::BodyTooLarge() {
  std::optional<ApiResponse> answer;
  if (core_->handler != nullptr) answer = core_->handler->BodyTooLarge(path_, body_limit_);
  if (!answer) {
    answer = ApiErrorResponse(MakeError(
        413, "payload_too_large",
        fmt::format("the request body is larger than the limit of {} bytes", body_limit_)));
  }
  ServerAnswer(std::move(*answer), false);
}

void Connection::Respond(uint64_t seq, ApiResponse response) {
  if (closed_ || seq != seq_ || phase_ != Phase::kHandling) return;
  phase_ = Phase::kWriting;
  WriteWhole(std::move(response));
}

void Connection::Abandoned(uint64_t seq) {
  Respond(seq, ApiErrorResponse(MakeError(500, "internal", "the request was not answered")));
}

void Connection::WriteWhole(ApiResponse response) {
  int status = response.status;
  if (status < 200 || status > 599) status = 500;
  const bool no_body = status == 204 || status == 304;
  std::string bytes =
      Head(status, response.content_type, response.headers,
           no_body ? std::string() : fmt::format("Content-Length: {}\r\n", response.body.size()));
  if (!no_body && !head_request_) bytes += response.body;
  core_->ReportResponse(status);
  ArmTimer(core_->options.idle_timeout_ms);  // a client that takes nothing is dropped
  QueueBytes(bytes);
}

bool Connection::OpenStream(uint64_t seq, HeaderList headers) {
  if (closed_ || seq != seq_ || phase_ != Phase::kHandling) return false;
  phase_ = Phase::kStreaming;
  core_->ReportResponse(200);
  if (http10_) {
    // HTTP/1.0 has no chunked framing: the body ends when the connection closes.
    keep_alive_ = false;
    QueueBytes(Head(200, "", headers, ""));
  } else {
    QueueBytes(Head(200, "", headers, "Transfer-Encoding: chunked\r\n"));
  }
  if (head_request_) {
    // A HEAD request gets the head only: the stream is over at once.
    phase_ = Phase::kEnding;
    ArmTimer(core_->options.idle_timeout_ms);
    if (!writing_) FinishExchange();
  }
  return true;
}

bool Connection::StreamWrite(uint64_t seq, std::string bytes) {
  if (closed_ || seq != seq_ || phase_ != Phase::kStreaming) return false;
  if (bytes.empty()) return true;  // an empty chunk would end the body
  std::string framed;
  if (http10_) {
    framed = std::move(bytes);
  } else {
    framed = fmt::format("{:x}\r\n", bytes.size());
    framed += bytes;
    framed += "\r\n";
  }
  if (in_flight_.size() + out_.size() + framed.size() > core_->options.max_stream_buffer_bytes) {
    // The client is not keeping up: cut it off rather than hold ever more (it reconnects and
    // resumes from its last event id).
    Close();
    return false;
  }
  QueueBytes(framed);
  return true;
}

void Connection::EndStream(uint64_t seq) {
  if (closed_ || seq != seq_ || phase_ != Phase::kStreaming) return;
  phase_ = Phase::kEnding;
  ArmTimer(core_->options.idle_timeout_ms);
  if (!http10_) QueueBytes("0\r\n\r\n");
  if (!writing_) FinishExchange();
}

void Connection::Drop(uint64_t seq) {
  if (closed_ || seq != seq_ || phase_ != Phase::kHandling) return;
  Close();
}

std::string Connection::Head(int status, const std::string& content_type, const HeaderList& headers,
                             std::string_view framing) {
  if (core_->stopping) keep_alive_ = false;
  std::string head = fmt::format("HTTP/1.1 {} {}\r\n", status, Reason(status));
  if (!content_type.empty()) head += fmt::format("Content-Type: {}\r\n", content_type);
  for (const auto& [name, value] : headers) {
    if (!IsAllowedHeader(name, value)) continue;
    if (!content_type.empty() && AsciiLowercase(name) == "content-type") continue;
    head += name;
    head += ": ";
    head += value;
    head += "\r\n";
  }
  head += framing;
  if (!keep_alive_) {
    head += "Connection: close\r\n";
  } else if (http10_) {
    head += "Connection: keep-alive\r\n";
  }
  head += "\r\n";
  return head;
}

// --- Connection: noticing the client leave ---

void Connection::Watch() {
  if (closed_ || watching_) return;
  if (phase_ != Phase::kLingering && buffer_.size() >= kMaxPipelinedBytes) return;
  watching_ = true;
  socket_.async_read_some(buffer_.prepare(kWatchReadBytes),
                          [self = shared_from_this()](const error_code& ec, size_t bytes) {
                            self->OnWatch(ec, bytes);
                          });
}

void Connection::OnWatch(const error_code& ec, size_t bytes) {
  watching_ = false;
  if (closed_) return;
  if (ec == asio::error::operation_aborted && read_after_watch_) {
    read_after_watch_ = false;
    ReadRequest();
    return;
  }
  if (ec) {
    if (ec == asio::error::eof && (phase_ == Phase::kWriting || phase_ == Phase::kEnding)) {
      // The client half-closed after its request: finish this answer, then close.
      keep_alive_ = false;
      return;
    }
    Close();  // the client is gone (or the socket failed)
    return;
  }
  buffer_.commit(bytes);
  if (phase_ == Phase::kLingering) {
    buffer_.consume(buffer_.size());
    Watch();
  } else if (read_after_watch_) {
    read_after_watch_ = false;
    ReadRequest();
  } else if (phase_ != Phase::kReading) {
    Watch();
  }
}

// --- Connection: writing ---

void Connection::QueueBytes(std::string_view bytes) {
  if (closed_) return;
  out_.append(bytes.data(), bytes.size());
  if (!writing_) Flush();
}

void Connection::Flush() {
  writing_ = true;
  in_flight_.swap(out_);
  out_.clear();
  asio::async_write(
      socket_, asio::buffer(in_flight_),
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWritten(ec); });
}

void Connection::OnWritten(const error_code& ec) {
  writing_ = false;
  in_flight_.clear();
  if (closed_) return;
  if (ec) {
    Close();
    return;
  }
  if (!out_.empty()) {
    Flush();
  } else if (phase_ == Phase::kWriting || phase_ == Phase::kEnding) {
    FinishExchange();
  }
}

void Connection::FinishExchange() {
  DisarmTimer();
  exchange_.reset();
  in_flight_.shrink_to_fit();
  out_.shrink_to_fit();
  if (!keep_alive_ || core_->stopping) {
    Linger();
    return;
  }
  phase_ = Phase::kReading;
  if (watching_) {
    // The next request may be in buffer_ already while the watch read waits for bytes that
    // will not come: cancel it and read the request once it has returned.
    read_after_watch_ = true;
    error_code ignored;
    socket_.cancel(ignored);  // no write is pending: the response is out
  } else {
    ReadRequest();
  }
}

void Connection::Linger() {
  phase_ = Phase::kLingering;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  buffer_.consume(buffer_.size());
  ArmTimer(kLingerMs);
  Watch();
}

void Connection::Close() {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // the core may drop the last other reference below
  DisarmTimer();
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  // The parser is not reset here: a read on it may still be pending (its completion is queued
  // with operation_aborted or EOF) and Beast touches the parser when it completes. It goes with
  // the connection, which that read's handler keeps alive.
  if (std::shared_ptr<ServerExchange> exchange = exchange_.lock()) exchange->Ended();
  exchange_.reset();
  core_->Remove(id_);
}

void Connection::OnServerStopping() {
  switch (phase_) {
    case Phase::kReading:
      Close();
      break;
    case Phase::kHandling:
      // The handler was told to shut down; a late answer is still written (bounded by the
      // drain limit).
      break;
    case Phase::kWriting:
    case Phase::kEnding:
      keep_alive_ = false;
      break;
    case Phase::kStreaming:
      keep_alive_ = false;
      if (std::shared_ptr<ServerExchange> exchange = exchange_.lock()) {
        exchange->Close();  // ends the stream and tells the handler
      } else {
        EndStream(seq_);
      }
      break;
    case Phase::kLingering:
      break;
  }
}

// --- Connection: timers ---

void Connection::ArmTimer(int64_t ms) {
  ++timer_generation_;
  error_code ignored;
  timer_.cancel(ignored);
  if (ms <= 0) return;  // no limit
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait(
      [self = shared_from_this(), generation = timer_generation_](const error_code& ec) {
        if (ec || self->closed_ || generation != self->timer_generation_) return;
        self->OnTimer();
      });
}

void Connection::DisarmTimer() {
  ++timer_generation_;
  error_code ignored;
  timer_.cancel(ignored);
}

void Connection::OnTimer() {
  // Idle between requests (or stuck sending one), an answer the client has not taken for that
  // long, or done lingering. Never while the handler has the request or a stream is open (a
  // stream's slow reader is cut off by the buffer limit instead).
  if (phase_ != Phase::kHandling && phase_ != Phase::kStreaming) Close();
}

// --- Core ---

Status Core::ListenUnix() {
  const std::string& path = options.unix_socket_path;
  if (path.size() >= sizeof(sockaddr_un::sun_path)) {
    return Status::InvalidArgument(fmt::format(
        "cannot listen on {}: a Unix socket path may have at most {} bytes, this one has {}", path,
        sizeof(sockaddr_un::sun_path) - 1, path.size()));
  }
  struct stat st;
  if (lstat(path.c_str(), &st) == 0) {
    if (!S_ISSOCK(st.st_mode)) {
      return Status::AlreadyExists(fmt::format(
          "cannot listen on {}: the path exists and is not a socket; not replacing it", path));
    }
    // A socket left by an earlier daemon (the daemon lock says none is running).
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      return Status::IoError(fmt::format("cannot listen on {}: cannot remove the old socket: {}",
                                         path, std::strerror(errno)));
    }
  } else if (errno != ENOENT) {
    return Status::IoError(fmt::format("cannot listen on {}: {}", path, std::strerror(errno)));
  }
  error_code ec;
  auto& acceptor = unix_acceptor.emplace(io);
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    // The socket file is created with the socket's mode: make it 0600 from the start (and
    // chmod after bind as well, for systems where this has no effect).
    (void)fchmod(acceptor.native_handle(), 0600);
    acceptor.bind(asio::local::stream_protocol::endpoint(path), ec);
  }
  if (!ec) {
    socket_bound = true;
    if (chmod(path.c_str(), 0600) != 0) ec = error_code(errno, boost::system::system_category());
  }
  if (!ec && lstat(path.c_str(), &st) == 0) {
    socket_dev = st.st_dev;
    socket_ino = st.st_ino;
  }
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    if (socket_bound) unlink(path.c_str());
    socket_bound = false;
    unix_acceptor.reset();
    return Status::IoError(fmt::format("cannot listen on {}: {}", path, ec.message()));
  }
  return Status::Ok();
}

Status Core::ListenTcp() {
  std::string host = options.tcp_host;
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host == "localhost") host = "127.0.0.1";
  error_code ec;
  const asio::ip::address address = asio::ip::make_address(host, ec);
  if (ec || !address.is_loopback()) {
    return Status::InvalidArgument(fmt::format(
        "cannot listen on {}: not a loopback address (use 127.0.0.1, ::1 or localhost; the API "
        "is for this machine only)",
        options.tcp_host));
  }
  if (options.tcp_port < 0 || options.tcp_port > 65535) {
    return Status::InvalidArgument(
        fmt::format("cannot listen on port {}: not a TCP port (0 to 65535)", options.tcp_port));
  }
  if (options.bearer_token.empty()) {
    return Status::InvalidArgument(fmt::format(
        "cannot listen on {}: TCP needs a bearer token, and none was given", options.tcp_host));
  }
  const std::string where = address.is_v6()
                                ? fmt::format("[{}]:{}", address.to_string(), options.tcp_port)
                                : fmt::format("{}:{}", address.to_string(), options.tcp_port);
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(options.tcp_port));
  auto& acceptor = tcp_acceptor.emplace(io);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) tcp_port = acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    tcp_acceptor.reset();
    std::string reason = ec.message();
    if (ec == asio::error::address_in_use) reason = "address in use";
    return Status::IoError(fmt::format("cannot listen on {}: {}", where, reason));
  }
  return Status::Ok();
}

void Core::StartAccepting() {
  if (unix_acceptor.has_value()) Accept(&*unix_acceptor, &unix_peer, &unix_retry, false);
  if (tcp_acceptor.has_value()) Accept(&*tcp_acceptor, &tcp_peer, &tcp_retry, true);
}

template <typename Acceptor>
void Core::Accept(Acceptor* acceptor, Socket* peer, asio::steady_timer* retry, bool is_tcp) {
  acceptor->async_accept(
      *peer, [self = shared_from_this(), acceptor, peer, retry, is_tcp](const error_code& ec) {
        if (self->stopping || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of file descriptors, most likely: try again soon rather than spin.
          error_code ignored;
          peer->close(ignored);
          retry->expires_after(std::chrono::milliseconds(kAcceptRetryMs));
          retry->async_wait([self, acceptor, peer, retry, is_tcp](const error_code& ec) {
            if (!ec && !self->stopping) self->Accept(acceptor, peer, retry, is_tcp);
          });
          return;
        }
        if (is_tcp) {
          error_code ignored;
          peer->set_option(tcp::no_delay(true), ignored);  // small events go out at once
        }
        self->Adopt(std::move(*peer), is_tcp);
        self->Accept(acceptor, peer, retry, is_tcp);
      });
}

void Core::Adopt(Socket socket, bool is_tcp) {
  const uint64_t id = next_connection_id++;
  auto connection = std::make_shared<Connection>(shared_from_this(), std::move(socket), id, is_tcp);
  connections.emplace(id, connection);
  connection->Start();
}

void Core::Remove(uint64_t id) {
  connections.erase(id);
  if (stopping && connections.empty()) {
    error_code ignored;
    drain_timer.cancel(ignored);
  }
}

void Core::CloseListeners() {
  error_code ignored;
  if (unix_acceptor.has_value()) unix_acceptor->close(ignored);
  if (tcp_acceptor.has_value()) tcp_acceptor->close(ignored);
  unix_retry.cancel(ignored);
  tcp_retry.cancel(ignored);
  if (socket_bound) {
    socket_bound = false;
    struct stat st;
    const std::string& path = options.unix_socket_path;
    // Only our own socket: not a file someone put there since.
    if (lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) && st.st_dev == socket_dev &&
        st.st_ino == socket_ino) {
      unlink(path.c_str());
    }
  }
}

void Core::Stop() {
  if (stopping) return;
  stopping = true;
  CloseListeners();
  if (handler != nullptr) {
    try {
      handler->Shutdown();
    } catch (...) {
    }
  }
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(connections.size());
  for (auto& [id, connection] : connections) open.push_back(connection);
  for (auto& connection : open) connection->OnServerStopping();
  if (connections.empty()) return;
  drain_timer.expires_after(
      std::chrono::milliseconds(std::max<int64_t>(0, options.drain_timeout_ms)));
  drain_timer.async_wait([self = shared_from_this()](const error_code& ec) {
    if (!ec) self->ForceCloseAll();
  });
}

void Core::ForceCloseAll() {
  std::vector<std::shared_ptr<Connection>> open;
  open.reserve(connections.size());
  for (auto& [id, connection] : connections) open.push_back(connection);
  for (auto& connection : open) connection->Close();
  connections.clear();
  error_code ignored;
  drain_timer.cancel(ignored);
}

void Core::Destroy() {
  Stop();
  ForceCloseAll();
  // The handler's OnClose callbacks must not run after the server is gone.
  while (!pending_notifications.empty()) {
    auto it = pending_notifications.begin();
    std::shared_ptr<ServerExchange> exchange = it->second.lock();
    pending_notifications.erase(it);
    if (exchange != nullptr) exchange->NotifyNow();
  }
  handler = nullptr;
  options.on_response = nullptr;
}

// --- The server object ---

class HttpServerImpl final : public HttpServer {
 public:
  explicit HttpServerImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~HttpServerImpl() override { core_->Destroy(); }

  int tcp_port() const override { return core_->tcp_port; }
  size_t connections() const override { return core_->connections.size(); }
  void Stop() override { core_->Stop(); }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(asio::io_context& io, HttpHandler* handler,
                                                      HttpServerOptions options) {
  if (handler == nullptr) return Status::InvalidArgument("the HTTP server needs a handler");
  if (options.unix_socket_path.empty() && options.tcp_host.empty()) {
    return Status::InvalidArgument(
        "the HTTP server has nothing to listen on: give a Unix socket path or a TCP host");
  }
  auto core = std::make_shared<Core>(io, handler, std::move(options));
  if (!core->options.tcp_host.empty()) {
    // Checked before the socket file is touched; binds after it.
    Status status = core->ListenTcp();
    if (!status.ok()) return status;
  }
  if (!core->options.unix_socket_path.empty()) {
    Status status = core->ListenUnix();
    if (!status.ok()) {
      core->CloseListeners();
      return status;
    }
  }
  core->StartAccepting();
  return std::unique_ptr<HttpServer>(new HttpServerImpl(std::move(core)));
}

}  // namespace troupe
