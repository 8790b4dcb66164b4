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

ApiResponse TaskDiffResponse(TaskManager* manager, const std::string& task_id) {
  Result<TaskView> view = manager->Get(task_id);
  if (!view.ok()) return ApiErrorResponse(ApiErrorFromStatus(view.status()));
  Result<std::string> diff = manager->WorktreeDiff(task_id);
  if (!diff.ok()) return ApiErrorResponse(ApiErrorFromStatus(diff.status()));
  Result<TaskWorktree> w = ParseTaskWorktree(view->task.worktree_json);
  return Json(200, {{"task_id", task_id},
                    {"branch", w.ok() ? w->branch : ""},
                    {"base", w.ok() ? w->base : ""},
                    {"diff", *diff}});
}

ApiResponse TaskApplyResponse(TaskManager* manager, const std::string& task_id) {
  Result<ApplyReport> report = manager->ApplyWorktree(task_id);
  if (!report.ok()) return ApiErrorResponse(ApiErrorFromStatus(report.status()));
  if (!report->conflicts.empty()) {
    json body = ApiErrorJson(ApiError::Of(409, "conflict", report->message));
    body["error"]["conflicts"] = report->conflicts;
    return Json(409, body);
  }
  return Json(200, {{"task_id", task_id},
                    {"branch", BranchOf(manager, task_id)},
                    {"applied", report->applied},
                    {"already_applied", report->already_applied},
                    {"merge_commit", report->merge_commit},
                    {"message", report->message}});
}

}  // namespace troupe
