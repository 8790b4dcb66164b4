// Engine hot paths: slot acquire/release, the hand-off of a freed slot to a waiter, and a whole
// task lifecycle (launch -> running -> completed) with an instant runner and every transition
// written to SQLite; the bookkeeping of a model request (its ledger row). Run:
// build/default/bench/engine_bench (see docs/BENCHMARKS.md).
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
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

// Runs `run` on the path of a SQLite file in a fresh directory under /tmp, removed afterwards.
void WithDatabaseFile(benchmark::State& state, const std::function<void(const std::string&)>& run) {
  char dir[] = "/tmp/troupe-bench-XXXXXX";
  if (mkdtemp(dir) == nullptr) {
    state.SkipWithError("mkdtemp failed");
    return;
  }
  run(std::string(dir) + "/troupe.db");
  std::filesystem::remove_all(dir);
}

void BM_LaunchToCompleteSqliteFile(benchmark::State& state) {
  WithDatabaseFile(state, [&](const std::string& path) {
    LaunchToComplete(state, path, static_cast<int>(state.range(0)));
  });
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

// The bookkeeping of one model request (issue 18): a running task's progress report with
// requests = 1 is priced, added to the task, its tree and the day, checked against the budgets,
// and written — one `model_requests` ledger row and the task row, in the report's own commit.
// `charged` 0 is the same report without a request (tokens only, nothing written): the
// difference is what the ledger costs.
void ChargeRequests(benchmark::State& state, const std::string& path) {
  const bool charged = state.range(0) != 0;
  FakeClock clock;
  IdGenerator ids(&clock, 1);
  ScriptedRunner runner(&clock, [](const RunRequest&) { return Script{}; });  // runs until told
  runner.set_record_requests(false);
  auto store = OpenSqliteStore(path);
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  TaskManagerOptions o;
  o.prices = PriceTable({{"corp/priced", ModelPrice{3, 15, 3.75, 0.30}}}, false);
  o.budgets.daily_max_cost_usd = 1e9;  // checked, never reached
  o.budgets.tree_max_cost_usd = 1e9;
  TaskManager manager(&clock, store->get(), &runner, &ids, o);
  LaunchRequest r;
  r.agent = "explore";
  r.model = "corp/priced";
  r.prompt = "a long task";
  r.owner = "bench";
  auto v = manager.Launch(r);
  if (!v.ok() || v->task.state != TaskState::kRunning) {
    state.SkipWithError("the task did not start");
    return;
  }
  ProgressUpdate u;
  u.turns = 1;
  u.requests = charged ? 1 : 0;
  u.input_tokens = 20'000;
  u.output_tokens = 1'000;
  u.cache_read_tokens = 15'000;
  for (auto _ : state) {
    if (!runner.Progress(v->task.id, u)) {
      state.SkipWithError("the task stopped");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["store_failures"] = static_cast<double>(manager.store_failures());
}

void BM_ChargeRequestSqliteFile(benchmark::State& state) {
  WithDatabaseFile(state, [&](const std::string& path) { ChargeRequests(state, path); });
}
BENCHMARK(BM_ChargeRequestSqliteFile)
    ->ArgName("charged")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);

void BM_ChargeRequestSqliteMemory(benchmark::State& state) { ChargeRequests(state, ":memory:"); }
BENCHMARK(BM_ChargeRequestSqliteMemory)
    ->ArgName("charged")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace troupe

BENCHMARK_MAIN();
