// For tests that run the built `troupe serve` (and `troupe mock-llm`) as users do: a scratch
// directory with a data directory, a workspace and a config; the processes, started and waited
// for; and the API requests those tests make. Every wait is bounded and every process is killed
// when the harness goes.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "core/testing/test_dir.h"
#include "daemon/testing/daemon_process.h"

namespace troupe::testing {

class DaemonHarness {
 public:
  // Long enough for a sanitizer build on a busy machine.
  static constexpr int kStartTimeoutMs = 30'000;

  // `binary` is the built troupe. Makes <dir>/data and <dir>/workspace (with a README.md), an
  // empty config, and a hermetic environment (HermeticEnv).
  explicit DaemonHarness(std::string binary);
  DaemonHarness(const DaemonHarness&) = delete;
  DaemonHarness& operator=(const DaemonHarness&) = delete;

  TestDir& dir() { return dir_; }
  const std::string& data() const { return data_; }
  const std::string& workspace() const { return workspace_; }
  std::string Socket() const { return data_ + "/troupe.sock"; }
  Client Unix() const { return Client::Unix(Socket()); }

  // Writes the config file the daemon is started with.
  void WriteConfig(const std::string& jsonc);
  // Sets (or, with nullopt, removes) a variable of the children's environment.
  void SetEnv(const std::string& name, std::optional<std::string> value);

  // `troupe args…`, its output in <dir>/procN.out and .err.
  std::unique_ptr<Process> Spawn(const std::vector<std::string>& args);
  // `troupe serve` on the data dir, config and workspace, once /v1/health answers; nullptr (with
  // a test failure saying why) when it does not within kStartTimeoutMs.
  std::unique_ptr<Process> StartDaemon(const std::string& log_level);
  // `troupe mock-llm` on a free loopback port, once it listens; sets `*port`. nullptr (with a
  // test failure) when it does not start.
  std::unique_ptr<Process> StartMockLlm(int* port);

  // POST /v1/tasks with `body` (owner "harness" unless given); the task, or null (with a test
  // failure) when refused.
  nlohmann::json Launch(const nlohmann::json& body);
  // GET /v1/tasks/{id}: the whole task, or null.
  nlohmann::json GetTask(const std::string& id);
  // GET /v1/tasks?<query>: the listed tasks (results left out), oldest first.
  nlohmann::json ListTasks(const std::string& query);
  // POST /v1/wait for all of `ids`; true when they all ended within `timeout_ms`.
  bool WaitAll(const std::vector<std::string>& ids, int timeout_ms);
  // GET /metrics: the value of the sample `name_and_labels` (e.g.
  // `troupe_provider_retries_total{provider="x"}`); 0 when absent.
  double Metric(const std::string& name_and_labels);

 private:
  std::string binary_;
  TestDir dir_;
  std::string data_;
  std::string workspace_;
  std::string config_;
  std::map<std::string, std::optional<std::string>> env_;
  int spawned_ = 0;
};

}  // namespace troupe::testing
