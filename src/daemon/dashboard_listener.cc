#include "daemon/dashboard_listener.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <utility>

#include "agent/atomic_file.h"

namespace troupe {

std::optional<int> ParseDashboardState(const std::string& text) {
  nlohmann::json j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("port") || !j["port"].is_number_integer()) return std::nullopt;
  const int64_t port = j["port"].get<int64_t>();
  if (port < 1 || port > 65535) return std::nullopt;
  return static_cast<int>(port);
}

std::string DashboardStateJson(int port) {
  return nlohmann::json{{"port", port}}.dump() + "\n";
}

namespace {

// The remembered port, or nullopt (no file, or not ours: logged).
std::optional<int> ReadState(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  std::optional<int> port = ParseDashboardState(text.str());
  if (!port) spdlog::warn("dashboard: ignoring {}: not {{\"port\": N}}", path);
  return port;
}

}  // namespace

DashboardListener::DashboardListener(boost::asio::io_context& io, HttpHandler* handler,
                                     HttpServerOptions tcp_options, int main_port,
                                     std::string state_path)
    : io_(io),
      handler_(handler),
      options_(std::move(tcp_options)),
      main_port_(main_port),
      state_path_(std::move(state_path)) {
  options_.unix_socket_path.clear();
  options_.tcp_host = "127.0.0.1";
}

DashboardListener::~DashboardListener() = default;

int DashboardListener::port() const {
  if (main_port_ > 0) return main_port_;
  return server_ ? server_->tcp_port() : 0;
}

void DashboardListener::RestoreAtStart() {
  if (main_port_ > 0) return;
  std::optional<int> remembered = ReadState(state_path_);
  if (!remembered) return;
  Result<int> started = Start(*remembered);
  if (!started.ok()) {
    spdlog::warn("dashboard: cannot reopen the loopback listener: {}", started.status().message());
  }
}

Result<int> DashboardListener::Ensure() {
  if (int p = port(); p > 0) return p;
  return Start(ReadState(state_path_).value_or(0));
}

Result<int> DashboardListener::Start(int remembered) {
  HttpServerOptions options = options_;
  options.tcp_port = remembered;
  Result<std::unique_ptr<HttpServer>> server = HttpServer::Start(io_, handler_, options);
  if (!server.ok() && remembered != 0) {
    spdlog::info("dashboard: port {} is taken ({}); taking a free one", remembered,
                 server.status().message());
    options.tcp_port = 0;
    server = HttpServer::Start(io_, handler_, options);
  }
  if (!server.ok()) return server.status();
  server_ = std::move(server).value();
  const int port = server_->tcp_port();
  if (port != remembered) {
    Status saved = WriteFileAtomically(state_path_, DashboardStateJson(port), 0600);
    if (!saved.ok()) {
      spdlog::warn("dashboard: cannot remember port {} in {}: {}", port, state_path_,
                   saved.message());
    }
  }
  spdlog::info("dashboard: listening on http://127.0.0.1:{}", port);
  return port;
}

void DashboardListener::Stop() {
  if (server_) server_->Stop();
}

}  // namespace troupe
