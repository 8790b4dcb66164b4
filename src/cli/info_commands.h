// The commands that show the daemon's state rather than one task's: pools, agents, events, and
// `completion`, which needs no daemon.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/command_env.h"

namespace troupe {

struct ListCommandOptions {
  bool json = false;
};
int RunPoolsCommand(CommandEnv& env, const ListCommandOptions& options);
// `troupe budgets`: today's spend, the budgets and the trees at work (GET /v1/budgets).
int RunBudgetsCommand(CommandEnv& env, const ListCommandOptions& options);
int RunAgentsCommand(CommandEnv& env, const ListCommandOptions& options);
// `troupe mcp-servers`: GET /v1/mcp-servers as text or JSON.
int RunMcpServersCommand(CommandEnv& env, const ListCommandOptions& options);
std::string McpServersText(const nlohmann::json& answer);

struct EventsCommandOptions {
  int64_t after = -1;  // -1: live events only; N: replay the stored events after N first
  std::vector<std::string> tasks;
  bool no_progress = false;
  bool json = false;
  int64_t count = 0;        // stop after this many events (0 = no limit)
  int64_t duration_ms = 0;  // stop after this long (0 = until Ctrl-C or the daemon stops)
};
int RunEventsCommand(CommandEnv& env, const EventsCommandOptions& options);

struct StopCommandOptions {
  int64_t timeout_ms = 30'000;
};
// POST /v1/shutdown, then waits until the daemon has let go of its data directory. Never starts
// a daemon; "no daemon is running" is not an error.
int RunStopCommand(CommandEnv& env, const StopCommandOptions& options);

struct CompletionCommandOptions {
  std::string shell;  // bash or zsh
};
int RunCompletionCommand(CommandEnv& env, const CompletionCommandOptions& options);

}  // namespace troupe
