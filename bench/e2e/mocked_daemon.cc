#include "e2e/mocked_daemon.h"

#include <fmt/format.h>
#include <signal.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "e2e/processes.h"

namespace troupe::bench {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

constexpr const char* kKeyVariable = "TROUPE_BENCH_LLM_KEY";

// Waits until `path` holds a port number (mock-llm writes it once listening).
int WaitForPort(const std::string& path, int64_t timeout_ms) {
  const int64_t deadline = NowUs() + timeout_ms * 1000;
  while (NowUs() < deadline) {
    std::ifstream in(path);
    int port = 0;
    if (in >> port && port > 0) return port;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return 0;
}

}  // namespace

Result<std::unique_ptr<MockedDaemon>> MockedDaemon::Start(MockedDaemonOptions options) {
  std::unique_ptr<MockedDaemon> d(new MockedDaemon());
  std::string pattern = "/tmp/troupe-e2e-bench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return Status::IoError("mkdtemp failed");
  d->dir_ = pattern;
  d->mock_log_ = d->dir_ + "/mock-llm.jsonl";
  const std::string port_file = d->dir_ + "/mock-llm.port";

  d->mock_pid_ =
      Spawn({options.troupe_binary, "mock-llm", "--port-file", port_file, "--log", d->mock_log_},
            {}, d->dir_ + "/mock-llm.out");
  if (d->mock_pid_ < 0)
    return Status::IoError(fmt::format("cannot start {}", options.troupe_binary));
  const int port = WaitForPort(port_file, 10'000);
  if (port == 0) {
    return Status::Unavailable(
        fmt::format("troupe mock-llm did not start; see {}/mock-llm.out", d->dir_));
  }

  const bool anthropic = options.protocol == "anthropic";
  json config = {
      {"default_model", kModel},
      {"providers",
       {{"bench",
         {{"type", anthropic ? "anthropic" : "openai"},
          {"base_url", fmt::format("http://127.0.0.1:{}{}", port, anthropic ? "" : "/v1")},
          {"api_key_env", kKeyVariable}}}}},
      {"background_task",
       {{"modelConcurrency", {{kModel, options.pool_limit}}},
        {"globalConcurrency", options.global_limit}}}};
  const std::string config_path = d->dir_ + "/troupe.jsonc";
  std::ofstream(config_path) << config.dump(2);

  d->client_options_.data_dir = d->dir_ + "/data";
  d->client_options_.socket = d->dir_ + "/troupe.sock";
  d->client_options_.autostart = false;
  const int rc = [&] {
    const pid_t pid = Spawn(
        {options.troupe_binary, "serve", "--detach", "--data-dir", d->client_options_.data_dir,
         "--socket", d->client_options_.socket, "--config", config_path, "--workspace", d->dir_},
        {fmt::format("{}=bench-key", kKeyVariable)});
    return pid < 0 ? 127 : WaitOrKill(pid, 30'000);
  }();
  if (rc != 0) {
    return Status::Unavailable(
        fmt::format("troupe serve --detach exited {}; see {}/data/troupe.log", rc, d->dir_));
  }
  auto client = DaemonClient::Connect(d->client_options_);
  if (!client.ok()) return client.status();
  d->client_ = std::move(*client);
  auto health = d->client_->Get("/v1/health");
  if (!health.ok()) return health.status();
  d->daemon_pid_ = (*health)["pid"].get<int64_t>();
  return d;
}

MockedDaemon::~MockedDaemon() {
  Stop();
  std::error_code ignored;
  if (!dir_.empty() && getenv("TROUPE_BENCH_KEEP") == nullptr) fs::remove_all(dir_, ignored);
}

std::unique_ptr<DaemonClient> MockedDaemon::NewClient() const {
  auto client = DaemonClient::Connect(client_options_);
  if (!client.ok()) {
    fmt::print(stderr, "e2e_bench: {}\n", client.status().message());
    std::exit(1);
  }
  return std::move(*client);
}

Result<std::unordered_map<std::string, ModelTimes>> MockedDaemon::ReadModelTimes(
    int min_requests) const {
  const int64_t deadline = NowUs() + 5'000'000;
  while (true) {
    auto times = ReadMockLog(mock_log_);
    if (!times.ok()) return times;
    int finished = 0;
    for (const auto& [marker, t] : *times) finished += t.requests;
    if (finished >= min_requests || NowUs() > deadline) return times;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

void MockedDaemon::Stop() {
  if (stopped_) return;
  stopped_ = true;
  if (client_ != nullptr) {
    (void)client_->Post("/v1/shutdown", json::object());
    client_.reset();
    // Not our child (it detached): wait for it to leave /proc.
    const int64_t deadline = NowUs() + 30'000'000;
    while (daemon_pid_ > 0 && kill(static_cast<pid_t>(daemon_pid_), 0) == 0 && NowUs() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  if (mock_pid_ > 0) {
    kill(mock_pid_, SIGTERM);
    WaitOrKill(mock_pid_, 10'000);
    mock_pid_ = -1;
  }
}

}  // namespace troupe::bench
