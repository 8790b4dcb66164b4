#include "cli/worktree_commands.h"

#include <nlohmann/json.hpp>

#include "cli/daemon_client.h"
#include "cli/exit_codes.h"
#include "cli/task_format.h"

namespace troupe {

using json = nlohmann::json;

namespace {

// A refused diff or apply. The generic hints would mislead here: a "conflict" is of branches (its
// message already says how to merge by hand), not a busy session; "not found" may be a task that
// ran without a worktree.
int FailWorktreeRequest(CommandEnv& env, DaemonClient* client, const Status& status) {
  const std::string& code = client->last_error().code;
  if (code == "conflict") return env.Fail(status);
  if (code == "not_found") {
    return env.Fail(status,
                    "only tasks launched with --isolation worktree have a branch; `troupe ps "
                    "--all` lists the tasks");
  }
  return env.FailRequest(status);
}

}  // namespace

int RunDiffCommand(CommandEnv& env, const WorktreeCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> diff = (*client)->Get("/v1/tasks/" + options.id + "/diff");
  if (!diff.ok()) return FailWorktreeRequest(env, *client, diff.status());
  if (options.json) {
    env.PrintJson(*diff);
    return kExitOk;
  }
  const std::string text = JsonString(*diff, "diff");
  env.out() << text;
  if (text.empty()) {
    env.out() << "(no change on " << JsonString(*diff, "branch") << ")\n";
  } else if (text.back() != '\n') {
    env.out() << "\n";
  }
  return kExitOk;
}

int RunApplyCommand(CommandEnv& env, const WorktreeCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> applied = (*client)->Post("/v1/tasks/" + options.id + "/apply", json::object());
  if (!applied.ok()) return FailWorktreeRequest(env, *client, applied.status());
  if (options.json) {
    env.PrintJson(*applied);
  } else {
    env.out() << JsonString(*applied, "message") << "\n";
  }
  return kExitOk;
}

}  // namespace troupe
