// TaskManager: reading tasks, waiting for them, and claiming their notifications.
#include <fmt/format.h>

#include <memory>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

TaskView TaskManager::ViewOfFinished(TaskRecord record) const {
  TaskView view;
  view.task = std::move(record);
  return view;
}

Result<std::optional<TaskRecord>> TaskManager::StoredTask(const std::string& task_id) {
  // A task whose latest write waits for the store is answered as memory holds it.
  if (auto it = unsaved_tasks_.find(task_id); it != unsaved_tasks_.end()) {
    return std::optional<TaskRecord>(it->second);
  }
  return store_->GetTask(task_id);
}

Result<TaskView> TaskManager::Get(const std::string& task_id) {
  // Live tasks are answered from memory: their progress counters are newer than the store's.
  if (auto it = active_.find(task_id); it != active_.end()) return ViewOf(*it->second);
  std::optional<TaskRecord> stored;
  TROUPE_ASSIGN_OR_RETURN(stored, StoredTask(task_id));
  if (!stored) return Status::NotFound(fmt::format("task {} does not exist", task_id));
  return ViewOfFinished(std::move(*stored));
}

Result<std::vector<TaskView>> TaskManager::List(const TaskFilter& filter) {
  std::vector<TaskRecord> records;
  TROUPE_ASSIGN_OR_RETURN(records, store_->ListTasks(filter));
  std::vector<TaskView> out;
  out.reserve(records.size());
  for (auto& r : records) {
    if (auto it = active_.find(r.id); it != active_.end()) {
      out.push_back(ViewOf(*it->second));
    } else if (auto u = unsaved_tasks_.find(r.id); u != unsaved_tasks_.end()) {
      out.push_back(ViewOfFinished(u->second));
    } else {
      out.push_back(ViewOfFinished(std::move(r)));
    }
  }
  return out;
}

Result<TaskManager::WatchId> TaskManager::Watch(const std::vector<std::string>& task_ids,
                                                WaitMode mode, int64_t timeout_ms,
                                                WatchCallback callback) {
  if (task_ids.empty()) return Status::InvalidArgument("no task ids to wait for");
  auto w = std::make_unique<Watcher>(clock_);
  w->mode = mode;
  w->callback = std::move(callback);
  for (const auto& id : task_ids) {
    if (active_.count(id)) {
      w->open.insert(id);
    } else {
      std::optional<TaskRecord> stored;
      TROUPE_ASSIGN_OR_RETURN(stored, StoredTask(id));
      if (!stored) return Status::NotFound(fmt::format("task {} does not exist", id));
    }
    w->ids.push_back(id);
  }
  const WatchId wid = next_watch_++;
  const bool done = w->open.empty() || (mode == WaitMode::kAny && w->open.size() < w->ids.size());
  if (done) {
    // Already satisfied: answer on a later turn, as promised.
    w->timeout.Start(0, [this, wid] { FireWatch(wid, false); });
  } else {
    for (const auto& id : w->open) watchers_by_task_.emplace(id, wid);
    if (timeout_ms > 0) w->timeout.Start(timeout_ms, [this, wid] { FireWatch(wid, true); });
  }
  watchers_.emplace(wid, std::move(w));
  return wid;
}

void TaskManager::CancelWatch(WatchId id) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  UnindexWatch(id, *it->second);
  watchers_.erase(it);
}

void TaskManager::UnindexWatch(WatchId id, const Watcher& w) {
  for (const auto& task_id : w.open) {
    auto [b, e] = watchers_by_task_.equal_range(task_id);
    for (auto x = b; x != e; ++x) {
      if (x->second == id) {
        watchers_by_task_.erase(x);
        break;
      }
    }
  }
}

void TaskManager::NotifyWatchers(const std::string& task_id) {
  auto [b, e] = watchers_by_task_.equal_range(task_id);
  if (b == e) return;
  std::vector<WatchId> ids;
  for (auto x = b; x != e; ++x) ids.push_back(x->second);
  watchers_by_task_.erase(b, e);
  for (WatchId wid : ids) {
    auto it = watchers_.find(wid);
    if (it == watchers_.end()) continue;
    Watcher& w = *it->second;
    w.open.erase(task_id);
    if (w.mode == WaitMode::kAny || w.open.empty()) FireWatch(wid, false);
  }
}

void TaskManager::FireWatch(WatchId id, bool timed_out) {
  auto it = watchers_.find(id);
  if (it == watchers_.end()) return;
  std::unique_ptr<Watcher> w = std::move(it->second);
  watchers_.erase(it);
  UnindexWatch(id, *w);
  std::vector<TaskView> views;
  for (const auto& task_id : w->ids) {
    if (auto v = Get(task_id); v.ok()) views.push_back(std::move(*v));
  }
  w->callback(views, timed_out);
}

Result<std::vector<NotificationRecord>> TaskManager::ClaimNotifications(
    const std::string& recipient) {
  std::vector<NotificationRecord> pending;
  TROUPE_ASSIGN_OR_RETURN(pending, store_->ListUndelivered(recipient));
  if (pending.empty()) return pending;
  const int64_t now = clock_->WallMs();
  std::vector<NotificationRecord> claimed;
  BatchScope batch(this);
  const size_t mark = WriteMark();
  Status s;
  for (auto& n : pending) {
    auto marked = std::make_shared<bool>(false);  // outlives this call when the write is retried
    s = Write([id = n.id, now, marked](Store* st) -> Status {
      Result<bool> r = st->MarkDelivered(id, now);
      if (r.ok()) *marked = *r;
      return r.status();
    });
    if (!s.ok()) break;
    if (!*marked) continue;
    n.delivered_at_ms = now;
    claimed.push_back(std::move(n));
  }
  if (!s.ok()) {
    DropWritesSince(mark);  // nothing is marked: the rows stay claimable
    return s;
  }
  return claimed;  // committed when `batch` closes, before the caller sees the rows
}

void TaskManager::ReportRateLimit(const std::string& provider, int64_t delay_ms) {
  scheduler_.CoolDownProvider(provider, clock_->NowMs() + delay_ms);
}

}  // namespace troupe
