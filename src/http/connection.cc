// Over 600 lines on purpose: one connection's life (read a head, hand the exchange out, frame
// the answer or stream it, keep alive, linger, drain on shutdown) is one state machine; its pure
// parts are already elsewhere (request_target, response_framing), and splitting the states
// would split the invariants that tie them.

#include "http/connection.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>  // async_read_header
#include <chrono>
#include <exception>
#include <limits>
#include <utility>

#include "core/text_case.h"
#include "http/request_checks.h"
#include "http/request_feed.h"
#include "http/request_target.h"

namespace troupe {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;

// Bytes a client may send ahead (pipelining) while its current request is answered; beyond
// that the server stops reading until the answer is out.
constexpr size_t kMaxPipelinedBytes = 64 << 10;
constexpr size_t kWatchReadBytes = 4 << 10;
// What one read of a request body asks the socket for.
constexpr size_t kBodyReadBytes = 64 << 10;
// After a response that ends the connection: how long to keep discarding what the client still
// sends (an unread body), so that closing does not reset the connection before the client has
// read the response.
constexpr int64_t kLingerMs = 1000;

std::string_view View(boost::beast::string_view s) { return {s.data(), s.size()}; }

bool IsPeerGone(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message || ec == asio::error::operation_aborted;
}

ApiError MakeError(int status, std::string code, std::string message) {
  return ApiError::Of(status, std::move(code), std::move(message));
}

int64_t NowUs(const HttpServerOptions& options) {
  if (options.now_us) return options.now_us();
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Connection::Connection(std::shared_ptr<ConnectionHost> host, StreamSocket socket, uint64_t id,
                       bool is_tcp)
    : host_(std::move(host)),
      socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      id_(id),
      is_tcp_(is_tcp),
      authenticated_(!is_tcp || host_->options().tcp_auth == TcpAuth::kNone) {}

// --- Reading requests ---

void Connection::ReadRequest() {
  if (closed()) return;
  phase_ = Phase::kReading;
  if (host_->stopping()) {
    Close();
    return;
  }
  request_ = RequestFacts{};
  path_.clear();
  head_received_us_ = -1;
  write_observer_ = nullptr;
  if (buffer_.size() == 0) buffer_.shrink_to_fit();  // an idle connection keeps no buffer
  parser_.emplace();
  parser_->header_limit(static_cast<std::uint32_t>(host_->options().max_header_bytes));
  // The limit depends on the path (HttpHandler::BodyLimit): none until the head is read, then
  // OnHeader checks Content-Length and sets it for the body. (Not boost::none: Beast 1.74
  // compares a Content-Length with it and finds every length over "none".)
  parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
  // A client not yet known (TCP without a good token so far) gets a short time to send its
  // head: holding connections open costs it as much as it costs the server.
  ArmTimer(authenticated_ ? host_->options().idle_timeout_ms : host_->options().header_timeout_ms);
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
}

TcpAdmission Connection::Admit(const http::request_parser<http::string_body>::value_type& message) {
  auto header = [&message](http::field field) -> std::string_view {
    auto it = message.find(field);
    return it == message.end() ? std::string_view() : View(it->value());
  };
  const HttpServerOptions& options = host_->options();
  if (!options.tcp_gate) {
    TcpAdmission admission;
    admission.allowed = HasBearerToken(header(http::field::authorization), options.bearer_token);
    if (!admission.allowed) {
      admission.error = MakeError(401, "unauthorized",
                                  "this TCP listener needs `Authorization: Bearer <token>` with "
                                  "the daemon's token");
      admission.headers = {{"WWW-Authenticate", "Bearer"}};
    }
    return admission;
  }
  // Several Cookie headers (HTTP/2 proxies split them) are one list.
  std::string cookies;
  auto [first, last] = message.equal_range(http::field::cookie);
  for (auto it = first; it != last; ++it) {
    if (!cookies.empty()) cookies += "; ";
    cookies += View(it->value());
  }
  TcpRequestHead head;
  head.method = View(message.method_string());
  head.path = path_;
  head.host = header(http::field::host);
  head.origin = header(http::field::origin);
  auto fetch_site = message.find("sec-fetch-site");
  if (fetch_site != message.end()) head.sec_fetch_site = View(fetch_site->value());
  head.authorization = header(http::field::authorization);
  head.cookie = cookies;
  head.port = host_->tcp_port();
  return options.tcp_gate(head);
}

void Connection::OnHeader(const error_code& ec) {
  if (closed()) return;
  if (ec) {
    ReadFailed(ec);
    return;
  }
  head_received_us_ = NowUs(host_->options());
  const auto& message = parser_->get();
  request_.keep_alive = message.keep_alive();
  request_.http10 = message.version() < 11;
  request_.head = message.method() == http::verb::head;
  path_.assign(RawPath(View(message.target())));
  body_limit_ = host_->options().max_body_bytes;
  if (HttpHandler* handler = host_->handler(); handler != nullptr) {
    if (size_t limit = handler->BodyLimit(path_); limit > 0) body_limit_ = limit;
  }
  if (is_tcp_ && host_->options().tcp_auth == TcpAuth::kBearerToken) {
    TcpAdmission admission = Admit(message);
    if (!admission.allowed) {
      // Answered before the body is read: nothing of an unauthenticated client is buffered.
      ServerError(admission.error, std::move(admission.headers),
                  request_.keep_alive && parser_->is_done());
      return;
    }
    if (!authenticated_ && admission.access != TcpAccess::kPublic) {
      authenticated_ = true;
      host_->Authenticated(id_);
    }
  }
  if (const auto length = parser_->content_length(); length && *length > body_limit_) {
    BodyTooLarge();  // before a byte of the body is read
    return;
  }
  parser_->body_limit(body_limit_);  // chunked bodies are counted as they arrive
  auto expect = message.find(http::field::expect);
  if (!request_.http10 && !parser_->is_done() && expect != message.end() &&
      boost::beast::iequals(expect->value(), "100-continue")) {
    QueueBytes(kContinueHead);
  }
  ArmTimer(host_->options().idle_timeout_ms);
  ReadBody();
}

void Connection::ReadBody() {
  error_code ec;
  buffer_.consume(FeedRequestBody(*parser_, buffer_.data(), ec));
  if (ec != http::error::need_more) {
    // Complete (or refused): answered from the loop, as a read's completion would be.
    asio::post(socket_.get_executor(), [self = shared_from_this(), ec] {
      if (!self->closed()) self->OnBody(ec);
    });
    return;
  }
  socket_.async_read_some(buffer_.prepare(kBodyReadBytes),
                          [self = shared_from_this()](const error_code& ec, size_t bytes) {
                            if (self->closed()) return;
                            if (ec) {
                              // EOF before the body's end is a partial message.
                              self->ReadFailed(ec == asio::error::eof
                                                   ? error_code(http::error::partial_message)
                                                   : ec);
                              return;
                            }
                            self->buffer_.commit(bytes);
                            self->ReadBody();
                          });
}

void Connection::OnBody(const error_code& ec) {
  if (closed()) return;
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
  request.connection = id_;
  request.head_received_us = head_received_us_;
  if (host_->stopping()) {
    ServerError(MakeError(503, "unavailable", "the daemon is shutting down"), {}, false);
    return;
  }
  if (std::optional<ApiError> error = ParseRequestTarget(request.target, &request)) {
    Refuse(*error, request_.keep_alive);
    return;
  }
  parser_.reset();
  Dispatch(std::move(request));
}

void Connection::ReadFailed(const error_code& ec) {
  DisarmTimer();
  if (ec == http::error::body_limit) {
    BodyTooLarge();
  } else if (ec == http::error::header_limit) {
    Refuse(MakeError(431, "headers_too_large",
                     fmt::format("the request line and headers are larger than the limit of {} "
                                 "bytes",
                                 host_->options().max_header_bytes)),
           false);
  } else if (IsPeerGone(ec)) {
    Close();
  } else {
    // Not HTTP/1.1 (or a socket error): answer if we can, then close.
    Refuse(MakeError(400, "bad_request", "the request is not valid HTTP/1.1: " + ec.message()),
           false);
  }
}

void Connection::Dispatch(ApiRequest request) {
  phase_ = Phase::kHandling;
  ++seq_;
  auto exchange = std::make_shared<ServerExchange>(host_->notifier(), shared_from_this(), seq_,
                                                   std::move(request));
  exchange_ = exchange;
  Watch();
  HttpHandler* handler = host_->handler();
  if (handler == nullptr) {
    exchange->Respond(
        ApiErrorResponse(MakeError(503, "unavailable", "the daemon is shutting down")));
    return;
  }
  try {
    handler->Handle(exchange);
  } catch (const std::exception& e) {
    exchange->Respond(ApiErrorResponse(
        MakeError(500, "internal", std::string("the request handler failed: ") + e.what())));
  } catch (...) {
    exchange->Respond(ApiErrorResponse(MakeError(500, "internal", "the request handler failed")));
  }
  // If the handler kept no reference and gave no answer, `exchange` answers 500 as it goes.
}

// --- Answering ---

void Connection::ServerError(const ApiError& error, ResponseHeaders extra, bool keep_alive) {
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
  request_.keep_alive = keep_alive;
  WriteWhole(std::move(response));
}

void Connection::BodyTooLarge() {
  Refuse(MakeError(413, "payload_too_large",
                   fmt::format("the request body is larger than the limit of {} bytes",
                               body_limit_)),
         false);
}

void Connection::Refuse(const ApiError& error, bool keep_alive) {
  std::optional<ApiResponse> answer;
  if (HttpHandler* handler = host_->handler(); handler != nullptr) {
    RefusedRequest refused;
    refused.status = error.status;
    refused.message = error.message;
    if (parser_.has_value()) {
      // What the parser stored so far: a head refused for its Content-Length is complete here
      // even though is_header_done() says otherwise.
      const auto& message = parser_->get();
      refused.method = std::string(View(message.method_string()));
      refused.target = std::string(View(message.target()));
    }
    refused.path = path_.empty() ? std::string(RawPath(refused.target)) : path_;
    refused.body_limit = body_limit_;
    refused.connection = id_;
    refused.head_received_us = head_received_us_;
    try {
      answer = handler->Refused(refused);
    } catch (...) {
    }
  }
  if (!answer) answer = ApiErrorResponse(error);
  ServerAnswer(std::move(*answer), keep_alive);
}

void Connection::Respond(uint64_t seq, ApiResponse response) {
  if (closed() || seq != seq_ || phase_ != Phase::kHandling) return;
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
  std::string bytes = Head(status, response.content_type, response.headers,
                           no_body ? BodyFraming::kNone : BodyFraming::kLength,
                           response.body.size());
  if (!no_body && !request_.head) bytes += response.body;
  host_->ReportResponse(status);
  ArmTimer(host_->options().idle_timeout_ms);  // a client that takes nothing is dropped
  QueueBytes(bytes);
}

bool Connection::OpenStream(uint64_t seq, int status, ResponseHeaders headers) {
  if (closed() || seq != seq_ || phase_ != Phase::kHandling) return false;
  if (status < 200 || status > 599) status = 500;
  phase_ = Phase::kStreaming;
  host_->ReportResponse(status);
  if (request_.http10) {
    // HTTP/1.0 has no chunked framing: the body ends when the connection closes.
    request_.keep_alive = false;
    QueueBytes(Head(status, "", headers, BodyFraming::kUntilClose));
  } else {
    QueueBytes(Head(status, "", headers, BodyFraming::kChunked));
  }
  if (request_.head) {
    // A HEAD request gets the head only: the stream is over at once.
    phase_ = Phase::kEnding;
    ArmTimer(host_->options().idle_timeout_ms);
    if (!writing()) FinishExchange();
  }
  return true;
}

bool Connection::StreamWrite(uint64_t seq, std::string bytes) {
  if (closed() || seq != seq_ || phase_ != Phase::kStreaming) return false;
  if (bytes.empty()) return true;  // an empty chunk would end the body
  std::string framed = request_.http10 ? std::move(bytes) : FormatChunk(bytes);
  if (in_flight_.size() + out_.size() + framed.size() > host_->options().max_stream_buffer_bytes) {
    // The client is not keeping up: cut it off rather than hold ever more (it reconnects and
    // resumes from its last event id).
    Close();
    return false;
  }
  QueueBytes(framed);
  return true;
}

size_t Connection::buffered(uint64_t seq) const {
  return seq == seq_ && !closed() ? in_flight_.size() + out_.size() : 0;
}

void Connection::EndStream(uint64_t seq) {
  if (closed() || seq != seq_ || phase_ != Phase::kStreaming) return;
  phase_ = Phase::kEnding;
  ArmTimer(host_->options().idle_timeout_ms);
  if (!request_.http10) QueueBytes(kLastChunk);
  if (!writing()) FinishExchange();
}

void Connection::Drop(uint64_t seq) {
  if (closed() || seq != seq_ || phase_ != Phase::kHandling) return;
  Close();
}

void Connection::Abort(uint64_t seq) {
  if (closed() || seq != seq_ || (phase_ != Phase::kHandling && phase_ != Phase::kStreaming)) {
    return;
  }
  phase_ = Phase::kAborting;
  reset_on_close_ = true;
  error_code ignored;
  socket_.set_option(asio::socket_base::linger(true, 0), ignored);  // close sends a reset
  if (!writing()) {
    Close();
    return;
  }
  ArmTimer(host_->options().idle_timeout_ms);  // a client that takes nothing is dropped
}

void Connection::ObserveWrites(uint64_t seq, std::function<void(WriteProgress)> observer) {
  if (closed() || seq != seq_) return;
  write_observer_ = std::move(observer);
}

void Connection::ReportWrite(WriteProgress progress) {
  if (!write_observer_) return;
  if (progress == WriteProgress::kFinished || progress == WriteProgress::kLost) {
    std::function<void(WriteProgress)> observer = std::move(write_observer_);
    write_observer_ = nullptr;
    observer(progress);
  } else {
    std::function<void(WriteProgress)> observer = write_observer_;  // it may replace itself
    observer(progress);
  }
}

std::string Connection::Head(int status, std::string_view content_type,
                             const ResponseHeaders& headers, BodyFraming framing,
                             size_t content_length) {
  if (host_->stopping()) request_.keep_alive = false;
  ResponseHead head;
  head.status = status;
  head.content_type = content_type;
  head.headers = &headers;
  head.framing = framing;
  head.content_length = content_length;
  head.keep_alive = request_.keep_alive;
  head.http10 = request_.http10;
  return FormatResponseHead(head);
}

// --- Noticing the client leave ---

void Connection::Watch() {
  if (closed() || watch_ != WatchState::kOff) return;
  if (phase_ != Phase::kLingering && buffer_.size() >= kMaxPipelinedBytes) return;
  watch_ = WatchState::kOn;
  socket_.async_read_some(buffer_.prepare(kWatchReadBytes),
                          [self = shared_from_this()](const error_code& ec, size_t bytes) {
                            self->OnWatch(ec, bytes);
                          });
}

void Connection::OnWatch(const error_code& ec, size_t bytes) {
  const bool read_next = watch_ == WatchState::kOnThenRead;
  watch_ = WatchState::kOff;
  if (closed()) return;
  if (ec == asio::error::operation_aborted && read_next) {
    ReadRequest();
    return;
  }
  if (ec) {
    if (ec == asio::error::eof && (phase_ == Phase::kWriting || phase_ == Phase::kEnding)) {
      // The client half-closed after its request: finish this answer, then close.
      request_.keep_alive = false;
      return;
    }
    Close();  // the client is gone (or the socket failed)
    return;
  }
  buffer_.commit(bytes);
  if (phase_ == Phase::kLingering) {
    buffer_.consume(buffer_.size());
    Watch();
  } else if (read_next) {
    ReadRequest();
  } else if (phase_ != Phase::kReading) {
    Watch();
  }
}

// --- Writing ---

void Connection::QueueBytes(std::string_view bytes) {
  if (closed() || bytes.empty()) return;
  out_.append(bytes.data(), bytes.size());
  if (!writing()) Flush();
}

void Connection::Flush() {
  in_flight_.swap(out_);
  out_.clear();
  ReportWrite(WriteProgress::kStarted);
  asio::async_write(
      socket_, asio::buffer(in_flight_),
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWritten(ec); });
}

void Connection::OnWritten(const error_code& ec) {
  in_flight_.clear();
  if (closed()) return;
  if (ec) {
    Close();
    return;
  }
  ReportWrite(WriteProgress::kWritten);
  if (closed()) return;
  if (!out_.empty()) {
    Flush();
  } else if (phase_ == Phase::kWriting || phase_ == Phase::kEnding) {
    FinishExchange();
  } else if (phase_ == Phase::kAborting) {
    Close();
  }
}

void Connection::FinishExchange() {
  DisarmTimer();
  exchange_.reset();
  ReportWrite(WriteProgress::kFinished);
  if (closed()) return;
  in_flight_.shrink_to_fit();
  out_.shrink_to_fit();
  if (!request_.keep_alive || host_->stopping()) {
    Linger();
    return;
  }
  phase_ = Phase::kReading;
  if (watch_ != WatchState::kOff) {
    // The next request may be in buffer_ already while the watch read waits for bytes that
    // will not come: cancel it and read the request once it has returned.
    watch_ = WatchState::kOnThenRead;
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
  if (closed()) return;
  phase_ = Phase::kClosed;
  auto self = shared_from_this();  // the host may drop the last other reference below
  DisarmTimer();
  error_code ignored;
  if (!reset_on_close_) socket_.shutdown(asio::socket_base::shutdown_both, ignored);
  socket_.close(ignored);
  // The parser is not reset here: a read on it may still be pending (its completion is queued
  // with operation_aborted or EOF) and Beast touches the parser when it completes. It goes with
  // the connection, which that read's handler keeps alive.
  if (std::shared_ptr<ServerExchange> exchange = exchange_.lock()) exchange->Ended();
  exchange_.reset();
  ReportWrite(WriteProgress::kLost);
  host_->Remove(id_);
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
      request_.keep_alive = false;
      break;
    case Phase::kStreaming:
      request_.keep_alive = false;
      if (std::shared_ptr<ServerExchange> exchange = exchange_.lock()) {
        exchange->Close();  // ends the stream and tells the handler
      } else {
        EndStream(seq_);
      }
      break;
    case Phase::kAborting:  // ends by itself once its bytes are out
    case Phase::kLingering:
    case Phase::kClosed:
      break;
  }
}

// --- Timers ---

void Connection::ArmTimer(int64_t ms) {
  ++timer_generation_;
  error_code ignored;
  timer_.cancel(ignored);
  if (ms <= 0) return;  // no limit
  timer_.expires_after(std::chrono::milliseconds(ms));
  timer_.async_wait(
      [self = shared_from_this(), generation = timer_generation_](const error_code& ec) {
        if (ec || self->closed() || generation != self->timer_generation_) return;
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

}  // namespace troupe
