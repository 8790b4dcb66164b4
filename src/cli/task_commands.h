// The task commands: run, continue, ps, show, output, wait, cancel (docs/CLI.md). Each returns
// the process exit code (cli/exit_codes.h) and reports errors through its CommandEnv.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli/command_env.h"

namespace troupe {

struct RunCommandOptions {
  std::string agent;
  std::string model;
  std::string description;
  std::string workspace;  // "" = the current directory
  bool wait = false;
  int64_t timeout_ms = 0;  // with --wait; 0 = no limit
  bool json = false;
  std::vector<std::string> prompt;  // words; none or "-" = stdin
  // Budgets (0 = not given): they can only lower the configured ones.
  int64_t max_tokens = 0;
  double max_cost_usd = 0;
  double tree_max_cost_usd = 0;
  int64_t tree_max_tasks = -1;  // -1 = not given; 0 = no cap
  std::string isolation;        // "" = the agent's; "none" or "worktree"
  std::string base;             // with worktree isolation: where the branch starts ("" = HEAD)
};
int RunRunCommand(CommandEnv& env, const RunCommandOptions& options);

struct ContinueCommandOptions {
  std::string session;  // ses_… (or a task id, whose session is continued)
  std::string description;
  bool wait = false;
  int64_t timeout_ms = 0;
  bool json = false;
  std::vector<std::string> prompt;
};
int RunContinueCommand(CommandEnv& env, const ContinueCommandOptions& options);

// Finished tasks `ps` shows without --all.
inline constexpr int kPsFinishedShown = 10;

struct PsCommandOptions {
  bool all = false;
  bool watch = false;
  bool json = false;
  std::string parent;
};
int RunPsCommand(CommandEnv& env, const PsCommandOptions& options);

struct ShowCommandOptions {
  std::string id;  // bg_… or ses_…
  bool json = false;
};
int RunShowCommand(CommandEnv& env, const ShowCommandOptions& options);

struct OutputCommandOptions {
  std::string id;
  bool wait = false;
  bool full = false;
  bool json = false;
  int64_t timeout_ms = 0;
};
int RunOutputCommand(CommandEnv& env, const OutputCommandOptions& options);

struct WaitCommandOptions {
  std::vector<std::string> ids;  // none = every pending or running task
  bool any = false;
  int64_t timeout_ms = 0;
  bool json = false;
  bool quiet = false;  // no progress on stderr
};
int RunWaitCommand(CommandEnv& env, const WaitCommandOptions& options);

struct CancelCommandOptions {
  std::vector<std::string> ids;
  bool all = false;
  std::string reason;
  bool json = false;
};
int RunCancelCommand(CommandEnv& env, const CancelCommandOptions& options);

// The end of a wait: the tasks as the daemon has them now (in the order asked), the order in
// which they ended, and whether the time limit passed first.
struct WaitOutcome {
  std::vector<nlohmann::json> tasks;
  std::vector<std::string> ended_order;
  bool timed_out = false;
};

// Follows GET /v1/events?task=… until every task (or, with `any`, one) has ended or
// `timeout_ms` passed (0 = no limit), printing live progress on stderr when `progress`.
Result<WaitOutcome> WaitForTasks(CommandEnv& env, DaemonClient& client,
                                 const std::vector<std::string>& ids, bool any, int64_t timeout_ms,
                                 bool progress);

}  // namespace troupe
