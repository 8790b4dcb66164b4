// Copying bytes from one stream socket to another on an Asio executor, for the sandbox's network
// proxy (agent/network_proxy.h) and the bridge inside the sandbox (agent/network_bridge.h).
#pragma once

// clang-format off
// Before Asio: Boost 1.74's awaitable.hpp uses std::exchange without including <utility>.
#include <utility>
// clang-format on
#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <functional>

namespace troupe {

// Copies `from` to `to` until `from` ends or either fails, calling `touch` on every transfer
// (an idle timer's reset), then shuts down `to`'s sending side so the peer sees the end while
// the other direction may still run.
template <typename From, typename To>
boost::asio::awaitable<void> RelayBytes(From& from, To& to, std::function<void()> touch) {
  namespace net = boost::asio;
  std::array<char, 16 * 1024> buffer;
  boost::system::error_code ec;
  for (;;) {
    const size_t n = co_await from.async_read_some(net::buffer(buffer),
                                                   net::redirect_error(net::use_awaitable, ec));
    if (n > 0) {
      if (touch) touch();
      boost::system::error_code write_ec;
      co_await net::async_write(to, net::buffer(buffer.data(), n),
                                net::redirect_error(net::use_awaitable, write_ec));
      if (write_ec) break;
    }
    if (ec) break;
  }
  to.shutdown(net::socket_base::shutdown_send, ec);
}

}  // namespace troupe
