// The loopback TCP listener a browser reaches the dashboard on, when the daemon was started
// without `--listen` (the Unix socket is not reachable from a browser). Started on demand by
// POST /v1/dashboard/session (DashboardApi's ensure_listener) on 127.0.0.1: the port remembered
// in `<data dir>/dashboard.json` if it is free, else any free port; the port in use is written
// there (0600), and when that file exists the next daemon start opens the listener again at
// once, so an open board reconnects after a restart. It is a second HttpServer on the same loop
// and handler, with the same TCP options as the main one (the token, the browser gate).
//
// Threading: loop thread only.
#pragma once

#include <boost/asio/io_context.hpp>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"
#include "http/http_server.h"

namespace troupe {

// The port remembered in a dashboard.json text ({"port": N}), or nullopt when the text is not
// that (a port outside 1..65535 included).
std::optional<int> ParseDashboardState(const std::string& text);
std::string DashboardStateJson(int port);

class DashboardListener {
 public:
  // `handler` must outlive this; `tcp_options` are the main server's (only their TCP part is
  // used); `main_port` is the main server's TCP port (0 = it has none). `state_path` is
  // <data dir>/dashboard.json.
  DashboardListener(boost::asio::io_context& io, HttpHandler* handler,
                    HttpServerOptions tcp_options, int main_port, std::string state_path);
  ~DashboardListener();

  // At daemon start: reopens the listener when the state file says one was open before.
  // Failing to is logged, not fatal (the next `troupe dashboard` tries again).
  void RestoreAtStart();
  // The port a browser reaches the daemon on, starting the listener if there is none.
  Result<int> Ensure();
  // Closes the listener (the daemon is stopping).
  void Stop();
  int port() const;
  size_t connections() const { return server_ ? server_->connections() : 0; }

 private:
  Result<int> Start(int port);

  boost::asio::io_context& io_;
  HttpHandler* handler_;
  HttpServerOptions options_;
  int main_port_;
  std::string state_path_;
  std::unique_ptr<HttpServer> server_;
};

}  // namespace troupe
