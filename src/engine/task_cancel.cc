// Cancelling: one task (its delegated tasks first), every task of an owner, or the tasks a
// session delegated. A launch whose worktree is still being made is marked, and ends cancelled
// when git returns (engine/task_isolation.cc).
#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

Result<TaskView> TaskManager::Cancel(const std::string& task_id, const std::string& reason) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  if (it == active_.end()) {
    std::optional<TaskRecord> stored;
    TROUPE_ASSIGN_OR_RETURN(stored, StoredTask(task_id));
    if (!stored) return Status::NotFound(fmt::format("task {} does not exist", task_id));
    return ViewOfFinished(std::move(*stored));  // already final or interrupted: nothing to stop
  }
  const std::string why = reason.empty() ? "cancelled by caller" : reason;
  // Children first: nothing a task delegated keeps running once the task itself is gone.
  CancelChildrenInternal(it->second->rec.session_id, "parent task " + task_id + " was cancelled");
  it = active_.find(task_id);  // callbacks during the cascade may have ended it
  if (it != active_.end()) {
    Active* a = it->second.get();
    // Abort the request and kill tool processes before the slot is released.
    if (a->run) a->run->Cancel();
    a->run.reset();
    Transition(a, TaskState::kCancelled, why, "");
  }
  return Get(task_id);
}

std::vector<TaskView> TaskManager::CancelAll(const std::string& owner) {
  BatchScope batch(this);
  CancelPreparing([&](const Preparing& p) { return owner.empty() || p.owner == owner; });
  std::vector<std::string> ids;
  for (const auto& [id, a] : active_) {
    if (owner.empty() || a->rec.owner == owner) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<TaskView> out;
  for (const auto& id : ids) {
    if (!active_.count(id)) continue;  // ended by an earlier cascade
    TaskView before = ViewOf(*active_.at(id));
    if (Cancel(id, "cancelled by caller (all)").ok()) out.push_back(std::move(before));
  }
  return out;
}

std::vector<TaskView> TaskManager::CancelChildren(const std::string& parent_session_id) {
  BatchScope batch(this);
  return CancelChildrenInternal(parent_session_id,
                                "cancelled with its parent session " + parent_session_id);
}

std::vector<TaskView> TaskManager::CancelChildrenInternal(const std::string& parent_session_id,
                                                          const std::string& reason) {
  CancelPreparing([&](const Preparing& p) { return p.parent_session_id == parent_session_id; });
  std::vector<std::string> ids;
  for (const auto& [id, a] : active_) {
    if (a->rec.parent_session_id == parent_session_id) ids.push_back(id);
  }
  std::sort(ids.begin(), ids.end());
  std::vector<TaskView> out;
  for (const auto& id : ids) {
    auto it = active_.find(id);
    if (it == active_.end()) continue;
    TaskView before = ViewOf(*it->second);
    if (Cancel(id, reason).ok()) out.push_back(std::move(before));  // recurses into grandchildren
  }
  return out;
}

}  // namespace troupe
