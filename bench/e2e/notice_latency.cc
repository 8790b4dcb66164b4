// Completion notice latency (issue 7, benchmark 3): from a task's final model byte (mock-llm's
// log) to its completion event on /v1/events and to the MCP session's pushed
// notifications/message — the moment the notice becomes claimable by that session's next tool
// call (both come from the same engine event, McpTaskEvents in mcp/mcp_engine_tasks.h).
#include <fmt/format.h>

#include <mutex>
#include <unordered_map>

#include "e2e/mcp_client.h"
#include "e2e/mocked_daemon.h"
#include "e2e/processes.h"
#include "e2e/scenarios.h"
#include "e2e/stats.h"
#include "e2e/task_driver.h"

namespace troupe::bench {

using json = nlohmann::json;

Result<std::vector<Figure>> RunNoticeLatency(const BenchSettings& settings, int tasks, int pool) {
  MockedDaemonOptions options;
  options.troupe_binary = settings.troupe_binary;
  options.protocol = settings.protocol;
  options.pool_limit = pool;
  auto daemon = MockedDaemon::Start(options);
  if (!daemon.ok()) return daemon.status();
  MockedDaemon& d = **daemon;
  auto events = StateEventLog::Follow(d);
  if (!events.ok()) return events.status();
  auto mcp = McpClient::Connect(d.socket());
  if (!mcp.ok()) return mcp.status();

  std::mutex mu;
  std::condition_variable cv;
  std::unordered_map<std::string, int64_t> pushed_us;  // task id -> notice arrival
  Status opened = (*mcp)->OpenStream([&](const json& m, int64_t arrival_us) {
    if (m.value("method", "") != "notifications/message") return;
    const json& data = m["params"]["data"];
    if (!data.is_object() || !data.contains("task_id")) return;
    std::lock_guard lock(mu);
    pushed_us.emplace(data["task_id"].get<std::string>(), arrival_us);
    cv.notify_all();
  });
  if (!opened.ok()) return opened;

  const ProcessUsage daemon_before = ReadUsage(d.daemon_pid());
  // Spread completions (20-60 ms turns), so each notice is measured on its own, not behind a
  // burst of others.
  std::unordered_map<std::string, std::string> marker_of;
  for (int i = 0; i < tasks; ++i) {
    const std::string marker = fmt::format("notice-{}", i);
    const int64_t turn_ms = 20 + (int64_t{i} * 7919) % 41;
    auto r = (*mcp)->CallTool(
        "delegate_task",
        {{"description", fmt::format("notice {}", i)},
         {"prompt", MockPrompt(marker, fmt::format("latency={}ms tps=0 reply=\"done\"", turn_ms))},
         {"agent", "general"},
         {"background", true}});
    if (!r.ok()) return r.status();
    marker_of[(*r)["structuredContent"]["task_id"].get<std::string>()] = marker;
  }
  const int64_t limit_ms = int64_t{tasks} * 60 / pool * 3 + 30'000;
  if ((*events)->WaitFinal(tasks, limit_ms) < tasks) {
    return Status::DeadlineExceeded("notice latency: not every task finished");
  }
  {
    std::unique_lock lock(mu);
    cv.wait_for(lock, std::chrono::seconds(10), [&] { return int(pushed_us.size()) >= tasks; });
  }
  const ProcessUsage daemon_after = ReadUsage(d.daemon_pid());
  auto model = d.ReadModelTimes(tasks);
  if (!model.ok()) return model.status();

  std::vector<double> sse_ms;
  std::vector<double> mcp_ms;
  int completed = 0;
  for (const StateEvent& e : (*events)->Events()) {
    if (e.state != "completed") continue;
    ++completed;
    auto marker = marker_of.find(e.task_id);
    if (marker == marker_of.end()) continue;
    auto t = model->find(marker->second);
    if (t == model->end()) continue;
    sse_ms.push_back(double(e.arrival_us - t->second.final_byte_us) / 1000.0);
    std::lock_guard lock(mu);
    auto pushed = pushed_us.find(e.task_id);
    if (pushed != pushed_us.end()) {
      mcp_ms.push_back(double(pushed->second - t->second.final_byte_us) / 1000.0);
    }
  }
  d.Stop();

  std::vector<Figure> out;
  out.push_back(Measured("notice.completed", "tasks completed", completed, "", 0));
  out.push_back(Measured("notice.pushed", "MCP notices received", double(mcp_ms.size()), "", 0));
  out.push_back(Measured("notice.sse_p50", "final model byte → /v1/events completion, p50",
                         Quantile(sse_ms, 0.5), "ms", 2));
  out.push_back(Targeted("notice.sse_p99", "**final model byte → /v1/events completion, p99**",
                         Quantile(sse_ms, 0.99), "ms", Goal::kAtMost, 10, 2));
  out.push_back(Measured("notice.mcp_p50", "final model byte → MCP notice claimable (pushed), p50",
                         Quantile(mcp_ms, 0.5), "ms", 2));
  out.push_back(Targeted("notice.mcp_p99",
                         "**final model byte → MCP notice claimable (pushed), p99**",
                         Quantile(mcp_ms, 0.99), "ms", Goal::kAtMost, 10, 2));
  out.push_back(Measured("notice.mcp_max", "… max", Max(mcp_ms), "ms", 2));
  out.push_back(
      Measured("notice.daemon_wait", "daemon loop thread waiting for a CPU, per task (run queue)",
               (daemon_after.run_queue_s - daemon_before.run_queue_s) * 1e6 / tasks, "µs", 0));
  return out;
}

}  // namespace troupe::bench
