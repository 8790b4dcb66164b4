// TaskManager: isolated tasks in git worktrees (docs/DESIGN.md "Worktrees"). The git work itself
// is agent/worktrees.h's; this file decides when: a worktree is made at launch (so that a
// workspace that is not a git repository is refused at once), made present again when a run
// starts (a continuation, a resumed task), and finished — leftovers committed, branch recorded,
// directory removed — when the task reaches a final state. An interrupted task keeps it.
#include <fmt/format.h>

#include <set>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

constexpr const char* kIsolationNone = "none";
constexpr const char* kIsolationWorktree = "worktree";

Status CheckIsolation(const LaunchRequest& request) {
  if (!request.isolation.empty() && request.isolation != kIsolationNone &&
      request.isolation != kIsolationWorktree) {
    return Status::InvalidArgument(fmt::format("isolation \"{}\" is not one of \"none\", "
                                               "\"worktree\"",
                                               request.isolation))
        .WithField("isolation");
  }
  if (!request.base.empty() && request.isolation != kIsolationWorktree) {
    return Status::InvalidArgument(
               "base names where a worktree starts; it needs isolation \"worktree\"")
        .WithField("base");
  }
  return Status::Ok();
}

}  // namespace

Status TaskManager::PlaceInWorktree(const LaunchRequest& request, bool new_session, Active* a) {
  TROUPE_RETURN_IF_ERROR(CheckIsolation(request));
  TaskRecord& t = a->rec;
  if (!new_session) {
    // A continuation works where its session worked: the worktree of the session's last task.
    TaskFilter filter;
    filter.session_id = t.session_id;
    filter.limit = 1;
    std::vector<TaskView> previous;
    TROUPE_ASSIGN_OR_RETURN(previous, List(filter));
    const std::string before = previous.empty() ? "" : previous.front().task.worktree_json;
    if (before.empty()) {
      if (request.isolation == kIsolationWorktree) {
        return Status::InvalidArgument(
                   fmt::format("session {} ran in its workspace, not in a worktree; isolation is "
                               "chosen when a session starts",
                               t.session_id))
            .WithField("isolation");
      }
      return Status::Ok();
    }
    TaskWorktree worktree;
    TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(before));
    // What it found is the previous task's; this one starts afresh on the same branch.
    worktree.commits.clear();
    worktree.diff_stat.clear();
    worktree.auto_committed = false;
    worktree.finish_error.clear();
    t.worktree_json = TaskWorktreeJson(worktree);
    a->workspace = worktree.workspace();
    return Status::Ok();
  }
  if (request.isolation != kIsolationWorktree) return Status::Ok();
  if (options_.worktrees == nullptr) {
    return Status::FailedPrecondition("this troupe cannot make worktrees; launch without isolation")
        .WithField("isolation");
  }
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, options_.worktrees->Create(a->workspace, request.base, t.id));
  t.worktree_json = TaskWorktreeJson(worktree);
  a->workspace = worktree.workspace();
  return Status::Ok();
}

Status TaskManager::ReopenWorktree(Active* a) {
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(a->rec.worktree_json));
  if (options_.worktrees == nullptr) {
    return Status::FailedPrecondition(
        fmt::format("task {} runs in worktree {}, but this troupe cannot make worktrees", a->rec.id,
                    worktree.path));
  }
  Status present = options_.worktrees->Ensure(&worktree);
  if (!present.ok()) {
    return present.WithContext(fmt::format("reopening the worktree of branch {}", worktree.branch));
  }
  a->rec.worktree_json = TaskWorktreeJson(worktree);
  a->workspace = worktree.workspace();
  return Status::Ok();
}

void TaskManager::FinishWorktree(TaskRecord* t) {
  Result<TaskWorktree> worktree = ParseTaskWorktree(t->worktree_json);
  if (!worktree.ok() || options_.worktrees == nullptr) return;
  if (!worktree->removed) {
    options_.worktrees->Finish(&*worktree, fmt::format("troupe: {} (task {}, {})", t->description,
                                                       t->id, TaskStateName(t->state)));
  }
  t->worktree_json = TaskWorktreeJson(*worktree);
  if (t->state == TaskState::kCompleted) {
    t->result += (t->result.empty() ? "" : "\n\n") + WorktreeSummary(*worktree);
  }
}

Result<std::string> TaskManager::WorktreeDiff(const std::string& task_id) {
  TaskView view;
  TROUPE_ASSIGN_OR_RETURN(view, Get(task_id));
  if (view.task.worktree_json.empty()) {
    return Status::NotFound(fmt::format(
        "task {} ran in its workspace, not in a worktree: it has no branch to diff", task_id));
  }
  if (options_.worktrees == nullptr)
    return Status::FailedPrecondition("this troupe cannot read worktrees");
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(view.task.worktree_json));
  return options_.worktrees->Diff(worktree);
}

Result<ApplyReport> TaskManager::ApplyWorktree(const std::string& task_id) {
  TaskView view;
  TROUPE_ASSIGN_OR_RETURN(view, Get(task_id));
  if (view.task.worktree_json.empty()) {
    return Status::NotFound(fmt::format(
        "task {} ran in its workspace, not in a worktree: its change is there already", task_id));
  }
  if (!IsFinal(view.task.state)) {
    return Status::FailedPrecondition(
        fmt::format("task {} is {}; apply its branch once it has ended", task_id,
                    TaskStateName(view.task.state)));
  }
  if (options_.worktrees == nullptr)
    return Status::FailedPrecondition("this troupe cannot apply worktrees");
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(view.task.worktree_json));
  return options_.worktrees->Apply(worktree,
                                   fmt::format("troupe: apply {} ({}, task {})", worktree.branch,
                                               view.task.description, task_id));
}

Result<std::vector<std::string>> TaskManager::RemoveOrphanedWorktrees() {
  if (options_.worktrees == nullptr) return std::vector<std::string>{};
  TaskFilter filter;
  filter.states = {TaskState::kPending, TaskState::kRunning, TaskState::kInterrupted};
  std::vector<TaskView> owners;
  TROUPE_ASSIGN_OR_RETURN(owners, List(filter));
  std::set<std::string> keep;
  for (const TaskView& owner : owners) {
    if (owner.task.worktree_json.empty()) continue;
    Result<TaskWorktree> worktree = ParseTaskWorktree(owner.task.worktree_json);
    if (worktree.ok()) keep.insert(worktree->path);
  }
  return options_.worktrees->RemoveOrphans(keep);
}

}  // namespace troupe
