// troupe's HTTP API over the engine (docs/HTTP_API.md is the contract): routes requests to the
// TaskManager, validates bodies and queries with precise errors (http/api_error.h), answers long
// polls through TaskManager::Watch, and hands /v1/events to the EventStream and /metrics to the
// Metrics. The engine knows nothing of HTTP; this is the only place that maps between them.
//
// Threading: loop thread only, like the engine.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>

#include "agent/agent_catalog.h"
#include "core/clock.h"
#include "engine/task_manager.h"
#include "http/http_exchange.h"
#include "llm/default_model.h"
#include "rest/event_stream.h"
#include "rest/metrics.h"

namespace troupe {

// What GET /v1/health reports about the daemon itself.
struct DaemonInfo {
  std::string version;
  std::string commit;  // the git commit the binary was built from, "-dirty" appended if so
  int64_t pid = 0;
  int64_t started_at_ms = 0;
  std::string data_dir;
  std::string socket;
  int tcp_port = 0;
  // The port the dashboard is served on now (the --listen port, or the listener opened on
  // demand); 0 = none yet. Asked at each request: the listener may open later.
  std::function<int()> dashboard_port;
  DefaultModel default_model;  // also in GET /v1/agents
};

struct RestApiDeps {
  Clock* clock = nullptr;
  TaskManager* manager = nullptr;
  Store* store = nullptr;                // sessions and messages (read only)
  const AgentCatalog* agents = nullptr;  // GET /v1/agents
  EventStream* events = nullptr;         // GET /v1/events
  Metrics* metrics = nullptr;            // GET /metrics
  DaemonInfo info;
  std::function<void()> request_shutdown;  // POST /v1/shutdown (called from a later loop turn)
  // Longest wait_ms / timeout_ms accepted.
  int64_t max_wait_ms = 3'600'000;
  // Further handlers by path prefix (e.g. "/mcp" in the next issue); checked before the routes.
  std::unordered_map<std::string, HttpHandler*> mounts;
  // The handler of the path `/` alone (the dashboard's page), or null (404).
  HttpHandler* root = nullptr;
};

class RestApi : public HttpHandler {
 public:
  explicit RestApi(RestApiDeps deps);
  ~RestApi() override;
  void Handle(std::shared_ptr<HttpExchange> exchange) override;
  // Answers every pending long poll now (as timed out) and ends event streams.
  void Shutdown() override;
  // Those of the handler mounted at the path; the server's defaults elsewhere.
  size_t BodyLimit(std::string_view path) const override;
  std::optional<ApiResponse> BodyTooLarge(std::string_view path, size_t limit) const override;
  // Long polls waiting right now.
  size_t pending_waits() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe
