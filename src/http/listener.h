// The listening half of the HTTP transport: a Unix socket and/or a TCP port, accepting
// connections on the loop and handing each accepted socket on. Owns the socket file: an old
// socket left at the path is replaced (a non-socket is never touched), the new one is created
// 0600, and on Close it is unlinked only if the file at the path is still the one it bound.
//
// Accept errors (running out of file descriptors, most likely) are retried after 50 ms rather
// than spun on. After Close no further socket is handed on.
//
// Threading: loop thread only. Held by shared_ptr: pending accepts keep it alive.
#pragma once

#include <sys/types.h>

#include <boost/asio/generic/stream_protocol.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

// A connected stream socket of either family.
using StreamSocket = boost::asio::generic::stream_protocol::socket;

// The loopback endpoint for `host` ("127.0.0.1", "::1", "[::1]" or "localhost") and `port`
// (0..65535; 0 = any free port); InvalidArgument naming what is wrong otherwise.
Result<boost::asio::ip::tcp::endpoint> LoopbackEndpoint(std::string_view host, int port);

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // `is_tcp` says which listener accepted the socket (TCP sockets have TCP_NODELAY set).
  using OnAccept = std::function<void(StreamSocket socket, bool is_tcp)>;

  explicit Listener(boost::asio::io_context& io);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds and listens; errors say which path or address and why.
  Status ListenUnix(const std::string& path);
  Status ListenTcp(const boost::asio::ip::tcp::endpoint& endpoint);

  // Starts accepting on what is bound.
  void Start(OnAccept on_accept);
  // Closes the listeners and removes the socket file if it is still ours. Idempotent.
  void Close();

  int tcp_port() const { return tcp_port_; }

 private:
  template <typename Acceptor>
  void Accept(Acceptor* acceptor, StreamSocket* peer, boost::asio::steady_timer* retry,
              bool is_tcp);

  boost::asio::io_context& io_;
  OnAccept on_accept_;
  bool closed_ = false;
  std::optional<boost::asio::local::stream_protocol::acceptor> unix_acceptor_;
  std::optional<boost::asio::ip::tcp::acceptor> tcp_acceptor_;
  StreamSocket unix_peer_;
  StreamSocket tcp_peer_;
  boost::asio::steady_timer unix_retry_;
  boost::asio::steady_timer tcp_retry_;
  int tcp_port_ = 0;
  // The socket file this listener created, to unlink it only if it is still ours.
  std::string socket_path_;
  bool socket_bound_ = false;
  dev_t socket_dev_ = 0;
  ino_t socket_ino_ = 0;
};

}  // namespace troupe
