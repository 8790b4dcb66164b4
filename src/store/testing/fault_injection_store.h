// A Store that wraps a real one and fails writes on command, the way LevelDB's
// fault_injection_test fails its file system: to test what the engine does when the disk fills
// up or goes away. Reads always pass through; a write that is told to fail does not reach the
// wrapped store (so the transaction holds none of it), and a failed Commit rolls the wrapped
// transaction back, as SQLite does after SQLITE_FULL.
//
// Writes are every mutating call, Begin and Commit included: "fail the next 3 writes" may hit
// a Begin, an UpdateTask or a Commit, whichever comes next.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/store.h"

namespace troupe {

class FaultInjectionStore : public Store {
 public:
  // `base` must outlive this store.
  explicit FaultInjectionStore(Store* base) : base_(base) {}

  // The error SQLite gives when the disk is full (the same code and text as SqliteError).
  static Status DiskFull();

  // After `skip` more writes succeed, the next `count` writes fail with `error`; those after
  // succeed again.
  void FailNextWrites(int count, Status error = DiskFull(), int skip = 0);
  // After `skip` more writes succeed, every write fails with `error` until Heal().
  void FailWritesFromNow(Status error = DiskFull(), int skip = 0);
  // Writes succeed again.
  void Heal();

  // Writes that reached the wrapped store, and writes failed by injection.
  int64_t writes_passed() const { return writes_passed_; }
  int64_t writes_failed() const { return writes_failed_; }
  bool failing() const { return fail_count_ != 0 || fail_forever_; }

  Status Begin() override;
  Status Commit() override;
  void Rollback() override { base_->Rollback(); }
  bool in_transaction() const override { return base_->in_transaction(); }

  Status InsertSession(const SessionRecord& session) override;
  Status TouchSession(const std::string& session_id, int64_t at_ms) override;
  Result<std::optional<SessionRecord>> GetSession(const std::string& id) override {
    return base_->GetSession(id);
  }
  Status AppendMessage(MessageRecord* message) override;
  Result<std::vector<MessageRecord>> ListMessages(const std::string& session_id,
                                                  int64_t after_seq) override {
    return base_->ListMessages(session_id, after_seq);
  }
  Status ReplaceTodos(const std::string& session_id, const std::vector<TodoItem>& items) override;
  Result<std::vector<TodoItem>> GetTodos(const std::string& session_id) override {
    return base_->GetTodos(session_id);
  }

  Status InsertTask(const TaskRecord& task) override;
  Status UpdateTask(const TaskRecord& task) override;
  Result<std::optional<TaskRecord>> GetTask(const std::string& id) override {
    return base_->GetTask(id);
  }
  Result<std::vector<TaskRecord>> ListTasks(const TaskFilter& filter) override {
    return base_->ListTasks(filter);
  }
  Result<std::vector<std::pair<TaskState, int64_t>>> CountTasksByState() override {
    return base_->CountTasksByState();
  }
  Status AppendModelRequest(ModelRequestRecord* request) override;
  Result<std::vector<ModelRequestRecord>> ListModelRequests(const std::string& task_id) override {
    return base_->ListModelRequests(task_id);
  }
  Result<UsageTotals> SumUsage(const UsageFilter& filter) override {
    return base_->SumUsage(filter);
  }
  Status InsertAttempt(const AttemptRecord& attempt) override;
  Status FinishAttempt(const AttemptRecord& attempt) override;
  Result<std::vector<AttemptRecord>> ListAttempts(const std::string& task_id) override {
    return base_->ListAttempts(task_id);
  }

  Status InsertNotification(NotificationRecord* notification) override;
  Result<std::vector<NotificationRecord>> ListUndelivered(const std::string& recipient) override {
    return base_->ListUndelivered(recipient);
  }
  Result<std::vector<NotificationRecord>> ListNotificationsForTask(
      const std::string& task_id) override {
    return base_->ListNotificationsForTask(task_id);
  }
  Result<bool> MarkDelivered(int64_t notification_id, int64_t at_ms) override;

  Status AppendEvent(EventRecord* event) override;
  Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int limit) override {
    return base_->ListEvents(after_id, limit);
  }
  Result<int64_t> LastEventId() override { return base_->LastEventId(); }

 private:
  // The injected error for this write, or OK to let it through.
  Status NextWrite();

  Store* base_;
  Status error_;
  int fail_count_ = 0;  // writes still to fail (FailNextWrites)
  int skip_ = 0;        // writes to let through before failing (FailWritesFromNow)
  bool fail_forever_ = false;
  int64_t writes_passed_ = 0;
  int64_t writes_failed_ = 0;
};

}  // namespace troupe
