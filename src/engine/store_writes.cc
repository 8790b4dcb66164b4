// TaskManager: writing to the store, and what happens when the store fails (docs/DESIGN.md
// "When the store fails").
//
// Every write of a batch is done in the batch's transaction and also kept, as a closure over
// copies of its records, in the batch's journal. When the batch commits, the journal is
// forgotten. When it is lost (a write or the commit failed: SQLite rolls back the whole
// transaction), its journal — minus the writes of operations that were refused because of the
// failure — joins `unsaved_`, which is written again at once in a transaction of its own and,
// if the store still fails, on a timer with backoff. Meanwhile the engine is degraded: what it
// already promised goes on in memory (a running task still finishes, its final state is held
// and answered from memory), and what it has not promised yet (a launch, a message, a claim of
// notifications) is refused with the store's error, so nothing acknowledged exists only in
// memory except the effects of tasks already running.
#include <fmt/format.h>

#include <algorithm>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

// Whether a failed write says the store cannot write (full disk, I/O error, locked, out of
// memory), rather than that the write itself was wrong (a missing parent row, a duplicate).
bool IsStoreFault(const Status& s) {
  switch (s.code()) {
    case StatusCode::kIoError:
    case StatusCode::kUnavailable:
    case StatusCode::kResourceExhausted:
    case StatusCode::kCorruption:
    case StatusCode::kInternal:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status TaskManager::Write(StoreWrite write, std::shared_ptr<const TaskRecord> task,
                          std::shared_ptr<const MessageRecord> message) {
  Status s;
  if (!unsaved_.empty()) {
    s = StoreUnavailable();  // older writes first: this one waits behind them
  } else if (batch_failed_) {
    s = StoreUnavailable();  // the transaction is lost; this write is kept for the retry
  } else {
    if (!batch_open_) {
      s = store_->Begin();
      batch_open_ = s.ok();
    }
    if (s.ok()) s = write(store_);
    if (!s.ok()) {
      batch_failed_ = true;
      if (IsStoreFault(s)) {
        StoreFailed(s);
        s = StoreUnavailable();  // typed: the API answers 503, with SQLite's words
      }
    }
  }
  journal_.push_back({std::move(write), std::move(task), std::move(message), s.ok()});
  return s;
}

void TaskManager::DropWritesSince(size_t mark) {
  if (mark < journal_.size()) journal_.resize(mark);
  // What was already done in the transaction must not be committed without the rest.
  if (batch_open_) batch_failed_ = true;
}

Status TaskManager::StoreUnavailable() const {
  const Status& e = health_.last_error;
  // IoError, not Unavailable: the API tells "cannot write its database" (503 store_unavailable)
  // apart from "shutting down" (503 unavailable) by the code.
  return Status::IoError(
      fmt::format("troupe cannot save to its database: {}; what is running goes on and is "
                  "saved when the database can be written again",
                  e.ok() ? std::string("an earlier write failed") : e.message()));
}

void TaskManager::StoreFailed(const Status& error) {
  ++store_failures_;
  health_.last_error = error;
  health_.last_error_wall_ms = clock_->WallMs();
}

void TaskManager::CommitBatch() {
  if (batch_open_) {
    batch_open_ = false;
    if (batch_failed_) {
      store_->Rollback();
    } else if (Status s = store_->Commit(); !s.ok()) {
      StoreFailed(s);
      store_->Rollback();
      batch_failed_ = true;
    }
  }
  const bool lost = batch_failed_ || !unsaved_.empty();
  batch_failed_ = false;
  if (!lost) {
    journal_.clear();
    return;
  }
  for (JournalEntry& e : journal_) {
    if (e.task) unsaved_tasks_[e.task->id] = *e.task;
    unsaved_.push_back(std::move(e));
  }
  journal_.clear();
  // Once right away: a batch lost to one refused operation (a caller's bad input) is whole
  // again at once. When the store itself fails, the timer takes over.
  if (!retry_timer_.armed()) (void)RetryUnsavedWrites();
}

Status TaskManager::RetryUnsavedWrites() {
  if (unsaved_.empty()) return Status::Ok();
  if (batch_open_ || batch_depth_ > 0) return Status::FailedPrecondition("inside a batch");
  retry_timer_.Cancel();
  Status s = store_->Begin();
  for (size_t i = 0; s.ok() && i < unsaved_.size(); ++i) s = unsaved_[i].write(store_);
  if (s.ok()) s = store_->Commit();
  if (!s.ok()) {
    store_->Rollback();
    StoreFailed(s);
    if (!health_.degraded) {
      health_.degraded = true;
      health_.since_wall_ms = clock_->WallMs();
      retry_delay_ms_ = options_.store_retry_initial_ms;
      if (options_.store_health_changed) options_.store_health_changed(store_health());
    } else {
      retry_delay_ms_ = std::min(retry_delay_ms_ * 2, options_.store_retry_max_ms);
    }
    ScheduleRetry();
    return StoreUnavailable();
  }
  StoreHealth healed = store_health();  // what was saved, for the report below
  healed.degraded = false;
  std::vector<TaskRecord> ended;
  for (auto& [id, t] : unsaved_tasks_) {
    if (IsFinal(t.state) && !t.parent_session_id.empty()) ended.push_back(t);
  }
  unsaved_.clear();
  unsaved_tasks_.clear();
  if (health_.degraded) {
    health_.degraded = false;
    if (options_.store_health_changed) options_.store_health_changed(healed);
    health_.since_wall_ms = 0;
  }
  // Parents whose children ended while nothing could be saved were not woken then.
  if (options_.wake_idle_parents && !ended.empty()) {
    BatchScope batch(this);
    for (const TaskRecord& t : ended) MaybeWakeParent(t.parent_session_id, t.state);
  }
  return Status::Ok();
}

void TaskManager::ScheduleRetry() {
  retry_timer_.Start(retry_delay_ms_, [this] {
    if (batch_depth_ > 0) return ScheduleRetry();
    (void)RetryUnsavedWrites();
  });
}

StoreHealth TaskManager::store_health() const {
  StoreHealth h = health_;
  h.failures = store_failures_;
  h.unsaved_writes = unsaved_.size();
  return h;
}

}  // namespace troupe
