// The SQLite implementation of Store: one connection, every statement prepared once and kept,
// and a background checkpointer. Opened by OpenSqliteStore (sqlite_store.h), which also checks
// and migrates the schema; this class assumes the current schema. Not thread-safe (see store.h);
// the checkpointer's thread has its own connection.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/records.h"
#include "store/sqlite_checkpointer.h"
#include "store/sqlite_db.h"
#include "store/store.h"

namespace troupe {

class SqliteStore final : public Store {
 public:
  // `checkpointer` (null for an in-memory database) must belong to `db`.
  SqliteStore(SqliteDb db, std::unique_ptr<SqliteCheckpointer> checkpointer)
      : db_(std::move(db)), checkpointer_(std::move(checkpointer)) {}
  ~SqliteStore() override { Rollback(); }

  // Compiles every fixed statement once. Call once, before anything else.
  Status PrepareStatements();

  Status Begin() override;
  Status Commit() override;
  void Rollback() override;
  bool in_transaction() const override { return in_transaction_; }

  Status InsertSession(const SessionRecord& session) override;
  Status TouchSession(const std::string& session_id, int64_t at_ms) override;
  Result<std::optional<SessionRecord>> GetSession(const std::string& id) override;
  Status AppendMessage(MessageRecord* message) override;
  Result<std::vector<MessageRecord>> ListMessages(const std::string& session_id,
                                                  int64_t after_seq) override;
  Status ReplaceTodos(const std::string& session_id, const std::vector<TodoItem>& items) override;
  Result<std::vector<TodoItem>> GetTodos(const std::string& session_id) override;

  Status InsertTask(const TaskRecord& task) override;
  Status UpdateTask(const TaskRecord& task) override;
  Result<std::optional<TaskRecord>> GetTask(const std::string& id) override;
  Result<std::vector<TaskRecord>> ListTasks(const TaskFilter& filter) override;
  Result<std::vector<std::pair<TaskState, int64_t>>> CountTasksByState() override;
  Status AppendModelRequest(ModelRequestRecord* request) override;
  Result<std::vector<ModelRequestRecord>> ListModelRequests(const std::string& task_id) override;
  Result<UsageTotals> SumUsage(const UsageFilter& filter) override;
  Status InsertAttempt(const AttemptRecord& attempt) override;
  Status FinishAttempt(const AttemptRecord& attempt) override;
  Result<std::vector<AttemptRecord>> ListAttempts(const std::string& task_id) override;

  Status InsertNotification(NotificationRecord* notification) override;
  Result<std::vector<NotificationRecord>> ListUndelivered(const std::string& recipient) override;
  Result<std::vector<NotificationRecord>> ListNotificationsForTask(
      const std::string& task_id) override;
  Result<bool> MarkDelivered(int64_t notification_id, int64_t at_ms) override;

  Status AppendEvent(EventRecord* event) override;
  Result<std::vector<EventRecord>> ListEvents(int64_t after_id, int limit) override;
  Result<int64_t> LastEventId() override;

 private:
  // FailedPrecondition unless a transaction is open: writes outside one are engine bugs.
  Status RequireTransaction(const char* operation) const;
  // A cached statement for ListTasks' or SumUsage's `sql`, compiled on first use.
  Result<Statement*> ListTasksStatement(const std::string& sql);

  SqliteDb db_;  // declared first: destroyed after every statement
  bool in_transaction_ = false;

  Statement begin_, commit_, rollback_;
  Statement insert_session_, touch_session_, get_session_;
  Statement last_message_seq_, append_message_, list_messages_;
  Statement delete_todos_, insert_todo_, get_todos_;
  Statement insert_task_, update_task_state_, update_task_, get_task_;
  Statement insert_model_request_, list_model_requests_;
  Statement insert_attempt_, finish_attempt_, list_attempts_;
  Statement insert_notification_, list_undelivered_, list_notifications_for_task_;
  Statement mark_delivered_, notification_delivered_at_;
  Statement append_event_, list_events_, last_event_id_;
  Statement count_tasks_by_state_;
  std::unordered_map<std::string, Statement> list_tasks_;
  // Declared last: destroyed first, while the connection it hooks into is still open.
  std::unique_ptr<SqliteCheckpointer> checkpointer_;
};

}  // namespace troupe
