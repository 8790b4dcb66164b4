// The REST shapes of isolated tasks (docs/HTTP_API.md "Worktrees"): the `worktree` object of a
// task, GET /v1/tasks/{id}/diff and POST /v1/tasks/{id}/apply.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/task_manager.h"
#include "http/http_exchange.h"

namespace troupe {

// A task's stored worktree as the API shows it (branch, base, repository, path, removed, commits,
// diff_stat, auto_committed); null for "" (a task that ran in its workspace: the task object
// then has no `worktree`).
nlohmann::json WorktreeJson(const std::string& worktree_json);

// Both answer through `respond`, once, after the git work ran on the manager's blocking executor
// (a later loop turn); at once for a request that needs no git (an unknown task, one without a
// worktree).
using RespondWith = std::function<void(ApiResponse)>;
// 200 {"task_id", "branch", "base", "diff"}; 404 when the task ran without a worktree.
void TaskDiffResponseAsync(TaskManager* manager, const std::string& task_id, RespondWith respond);
// 200 {"task_id", "branch", "applied", "already_applied", "merge_commit", "message"} when it was
// merged or there was nothing to merge; 409 conflict naming the files (also as
// error.conflicts) when it would conflict — nothing in the workspace changed then.
void TaskApplyResponseAsync(TaskManager* manager, const std::string& task_id, RespondWith respond);

}  // namespace troupe
