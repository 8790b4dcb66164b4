#include "mock_llm/mock_llm_connection.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>
#include <utility>

#include "http/response_framing.h"

namespace troupe {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

constexpr size_t kMaxHeaderBytes = 64 << 10;
constexpr size_t kMaxPipelinedBytes = 64 << 10;  // read ahead while a response is in progress
constexpr size_t kWatchReadBytes = 1 << 10;
constexpr int64_t kLingerMs = 1000;

bool IsPeerGone(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}


}  // namespace

MockLlmConnection::MockLlmConnection(StreamSocket socket, uint64_t id,
                                     std::shared_ptr<ConnectionHost> host)
    : socket_(std::move(socket)), id_(id), host_(std::move(host)), timer_(host_->clock()) {}

MockLlmConnection::~MockLlmConnection() {
  if (player_ != nullptr) player_->Stop();
}

void MockLlmConnection::Start() { ReadHeader(); }

void MockLlmConnection::Close(const char* outcome) {
  if (closed_) return;
  closed_ = true;
  auto self = shared_from_this();  // the host may drop the last other reference below
  if (exchange_active_) {
    exchange_active_ = false;
    if (player_ != nullptr) player_->Stop();
    if (entry_ != nullptr) {
      if (player_ != nullptr) entry_->deltas_sent = player_->deltas_sent();
      entry_->outcome = outcome;
      host_->log()->Complete(*entry_);
    }
  }
  entry_.reset();
  timer_.Cancel();
  error_code ignored;
  if (!drop_) socket_.shutdown(asio::socket_base::shutdown_both, ignored);  // a drop resets instead
  socket_.close(ignored);
  host_->OnClosed(*this);
}

// --- Reading requests ---

void MockLlmConnection::ReadHeader() {
  if (closed_) return;
  if (buffer_.size() == 0) buffer_.shrink_to_fit();  // an idle connection keeps no buffer
  parser_.emplace();
  parser_->header_limit(kMaxHeaderBytes);
  parser_->body_limit(host_->max_body_bytes());
  http::async_read_header(
      socket_, buffer_, *parser_,
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnHeader(ec); });
}

bool MockLlmConnection::ReadFailed(const error_code& ec) {
  if (ec == http::error::body_limit) {
    Unreadable(413, fmt::format("the request body is larger than the limit of {} bytes",
                                host_->max_body_bytes()));
    return true;
  }
  if (!ec) return false;
  if (IsPeerGone(ec) || ec == asio::error::operation_aborted) {
    Close();
  } else {
    Unreadable(400, "the request is not valid HTTP/1.1: " + ec.message());
  }
  return true;
}

void MockLlmConnection::OnHeader(const error_code& ec) {
  if (closed_) return;
  if (ReadFailed(ec)) return;
  head_received_us_ = host_->NowUs();
  auto expect = parser_->get().find(http::field::expect);
  if (expect != parser_->get().end() && boost::beast::iequals(expect->value(), "100-continue")) {
    Write(kContinueHead);
  }
  http::async_read(socket_, buffer_, *parser_,
                   [self = shared_from_this()](const error_code& ec, size_t) { self->OnBody(ec); });
}

void MockLlmConnection::OnBody(const error_code& ec) {
  if (closed_) return;
  if (ReadFailed(ec)) return;
  keep_alive_ = parser_->get().keep_alive();
  http10_ = parser_->get().version() < 11;
  ReceivedRequest request = TakeRequest(/*with_body=*/true);
  exchange_active_ = true;
  Watch();
  host_->OnRequest(*this, std::move(request));
}

ReceivedRequest MockLlmConnection::TakeRequest(bool with_body) {
  ReceivedRequest request;
  request.connection = id_;
  request.head_received_us = head_received_us_;
  head_received_us_ = -1;
  if (parser_.has_value()) {
    // What the parser stored so far: a head refused for its Content-Length is complete here
    // even though is_header_done() says otherwise.
    auto& message = parser_->get();
    request.method = std::string(message.method_string());
    request.target = std::string(message.target());
    for (const auto& field : message) {
      request.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    if (with_body) request.body = std::move(message.body());
  }
  parser_.reset();
  return request;
}

void MockLlmConnection::Unreadable(int status, std::string reason) {
  keep_alive_ = false;
  ReceivedRequest request = TakeRequest(/*with_body=*/false);
  exchange_active_ = true;
  host_->OnUnreadableRequest(*this, std::move(request), status, std::move(reason));
}

// --- Noticing the client leave ---

void MockLlmConnection::Watch() {
  if (closed_ || watching_) return;
  if (!lingering_ && buffer_.size() >= kMaxPipelinedBytes) return;
  watching_ = true;
  socket_.async_read_some(buffer_.prepare(kWatchReadBytes),
                          [self = shared_from_this()](const error_code& ec, size_t bytes) {
                            self->OnWatch(ec, bytes);
                          });
}

void MockLlmConnection::OnWatch(const error_code& ec, size_t bytes) {
  watching_ = false;
  if (closed_) return;
  if (ec == boost::asio::error::operation_aborted && read_after_watch_) {
    read_after_watch_ = false;
    ReadHeader();
    return;
  }
  if (ec) {
    PeerGone();
    return;
  }
  buffer_.commit(bytes);
  if (lingering_) {
    buffer_.consume(buffer_.size());
    Watch();
  } else if (exchange_active_) {
    Watch();
  } else if (read_after_watch_) {
    read_after_watch_ = false;
    ReadHeader();
  }
}

void MockLlmConnection::PeerGone() { Close("client_closed"); }

// --- Writing responses ---

void MockLlmConnection::Respond(std::shared_ptr<RequestLogEntry> entry, int status,
                                std::vector<HttpHeader> headers, std::string body) {
  entry_ = std::move(entry);
  SendResponse(status, std::move(headers), std::move(body));
}

void MockLlmConnection::Play(std::shared_ptr<RequestLogEntry> entry,
                             std::unique_ptr<PlanPlayer> player) {
  entry_ = std::move(entry);
  player_ = std::move(player);
  player_->Start();
}

std::string MockLlmConnection::Head(int status, std::vector<HttpHeader> headers,
                                    BodyFraming framing, size_t content_length) const {
  ResponseHeaders fields;
  fields.reserve(headers.size() + 1);
  for (HttpHeader& h : headers) fields.emplace_back(std::move(h.name), std::move(h.value));
  if (framing != BodyFraming::kLength) fields.emplace_back("Cache-Control", "no-cache");
  ResponseHead head;
  head.status = status;
  head.headers = &fields;
  head.framing = framing;
  head.content_length = content_length;
  head.keep_alive = keep_alive_;
  return FormatResponseHead(head);
}

void MockLlmConnection::SendResponse(int status, std::vector<HttpHeader> headers,
                                     std::string body) {
  if (entry_ != nullptr) entry_->status = status;
  std::string bytes = Head(status, std::move(headers), BodyFraming::kLength, body.size());
  bytes += body;
  response_done_ = true;
  Write(bytes);
}

void MockLlmConnection::StartStream(int status, std::vector<HttpHeader> headers) {
  if (entry_ != nullptr) entry_->status = status;
  if (http10_) {
    // HTTP/1.0 has no chunked framing: the body ends when the connection closes.
    keep_alive_ = false;
    Write(Head(status, std::move(headers), BodyFraming::kUntilClose));
    return;
  }
  Write(Head(status, std::move(headers), BodyFraming::kChunked));
}

void MockLlmConnection::SendChunk(std::string data) {
  if (data.empty()) return;  // an empty chunk would end the body
  if (http10_) {
    Write(data);
    return;
  }
  Write(FormatChunk(data));
}

void MockLlmConnection::EndStream() {
  if (http10_) {
    EndResponse();
    return;
  }
  response_done_ = true;
  Write(kLastChunk);
}

void MockLlmConnection::Drop() {
  drop_ = true;
  EndResponse();
}

void MockLlmConnection::EndResponse() {
  response_done_ = true;
  if (!writing_) {
    asio::post(socket_.get_executor(),
               [self = shared_from_this()] { self->MaybeFinishExchange(); });
  }
}

void MockLlmConnection::Write(std::string_view bytes) {
  if (closed_) return;
  out_ += bytes;
  if (!writing_) Flush();
}

void MockLlmConnection::Flush() {
  if (entry_ != nullptr) {
    // Asio tries the write at once, so on loopback the bytes leave in this call.
    const int64_t now_us = host_->NowUs();
    if (entry_->first_write_us < 0) entry_->first_write_us = now_us;
    entry_->last_write_us = now_us;
  }
  writing_ = true;
  in_flight_.swap(out_);
  out_.clear();
  asio::async_write(
      socket_, asio::buffer(in_flight_),
      [self = shared_from_this()](const error_code& ec, size_t) { self->OnWritten(ec); });
}

void MockLlmConnection::OnWritten(const error_code& ec) {
  writing_ = false;
  if (closed_) return;
  if (ec) {
    PeerGone();
    return;
  }
  if (entry_ != nullptr) {
    const int64_t now = host_->clock()->NowMs();
    if (entry_->first_byte_ms < 0) entry_->first_byte_ms = now;
    entry_->last_byte_ms = now;
  }
  if (!out_.empty()) {
    Flush();
  } else {
    MaybeFinishExchange();
  }
}

void MockLlmConnection::MaybeFinishExchange() {
  if (closed_ || !exchange_active_ || !response_done_ || writing_ || !out_.empty()) return;
  FinishExchange();
}

void MockLlmConnection::FinishExchange() {
  exchange_active_ = false;
  response_done_ = false;
  if (entry_ != nullptr) {
    if (player_ != nullptr) {
      entry_->outcome = player_->outcome();
      entry_->deltas_sent = player_->deltas_sent();
    }
    host_->log()->Complete(*entry_);
    entry_.reset();
  }
  player_.reset();  // not on the player's stack: this runs from a write handler or a post
  in_flight_.clear();
  in_flight_.shrink_to_fit();
  if (drop_) {
    error_code ignored;
    socket_.set_option(asio::socket_base::linger(true, 0), ignored);  // close sends a reset
    Close();
    return;
  }
  if (!keep_alive_) {
    Linger();
    return;
  }
  if (watching_) {
    // The next request may be in buffer_ already (pipelined) while the watch read waits for
    // bytes that will not come: cancel it, and read the request once it has returned.
    read_after_watch_ = true;
    error_code ignored;
    socket_.cancel(ignored);  // no write is pending: the response is over
  } else {
    ReadHeader();
  }
}

void MockLlmConnection::Linger() {
  lingering_ = true;
  error_code ignored;
  socket_.shutdown(asio::socket_base::shutdown_send, ignored);
  buffer_.consume(buffer_.size());
  timer_.Start(kLingerMs, [this] { Close(); });
  Watch();
}

}  // namespace troupe
