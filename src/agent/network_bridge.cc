#include "agent/network_bridge.h"

// clang-format off
// Before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/signal_set.hpp>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>

#include "agent/byte_relay.h"

namespace troupe {
namespace {

namespace net = boost::asio;
using boost::system::error_code;
using tcp = net::ip::tcp;
using UnixSocket = net::local::stream_protocol::socket;

constexpr int kCannotStart = 125;

int Fail(const std::string& message) {
  std::fprintf(stderr, "troupe network bridge: %s\n", message.c_str());
  return kCannotStart;
}

struct Relay {
  Relay(tcp::socket tool, net::io_context& io) : tool(std::move(tool)), proxy(io) {}
  tcp::socket tool;
  UnixSocket proxy;
  int done = 0;
};

net::awaitable<void> Direction(std::shared_ptr<Relay> r, bool to_proxy) {
  if (to_proxy) {
    co_await RelayBytes(r->tool, r->proxy, nullptr);
  } else {
    co_await RelayBytes(r->proxy, r->tool, nullptr);
  }
  if (++r->done == 2) {
    error_code ec;
    r->tool.close(ec);
    r->proxy.close(ec);
  }
}

net::awaitable<void> Connect(std::shared_ptr<Relay> r, std::string socket_path) {
  error_code ec;
  co_await r->proxy.async_connect(net::local::stream_protocol::endpoint(socket_path),
                                  net::redirect_error(net::use_awaitable, ec));
  if (ec) {
    std::fprintf(stderr, "troupe network bridge: cannot reach the proxy at %s: %s\n",
                 socket_path.c_str(), ec.message().c_str());
    r->tool.close(ec);
    co_return;
  }
  net::co_spawn(r->tool.get_executor(), Direction(r, /*to_proxy=*/true), net::detached);
  co_await Direction(r, /*to_proxy=*/false);
}

net::awaitable<void> Accept(tcp::acceptor& acceptor, std::string socket_path, net::io_context& io) {
  for (;;) {
    error_code ec;
    tcp::socket tool = co_await acceptor.async_accept(net::redirect_error(net::use_awaitable, ec));
    if (!acceptor.is_open()) co_return;
    if (ec) continue;
    auto r = std::make_shared<Relay>(std::move(tool), io);
    net::co_spawn(io, Connect(r, socket_path), net::detached);
  }
}

// The program's wait status as our exit status.
int ExitWith(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::signal(sig, SIG_DFL);
    ::kill(::getpid(), sig);
    return 128 + sig;
  }
  return kCannotStart;
}

}  // namespace

int RunNetworkBridge(const std::vector<std::string>& args) {
  if (args.size() < 4 || args[2] != "--") {
    return Fail("usage: troupe __net-bridge <port> <socket path> -- <program> <args...>");
  }
  unsigned port = 0;
  const std::string& port_text = args[0];
  auto [end, perr] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (perr != std::errc() || end != port_text.data() + port_text.size() || port == 0 ||
      port > 65535) {
    return Fail("not a port: " + port_text);
  }
  const std::string socket_path = args[1];

  // Listening before the program starts, so its first connection finds us.
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (listener < 0) return Fail(std::string("socket: ") + std::strerror(errno));
  const int one = 1;
  ::setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(listener, SOMAXCONN) != 0) {
    return Fail("cannot listen on 127.0.0.1:" + port_text + ": " + std::strerror(errno));
  }

  // SIGCHLD is blocked until the loop watches for it, so the program's end is never missed.
  sigset_t chld;
  sigemptyset(&chld);
  sigaddset(&chld, SIGCHLD);
  sigprocmask(SIG_BLOCK, &chld, nullptr);
  const pid_t child = ::fork();
  if (child < 0) return Fail(std::string("fork: ") + std::strerror(errno));
  if (child == 0) {
    sigprocmask(SIG_UNBLOCK, &chld, nullptr);
    std::vector<char*> argv;
    for (size_t i = 3; i < args.size(); ++i) argv.push_back(const_cast<char*>(args[i].c_str()));
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::fprintf(stderr, "troupe network bridge: cannot run %s: %s\n", argv[0],
                 std::strerror(errno));
    ::_exit(127);
  }

  net::io_context io;
  net::signal_set child_ended(io, SIGCHLD);
  sigprocmask(SIG_UNBLOCK, &chld, nullptr);
  tcp::acceptor acceptor(io);
  error_code ec;
  acceptor.assign(tcp::v4(), listener, ec);
  if (ec) return Fail("cannot watch the listener: " + ec.message());
  int status = 0;
  bool ended = false;
  std::function<void(const error_code&, int)> on_signal = [&](const error_code& e, int) {
    if (e) return;
    if (::waitpid(child, &status, WNOHANG) == child) {
      ended = true;
      io.stop();
      return;
    }
    child_ended.async_wait(on_signal);
  };
  child_ended.async_wait(on_signal);
  // In case it ended before the signal set was in place.
  if (::waitpid(child, &status, WNOHANG) == child) ended = true;
  if (!ended) {
    net::co_spawn(io, Accept(acceptor, socket_path, io), net::detached);
    io.run();
  }
  if (!ended && ::waitpid(child, &status, 0) != child) return Fail("lost the program");
  return ExitWith(status);
}

}  // namespace troupe
