// Scale (issue 7, benchmark 4): `tasks` tasks running at once, each streaming one token per second
// for `stream_s` seconds from mock-llm: the daemon's memory, CPU and open connections while they
// run, and that every one completes.
#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "e2e/mocked_daemon.h"
#include "e2e/processes.h"
#include "e2e/scenarios.h"
#include "e2e/stats.h"
#include "e2e/task_driver.h"

namespace troupe::bench {

using json = nlohmann::json;

Result<std::vector<Figure>> RunScale(const BenchSettings& settings, int tasks, int stream_s) {
  MockedDaemonOptions options;
  options.troupe_binary = settings.troupe_binary;
  options.protocol = settings.protocol;
  options.pool_limit = tasks;
  options.global_limit = tasks;
  auto daemon = MockedDaemon::Start(options);
  if (!daemon.ok()) return daemon.status();
  MockedDaemon& d = **daemon;
  auto events = StateEventLog::Follow(d);
  if (!events.ok()) return events.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const ProcessUsage idle = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_idle = ReadUsage(d.mock_pid());

  // Sample memory, CPU, descriptors and the running count while the tasks live.
  std::atomic<bool> sampling{true};
  ProcessUsage peak;
  double mock_peak_rss = 0;
  int64_t peak_running = 0;
  std::thread sampler([&] {
    std::unique_ptr<DaemonClient> client = d.NewClient();
    while (sampling) {
      const ProcessUsage u = ReadUsage(d.daemon_pid());
      peak.rss_mib = std::max(peak.rss_mib, u.rss_mib);
      peak.fds = std::max(peak.fds, u.fds);
      mock_peak_rss = std::max(mock_peak_rss, ReadUsage(d.mock_pid()).rss_mib);
      auto health = client->Get("/v1/health");
      if (health.ok()) {
        peak_running = std::max(peak_running, (*health)["tasks"].value("running", int64_t{0}));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
  });

  const int64_t start_us = NowUs();
  auto ids = LaunchTasks(d, tasks, /*threads=*/4, [&](int i) {
    return MockPrompt(fmt::format("scale-{}", i),
                      fmt::format("latency=0 tps=1 tokens={}", stream_s + 1));
  });
  const int64_t launched_us = NowUs();
  if (!ids.ok()) {
    sampling = false;
    sampler.join();
    return ids.status();
  }
  const int finished = (*events)->WaitFinal(tasks, (int64_t{stream_s} + 120) * 1000);
  const int64_t end_us = NowUs();
  sampling = false;
  sampler.join();
  const ProcessUsage after = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_after = ReadUsage(d.mock_pid());

  int completed = 0;
  int64_t last_completion_us = 0;
  for (const StateEvent& e : (*events)->Events()) {
    if (e.state != "completed") continue;
    ++completed;
    last_completion_us = std::max(last_completion_us, e.arrival_us);
  }
  // Cross-check with the store: every task's final state.
  auto listed = d.client().Get(fmt::format("/v1/tasks?status=completed&limit={}", tasks));
  const int stored_completed = listed.ok() ? int((*listed)["tasks"].size()) : -1;
  auto model = d.ReadModelTimes(tasks);
  int full_streams = 0;
  if (model.ok()) {
    for (const auto& [marker, t] : *model) {
      full_streams += (t.completed == 1 && t.deltas == stream_s + 1) ? 1 : 0;
    }
  }
  // The daemon gives its freed heap back once idle for 2 s (daemon/idle_trim.h).
  std::this_thread::sleep_for(std::chrono::milliseconds(3000));
  const ProcessUsage settled = ReadUsage(d.daemon_pid());
  d.Stop();

  const double run_s = double(end_us - start_us) / 1e6;
  const double cpu_s = after.cpu_s - idle.cpu_s;
  std::vector<Figure> out;
  out.push_back(Measured("scale.tasks", "tasks launched", tasks, "", 0));
  out.push_back(Measured("scale.launch_s", "time to launch them all (4 clients)",
                         double(launched_us - start_us) / 1e6, "s", 1));
  out.push_back(Measured("scale.peak_running", "most running at once (sampled every 0.5 s)",
                         double(peak_running), "", 0));
  out.push_back(
      Measured("scale.completed", "completed (completion events on /v1/events)", completed, "", 0));
  out.push_back(Measured("scale.stored_completed", "stored as completed", stored_completed, "", 0));
  out.push_back(
      Measured("scale.full_streams", "streams answered in full at the mock", full_streams, "", 0));
  out.push_back(Targeted("scale.lost", "**tasks lost** (launched − completed)",
                         double(tasks - std::min(completed, finished)), "", Goal::kAtMost, 0, 0));
  out.push_back(Measured(
      "scale.wall_s", fmt::format("first launch → last completion (streams last {} s)", stream_s),
      double(last_completion_us - start_us) / 1e6, "s", 1));
  out.push_back(Measured("scale.rss_idle", "daemon RSS before", idle.rss_mib, "MiB", 1));
  out.push_back(Targeted("scale.rss_peak", "**daemon RSS, peak**", peak.rss_mib, "MiB",
                         Goal::kAtMost, 1024, 1));
  out.push_back(Measured("scale.rss_per_task", "daemon RSS per running task",
                         (peak.rss_mib - idle.rss_mib) * 1024 / std::max(1, tasks), "KiB", 1));
  out.push_back(Measured("scale.rss_after", "daemon RSS after all ended", after.rss_mib, "MiB", 1));
  out.push_back(Measured("scale.rss_settled", "daemon RSS 3 s later (idle: heap trimmed)",
                         settled.rss_mib, "MiB", 1));
  out.push_back(
      Measured("scale.fds_peak", "daemon open descriptors, peak", double(peak.fds), "", 0));
  out.push_back(Measured("scale.cpu_s", "daemon CPU time over the run", cpu_s, "s", 1));
  out.push_back(Measured("scale.cpu_pct", "daemon CPU, % of one core over the run",
                         100 * cpu_s / run_s, "%", 0));
  out.push_back(Measured("scale.mock_rss_peak", "mock-llm RSS, peak", mock_peak_rss, "MiB", 1));
  out.push_back(Measured("scale.mock_cpu_s", "mock-llm CPU time over the run",
                         mock_after.cpu_s - mock_idle.cpu_s, "s", 1));
  return out;
}

}  // namespace troupe::bench
