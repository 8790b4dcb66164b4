#include "http/http_server.h"

#include <fmt/format.h>

#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "http/connection.h"
#include "http/listener.h"
#include "http/server_exchange.h"

namespace troupe {
namespace {

using boost::system::error_code;

// The server's state, shared by the listener's accept handler, the connections and the
// exchanges: what to listen on, which connections are open, and stopping and draining them.
class Core final : public ConnectionHost, public std::enable_shared_from_this<Core> {
 public:
  Core(boost::asio::io_context& io, HttpHandler* handler, HttpServerOptions options)
      : io_(io),
        handler_(handler),
        options_(std::move(options)),
        listener_(std::make_shared<Listener>(io)),
        notifier_(std::make_shared<ExchangeNotifier>(io)),
        drain_timer_(io) {}

  // ConnectionHost
  const HttpServerOptions& options() const override { return options_; }
  HttpHandler* handler() const override { return handler_; }
  bool stopping() const override { return stopping_; }
  const std::shared_ptr<ExchangeNotifier>& notifier() const override { return notifier_; }
  void ReportResponse(int status) override {
    if (!options_.on_response) return;
    try {
      options_.on_response(status);
    } catch (...) {
    }
  }
  void Authenticated(uint64_t id) override { unknown_tcp_.erase(id); }
  int tcp_port() const override { return listener_->tcp_port(); }
  void Remove(uint64_t id) override {
    connections_.erase(id);
    unknown_tcp_.erase(id);
    if (stopping_ && connections_.empty()) {
      error_code ignored;
      drain_timer_.cancel(ignored);
    }
  }

  Listener& listener() { return *listener_; }
  size_t connections() const { return connections_.size(); }

  void StartAccepting() {
    // The listener lives as long as the core; it stops calling once closed (Stop).
    listener_->Start([this](StreamSocket socket, bool is_tcp) { Adopt(std::move(socket), is_tcp); });
  }

  void Stop() {
    if (stopping_) return;
    stopping_ = true;
    listener_->Close();
    if (handler_ != nullptr) {
      try {
        handler_->Shutdown();
      } catch (...) {
      }
    }
    for (auto& connection : OpenConnections()) connection->OnServerStopping();
    if (connections_.empty()) return;
    drain_timer_.expires_after(
        std::chrono::milliseconds(std::max<int64_t>(0, options_.drain_timeout_ms)));
    drain_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
      if (!ec) self->ForceCloseAll();
    });
  }

  // The HttpServer is being destroyed: stop, close everything now, run OnClose callbacks that
  // are still due, and forget the handler and the response observer.
  void Destroy() {
    Stop();
    ForceCloseAll();
    // The handler's OnClose callbacks must not run after the server is gone.
    notifier_->RunPendingNow();
    handler_ = nullptr;
    options_.on_response = nullptr;
  }

 private:
  void Adopt(StreamSocket socket, bool is_tcp) {
    const bool unknown = is_tcp && options_.tcp_auth == TcpAuth::kBearerToken;
    if (unknown && unknown_tcp_.size() >= options_.max_unknown_tcp) {
      // Closed unread: a client that has not shown the token gets no more descriptors.
      error_code ignored;
      socket.close(ignored);
      ++refused_tcp_;
      return;
    }
    const uint64_t id = next_connection_id_++;
    if (unknown) unknown_tcp_.insert(id);
    auto connection =
        std::make_shared<Connection>(shared_from_this(), std::move(socket), id, is_tcp);
    connections_.emplace(id, connection);
    connection->Start();
  }

  std::vector<std::shared_ptr<Connection>> OpenConnections() const {
    std::vector<std::shared_ptr<Connection>> open;
    open.reserve(connections_.size());
    for (const auto& [id, connection] : connections_) open.push_back(connection);
    return open;
  }

  void ForceCloseAll() {
    for (auto& connection : OpenConnections()) connection->Close();
    connections_.clear();
    error_code ignored;
    drain_timer_.cancel(ignored);
  }

  boost::asio::io_context& io_;
  HttpHandler* handler_;
  HttpServerOptions options_;
  std::shared_ptr<Listener> listener_;
  std::shared_ptr<ExchangeNotifier> notifier_;
  boost::asio::steady_timer drain_timer_;
  std::unordered_map<uint64_t, std::shared_ptr<Connection>> connections_;
  std::unordered_set<uint64_t> unknown_tcp_;  // TCP connections without a good token yet
  uint64_t refused_tcp_ = 0;
  uint64_t next_connection_id_ = 1;
  bool stopping_ = false;
};

class HttpServerImpl final : public HttpServer {
 public:
  explicit HttpServerImpl(std::shared_ptr<Core> core) : core_(std::move(core)) {}
  ~HttpServerImpl() override { core_->Destroy(); }

  int tcp_port() const override { return core_->listener().tcp_port(); }
  size_t connections() const override { return core_->connections(); }
  void Stop() override { core_->Stop(); }

 private:
  std::shared_ptr<Core> core_;
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::Start(boost::asio::io_context& io,
                                                      HttpHandler* handler,
                                                      HttpServerOptions options) {
  if (handler == nullptr) return Status::InvalidArgument("the HTTP server needs a handler");
  if (options.unix_socket_path.empty() && options.tcp_host.empty()) {
    return Status::InvalidArgument(
        "the HTTP server has nothing to listen on: give a Unix socket path or a TCP host");
  }
  auto core = std::make_shared<Core>(io, handler, std::move(options));
  const HttpServerOptions& opts = core->options();
  if (!opts.tcp_host.empty()) {
    // Checked before the socket file is touched; binds after it.
    Result<boost::asio::ip::tcp::endpoint> endpoint =
        LoopbackEndpoint(opts.tcp_host, opts.tcp_port);
    if (!endpoint.ok()) return endpoint.status();
    if (opts.tcp_auth == TcpAuth::kBearerToken && opts.bearer_token.empty()) {
      return Status::InvalidArgument(fmt::format(
          "cannot listen on {}: TCP needs a bearer token, and none was given", opts.tcp_host));
    }
    TROUPE_RETURN_IF_ERROR(core->listener().ListenTcp(*endpoint));
  }
  if (!opts.unix_socket_path.empty()) {
    Status status = core->listener().ListenUnix(opts.unix_socket_path);
    if (!status.ok()) {
      core->listener().Close();
      return status;
    }
  }
  core->StartAccepting();
  return std::unique_ptr<HttpServer>(new HttpServerImpl(std::move(core)));
}

}  // namespace troupe
