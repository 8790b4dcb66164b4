// A fresh `troupe serve` whose model is served by `troupe mock-llm` on 127.0.0.1 over the OpenAI
// or Anthropic wire protocol: both child processes of the benchmark, in a temporary directory
// of their own, so the whole path is measured — the daemon's HTTP client, streaming decoder,
// agent loop, engine, SQLite store and API.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>

#include "cli/daemon_client.h"
#include "core/status.h"
#include "e2e/mock_log.h"

namespace troupe::bench {

struct MockedDaemonOptions {
  std::string troupe_binary;        // the `troupe` that runs both
  std::string protocol = "openai";  // the provider's type: "openai" or "anthropic"
  int pool_limit = 5;               // modelConcurrency of the model; 0 = unlimited
  int global_limit = 0;             // globalConcurrency; 0 = none
};

class MockedDaemon {
 public:
  // The model every task runs on.
  static constexpr const char* kModel = "bench/m";

  // Starts mock-llm, then the daemon (`serve --detach`), and connects. Errors name the log to
  // read.
  static Result<std::unique_ptr<MockedDaemon>> Start(MockedDaemonOptions options);
  // Stops both (if Stop was not called) and removes the directory.
  ~MockedDaemon();
  MockedDaemon(const MockedDaemon&) = delete;
  MockedDaemon& operator=(const MockedDaemon&) = delete;

  // A client on the daemon's socket; one per thread.
  DaemonClient& client() { return *client_; }
  std::unique_ptr<DaemonClient> NewClient() const;
  const std::string& socket() const { return client_options_.socket; }
  const std::string& dir() const { return dir_; }
  int64_t daemon_pid() const { return daemon_pid_; }
  pid_t mock_pid() const { return mock_pid_; }

  // The mock's request log by task marker, once it holds at least `min_requests` finished
  // requests with a marker (waiting up to 5 s for the last lines to be written).
  Result<std::unordered_map<std::string, ModelTimes>> ReadModelTimes(int min_requests) const;

  // POST /v1/shutdown and wait for the daemon to exit, then SIGTERM mock-llm and reap it.
  void Stop();

 private:
  MockedDaemon() = default;

  std::string dir_;
  std::string mock_log_;
  ClientOptions client_options_;
  std::unique_ptr<DaemonClient> client_;
  int64_t daemon_pid_ = 0;
  pid_t mock_pid_ = -1;
  bool stopped_ = false;
};

}  // namespace troupe::bench
