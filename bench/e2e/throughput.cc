// Throughput and footprint (issue 7, benchmarks 5 and 6): zero-latency tasks through the whole
// daemon with persistence on (SQLite in WAL, as always), then the idle memory and `troupe ps`
// with those tasks stored.
#include <fmt/format.h>
#include <sys/resource.h>

#include <thread>

#include "e2e/mocked_daemon.h"
#include "e2e/processes.h"
#include "e2e/scenarios.h"
#include "e2e/stats.h"
#include "e2e/task_driver.h"

namespace troupe::bench {
namespace {

double SelfCpuS() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Median wall time of `runs` runs of `troupe ps <extra>` (process start to exit), in ms.
double PsMs(const BenchSettings& settings, const MockedDaemon& d, std::vector<std::string> extra,
            int runs) {
  std::vector<std::string> argv = {settings.troupe_binary, "ps",       "--data-dir",
                                   d.dir() + "/data",      "--socket", d.socket()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  std::vector<double> ms;
  for (int i = 0; i < runs; ++i) {
    const int64_t t0 = NowUs();
    if (RunToExit(argv) != 0) return -1;
    ms.push_back(double(NowUs() - t0) / 1000.0);
  }
  return Median(ms);
}

}  // namespace

Result<std::vector<Figure>> RunThroughput(const BenchSettings& settings, int tasks, int clients) {
  MockedDaemonOptions options;
  options.troupe_binary = settings.troupe_binary;
  options.protocol = settings.protocol;
  options.pool_limit = 50;
  auto daemon = MockedDaemon::Start(options);
  if (!daemon.ok()) return daemon.status();
  MockedDaemon& d = **daemon;
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const ProcessUsage fresh = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_before = ReadUsage(d.mock_pid());
  auto events = StateEventLog::Follow(d);
  if (!events.ok()) return events.status();

  const double self_cpu_before = SelfCpuS();
  const int64_t start_us = NowUs();
  auto ids = LaunchTasks(d, tasks, clients, [](int i) {
    return MockPrompt(fmt::format("tp-{}", i), "latency=0 tps=0 reply=\"ok\"");
  });
  if (!ids.ok()) return ids.status();
  const int64_t launched_us = NowUs();
  const int finished = (*events)->WaitFinal(tasks, 600'000);
  int64_t end_us = 0;
  int completed = 0;
  for (const StateEvent& e : (*events)->Events()) {
    if (e.state != "completed") continue;
    ++completed;
    end_us = std::max(end_us, e.arrival_us);
  }
  const double self_cpu = SelfCpuS() - self_cpu_before;
  const ProcessUsage busy = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_after = ReadUsage(d.mock_pid());
  events->reset();  // the follower's own CPU is not part of the idle daemon
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const ProcessUsage stored = ReadUsage(d.daemon_pid());

  const double ps_ms = PsMs(settings, d, {}, 10);
  const double ps_all_ms = PsMs(settings, d, {"--all"}, 5);
  d.Stop();

  const double run_s = double(end_us - start_us) / 1e6;
  std::vector<Figure> out;
  out.push_back(Measured("tp.completed", "tasks completed", completed, "", 0));
  out.push_back(Measured("tp.launch_rate",
                         fmt::format("launches accepted per second ({} clients)", clients),
                         tasks / (double(launched_us - start_us) / 1e6), "/s", 0));
  out.push_back(Targeted("tp.rate",
                         "**tasks completed per second** (first launch → last completion)",
                         finished / run_s, "/s", Goal::kAtLeast, 2000, 0));
  out.push_back(Measured("tp.daemon_cpu_per_task", "daemon CPU per task",
                         (busy.cpu_s - fresh.cpu_s) * 1e6 / tasks, "µs", 0));
  out.push_back(Measured("tp.daemon_wait_per_task",
                         "daemon loop thread waiting for a CPU, per task (run queue)",
                         (busy.run_queue_s - fresh.run_queue_s) * 1e6 / tasks, "µs", 0));
  out.push_back(Measured("tp.mock_cpu_per_task", "mock-llm CPU per request",
                         (mock_after.cpu_s - mock_before.cpu_s) * 1e6 / tasks, "µs", 0));
  out.push_back(Measured("tp.client_cpu_per_task",
                         "benchmark client CPU per task (launch + events)", self_cpu * 1e6 / tasks,
                         "µs", 0));
  out.push_back(
      Measured("fp.rss_fresh", "idle daemon RSS, fresh (empty store)", fresh.rss_mib, "MiB", 1));
  out.push_back(Measured("fp.rss_stored", fmt::format("idle daemon RSS, {} tasks stored", tasks),
                         stored.rss_mib, "MiB", 1));
  out.push_back(Measured("fp.ps", fmt::format("`troupe ps`, {} tasks stored (median of 10)", tasks),
                         ps_ms, "ms", 1));
  out.push_back(Measured("fp.ps_all",
                         fmt::format("`troupe ps --all` ({} rows, median of 5)", tasks), ps_all_ms,
                         "ms", 0));
  return out;
}

}  // namespace troupe::bench
