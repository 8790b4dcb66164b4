// Engine hot paths: slot acquire/release, the hand-off of a freed slot to a waiter, and a whole
// task lifecycle (launch -> running -> completed) with an instant runner and every transition
// written to SQLite. Run: build/default/bench/engine_bench (see docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/fake_clock.h"
#include "core/ids.h"
#include "engine/scripted_runner.h"
#include "engine/slot_scheduler.h"
#include "engine/task_manager.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

// Request + release of a slot in a pool with room: the cost every task pays twice.
void BM_SlotAcquireRelease(benchmark::State& state) {
  FakeClock clock;
  BackgroundTaskConfig c;
  c.default_concurrency = 5;
  int64_t grants = 0;
  SlotScheduler s(&clock, ConcurrencyPolicy(c, {}), [&](Ticket) { ++grants; });
  Ticket t = 1;
  for (auto _ : state) {
    s.Request(t, "anthropic/claude-sonnet-4-5");
    s.Release(t);
    ++t;
  }
  benchmark::DoNotOptimize(grants);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SlotAcquireRelease);

// A full pool with a queue: each iteration frees one slot, which goes to the longest waiter
// before Release returns. Time per iteration = hand-off latency.
void BM_SlotHandOff(benchmark::State& state) {
  FakeClock clock;
  BackgroundTaskConfig c;
  c.default_concurrency = 5;
  const int queued = static_cast<int>(state.range(0));
  Ticket last_grant = 0;
  SlotScheduler s(&clock, ConcurrencyPolicy(c, {}), [&](Ticket t) { last_grant = t; });
  Ticket next = 1, oldest_running = 1;
  for (int i = 0; i < 5 + queued; ++i) s.Request(next++, "openai/gpt-4o");
  for (auto _ : state) {
    s.Release(oldest_running++);         // grants the head of the queue
    s.Request(next++, "openai/gpt-4o");  // keep the queue length steady
  }
  benchmark::DoNotOptimize(last_grant);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_SlotHandOff)->Arg(10)->Arg(10000);

// launch -> pending -> running -> completed with an instant runner: 3 SQLite transactions
// (task + session + prompt message + events; running + attempt; completed + attempt + outbox).
// `burst` launches per engine batch: 1 = every lifecycle is its own commit; more = several
// tasks launched at once (a lead's parallel delegate_task calls) share one commit.
void LaunchToComplete(benchmark::State& state, const std::string& path, int burst) {
  FakeClock clock;
  IdGenerator ids(&clock, 1);
  ScriptedRunner runner(&clock);
  runner.set_record_requests(false);
  auto store = OpenSqliteStore(path);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  TaskManagerOptions o;
  o.limits.default_concurrency = 5;
  TaskManager manager(&clock, store->get(), &runner, &ids, o);
  LaunchRequest r;
  r.agent = "explore";
  r.model = "mock/scripted";
  r.prompt = "find the retry policy";
  r.owner = "bench";
  for (auto _ : state) {
    TaskManager::Batch batch(&manager);
    for (int i = 0; i < burst; ++i) {
      auto v = manager.Launch(r);
      if (!v.ok() || v->task.state != TaskState::kCompleted) {
        state.SkipWithError("task did not complete");
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * burst);
  state.counters["store_failures"] = static_cast<double>(manager.store_failures());
}

void BM_LaunchToCompleteSqliteFile(benchmark::State& state) {
  char dir[] = "/tmp/troupe-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  LaunchToComplete(state, std::string(dir) + "/troupe.db", static_cast<int>(state.range(0)));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_LaunchToCompleteSqliteFile)
    ->ArgName("burst")
    ->Arg(1)
    ->Arg(4)
    ->Arg(16)
    ->Unit(benchmark::kMicrosecond);

void BM_LaunchToCompleteSqliteMemory(benchmark::State& state) {
  LaunchToComplete(state, ":memory:", static_cast<int>(state.range(0)));
}
BENCHMARK(BM_LaunchToCompleteSqliteMemory)
    ->ArgName("burst")
    ->Arg(1)
    ->Arg(16)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace troupe

BENCHMARK_MAIN();
