#include "agent/network_proxy.h"

// clang-format off
// Before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>
#include <thread>

#include "agent/byte_relay.h"

namespace troupe {

namespace net = boost::asio;
namespace http = boost::beast::http;
using boost::system::error_code;
using net::awaitable;
using net::use_awaitable;
using tcp = net::ip::tcp;
using UnixSocket = net::local::stream_protocol::socket;

namespace {
// Refusals remembered for once-per-scope logging; past this many the memory starts over.
constexpr size_t kMaxRemembered = 10'000;
// How long the proxy's own short answers (a 503, a 504) may take to write.
constexpr std::chrono::seconds kReplyTimeout{5};
}  // namespace

struct NetworkProxy::Impl {
  ProxyLimits limits;
  ProxyRefusalLog log;
  std::string dir;
  std::atomic<uint64_t> next_id{0};
  size_t active = 0;             // connections; loop thread only
  std::set<std::string> logged;  // "scope\nmessage"; loop thread only
  std::thread thread;
  // Declared last, destroyed first: coroutine frames it still holds may touch the members above.
  net::io_context io;
  net::executor_work_guard<net::io_context::executor_type> work{io.get_executor()};

  ~Impl() {
    work.reset();
    io.stop();
    if (thread.joinable()) thread.join();
  }

  void Refused(const std::string& scope, const std::string& message) {
    if (!log) return;
    if (logged.size() >= kMaxRemembered) logged.clear();
    if (logged.insert(scope + "\n" + message).second) log(scope, message);
  }
};

namespace {

struct EndpointState {
  EndpointState(NetworkProxy::Impl& impl, ProxyRules rules, std::string scope, std::string path)
      : impl(impl),
        rules(std::move(rules)),
        scope(std::move(scope)),
        path(std::move(path)),
        acceptor(impl.io) {}
  NetworkProxy::Impl& impl;
  const ProxyRules rules;
  const std::string scope;
  const std::string path;
  net::local::stream_protocol::acceptor acceptor;
  size_t active = 0;  // loop thread only
};

// One proxied connection: the tool's side (through the bridge), the upstream side, and a
// watchdog that closes both when the current deadline passes.
struct Connection {
  Connection(std::shared_ptr<EndpointState> ep, UnixSocket client)
      : ep(std::move(ep)),
        client(std::move(client)),
        upstream(this->ep->impl.io),
        resolver(this->ep->impl.io),
        timer(this->ep->impl.io) {
    ++this->ep->active;
    ++this->ep->impl.active;
  }
  ~Connection() {
    --ep->active;
    --ep->impl.active;
  }
  // Moves the deadline. The watchdog's timer is armed for the old one: a deadline that comes
  // sooner (an idle timeout shorter than the request timeout before it) wakes it to re-arm.
  void Deadline(std::chrono::milliseconds from_now) {
    const auto next = std::chrono::steady_clock::now() + from_now;
    const bool sooner = next < deadline;
    deadline = next;
    if (sooner) timer.cancel();
  }
  void Close() {
    closed = true;
    error_code ec;
    client.close(ec);
    upstream.close(ec);
    resolver.cancel();
    timer.cancel();
  }

  std::shared_ptr<EndpointState> ep;
  UnixSocket client;
  tcp::socket upstream;
  tcp::resolver resolver;
  net::steady_timer timer;
  std::chrono::steady_clock::time_point deadline;
  bool closed = false;
  // While resolving and connecting upstream the deadline ends only that step, so that the tool
  // is told (504) rather than hung up on.
  bool connecting = false;
  bool connect_timed_out = false;
  int pumps_done = 0;  // a tunnel closes when both directions have ended
};

awaitable<void> Watch(std::shared_ptr<Connection> c) {
  while (!c->closed) {
    c->timer.expires_at(c->deadline);
    error_code ec;
    co_await c->timer.async_wait(net::redirect_error(use_awaitable, ec));
    if (c->closed) break;
    if (std::chrono::steady_clock::now() < c->deadline) continue;
    if (c->connecting) {
      c->connecting = false;
      c->connect_timed_out = true;
      c->resolver.cancel();
      c->upstream.close(ec);
      c->Deadline(kReplyTimeout);  // for the 504
      continue;
    }
    c->Close();
  }
}

awaitable<void> Reply(Connection& c, http::status status, std::string text) {
  http::response<http::string_body> response{status, 11};
  response.set(http::field::content_type, "text/plain; charset=utf-8");
  response.set(http::field::connection, "close");
  response.body() = std::move(text);
  response.prepare_payload();
  error_code ec;
  co_await http::async_write(c.client, response, net::redirect_error(use_awaitable, ec));
}

awaitable<void> ConnectTimedOut(Connection& c, const std::string& host, uint16_t port) {
  co_await Reply(c, http::status::gateway_timeout,
                 "troupe sandbox proxy: cannot connect to " + host + ":" + std::to_string(port) +
                     " within " + std::to_string(c.ep->impl.limits.connect_timeout.count()) +
                     " ms\n");
  c.Close();
}

awaitable<void> Pump(std::shared_ptr<Connection> c, bool to_upstream) {
  const std::chrono::milliseconds idle = c->ep->impl.limits.idle_timeout;
  auto touch = [raw = c.get(), idle] { raw->Deadline(idle); };
  if (to_upstream) {
    co_await RelayBytes(c->client, c->upstream, touch);
  } else {
    co_await RelayBytes(c->upstream, c->client, touch);
  }
  if (++c->pumps_done == 2) c->Close();
}

awaitable<void> Serve(std::shared_ptr<Connection> c) {
  const ProxyLimits& limits = c->ep->impl.limits;
  const ProxyRules& rules = c->ep->rules;
  c->Deadline(limits.request_timeout);
  net::co_spawn(c->ep->impl.io, Watch(c), net::detached);

  boost::beast::flat_buffer buffer;
  http::request_parser<http::string_body> parser;
  parser.header_limit(limits.header_limit);
  parser.body_limit(limits.body_limit);
  error_code ec;
  co_await http::async_read(c->client, buffer, parser, net::redirect_error(use_awaitable, ec));
  if (ec) {
    if (ec == http::error::header_limit) {
      co_await Reply(*c, http::status::request_header_fields_too_large,
                     "troupe sandbox proxy: the request's headers exceed " +
                         std::to_string(limits.header_limit) + " bytes\n");
    } else if (ec == http::error::body_limit) {
      co_await Reply(*c, http::status::payload_too_large,
                     "troupe sandbox proxy: a plain-HTTP request body over " +
                         std::to_string(limits.body_limit) + " bytes is refused (use https)\n");
    } else if (!c->closed && ec != http::error::end_of_stream && ec != net::error::eof) {
      co_await Reply(*c, http::status::bad_request,
                     "troupe sandbox proxy: not an HTTP request (" + ec.message() + ")\n");
    }
    c->Close();
    co_return;
  }
  http::request<http::string_body> request = parser.release();
  const auto method = request.method_string();
  const auto target_text = request.target();
  Result<ProxyTarget> target =
      ParseProxyTarget(std::string_view(method.data(), method.size()),
                       std::string_view(target_text.data(), target_text.size()));
  if (!target.ok()) {
    co_await Reply(*c, http::status::bad_request,
                   "troupe sandbox proxy: " + target.status().message() + "\n");
    c->Close();
    co_return;
  }
  const HostPattern* allowing = AllowingPattern(rules, target->host, target->port);
  if (allowing == nullptr) {
    c->ep->impl.Refused(c->ep->scope, "host not on the allow-list: " + target->host + ":" +
                                          std::to_string(target->port));
    co_await Reply(*c, http::status::forbidden, RefusalText(rules, target->host, target->port));
    c->Close();
    co_return;
  }

  c->Deadline(limits.connect_timeout);
  c->connecting = true;
  auto results = co_await c->resolver.async_resolve(target->host, std::to_string(target->port),
                                                    net::redirect_error(use_awaitable, ec));
  if (c->closed) co_return;
  if (c->connect_timed_out) {
    co_await ConnectTimedOut(*c, target->host, target->port);
    co_return;
  }
  if (ec) {
    co_await Reply(
        *c, http::status::bad_gateway,
        "troupe sandbox proxy: cannot resolve " + target->host + ": " + ec.message() + "\n");
    c->Close();
    co_return;
  }
  std::vector<tcp::endpoint> dialable;
  std::string refusal;
  for (const auto& entry : results) {
    const net::ip::address address = entry.endpoint().address();
    std::string bytes;
    if (address.is_v4()) {
      const auto b = address.to_v4().to_bytes();
      bytes.assign(reinterpret_cast<const char*>(b.data()), b.size());
    } else {
      const auto b = address.to_v6().to_bytes();
      bytes.assign(reinterpret_cast<const char*>(b.data()), b.size());
    }
    std::string why = AddressRefusal(rules, *allowing, bytes);
    if (why.empty()) {
      dialable.push_back(entry.endpoint());
    } else if (refusal.empty()) {
      refusal = address.to_string() + ": " + why;
    }
  }
  if (dialable.empty()) {
    c->ep->impl.Refused(c->ep->scope, "address refused for " + target->host + " (" + refusal + ")");
    co_await Reply(
        *c, http::status::forbidden,
        "troupe sandbox: " + target->host + " is on the allow-list but " + refusal + "\n");
    c->Close();
    co_return;
  }
  co_await net::async_connect(c->upstream, dialable, net::redirect_error(use_awaitable, ec));
  if (c->closed) co_return;
  if (c->connect_timed_out) {
    co_await ConnectTimedOut(*c, target->host, target->port);
    co_return;
  }
  if (ec) {
    co_await Reply(*c, http::status::bad_gateway,
                   "troupe sandbox proxy: cannot connect to " + target->host + ":" +
                       std::to_string(target->port) + ": " + ec.message() + "\n");
    c->Close();
    co_return;
  }

  c->connecting = false;
  c->Deadline(limits.idle_timeout);
  if (target->tunnel) {
    http::response<http::empty_body> established{http::status::ok, 11};
    established.reason("Connection Established");
    co_await http::async_write(c->client, established, net::redirect_error(use_awaitable, ec));
    if (ec) {
      c->Close();
      co_return;
    }
    // Bytes the tool sent right after its CONNECT (read with the head) go first.
    if (buffer.size() > 0) {
      co_await net::async_write(c->upstream, buffer.data(), net::redirect_error(use_awaitable, ec));
      buffer.consume(buffer.size());
    }
    net::co_spawn(c->ep->impl.io, Pump(c, /*to_upstream=*/true), net::detached);
    co_await Pump(c, /*to_upstream=*/false);
    // The other direction ends on its own (the tool closes) or by the idle deadline.
    co_return;
  }
  // Plain HTTP: this one request, to the host that was checked, then the reply.
  request.target(target->origin_form);
  request.erase("Proxy-Connection");
  request.erase(http::field::proxy_authorization);
  request.set(http::field::host, target->port == 80
                                     ? target->host
                                     : target->host + ":" + std::to_string(target->port));
  request.set(http::field::connection, "close");
  co_await http::async_write(c->upstream, request, net::redirect_error(use_awaitable, ec));
  if (ec) {
    co_await Reply(
        *c, http::status::bad_gateway,
        "troupe sandbox proxy: sending to " + target->host + " failed: " + ec.message() + "\n");
    c->Close();
    co_return;
  }
  co_await Pump(c, /*to_upstream=*/false);
  c->Close();
}

awaitable<void> Refuse(std::shared_ptr<Connection> c, std::string text) {
  c->Deadline(kReplyTimeout);
  net::co_spawn(c->ep->impl.io, Watch(c), net::detached);
  co_await Reply(*c, http::status::service_unavailable, std::move(text));
  c->Close();
}

awaitable<void> Accept(std::shared_ptr<EndpointState> ep) {
  for (;;) {
    error_code ec;
    UnixSocket client = co_await ep->acceptor.async_accept(net::redirect_error(use_awaitable, ec));
    if (!ep->acceptor.is_open()) co_return;
    if (ec) {
      if (ec == net::error::operation_aborted) co_return;
      // Out of descriptors, most likely: wait a moment rather than spin.
      net::steady_timer pause(ep->impl.io, std::chrono::milliseconds(100));
      co_await pause.async_wait(net::redirect_error(use_awaitable, ec));
      continue;
    }
    const ProxyLimits& limits = ep->impl.limits;
    auto c = std::make_shared<Connection>(ep, std::move(client));
    // Which cap was hit, so that the message names the limit that holds.
    std::string cap;
    if (ep->active > limits.max_connections_per_endpoint) {
      cap = std::to_string(limits.max_connections_per_endpoint) + " per tool run";
    } else if (ep->impl.active > limits.max_connections) {
      cap = std::to_string(limits.max_connections) + " for all tool runs";
    }
    if (!cap.empty()) {
      net::co_spawn(
          ep->impl.io,
          Refuse(c, "troupe sandbox proxy: too many connections at once (at most " + cap + ")\n"),
          net::detached);
      continue;
    }
    net::co_spawn(ep->impl.io, Serve(c), net::detached);
  }
}

class EndpointHandle : public ProxyEndpoint {
 public:
  EndpointHandle(std::shared_ptr<NetworkProxy::Impl> impl, std::shared_ptr<EndpointState> state)
      : impl_(std::move(impl)), state_(std::move(state)) {}
  ~EndpointHandle() override {
    ::unlink(state_->path.c_str());
    net::post(impl_->io, [state = state_] {
      error_code ec;
      state->acceptor.close(ec);
    });
  }
  const std::string& socket_path() const override { return state_->path; }

 private:
  std::shared_ptr<NetworkProxy::Impl> impl_;
  std::shared_ptr<EndpointState> state_;
};

}  // namespace

Result<std::shared_ptr<NetworkProxy>> NetworkProxy::Start(std::string socket_parent,
                                                          ProxyLimits limits, ProxyRefusalLog log) {
  std::string templ = socket_parent + "/troupe-proxy-XXXXXX";
  if (mkdtemp(templ.data()) == nullptr) {
    return Status::IoError("cannot make the network proxy's directory under " + socket_parent +
                           ": " + std::strerror(errno));
  }
  auto impl = std::make_shared<Impl>();
  impl->limits = limits;
  impl->log = std::move(log);
  impl->dir = std::move(templ);
  impl->thread = std::thread([raw = impl.get()] { raw->io.run(); });
  return std::shared_ptr<NetworkProxy>(new NetworkProxy(std::move(impl)));
}

NetworkProxy::~NetworkProxy() {
  const std::string dir = impl_->dir;
  impl_.reset();  // endpoints still open keep the thread until they close
  // Sockets of endpoints still open stay; the directory goes when it is empty.
  ::rmdir(dir.c_str());
}

Result<std::shared_ptr<ProxyEndpoint>> NetworkProxy::Open(ProxyRules rules, std::string scope) {
  const std::string path = impl_->dir + "/" + std::to_string(impl_->next_id++) + ".sock";
  auto state = std::make_shared<EndpointState>(*impl_, std::move(rules), std::move(scope), path);
  error_code ec;
  state->acceptor.open(net::local::stream_protocol(), ec);
  if (!ec) state->acceptor.bind(net::local::stream_protocol::endpoint(path), ec);
  if (!ec) state->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status::IoError("cannot listen on the network proxy's socket " + path + ": " +
                           ec.message());
  }
  net::co_spawn(impl_->io, Accept(state), net::detached);
  return std::shared_ptr<ProxyEndpoint>(new EndpointHandle(impl_, std::move(state)));
}

}  // namespace troupe
