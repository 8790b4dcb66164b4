#include "cli/demo.h"

#include <fmt/format.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <filesystem>
#include <map>

#include "cli/demo_agents.h"
#include "core/duration_format.h"
#include "core/event_loop.h"
#include "core/ids.h"
#include "engine/scripted_runner.h"
#include "engine/task_manager.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

const char* Paint(TaskState s, bool color) {
  if (!color) return "";
  switch (s) {
    case TaskState::kPending:
      return "\033[33m";
    case TaskState::kRunning:
      return "\033[36m";
    case TaskState::kCompleted:
      return "\033[32m";
    default:
      return "\033[31m";
  }
}

}  // namespace

int RunDemo(const DemoOptions& options) {
  namespace fs = std::filesystem;
  std::string data_dir = options.data_dir;
  bool remove_dir = false;
  if (data_dir.empty()) {
    std::string pattern = (fs::temp_directory_path() / "troupe-demo-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) {
      fmt::print(stderr, "troupe demo: cannot create a temporary directory in {}\n",
                 fs::temp_directory_path().string());
      return 1;
    }
    data_dir = pattern;
    remove_dir = true;
  }
  const std::string db_path = (fs::path(data_dir) / "troupe.db").string();
  auto store = OpenSqliteStore(db_path);
  if (!store.ok()) {
    fmt::print(stderr, "troupe demo: {}\n", store.status().ToString());
    return 1;
  }

  boost::asio::io_context io;
  LoopClock clock(io);
  IdGenerator ids(&clock);
  std::string workspace = fs::absolute(options.workspace).lexically_normal().string();
  if (workspace.size() > 1 && workspace.back() == '/') workspace.pop_back();
  ScriptedRunner runner(
      &clock, [&](const RunRequest& r) { return DemoScript(r.agent, r.workspace, options.speed); });
  TaskManagerOptions tm;
  tm.limits.model_concurrency = {{"mock/scripted", 2}};  // three agents, two slots: one waits
  tm.default_workspace = workspace;
  TaskManager manager(&clock, store->get(), &runner, &ids, tm);
  if (Status s = manager.Recover(); !s.ok()) {
    fmt::print(stderr, "troupe demo: {}\n", s.ToString());
    return 1;
  }

  const bool color = options.color;
  const char* reset = color ? "\033[0m" : "";
  const int64_t t0 = clock.NowMs();
  std::map<std::string, std::string> agent_of;
  fmt::print("troupe demo: 3 agents on {} (model mock/scripted, pool limit 2)\n", workspace);
  fmt::print("store: {}\n\n", db_path);
  manager.events().Subscribe([&](const EngineEvent& e) {
    const TaskRecord& t = *e.task;
    const double at = static_cast<double>(clock.NowMs() - t0) / 1000.0;
    if (e.kind == EngineEvent::Kind::kProgress) {
      fmt::print("  +{:5.2f}s  {}  {:<9}  ... {} (turn {}, tool call {})\n", at, t.id, t.agent,
                 e.progress->tool, t.turns, t.tool_calls);
      return;
    }
    fmt::print("  +{:5.2f}s  {}  {:<9}  {}{}{}\n", at, t.id, t.agent, Paint(t.state, color),
               TaskStateName(t.state), reset);
  });

  struct Job {
    const char* agent;
    const char* description;
    const char* prompt;
  };
  const Job jobs[] = {
      {"explore", "Map the source tree", "Find where the source code lives and how it is split."},
      {"librarian", "Survey the docs", "List the documentation and what each document covers."},
      {"oracle", "Review file sizes",
       "Review the code layout and point at files that grew too big."},
  };
  std::vector<std::string> task_ids;
  for (const Job& job : jobs) {
    LaunchRequest r;
    r.agent = job.agent;
    r.description = job.description;
    r.prompt = job.prompt;
    r.model = "mock/scripted";
    r.owner = "cli";
    r.workspace = workspace;
    auto v = manager.Launch(r);
    if (!v.ok()) {
      fmt::print(stderr, "troupe demo: launch failed: {}\n", v.status().ToString());
      return 1;
    }
    task_ids.push_back(v->task.id);
    if (v->task.state == TaskState::kPending) {
      fmt::print("            {}  {:<9}  waits: {}\n", v->task.id, v->task.agent,
                 v->waiting_reason);
    }
  }
  std::vector<TaskView> finished;
  auto watch = manager.Watch(task_ids, WaitMode::kAll, 60'000,
                             [&](const std::vector<TaskView>& views, bool timed_out) {
                               finished = views;
                               if (timed_out) fmt::print(stderr, "troupe demo: timed out\n");
                               io.stop();
                             });
  if (!watch.ok()) {
    fmt::print(stderr, "troupe demo: {}\n", watch.status().ToString());
    return 1;
  }
  io.run();
  const int64_t wall = clock.NowMs() - t0;

  int64_t sum = 0;
  bool all_ok = finished.size() == task_ids.size();
  fmt::print("\n");
  for (const TaskView& v : finished) {
    const TaskRecord& t = v.task;
    const int64_t ran = t.finished_at_ms - t.started_at_ms;
    sum += ran;
    all_ok = all_ok && t.state == TaskState::kCompleted;
    fmt::print("## {} ({}) - {} in {}, waited {}\n\n{}\n", t.description, t.agent,
               TaskStateName(t.state), FormatDuration(ran),
               FormatDuration(t.started_at_ms - t.created_at_ms),
               t.state == TaskState::kCompleted ? t.result : t.error);
  }
  auto notes = manager.ClaimNotifications("cli");
  fmt::print("notifications delivered: {}\n", notes.ok() ? notes->size() : 0);
  fmt::print("parallel wall time {} vs {} if run one after another ({:.2f}x)\n",
             FormatDuration(wall), FormatDuration(sum),
             wall > 0 ? static_cast<double>(sum) / static_cast<double>(wall) : 0.0);
  store->reset();
  if (remove_dir) {
    std::error_code ignored;
    fs::remove_all(data_dir, ignored);
  }
  return all_ok ? 0 : 1;
}

}  // namespace troupe
