// Makespan and dispatch gap (issue 7, benchmarks 1 and 2).
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <unordered_map>

#include "e2e/mocked_daemon.h"
#include "e2e/processes.h"
#include "e2e/scenarios.h"
#include "e2e/stats.h"
#include "e2e/task_driver.h"

namespace troupe::bench {
namespace {

int64_t TurnMs(const MakespanCase& c, int i) {
  return c.jitter_ms > 0 ? c.turn_ms + (int64_t{i} * 7919) % (c.jitter_ms + 1) : c.turn_ms;
}

// Turns 1..turns-1 read a small file (a real tool call in the daemon), the last one answers.
std::string Directives(const MakespanCase& c, int i) {
  std::string d = fmt::format("latency={}ms tps=0 reply=\"done {}\"", TurnMs(c, i), i);
  for (int turn = 1; turn < c.turns; ++turn) {
    d += fmt::format(" tool@{}=read:{{\"path\":\"bench.txt\"}}", turn);
  }
  return d;
}

double Ms(int64_t us) { return static_cast<double>(us) / 1000.0; }

}  // namespace

Result<std::vector<Figure>> RunMakespan(const BenchSettings& settings, const MakespanCase& c) {
  MockedDaemonOptions options;
  options.troupe_binary = settings.troupe_binary;
  options.protocol = settings.protocol;
  options.pool_limit = c.pool;
  auto daemon = MockedDaemon::Start(options);
  if (!daemon.ok()) return daemon.status();
  MockedDaemon& d = **daemon;
  std::ofstream(d.dir() + "/bench.txt") << "a small file the benchmark's tasks read\n";
  auto events = StateEventLog::Follow(d);
  if (!events.ok()) return events.status();

  const ProcessUsage daemon_before = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_before = ReadUsage(d.mock_pid());
  const int64_t start_us = NowUs();
  auto ids = LaunchTasks(d, c.tasks, /*threads=*/1, [&](int i) {
    return MockPrompt(fmt::format("{}-{}", c.key, i), Directives(c, i));
  });
  if (!ids.ok()) return ids.status();
  const int64_t launched_us = NowUs();
  const double ideal_ms = std::ceil(double(c.tasks) / c.pool) * c.turns * double(c.turn_ms);
  const int64_t limit_ms =
      int64_t(ideal_ms) * 3 + int64_t(c.turn_ms + c.jitter_ms) * c.turns * 3 + 30'000;
  const int finished = (*events)->WaitFinal(c.tasks, limit_ms);
  if (finished < c.tasks) {
    return Status::DeadlineExceeded(fmt::format("makespan {}: {} of {} tasks finished after {} s",
                                                c.key, finished, c.tasks, limit_ms / 1000));
  }
  const ProcessUsage daemon_after = ReadUsage(d.daemon_pid());
  const ProcessUsage mock_after = ReadUsage(d.mock_pid());
  std::vector<StateEvent> log = (*events)->Events();
  auto model = d.ReadModelTimes(c.tasks * c.turns);
  if (!model.ok()) return model.status();

  std::unordered_map<std::string, std::string> marker_of;  // task id -> marker
  for (int i = 0; i < c.tasks; ++i) marker_of[(*ids)[size_t(i)]] = fmt::format("{}-{}", c.key, i);
  auto times_of = [&](const std::string& task_id) -> const ModelTimes* {
    auto m = marker_of.find(task_id);
    if (m == marker_of.end()) return nullptr;
    auto t = model->find(m->second);
    return t == model->end() ? nullptr : &t->second;
  };

  int completed = 0;
  int64_t end_us = 0;
  int64_t model_first_us = INT64_MAX;
  int64_t model_last_us = 0;
  std::vector<double> gaps_ms;
  std::vector<double> sse_ms;
  for (size_t k = 0; k < log.size(); ++k) {
    const StateEvent& e = log[k];
    if (e.state == "completed") {
      ++completed;
      end_us = std::max(end_us, e.arrival_us);
      if (const ModelTimes* t = times_of(e.task_id))
        sse_ms.push_back(Ms(e.arrival_us - t->final_byte_us));
    }
    if (e.state == "running") {
      if (const ModelTimes* t = times_of(e.task_id)) {
        model_first_us = std::min(model_first_us, t->first_request_us);
      }
    }
    // A slot handed over: the completion of A is logged, and the start of the next queued task B
    // comes right after it, in the same engine batch.
    if (e.state == "running" && k > 0 && IsFinalState(log[k - 1].state)) {
      const ModelTimes* a = times_of(log[k - 1].task_id);
      const ModelTimes* b = times_of(e.task_id);
      if (a != nullptr && b != nullptr)
        gaps_ms.push_back(Ms(b->first_request_us - a->final_byte_us));
    }
  }
  std::vector<double> turn_gaps_ms;
  std::vector<double> first_requests_ms;
  for (const auto& [marker, t] : *model) {
    first_requests_ms.push_back(Ms(t.first_request_us));
    model_last_us = std::max(model_last_us, t.final_byte_us);
    for (int64_t gap : t.turn_gaps_us) turn_gaps_ms.push_back(Ms(gap));
  }
  d.Stop();

  const std::string k = c.key;
  std::vector<Figure> out;
  if (c.jitter_ms == 0) {
    const double makespan_ms = Ms(end_us - start_us);
    out.push_back(Measured(k + ".makespan", "makespan (first launch → last completion event)",
                           makespan_ms / 1000, "s", 3));
    out.push_back(Measured(k + ".ideal", "ideal: ceil(N/K) · turns · T", ideal_ms / 1000, "s", 3));
    out.push_back(Targeted(k + ".ratio", "**makespan / ideal**", makespan_ms / ideal_ms, "x",
                           Goal::kAtMost, 1.02, 3));
    std::sort(first_requests_ms.begin(), first_requests_ms.end());
    const size_t last_of_first_round = size_t(std::min(c.pool, c.tasks)) - 1;
    out.push_back(Measured(k + ".launch_s", "all N launched after (one client, one at a time)",
                           Ms(launched_us - start_us) / 1000, "s", 3));
    out.push_back(Measured(k + ".first_round_ms",
                           "the first K tasks' first requests, first → last (at the mock)",
                           first_requests_ms[last_of_first_round] - first_requests_ms[0], "ms", 1));
    out.push_back(Measured(k + ".model_ratio",
                           "at the mock: first request → last model byte, / ideal",
                           Ms(model_last_us - model_first_us) / ideal_ms, "x", 3));
  }
  out.push_back(Measured(k + ".completed", "tasks completed", completed, "", 0));
  out.push_back(
      Measured(k + ".handoffs", "slot hand-offs measured", double(gaps_ms.size()), "", 0));
  out.push_back(Measured(k + ".gap_min", "dispatch gap min", Quantile(gaps_ms, 0), "ms", 2));
  out.push_back(Measured(k + ".gap_p50", "dispatch gap p50", Quantile(gaps_ms, 0.5), "ms", 2));
  out.push_back(Targeted(k + ".gap_p99", "**dispatch gap p99**", Quantile(gaps_ms, 0.99), "ms",
                         Goal::kAtMost, 2.0, 2));
  out.push_back(Measured(k + ".gap_max", "dispatch gap max", Max(gaps_ms), "ms", 2));
  if (!turn_gaps_ms.empty()) {
    out.push_back(Measured(k + ".turn_gap_p50",
                           "between a task's turns (reply → tool → next request), p50",
                           Quantile(turn_gaps_ms, 0.5), "ms", 2));
    out.push_back(Measured(k + ".turn_gap_p99", "between a task's turns, p99",
                           Quantile(turn_gaps_ms, 0.99), "ms", 2));
  }
  out.push_back(Measured(k + ".sse_p50", "final model byte → completion on /v1/events, p50",
                         Quantile(sse_ms, 0.5), "ms", 2));
  out.push_back(Measured(k + ".sse_p99", "final model byte → completion on /v1/events, p99",
                         Quantile(sse_ms, 0.99), "ms", 2));
  out.push_back(Measured(k + ".daemon_cpu", "daemon CPU per task (all its turns)",
                         (daemon_after.cpu_s - daemon_before.cpu_s) * 1e6 / c.tasks, "µs", 0));
  out.push_back(
      Measured(k + ".daemon_wait", "daemon loop thread waiting for a CPU, per task (run queue)",
               (daemon_after.run_queue_s - daemon_before.run_queue_s) * 1e6 / c.tasks, "µs", 0));
  out.push_back(Measured(k + ".mock_wait", "mock-llm waiting for a CPU, per task (run queue)",
                         (mock_after.run_queue_s - mock_before.run_queue_s) * 1e6 / c.tasks, "µs",
                         0));
  return out;
}

}  // namespace troupe::bench
