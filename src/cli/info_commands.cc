#include "cli/info_commands.h"

#include <fmt/format.h>

#include <chrono>
#include <thread>

#include "cli/completion.h"
#include "cli/daemon_launcher.h"
#include "cli/exit_codes.h"
#include "cli/task_format.h"
#include "core/duration_format.h"
#include "daemon/daemon_lock.h"

namespace troupe {
namespace {

using json = nlohmann::json;

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int RunPoolsCommand(CommandEnv& env, const ListCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> pools = (*client)->Get("/v1/pools");
  if (!pools.ok()) return env.FailRequest(pools.status());
  if (options.json) {
    env.PrintJson(*pools);
  } else {
    env.out() << PoolsText(*pools, env.Table());
    env.out().flush();
  }
  return kExitOk;
}

int RunBudgetsCommand(CommandEnv& env, const ListCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> spend = (*client)->Get("/v1/budgets");
  if (!spend.ok()) return env.FailRequest(spend.status());
  if (options.json) {
    env.PrintJson(*spend);
  } else {
    env.out() << BudgetsText(*spend, env.Table());
    env.out().flush();
  }
  return kExitOk;
}

int RunAgentsCommand(CommandEnv& env, const ListCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> agents = (*client)->Get("/v1/agents");
  if (!agents.ok()) return env.FailRequest(agents.status());
  if (options.json) {
    env.PrintJson(*agents);
  } else {
    env.out() << AgentsTable(*agents, env.Table());
    env.out().flush();
  }
  return kExitOk;
}

// One block per server: its name, transport, state and target, its tools (the names models see),
// and why it failed or is blocked.
std::string McpServersText(const json& answer) {
  std::string out;
  const json& servers = answer.value("servers", json::array());
  if (servers.empty()) return "no MCP servers are configured (see mcp_servers in docs/CONFIG.md)\n";
  for (const json& s : servers) {
    const json& tools = s.value("tools", json::array());
    std::string tools_text = s.value("state", "") == "ready"
                                 ? std::to_string(tools.size()) + " tools"
                                 : "tools listed when first used";
    out += fmt::format("{}  {}  {}  {}  {}\n", s.value("name", ""), s.value("transport", ""),
                       s.value("state", ""), tools_text, s.value("target", ""));
    if (!tools.empty()) {
      std::string names;
      for (const json& t : tools) names += (names.empty() ? "" : ", ") + t.value("name", "");
      out += "  " + names + "\n";
    }
    if (!s.value("error", "").empty()) out += "  error: " + s.value("error", "") + "\n";
  }
  return out;
}

int RunMcpServersCommand(CommandEnv& env, const ListCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> servers = (*client)->Get("/v1/mcp-servers");
  if (!servers.ok()) return env.FailRequest(servers.status());
  if (options.json) {
    env.PrintJson(*servers);
  } else {
    env.out() << McpServersText(*servers);
    env.out().flush();
  }
  return kExitOk;
}

int RunEventsCommand(CommandEnv& env, const EventsCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  std::string target = "/v1/events";
  if (options.after >= 0) target = WithQuery(target, "after", std::to_string(options.after));
  if (!options.tasks.empty()) {
    std::string tasks;
    for (const std::string& t : options.tasks) tasks += (tasks.empty() ? "" : ",") + t;
    target = WithQuery(target, "task", tasks);
  }
  if (options.no_progress) target = WithQuery(target, "progress", "0");
  int64_t seen = 0;
  auto on_event = [&](const SseEvent& event) {
    if (options.json) {
      env.out() << EventJson(event).dump(-1, ' ', false, json::error_handler_t::replace) << "\n";
    } else {
      env.out() << EventLine(event, WallMs()) << "\n";
    }
    env.out().flush();
    ++seen;
    return options.count <= 0 || seen < options.count;
  };
  EventsOptions events;
  events.timeout_ms = options.duration_ms;
  const Status streamed = (*client)->Events(target, on_event, events);
  if (streamed.ok() ||
      (options.duration_ms > 0 && streamed.code() == StatusCode::kDeadlineExceeded)) {
    return kExitOk;
  }
  return env.FailRequest(streamed);
}

int RunStopCommand(CommandEnv& env, const StopCommandOptions& options) {
  env.DisableAutostart();
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) {
    if (client.status().code() == StatusCode::kUnavailable) {
      env.out() << "no daemon is running\n";
      return kExitOk;
    }
    return env.Fail(client.status());
  }
  DaemonClient& c = **client;
  Result<json> health = c.Get("/v1/health");
  const int64_t pid = health.ok() ? health->value("pid", int64_t{0}) : 0;
  Result<json> stopping = c.Post("/v1/shutdown", json::object());
  if (!stopping.ok() && c.last_error().http_status != 0) return env.FailRequest(stopping.status());
  // The daemon lets go of the lock file last, after the store is flushed; its process ends a
  // moment later (exit handlers, a sanitizer's report).
  const auto deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(options.timeout_ms);
  while (true) {
    Result<std::optional<DaemonAddress>> running = ReadRunningDaemon(c.paths().lock);
    const bool lock_released = running.ok() && !running->has_value();
    if (lock_released && (pid <= 0 || !ProcessRunning(static_cast<pid_t>(pid)))) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      return env.Error(kExitTimeout,
                       fmt::format("the daemon{} is still running after {}",
                                   pid > 0 ? fmt::format(" (pid {})", pid) : "",
                                   FormatDuration(options.timeout_ms)),
                       fmt::format("see {}", c.paths().log));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  env.out() << (pid > 0 ? fmt::format("stopped the daemon (pid {})\n", pid)
                        : std::string("stopped the daemon\n"));
  env.out().flush();
  return kExitOk;
}

int RunCompletionCommand(CommandEnv& env, const CompletionCommandOptions& options) {
  const std::string_view script = CompletionScript(options.shell);
  if (script.empty()) {
    return env.Usage(
        fmt::format("no completion for \"{}\"; bash and zsh are supported", options.shell));
  }
  env.out() << script;
  env.out().flush();
  return kExitOk;
}

}  // namespace troupe
