// The store: everything troupe must not forget. One interface, backends behind it (SQLite now,
// PostgreSQL later). Engine state changes are written here, in one transaction with their
// outbox and event rows, before anyone is told.
//
// Threading: a Store is used from the event-loop thread only; it is not thread-safe.
// Writes must happen between Begin() and Commit() (use ScopedTransaction): a write outside a
// transaction fails with FailedPrecondition, so a missing transaction is an error and not a
// silent autocommit. Reads may happen anywhere; inside a transaction they see its writes.
// Rows refer to their parents: a task, message or todo list needs its session, an attempt its
// task; otherwise the write fails with FailedPrecondition. Every method returns an error value;
// none throws.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/records.h"

namespace troupe {

class Store {
 public:
  virtual ~Store() = default;

  // Transactions do not nest: Begin inside a transaction is a FailedPrecondition error.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;
  // Undoes everything since Begin. Safe to call when no transaction is open.
  virtual void Rollback() = 0;
  virtual bool in_transaction() const = 0;

  // --- sessions and their content
  virtual Status InsertSession(const SessionRecord& session) = 0;  // AlreadyExists
  // Sets updated_at_ms. NotFound if absent.
  virtual Status TouchSession(const std::string& session_id, int64_t at_ms) = 0;
  virtual Result<std::optional<SessionRecord>> GetSession(const std::string& id) = 0;
  // Assigns message->seq (last seq of the session + 1) and stores it.
  virtual Status AppendMessage(MessageRecord* message) = 0;
  // Messages with seq > after_seq, in order.
  virtual Result<std::vector<MessageRecord>> ListMessages(const std::string& session_id,
                                                          int64_t after_seq = 0) = 0;
  // Replaces the whole todo list of a session, keeping the given order.
  virtual Status ReplaceTodos(const std::string& session_id,
                              const std::vector<TodoItem>& items) = 0;
  virtual Result<std::vector<TodoItem>> GetTodos(const std::string& session_id) = 0;

  // --- tasks
  virtual Status InsertTask(const TaskRecord& task) = 0;  // AlreadyExists
  // Overwrites every column of the task with id task.id. NotFound if absent.
  virtual Status UpdateTask(const TaskRecord& task) = 0;
  virtual Result<std::optional<TaskRecord>> GetTask(const std::string& id) = 0;
  // Matching tasks ordered by id (= creation) ascending; with filter.limit, the newest `limit`
  // of them, still ascending.
  virtual Result<std::vector<TaskRecord>> ListTasks(const TaskFilter& filter) = 0;
  // How many tasks are in each state (states with none are left out), without reading them.
  virtual Result<std::vector<std::pair<TaskState, int64_t>>> CountTasksByState() = 0;
  // --- the ledger of model requests
  // Assigns request->id.
  virtual Status AppendModelRequest(ModelRequestRecord* request) = 0;
  // A task's requests, oldest first.
  virtual Result<std::vector<ModelRequestRecord>> ListModelRequests(
      const std::string& task_id) = 0;
  // The sum of the requests `filter` matches (all zero when none).
  virtual Result<UsageTotals> SumUsage(const UsageFilter& filter) = 0;

  virtual Status InsertAttempt(const AttemptRecord& attempt) = 0;
  // Sets ended_at_ms, outcome and error of (task_id, attempt). NotFound if absent.
  virtual Status FinishAttempt(const AttemptRecord& attempt) = 0;
  virtual Result<std::vector<AttemptRecord>> ListAttempts(const std::string& task_id) = 0;

  // --- outbox
  // Assigns notification->id.
  virtual Status InsertNotification(NotificationRecord* notification) = 0;
  // Undelivered notifications for `recipient`, oldest first.
  virtual Result<std::vector<NotificationRecord>> ListUndelivered(const std::string& recipient) = 0;
  virtual Result<std::vector<NotificationRecord>> ListNotificationsForTask(
      const std::string& task_id) = 0;
  // Marks it delivered at `at_ms` if it was not yet. Returns true if this call marked it, false
  // if it was already delivered (so a notification is handed out at most once). NotFound if
  // there is no such notification.
  virtual Result<bool> MarkDelivered(int64_t notification_id, int64_t at_ms) = 0;

  // --- event log
  // Assigns event->id.
  virtual Status AppendEvent(EventRecord* event) = 0;
  // Events with id > after_id, oldest first, at most `limit` (0 = all).
  virtual Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int limit = 0) = 0;
  virtual Result<int64_t> LastEventId() = 0;
};

// Begins a transaction on construction and rolls it back on destruction unless Commit() was
// called and succeeded.
class ScopedTransaction {
 public:
  explicit ScopedTransaction(Store* store) : store_(store), status_(store->Begin()) {}
  ScopedTransaction(const ScopedTransaction&) = delete;
  ScopedTransaction& operator=(const ScopedTransaction&) = delete;
  ~ScopedTransaction() {
    if (status_.ok() && !committed_) store_->Rollback();
  }
  // The result of Begin().
  const Status& status() const { return status_; }
  Status Commit() {
    TROUPE_RETURN_IF_ERROR(status_);
    Status s = store_->Commit();
    committed_ = s.ok();
    return s;
  }

 private:
  Store* store_;
  Status status_;
  bool committed_ = false;
};

}  // namespace troupe
