#include "rest/task_worktree_json.h"

#include "http/api_error.h"
#include "rest/task_json.h"

namespace troupe {

using json = nlohmann::json;

namespace {

ApiResponse Json(int status, const json& body) {
  ApiResponse r;
  r.status = status;
  r.body = JsonBody(body);
  return r;
}

std::string BranchOf(TaskManager* manager, const std::string& task_id) {
  Result<TaskView> view = manager->Get(task_id);
  if (!view.ok()) return "";
  Result<TaskWorktree> w = ParseTaskWorktree(view->task.worktree_json);
  return w.ok() ? w->branch : "";
}

}  // namespace

json WorktreeJson(const std::string& worktree_json) {
  if (worktree_json.empty()) return nullptr;
  Result<TaskWorktree> w = ParseTaskWorktree(worktree_json);
  if (!w.ok()) return {{"error", w.status().message()}};
  json j = {{"branch", w->branch},       {"base", w->base},
            {"repository", w->repo},     {"path", w->path},
            {"removed", w->removed},     {"commits", w->commits},
            {"diff_stat", w->diff_stat}, {"auto_committed", w->auto_committed}};
  if (!w->finish_error.empty()) j["error"] = w->finish_error;
  return j;
}

void TaskDiffResponseAsync(TaskManager* manager, const std::string& task_id, RespondWith respond) {
  Result<TaskView> view = manager->Get(task_id);
  if (!view.ok()) return respond(ApiErrorResponse(ApiErrorFromStatus(view.status())));
  Result<TaskWorktree> w = ParseTaskWorktree(view->task.worktree_json);
  const std::string branch = w.ok() ? w->branch : "";
  const std::string base = w.ok() ? w->base : "";
  manager->WorktreeDiffAsync(task_id, [task_id, branch, base,
                                       respond = std::move(respond)](Result<std::string> diff) {
    if (!diff.ok()) return respond(ApiErrorResponse(ApiErrorFromStatus(diff.status())));
    respond(Json(200, {{"task_id", task_id}, {"branch", branch}, {"base", base}, {"diff", *diff}}));
  });
}

void TaskApplyResponseAsync(TaskManager* manager, const std::string& task_id, RespondWith respond) {
  manager->ApplyWorktreeAsync(
      task_id, [manager, task_id, respond = std::move(respond)](Result<ApplyReport> report) {
        if (!report.ok()) return respond(ApiErrorResponse(ApiErrorFromStatus(report.status())));
        if (!report->conflicts.empty()) {
          json body = ApiErrorJson(ApiError::Of(409, "conflict", report->message));
          body["error"]["conflicts"] = report->conflicts;
          return respond(Json(409, body));
        }
        respond(Json(200, {{"task_id", task_id},
                           {"branch", BranchOf(manager, task_id)},
                           {"applied", report->applied},
                           {"already_applied", report->already_applied},
                           {"merge_commit", report->merge_commit},
                           {"message", report->message}}));
      });
}

}  // namespace troupe
