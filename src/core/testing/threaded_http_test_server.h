// An HttpTestServer (core/testing/http_test_server.h) on a thread of its own, for tests whose
// client blocks that thread's caller: a child process (curl in a sandbox), a raw socket, a proxy
// with its own thread. The server's counters are read on the server's thread, so a test may ask
// for them at any time.
#pragma once

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "core/status.h"
#include "core/testing/http_test_server.h"

namespace troupe::testing {

class ThreadedHttpTestServer {
 public:
  // Listens on 127.0.0.1:0, answering with `handler`, and starts the server's thread.
  static Result<std::unique_ptr<ThreadedHttpTestServer>> Start(HttpTestServer::Handler handler);
  // Closes the server on its thread, then joins the thread.
  ~ThreadedHttpTestServer();
  ThreadedHttpTestServer(const ThreadedHttpTestServer&) = delete;
  ThreadedHttpTestServer& operator=(const ThreadedHttpTestServer&) = delete;

  uint16_t port() const { return port_; }
  // "127.0.0.1:<port>", as a host pattern or a proxy target names it.
  std::string HostPort() const { return "127.0.0.1:" + std::to_string(port_); }

  int accepted_connections();
  int peer_closes();
  int open_connections();

 private:
  ThreadedHttpTestServer() = default;
  // Runs `read` on the server's thread and returns what it returned.
  int OnServerThread(std::function<int(const HttpTestServer&)> read);

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<HttpTestServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
};

}  // namespace troupe::testing
