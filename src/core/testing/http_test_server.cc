#include "core/testing/http_test_server.h"

#include <fmt/format.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>

namespace troupe::testing {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using asio::ip::tcp;
using boost::system::error_code;

class Connection;

}  // namespace

struct HttpTestServerState {
  using Handler = HttpTestServer::Handler;
  Handler handler;
  bool stall_after_accept = false;
  bool stopped = false;
  int accepted = 0;
  int peer_closes = 0;
  std::vector<RecordedRequest> requests;
  // Owned here too, so a connection nobody reads from (stall_after_accept) stays open; the
  // server's destructor closes them and breaks the cycle with Connection::state_.
  std::vector<std::shared_ptr<Connection>> connections;
};

namespace {

bool IsPeerGone(const error_code& ec) {
  return ec == asio::error::eof || ec == http::error::end_of_stream ||
         ec == asio::error::connection_reset || ec == asio::error::broken_pipe ||
         ec == http::error::partial_message;
}

std::string Reason(int status) {
  return std::string(http::obsolete_reason(http::int_to_status(static_cast<unsigned>(status))));
}

// One accepted connection: reads requests, plays the scripted responses.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using State = HttpTestServerState;

  Connection(tcp::socket socket, std::shared_ptr<State> state)
      : socket_(std::move(socket)), timer_(socket_.get_executor()), state_(std::move(state)) {}

  void Start() {
    if (state_->stall_after_accept) return;  // never read; the socket stays open
    ReadRequest();
  }

  void Close() {
    if (closed_) return;
    closed_ = true;
    error_code ignored;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  bool closed() const { return closed_; }

 private:
  struct Step {
    std::string bytes;
    int64_t delay_ms = 0;
    std::shared_ptr<TestGate> gate;
  };

  void ReadRequest() {
    parser_.emplace();
    parser_->body_limit(64 << 20);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](const error_code& ec, size_t) { self->OnRequest(ec); });
  }

  void OnRequest(const error_code& ec) {
    if (closed_) return;
    if (ec) {
      if (IsPeerGone(ec)) OnPeerGone();
      Close();  // a request we cannot parse (e.g. a TLS ClientHello) ends the connection
      return;
    }
    const auto& req = parser_->get();
    RecordedRequest recorded{
        std::string(req.method_string()), std::string(req.target()), {}, req.body()};
    for (const auto& field : req) {
      recorded.headers.push_back({std::string(field.name_string()), std::string(field.value())});
    }
    keep_alive_ = req.keep_alive();
    state_->requests.push_back(recorded);
    ScriptedResponse response =
        state_->handler ? state_->handler(recorded) : ScriptedResponse::Text(200, "ok");
    WatchForPeerClose();
    if (response.never_answer) return;
    Script(response);
    RunStep(0);
  }

  // Notices the client closing while we write or hold a response back. Peeks, so a following
  // request stays in the socket for the next ReadRequest.
  void WatchForPeerClose() {
    socket_.async_receive(asio::buffer(peek_byte_, 1), tcp::socket::message_peek,
                          [self = shared_from_this()](const error_code& ec, size_t) {
                            if (ec && IsPeerGone(ec) && !self->closed_) {
                              self->OnPeerGone();
                              self->Close();
                            }
                          });
  }

  void OnPeerGone() {
    if (peer_gone_) return;
    peer_gone_ = true;
    ++state_->peer_closes;
  }

  void Script(const ScriptedResponse& r) {
    steps_.clear();
    step_delayed_ = false;
    close_at_end_ = r.close_mid_body || r.close_after || !keep_alive_ ||
                    r.framing == ScriptedResponse::Framing::kUntilClose;
    std::string interim;
    for (int status : r.interim_statuses) {
      interim +=
          fmt::format("HTTP/1.1 {} {}\r\nX-Interim: {}\r\n\r\n", status, Reason(status), status);
    }
    if (!interim.empty()) steps_.push_back({std::move(interim), r.head_delay_ms, r.head_gate});
    std::string head = fmt::format("HTTP/1.1 {} {}\r\n", r.status, Reason(r.status));
    for (const HttpHeader& h : r.headers) head += h.name + ": " + h.value + "\r\n";
    size_t length = 0;
    for (const auto& piece : r.body) length += piece.data.size();
    switch (r.framing) {
      case ScriptedResponse::Framing::kContentLength:
        head += fmt::format("Content-Length: {}\r\n", length + (r.close_mid_body ? 1000 : 0));
        break;
      case ScriptedResponse::Framing::kChunked:
        head += "Transfer-Encoding: chunked\r\n";
        break;
      case ScriptedResponse::Framing::kUntilClose:
        break;
    }
    if (close_at_end_) head += "Connection: close\r\n";
    head += "\r\n";
    if (interim.empty()) {
      steps_.push_back({std::move(head), r.head_delay_ms, r.head_gate});
    } else {
      steps_.push_back({std::move(head), 0, nullptr});
    }
    const bool chunked = r.framing == ScriptedResponse::Framing::kChunked;
    for (const auto& piece : r.body) {
      std::string bytes = piece.data;
      if (chunked && !bytes.empty()) bytes = fmt::format("{:x}\r\n{}\r\n", bytes.size(), bytes);
      steps_.push_back({std::move(bytes), piece.delay_ms, piece.gate});
    }
    if (chunked && !r.close_mid_body) steps_.push_back({"0\r\n\r\n", 0, nullptr});
  }

  void RunStep(size_t i) {
    if (closed_) return;
    if (i == steps_.size()) {
      if (close_at_end_) {
        Close();
      } else {
        ReadRequest();
      }
      return;
    }
    Step& step = steps_[i];
    if (step.delay_ms > 0 && !step_delayed_) {
      step_delayed_ = true;
      timer_.expires_after(std::chrono::milliseconds(step.delay_ms));
      timer_.async_wait([self = shared_from_this(), i](const error_code& ec) {
        if (!ec) self->RunStep(i);
      });
      return;
    }
    if (step.gate != nullptr && !step.gate->is_open()) {
      std::weak_ptr<Connection> weak = weak_from_this();
      auto executor = socket_.get_executor();
      step.gate->Wait([weak, executor, i] {
        asio::post(executor, [weak, i] {
          if (auto self = weak.lock()) self->RunStep(i);
        });
      });
      return;
    }
    step_delayed_ = false;
    asio::async_write(socket_, asio::buffer(step.bytes),
                      [self = shared_from_this(), i](const error_code& ec, size_t) {
                        if (ec) {
                          if (IsPeerGone(ec)) self->OnPeerGone();
                          self->Close();
                          return;
                        }
                        self->RunStep(i + 1);
                      });
  }

  tcp::socket socket_;
  asio::steady_timer timer_;
  std::shared_ptr<State> state_;
  boost::beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  char peek_byte_[1] = {};
  bool keep_alive_ = true;
  bool close_at_end_ = false;
  bool closed_ = false;
  bool peer_gone_ = false;
  std::vector<Step> steps_;
  bool step_delayed_ = false;  // the delay of the current step has passed
};

}  // namespace

void TestGate::Open() {
  open_ = true;
  std::vector<std::function<void()>> waiters;
  waiters.swap(waiters_);
  for (auto& resume : waiters) resume();
}

void TestGate::Wait(std::function<void()> resume) {
  if (open_) {
    resume();
  } else {
    waiters_.push_back(std::move(resume));
  }
}

ScriptedResponse ScriptedResponse::Text(int status, std::string body) {
  ScriptedResponse r;
  r.status = status;
  r.headers.push_back({"Content-Type", "text/plain"});
  r.body.push_back({std::move(body)});
  return r;
}

HttpTestServer::HttpTestServer(boost::asio::io_context& io)
    : acceptor_(io), state_(std::make_shared<HttpTestServerState>()) {}

Result<std::unique_ptr<HttpTestServer>> HttpTestServer::Start(boost::asio::io_context& io) {
  std::unique_ptr<HttpTestServer> server(new HttpTestServer(io));
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  tcp::acceptor& acceptor = server->acceptor_;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) server->port_ = acceptor.local_endpoint(ec).port();
  if (ec) return Status::IoError("test server: cannot listen on 127.0.0.1: " + ec.message());
  server->Accept();
  return server;
}

HttpTestServer::~HttpTestServer() {
  state_->stopped = true;
  error_code ignored;
  acceptor_.close(ignored);
  for (auto& connection : state_->connections) connection->Close();
  state_->connections.clear();
}

void HttpTestServer::Accept() {
  acceptor_.async_accept([this, state = state_](const error_code& ec, tcp::socket socket) {
    if (state->stopped) return;  // `this` is gone
    if (!ec) {
      ++state->accepted;
      auto connection = std::make_shared<Connection>(std::move(socket), state);
      std::erase_if(state->connections, [](const auto& c) { return c->closed(); });
      state->connections.push_back(connection);
      connection->Start();
    }
    Accept();
  });
}

std::string HttpTestServer::Url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

void HttpTestServer::SetHandler(Handler handler) { state_->handler = std::move(handler); }

void HttpTestServer::set_stall_after_accept(bool stall) { state_->stall_after_accept = stall; }

int HttpTestServer::accepted_connections() const { return state_->accepted; }

int HttpTestServer::peer_closes() const { return state_->peer_closes; }

int HttpTestServer::open_connections() const {
  int open = 0;
  for (const auto& connection : state_->connections) open += connection->closed() ? 0 : 1;
  return open;
}

const std::vector<RecordedRequest>& HttpTestServer::requests() const { return state_->requests; }

Result<uint16_t> UnusedLoopbackPort() {
  asio::io_context io;
  tcp::acceptor acceptor(io);
  error_code ec;
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), 0);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  uint16_t port = 0;
  if (!ec) port = acceptor.local_endpoint(ec).port();
  if (ec) return Status::IoError("cannot bind 127.0.0.1:0: " + ec.message());
  return port;  // the acceptor closes here, without ever listening
}

}  // namespace troupe::testing
