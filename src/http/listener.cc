#include "http/listener.h"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <utility>

namespace troupe {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;

constexpr int64_t kAcceptRetryMs = 50;

std::string Where(const tcp::endpoint& endpoint) {
  const asio::ip::address address = endpoint.address();
  return address.is_v6() ? fmt::format("[{}]:{}", address.to_string(), endpoint.port())
                         : fmt::format("{}:{}", address.to_string(), endpoint.port());
}

}  // namespace

Result<tcp::endpoint> LoopbackEndpoint(std::string_view host_in, int port) {
  std::string host(host_in);
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
        host_in));
  }
  if (port < 0 || port > 65535) {
    return Status::InvalidArgument(
        fmt::format("cannot listen on port {}: not a TCP port (0 to 65535)", port));
  }
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

Listener::Listener(asio::io_context& io)
    : io_(io), unix_peer_(io), tcp_peer_(io), unix_retry_(io), tcp_retry_(io) {}

Listener::~Listener() { Close(); }

Status Listener::ListenUnix(const std::string& path) {
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
  auto& acceptor = unix_acceptor_.emplace(io_);
  acceptor.open(asio::local::stream_protocol(), ec);
  if (!ec) {
    // The socket file is created with the socket's mode: make it 0600 from the start (and
    // chmod after bind as well, for systems where this has no effect).
    (void)fchmod(acceptor.native_handle(), 0600);
    acceptor.bind(asio::local::stream_protocol::endpoint(path), ec);
  }
  if (!ec) {
    socket_bound_ = true;
    socket_path_ = path;
    if (chmod(path.c_str(), 0600) != 0) ec = error_code(errno, boost::system::system_category());
  }
  if (!ec && lstat(path.c_str(), &st) == 0) {
    socket_dev_ = st.st_dev;
    socket_ino_ = st.st_ino;
  }
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    if (socket_bound_) unlink(path.c_str());
    socket_bound_ = false;
    unix_acceptor_.reset();
    return Status::IoError(fmt::format("cannot listen on {}: {}", path, ec.message()));
  }
  return Status::Ok();
}

Status Listener::ListenTcp(const tcp::endpoint& endpoint) {
  error_code ec;
  auto& acceptor = tcp_acceptor_.emplace(io_);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) tcp_port_ = acceptor.local_endpoint(ec).port();
  if (ec) {
    error_code ignored;
    acceptor.close(ignored);
    tcp_acceptor_.reset();
    std::string reason = ec.message();
    if (ec == asio::error::address_in_use) reason = "address in use";
    return Status::IoError(fmt::format("cannot listen on {}: {}", Where(endpoint), reason));
  }
  return Status::Ok();
}

void Listener::Start(OnAccept on_accept) {
  on_accept_ = std::move(on_accept);
  if (unix_acceptor_.has_value()) Accept(&*unix_acceptor_, &unix_peer_, &unix_retry_, false);
  if (tcp_acceptor_.has_value()) Accept(&*tcp_acceptor_, &tcp_peer_, &tcp_retry_, true);
}

template <typename Acceptor>
void Listener::Accept(Acceptor* acceptor, StreamSocket* peer, asio::steady_timer* retry,
                      bool is_tcp) {
  acceptor->async_accept(
      *peer, [self = shared_from_this(), acceptor, peer, retry, is_tcp](const error_code& ec) {
        if (self->closed_ || ec == asio::error::operation_aborted) return;
        if (ec) {
          // Out of file descriptors, most likely: try again soon rather than spin.
          error_code ignored;
          peer->close(ignored);
          retry->expires_after(std::chrono::milliseconds(kAcceptRetryMs));
          retry->async_wait([self, acceptor, peer, retry, is_tcp](const error_code& ec) {
            if (!ec && !self->closed_) self->Accept(acceptor, peer, retry, is_tcp);
          });
          return;
        }
        if (is_tcp) {
          error_code ignored;
          peer->set_option(tcp::no_delay(true), ignored);  // small events go out at once
        }
        if (self->on_accept_) self->on_accept_(std::move(*peer), is_tcp);
        if (!self->closed_) self->Accept(acceptor, peer, retry, is_tcp);
      });
}

void Listener::Close() {
  if (closed_) return;
  closed_ = true;
  on_accept_ = nullptr;
  error_code ignored;
  if (unix_acceptor_.has_value()) unix_acceptor_->close(ignored);
  if (tcp_acceptor_.has_value()) tcp_acceptor_->close(ignored);
  unix_retry_.cancel(ignored);
  tcp_retry_.cancel(ignored);
  if (socket_bound_) {
    socket_bound_ = false;
    struct stat st;
    // Only our own socket: not a file someone put there since.
    if (lstat(socket_path_.c_str(), &st) == 0 && S_ISSOCK(st.st_mode) &&
        st.st_dev == socket_dev_ && st.st_ino == socket_ino_) {
      unlink(socket_path_.c_str());
    }
  }
}

}  // namespace troupe
