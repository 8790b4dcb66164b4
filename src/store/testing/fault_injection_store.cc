#include "store/testing/fault_injection_store.h"

#include <sqlite3.h>

#include "store/sqlite_db.h"

namespace troupe {

Status FaultInjectionStore::DiskFull() { return SqliteError(nullptr, SQLITE_FULL, ""); }

void FaultInjectionStore::FailNextWrites(int count, Status error, int skip) {
  error_ = std::move(error);
  fail_count_ = count;
  skip_ = skip;
  fail_forever_ = false;
}

void FaultInjectionStore::FailWritesFromNow(Status error, int skip) {
  error_ = std::move(error);
  fail_count_ = 0;
  skip_ = skip;
  fail_forever_ = true;
}

void FaultInjectionStore::Heal() {
  fail_count_ = 0;
  skip_ = 0;
  fail_forever_ = false;
}

Status FaultInjectionStore::NextWrite() {
  if (skip_ > 0 && (fail_forever_ || fail_count_ > 0)) {
    --skip_;
  } else if (fail_forever_ || fail_count_ > 0) {
    if (fail_count_ > 0) --fail_count_;
    ++writes_failed_;
    return error_;
  }
  ++writes_passed_;
  return Status::Ok();
}

Status FaultInjectionStore::Begin() {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->Begin();
}

Status FaultInjectionStore::Commit() {
  if (Status s = NextWrite(); !s.ok()) {
    base_->Rollback();  // SQLite rolls the transaction back after SQLITE_FULL
    return s;
  }
  return base_->Commit();
}

Status FaultInjectionStore::InsertSession(const SessionRecord& session) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->InsertSession(session);
}

Status FaultInjectionStore::TouchSession(const std::string& session_id, int64_t at_ms) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->TouchSession(session_id, at_ms);
}

Status FaultInjectionStore::AppendMessage(MessageRecord* message) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->AppendMessage(message);
}

Status FaultInjectionStore::ReplaceTodos(const std::string& session_id,
                                         const std::vector<TodoItem>& items) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->ReplaceTodos(session_id, items);
}

Status FaultInjectionStore::InsertTask(const TaskRecord& task) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->InsertTask(task);
}

Status FaultInjectionStore::UpdateTask(const TaskRecord& task) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->UpdateTask(task);
}

Status FaultInjectionStore::AppendModelRequest(ModelRequestRecord* request) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->AppendModelRequest(request);
}

Status FaultInjectionStore::InsertAttempt(const AttemptRecord& attempt) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->InsertAttempt(attempt);
}

Status FaultInjectionStore::FinishAttempt(const AttemptRecord& attempt) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->FinishAttempt(attempt);
}

Status FaultInjectionStore::InsertNotification(NotificationRecord* notification) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->InsertNotification(notification);
}

Result<bool> FaultInjectionStore::MarkDelivered(int64_t notification_id, int64_t at_ms) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->MarkDelivered(notification_id, at_ms);
}

Status FaultInjectionStore::AppendEvent(EventRecord* event) {
  TROUPE_RETURN_IF_ERROR(NextWrite());
  return base_->AppendEvent(event);
}

}  // namespace troupe
