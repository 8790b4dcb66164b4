// The agent loop's own cost, with the model's latency taken out: the real engine (TaskManager,
// SQLite store on disk, AgentLoopRunner, built-in agents and tools) on the in-process mock
// provider with zero latency. Prints
//  - per-turn overhead: `explore` tasks run one after another on this repository; each is three
//    model turns (grep+glob, read, answer) with real ripgrep and file reads;
//  - memory per running session: N tasks whose model never answers (`#mock hang`), all running;
//  - memory per idle session: N finished sessions kept in the store.
// Run: build/default/bench/agent_loop_bench [--tasks 200] [--sessions 1000] [--workspace DIR]
#include <fmt/format.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "agent/delegation_tools.h"
#include "agent/tool_executor.h"
#include "core/event_loop.h"
#include "core/ids.h"
#include "engine/agent_loop_runner.h"
#include "engine/engine_delegator.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

int64_t RssKib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6));
  }
  return -1;
}

int Run(int tasks, int sessions, const std::string& workspace) {
  boost::asio::io_context io;
  LoopClock clock(io);
  HttpClient http(io);
  ThreadPoolExecutor executor(io, 2);
  IdGenerator ids(&clock, 1);
  const std::string dir =
      std::filesystem::temp_directory_path() / ("troupe-agent-bench-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto store = OpenSqliteStore(dir + "/troupe.db");
  if (!store.ok()) return 1;

  Config config;
  ProviderConfig mock;
  mock.type = "mock";
  mock.mock_script = "latency=0 tps=0";
  config.providers["mock"] = mock;
  ProviderDeps deps;
  deps.http = &http;
  deps.clock = &clock;
  auto registry = ProviderRegistry::Create(config, deps);
  if (!registry.ok()) return 1;
  AgentCatalogOptions catalog_options;
  catalog_options.user_agents_dir = "";
  AgentCatalog agents = LoadAgentCatalog(catalog_options);
  ToolSet tools = ToolSet::BuiltIn();

  AgentLoopRunnerDeps runner_deps;
  runner_deps.clock = &clock;
  runner_deps.agents = &agents;
  runner_deps.providers = registry->get();
  runner_deps.tools = &tools;
  runner_deps.executor = &executor;
  AgentLoopRunner runner(runner_deps);
  TaskManagerOptions options;
  options.default_model = "mock/scripted";
  options.default_workspace = workspace;
  options.limits.default_concurrency = 0;  // unlimited: every session runs at once
  options.prepare_launch = [&runner](LaunchRequest* r) { return runner.PrepareLaunch(r); };
  TaskManager manager(&clock, store->get(), &runner, &ids, options);
  runner.Attach(&manager);
  EngineDelegator delegator(&manager, &clock);
  if (!AddDelegationTools(&tools, &delegator, DelegableAgentsOf(agents)).ok() ||
      !manager.Recover().ok())
    return 1;

  auto launch = [&](const std::string& prompt) {
    LaunchRequest r;
    r.agent = "explore";
    r.prompt = prompt;
    r.owner = "bench";
    return manager.Launch(r);
  };
  auto run_until = [&](auto done) {
    while (!done() && io.run_one()) {
    }
  };

  // 1. Per-turn overhead, one task at a time.
  int64_t turns = 0, tool_calls = 0, failed = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < tasks; ++i) {
    auto v = launch("Where is the SlotScheduler defined?");
    if (!v.ok()) return 1;
    const std::string id = v->task.id;
    run_until([&] { return IsFinal(manager.Get(id)->task.state); });
    TaskRecord t = manager.Get(id)->task;
    turns += t.turns;
    tool_calls += t.tool_calls;
    failed += t.state != TaskState::kCompleted;
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  fmt::print("per-turn overhead: {} explore tasks, {} turns, {} tool calls, {} failed, {:.2f} s\n",
             tasks, turns, tool_calls, failed, seconds);
  fmt::print(
      "  {:.2f} ms per turn including its tools (ripgrep, reads) and persistence, "
      "{:.2f} ms per task\n",
      1000.0 * seconds / double(turns), 1000.0 * seconds / double(tasks));

  // 2. Memory per running session: the model never answers.
  const int64_t before_running = RssKib();
  std::vector<std::string> hung;
  for (int i = 0; i < sessions; ++i) {
    auto v = launch("#mock hang\nwait forever");
    if (!v.ok()) return 1;
    hung.push_back(v->task.id);
  }
  run_until([&] { return manager.Get(hung.back())->task.state == TaskState::kRunning; });
  for (int i = 0; i < 50; ++i) io.poll();
  const int64_t running_rss = RssKib();
  fmt::print("running sessions: {} at once, RSS {:.1f} -> {:.1f} MiB, {:.1f} KiB per session\n",
             sessions, before_running / 1024.0, running_rss / 1024.0,
             double(running_rss - before_running) / double(sessions));
  manager.CancelAll("bench");
  for (int i = 0; i < 50; ++i) io.poll();

  // 3. Memory per idle (finished) session.
  const int64_t before_idle = RssKib();
  const auto t1 = std::chrono::steady_clock::now();
  for (int i = 0; i < sessions; ++i) {
    auto v = launch("#mock reply=\"done\"\nanswer at once");
    if (!v.ok()) return 1;
  }
  run_until([&] { return manager.active_tasks() == 0; });
  const double quick = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  const int64_t idle_rss = RssKib();
  fmt::print(
      "one-turn tasks without tools: {} in {:.2f} s, {:.3f} ms each (launch, slot, "
      "request, reply, persisted messages and states)\n",
      sessions, quick, 1000.0 * quick / double(sessions));
  fmt::print("idle sessions: {} more finished, RSS {:.1f} -> {:.1f} MiB, {:.2f} KiB per session\n",
             sessions, before_idle / 1024.0, idle_rss / 1024.0,
             double(idle_rss - before_idle) / double(sessions));
  std::filesystem::remove_all(dir);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  int tasks = 200, sessions = 1000;
  std::string workspace = TROUPE_SOURCE_DIR;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--tasks")
      tasks = std::atoi(argv[i + 1]);
    else if (k == "--sessions")
      sessions = std::atoi(argv[i + 1]);
    else if (k == "--workspace")
      workspace = argv[i + 1];
  }
  return troupe::Run(tasks, sessions, workspace);
}
