#include "store/sqlite_store_impl.h"

#include <algorithm>
#include <initializer_list>
#include <string_view>
#include <utility>

#include "store/sqlite_rows.h"

namespace troupe {

namespace {

std::string Sql(std::initializer_list<std::string_view> parts) {
  std::string sql;
  for (std::string_view part : parts) sql += part;
  return sql;
}

}  // namespace

Status SqliteStore::PrepareStatements() {
  const std::pair<Statement*, std::string> statements[] = {
      {&begin_, "BEGIN IMMEDIATE"},
      {&commit_, "COMMIT"},
      {&rollback_, "ROLLBACK"},
      {&insert_session_, Sql({"INSERT INTO sessions (", kSessionColumns,
                              ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"})},
      {&touch_session_, "UPDATE sessions SET updated_at_ms = ?2 WHERE id = ?1"},
      {&get_session_, Sql({"SELECT ", kSessionColumns, " FROM sessions WHERE id = ?1"})},
      // Two statements rather than INSERT ... SELECT FROM messages: reading the table being
      // inserted into makes SQLite copy the SELECT into a temporary table on every call. Writes
      // run inside BEGIN IMMEDIATE, so nothing can slip in between the two.
      {&last_message_seq_, "SELECT coalesce(max(seq), 0) FROM messages WHERE session_id = ?1"},
      {&append_message_,
       "INSERT INTO messages (session_id, seq, task_id, role, content, created_at_ms) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&list_messages_, Sql({"SELECT ", kMessageColumns,
                             " FROM messages WHERE session_id = ?1 AND seq > ?2 ORDER BY seq"})},
      {&delete_todos_, "DELETE FROM todos WHERE session_id = ?1"},
      {&insert_todo_,
       "INSERT INTO todos (session_id, position, id, content, status, priority) "
       "VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&get_todos_,
       Sql({"SELECT ", kTodoColumns, " FROM todos WHERE session_id = ?1 ORDER BY position"})},
      {&insert_task_,
       Sql({"INSERT INTO tasks (", kTaskColumns,
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, "
            "?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26, ?27, ?28, "
            "?29, ?30, ?31, ?32, ?33)"})},
      // SQLite rewrites the index entries of every column named in SET, whatever its value, so
      // the common update leaves the indexed identity columns (which never change once a task
      // is launched) out of SET and only matches them; UpdateTask falls back to the full update.
      {&update_task_state_,
       "UPDATE tasks SET description = ?5, prompt = ?6, agent = ?7, model = ?8, state = ?9, "
       "attempt = ?10, depth = ?11, result = ?12, error = ?13, limits_json = ?14, "
       "created_at_ms = ?15, queued_at_ms = ?16, started_at_ms = ?17, finished_at_ms = ?18, "
       "updated_at_ms = ?19, turns = ?20, tool_calls = ?21, input_tokens = ?22, "
       "output_tokens = ?23, last_tool = ?24, cache_write_tokens = ?26, "
       "cache_read_tokens = ?27, reasoning_tokens = ?28, requests = ?29, cost_nano_usd = ?30, "
       "unpriced_requests = ?31, worktree_json = ?33 "
       "WHERE id = ?1 AND session_id = ?2 AND parent_session_id = ?3 AND owner = ?4 AND "
       "parent_call_id = ?25 AND root_session_id = ?32"},
      {&update_task_,
       "UPDATE tasks SET session_id = ?2, parent_session_id = ?3, owner = ?4, description = ?5, "
       "prompt = ?6, agent = ?7, model = ?8, state = ?9, attempt = ?10, depth = ?11, "
       "result = ?12, error = ?13, limits_json = ?14, created_at_ms = ?15, queued_at_ms = ?16, "
       "started_at_ms = ?17, finished_at_ms = ?18, updated_at_ms = ?19, turns = ?20, "
       "tool_calls = ?21, input_tokens = ?22, output_tokens = ?23, last_tool = ?24, "
       "parent_call_id = ?25, cache_write_tokens = ?26, cache_read_tokens = ?27, "
       "reasoning_tokens = ?28, requests = ?29, cost_nano_usd = ?30, unpriced_requests = ?31, "
       "root_session_id = ?32, worktree_json = ?33 WHERE id = ?1"},
      {&insert_model_request_,
       Sql({"INSERT INTO model_requests (", kModelRequestColumns + 4,
            ") VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"})},
      {&list_model_requests_, Sql({"SELECT ", kModelRequestColumns,
                                   " FROM model_requests WHERE task_id = ?1 ORDER BY id"})},
      {&get_task_, Sql({"SELECT ", kTaskColumns, " FROM tasks WHERE id = ?1"})},
      {&insert_attempt_,
       Sql({"INSERT INTO task_attempts (", kAttemptColumns, ") VALUES (?1, ?2, ?3, ?4, ?5, ?6)"})},
      {&finish_attempt_,
       "UPDATE task_attempts SET ended_at_ms = ?3, outcome = ?4, error = ?5 "
       "WHERE task_id = ?1 AND attempt = ?2"},
      {&list_attempts_, Sql({"SELECT ", kAttemptColumns,
                             " FROM task_attempts WHERE task_id = ?1 ORDER BY attempt"})},
      {&insert_notification_,
       "INSERT INTO notifications (task_id, recipient, state, summary, created_at_ms, "
       "delivered_at_ms) VALUES (?1, ?2, ?3, ?4, ?5, ?6)"},
      {&list_undelivered_, Sql({"SELECT ", kNotificationColumns,
                                " FROM notifications WHERE recipient = ?1 AND "
                                "delivered_at_ms = 0 ORDER BY id"})},
      {&list_notifications_for_task_, Sql({"SELECT ", kNotificationColumns,
                                           " FROM notifications WHERE task_id = ?1 ORDER BY id"})},
      {&mark_delivered_,
       "UPDATE notifications SET delivered_at_ms = ?2 WHERE id = ?1 AND delivered_at_ms = 0"},
      {&notification_delivered_at_, "SELECT delivered_at_ms FROM notifications WHERE id = ?1"},
      {&append_event_,
       "INSERT INTO events (type, task_id, payload, created_at_ms) VALUES (?1, ?2, ?3, ?4)"},
      {&list_events_,
       Sql({"SELECT ", kEventColumns, " FROM events WHERE id > ?1 ORDER BY id LIMIT ?2"})},
      {&last_event_id_, "SELECT coalesce(max(id), 0) FROM events"},
      {&count_tasks_by_state_, "SELECT state, count(*) FROM tasks GROUP BY state"},
  };
  for (const auto& [statement, sql] : statements) {
    TROUPE_ASSIGN_OR_RETURN(*statement, db_.Prepare(sql));
  }
  return Status::Ok();
}

Status SqliteStore::RequireTransaction(const char* operation) const {
  if (in_transaction_) return Status::Ok();
  return Status::FailedPrecondition(std::string(operation) +
                                    " outside a transaction: store writes must happen between "
                                    "Store::Begin and Commit (use ScopedTransaction)");
}

// --- transactions

Status SqliteStore::Begin() {
  if (in_transaction_) {
    return Status::FailedPrecondition("Begin inside a transaction: store transactions do not nest");
  }
  Statement::Scope scope(&begin_);
  TROUPE_RETURN_IF_ERROR(begin_.Run());
  in_transaction_ = true;
  return Status::Ok();
}

Status SqliteStore::Commit() {
  if (!in_transaction_) return Status::FailedPrecondition("Commit without a transaction");
  if (sqlite3_get_autocommit(db_.handle()) != 0) {
    // SQLite rolls a transaction back by itself after some errors (disk full, I/O).
    in_transaction_ = false;
    return Status::FailedPrecondition(
        "Commit of a transaction that SQLite already rolled back after an earlier error; none "
        "of its writes were stored");
  }
  Statement::Scope scope(&commit_);
  Status status = commit_.Run();
  // A failed COMMIT may leave the transaction open; Rollback then ends it.
  in_transaction_ = sqlite3_get_autocommit(db_.handle()) == 0;
  return status;
}

void SqliteStore::Rollback() {
  if (!in_transaction_) return;
  in_transaction_ = false;
  if (sqlite3_get_autocommit(db_.handle()) != 0) return;  // SQLite already rolled it back
  Statement::Scope scope(&rollback_);
  (void)rollback_.Run();
}

// --- sessions

Status SqliteStore::InsertSession(const SessionRecord& session) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("InsertSession"));
  Statement::Scope scope(&insert_session_);
  BindSession(insert_session_, session);
  Status status = insert_session_.Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("session " + session.id + " already exists");
  }
  return status;
}

Status SqliteStore::TouchSession(const std::string& session_id, int64_t at_ms) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("TouchSession"));
  Statement::Scope scope(&touch_session_);
  touch_session_.BindText(1, session_id).BindInt64(2, at_ms);
  TROUPE_RETURN_IF_ERROR(touch_session_.Run());
  if (touch_session_.changes() == 0) {
    return Status::NotFound("session " + session_id + " does not exist");
  }
  return Status::Ok();
}

Result<std::optional<SessionRecord>> SqliteStore::GetSession(const std::string& id) {
  Statement::Scope scope(&get_session_);
  get_session_.BindText(1, id);
  TROUPE_ASSIGN_OR_RETURN(bool has_row, get_session_.Step());
  if (!has_row) return std::optional<SessionRecord>();
  return std::optional<SessionRecord>(ReadSession(get_session_));
}

Status SqliteStore::AppendMessage(MessageRecord* message) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("AppendMessage"));
  int64_t seq = 0;
  {
    Statement::Scope scope(&last_message_seq_);
    last_message_seq_.BindText(1, message->session_id);
    Result<bool> has_row = last_message_seq_.Step();
    if (!has_row.ok()) return has_row.status();
    if (!*has_row) return Status::Internal("SELECT max(seq) returned no row");
    seq = last_message_seq_.ColumnInt64(0) + 1;
  }
  Statement::Scope scope(&append_message_);
  append_message_.BindText(1, message->session_id).BindInt64(2, seq);
  append_message_.BindText(3, message->task_id).BindText(4, message->role);
  append_message_.BindText(5, message->content).BindInt64(6, message->created_at_ms);
  Status inserted = append_message_.Run();
  if (inserted.code() == StatusCode::kFailedPrecondition) {  // foreign key
    return Status::FailedPrecondition("cannot append a message to session " + message->session_id +
                                      ": it does not exist");
  }
  TROUPE_RETURN_IF_ERROR(inserted);
  message->seq = seq;
  return Status::Ok();
}

Result<std::vector<MessageRecord>> SqliteStore::ListMessages(const std::string& session_id,
                                                             int64_t after_seq) {
  Statement::Scope scope(&list_messages_);
  list_messages_.BindText(1, session_id).BindInt64(2, after_seq);
  std::vector<MessageRecord> messages;
  TROUPE_RETURN_IF_ERROR(CollectRows(list_messages_, ReadMessage, &messages));
  return messages;
}

Status SqliteStore::ReplaceTodos(const std::string& session_id,
                                 const std::vector<TodoItem>& items) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("ReplaceTodos"));
  {
    Statement::Scope scope(&delete_todos_);
    delete_todos_.BindText(1, session_id);
    TROUPE_RETURN_IF_ERROR(delete_todos_.Run());
  }
  for (size_t i = 0; i < items.size(); ++i) {
    const TodoItem& item = items[i];
    Statement::Scope scope(&insert_todo_);
    insert_todo_.BindText(1, session_id).BindInt64(2, static_cast<int64_t>(i));
    insert_todo_.BindText(3, item.id).BindText(4, item.content).BindText(5, item.status);
    insert_todo_.BindText(6, item.priority);
    Status status = insert_todo_.Run();
    if (status.code() == StatusCode::kFailedPrecondition) {  // foreign key
      return Status::FailedPrecondition("cannot store the todo list of session " + session_id +
                                        ": it does not exist");
    }
    TROUPE_RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

Result<std::vector<TodoItem>> SqliteStore::GetTodos(const std::string& session_id) {
  Statement::Scope scope(&get_todos_);
  get_todos_.BindText(1, session_id);
  std::vector<TodoItem> items;
  TROUPE_RETURN_IF_ERROR(CollectRows(get_todos_, ReadTodo, &items));
  return items;
}

// --- tasks

Status SqliteStore::InsertTask(const TaskRecord& task) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("InsertTask"));
  Statement::Scope scope(&insert_task_);
  BindTask(insert_task_, task);
  Status status = insert_task_.Run();
  if (status.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists("task " + task.id + " already exists");
  }
  if (status.code() == StatusCode::kFailedPrecondition) {  // foreign key
    return Status::FailedPrecondition("cannot insert task " + task.id + ": its session " +
                                      task.session_id + " does not exist");
  }
  return status;
}

Status SqliteStore::UpdateTask(const TaskRecord& task) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("UpdateTask"));
  {
    Statement::Scope scope(&update_task_state_);
    BindTask(update_task_state_, task);
    TROUPE_RETURN_IF_ERROR(update_task_state_.Run());
    if (update_task_state_.changes() > 0) return Status::Ok();
  }
  // No such task, or its session, parent or owner changed.
  Statement::Scope scope(&update_task_);
  BindTask(update_task_, task);
  TROUPE_RETURN_IF_ERROR(update_task_.Run());
  if (update_task_.changes() == 0) return Status::NotFound("task " + task.id + " does not exist");
  return Status::Ok();
}

Result<std::optional<TaskRecord>> SqliteStore::GetTask(const std::string& id) {
  Statement::Scope scope(&get_task_);
  get_task_.BindText(1, id);
  TROUPE_ASSIGN_OR_RETURN(bool has_row, get_task_.Step());
  if (!has_row) return std::optional<TaskRecord>();
  TROUPE_ASSIGN_OR_RETURN(TaskRecord task, ReadTask(get_task_));
  return std::optional<TaskRecord>(std::move(task));
}

Result<Statement*> SqliteStore::ListTasksStatement(const std::string& sql) {
  auto it = list_tasks_.find(sql);
  if (it == list_tasks_.end()) {
    TROUPE_ASSIGN_OR_RETURN(Statement statement, db_.Prepare(sql));
    it = list_tasks_.emplace(sql, std::move(statement)).first;
  }
  return &it->second;
}

namespace {

// Appends "<glue><condition>" for each set (non-empty) value, in order, and the values to bind;
// `glue` becomes " AND " after the first.
void AppendEqualities(std::initializer_list<std::pair<const char*, const std::string*>> equals,
                      const char** glue, std::string* sql, std::vector<std::string_view>* texts) {
  for (const auto& [condition, value] : equals) {
    if (value->empty()) continue;
    *sql += *glue;
    *sql += condition;
    texts->push_back(*value);
    *glue = " AND ";
  }
}

}  // namespace

Result<std::vector<TaskRecord>> SqliteStore::ListTasks(const TaskFilter& filter) {
  // The SQL depends only on which filters are set (and how many states), so the statements
  // cached per SQL text stay few.
  std::string sql = Sql({"SELECT ", kTaskColumns, " FROM tasks"});
  std::vector<std::string_view> texts;  // bound in order; point into `filter` or static names
  const char* glue = " WHERE ";
  if (!filter.states.empty()) {
    sql += glue;
    sql += "state IN (";
    for (size_t i = 0; i < filter.states.size(); ++i) {
      sql += i == 0 ? "?" : ", ?";
      texts.push_back(TaskStateName(filter.states[i]));
    }
    sql += ")";
    glue = " AND ";
  }
  AppendEqualities({{"session_id = ?", &filter.session_id},
                    {"parent_session_id = ?", &filter.parent_session_id},
                    {"parent_call_id = ?", &filter.parent_call_id},
                    {"owner = ?", &filter.owner},
                    {"root_session_id = ?", &filter.root_session_id},
                    // The primary key's range: a deep page costs what the first one does.
                    {"id < ?", &filter.before_id}},
                   &glue, &sql, &texts);
  const bool limited = filter.limit > 0;
  sql += limited ? " ORDER BY id DESC LIMIT ?" : " ORDER BY id";

  TROUPE_ASSIGN_OR_RETURN(Statement * statement, ListTasksStatement(sql));
  Statement::Scope scope(statement);
  int index = 1;
  for (std::string_view text : texts) statement->BindText(index++, text);
  if (limited) statement->BindInt64(index++, filter.limit);
  std::vector<TaskRecord> tasks;
  TROUPE_RETURN_IF_ERROR(CollectRows(*statement, ReadTask, &tasks));
  if (limited) std::reverse(tasks.begin(), tasks.end());
  return tasks;
}

Status SqliteStore::AppendModelRequest(ModelRequestRecord* request) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("AppendModelRequest"));
  Statement::Scope scope(&insert_model_request_);
  BindModelRequest(insert_model_request_, *request);
  TROUPE_RETURN_IF_ERROR(insert_model_request_.Run());
  request->id = sqlite3_last_insert_rowid(db_.handle());
  return Status::Ok();
}

Result<std::vector<ModelRequestRecord>> SqliteStore::ListModelRequests(const std::string& task_id) {
  Statement::Scope scope(&list_model_requests_);
  list_model_requests_.BindText(1, task_id);
  std::vector<ModelRequestRecord> rows;
  TROUPE_RETURN_IF_ERROR(CollectRows(list_model_requests_, ReadModelRequest, &rows));
  return rows;
}

Result<UsageTotals> SqliteStore::SumUsage(const UsageFilter& filter) {
  // Like ListTasks: one cached statement per set of filters.
  std::string sql =
      "SELECT count(*), coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), "
      "coalesce(sum(cache_write_tokens), 0), coalesce(sum(cache_read_tokens), 0), "
      "coalesce(sum(reasoning_tokens), 0), coalesce(sum(cost_nano_usd), 0), "
      "coalesce(sum(1 - priced), 0) FROM model_requests";
  const char* glue = " WHERE ";
  std::vector<std::string_view> texts;
  AppendEqualities({{"task_id = ?", &filter.task_id},
                    {"session_id = ?", &filter.session_id},
                    {"root_session_id = ?", &filter.root_session_id}},
                   &glue, &sql, &texts);
  std::vector<int64_t> ints;
  if (filter.since_ms > 0) {
    sql += glue;
    sql += "created_at_ms >= ?";
    ints.push_back(filter.since_ms);
    glue = " AND ";
  }
  if (filter.until_ms > 0) {
    sql += glue;
    sql += "created_at_ms < ?";
    ints.push_back(filter.until_ms);
  }
  TROUPE_ASSIGN_OR_RETURN(Statement * statement, ListTasksStatement(sql));
  Statement::Scope scope(statement);
  int index = 1;
  for (std::string_view text : texts) statement->BindText(index++, text);
  for (int64_t n : ints) statement->BindInt64(index++, n);
  TROUPE_ASSIGN_OR_RETURN(bool has_row, statement->Step());
  UsageTotals totals;
  if (!has_row) return totals;
  totals.requests = statement->ColumnInt64(0);
  totals.input_tokens = statement->ColumnInt64(1);
  totals.output_tokens = statement->ColumnInt64(2);
  totals.cache_write_tokens = statement->ColumnInt64(3);
  totals.cache_read_tokens = statement->ColumnInt64(4);
  totals.reasoning_tokens = statement->ColumnInt64(5);
  totals.cost_nano_usd = statement->ColumnInt64(6);
  totals.unpriced_requests = statement->ColumnInt64(7);
  return totals;
}

Status SqliteStore::InsertAttempt(const AttemptRecord& attempt) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("InsertAttempt"));
  Statement::Scope scope(&insert_attempt_);
  BindAttempt(insert_attempt_, attempt);
  Status status = insert_attempt_.Run();
  const std::string what =
      "attempt " + std::to_string(attempt.attempt) + " of task " + attempt.task_id;
  if (status.code() == StatusCode::kAlreadyExists) {
    return Status::AlreadyExists(what + " already exists");
  }
  if (status.code() == StatusCode::kFailedPrecondition) {  // foreign key
    return Status::FailedPrecondition("cannot insert " + what + ": the task does not exist");
  }
  return status;
}

Status SqliteStore::FinishAttempt(const AttemptRecord& attempt) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("FinishAttempt"));
  Statement::Scope scope(&finish_attempt_);
  finish_attempt_.BindText(1, attempt.task_id).BindInt64(2, attempt.attempt);
  finish_attempt_.BindInt64(3, attempt.ended_at_ms).BindText(4, attempt.outcome);
  finish_attempt_.BindText(5, attempt.error);
  TROUPE_RETURN_IF_ERROR(finish_attempt_.Run());
  if (finish_attempt_.changes() == 0) {
    return Status::NotFound("attempt " + std::to_string(attempt.attempt) + " of task " +
                            attempt.task_id + " does not exist");
  }
  return Status::Ok();
}

Result<std::vector<AttemptRecord>> SqliteStore::ListAttempts(const std::string& task_id) {
  Statement::Scope scope(&list_attempts_);
  list_attempts_.BindText(1, task_id);
  std::vector<AttemptRecord> attempts;
  TROUPE_RETURN_IF_ERROR(CollectRows(list_attempts_, ReadAttempt, &attempts));
  return attempts;
}

// --- outbox

Status SqliteStore::InsertNotification(NotificationRecord* notification) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("InsertNotification"));
  Statement::Scope scope(&insert_notification_);
  const NotificationRecord& n = *notification;
  insert_notification_.BindText(1, n.task_id).BindText(2, n.recipient).BindText(3, n.state);
  insert_notification_.BindText(4, n.summary).BindInt64(5, n.created_at_ms);
  insert_notification_.BindInt64(6, n.delivered_at_ms);
  TROUPE_RETURN_IF_ERROR(insert_notification_.Run());
  notification->id = sqlite3_last_insert_rowid(db_.handle());
  return Status::Ok();
}

Result<std::vector<NotificationRecord>> SqliteStore::ListUndelivered(const std::string& recipient) {
  Statement::Scope scope(&list_undelivered_);
  list_undelivered_.BindText(1, recipient);
  std::vector<NotificationRecord> notifications;
  TROUPE_RETURN_IF_ERROR(CollectRows(list_undelivered_, ReadNotification, &notifications));
  return notifications;
}

Result<std::vector<NotificationRecord>> SqliteStore::ListNotificationsForTask(
    const std::string& task_id) {
  Statement::Scope scope(&list_notifications_for_task_);
  list_notifications_for_task_.BindText(1, task_id);
  std::vector<NotificationRecord> notifications;
  TROUPE_RETURN_IF_ERROR(
      CollectRows(list_notifications_for_task_, ReadNotification, &notifications));
  return notifications;
}

Result<bool> SqliteStore::MarkDelivered(int64_t notification_id, int64_t at_ms) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("MarkDelivered"));
  {
    Statement::Scope scope(&mark_delivered_);
    mark_delivered_.BindInt64(1, notification_id).BindInt64(2, at_ms);
    TROUPE_RETURN_IF_ERROR(mark_delivered_.Run());
    if (mark_delivered_.changes() > 0) return true;
  }
  // Not marked: already delivered, or no such notification.
  Statement::Scope scope(&notification_delivered_at_);
  notification_delivered_at_.BindInt64(1, notification_id);
  TROUPE_ASSIGN_OR_RETURN(bool exists, notification_delivered_at_.Step());
  if (!exists) {
    return Status::NotFound("notification " + std::to_string(notification_id) + " does not exist");
  }
  return false;
}

// --- event log

Status SqliteStore::AppendEvent(EventRecord* event) {
  TROUPE_RETURN_IF_ERROR(RequireTransaction("AppendEvent"));
  Statement::Scope scope(&append_event_);
  append_event_.BindText(1, event->type).BindText(2, event->task_id);
  append_event_.BindText(3, event->payload).BindInt64(4, event->created_at_ms);
  TROUPE_RETURN_IF_ERROR(append_event_.Run());
  event->id = sqlite3_last_insert_rowid(db_.handle());
  return Status::Ok();
}

Result<std::vector<EventRecord>> SqliteStore::ListEvents(int64_t after_id, int limit) {
  Statement::Scope scope(&list_events_);
  list_events_.BindInt64(1, after_id).BindInt64(2, limit > 0 ? limit : -1);  // -1: no limit
  std::vector<EventRecord> events;
  TROUPE_RETURN_IF_ERROR(CollectRows(list_events_, ReadEvent, &events));
  return events;
}

Result<std::vector<std::pair<TaskState, int64_t>>> SqliteStore::CountTasksByState() {
  Statement::Scope scope(&count_tasks_by_state_);
  std::vector<std::pair<TaskState, int64_t>> counts;
  while (true) {
    TROUPE_ASSIGN_OR_RETURN(bool has_row, count_tasks_by_state_.Step());
    if (!has_row) break;
    const std::string name = count_tasks_by_state_.ColumnText(0);
    std::optional<TaskState> state = ParseTaskState(name);
    if (!state) return Status::Corruption("tasks hold an unknown state \"" + name + '"');
    counts.emplace_back(*state, count_tasks_by_state_.ColumnInt64(1));
  }
  return counts;
}

Result<int64_t> SqliteStore::LastEventId() {
  Statement::Scope scope(&last_event_id_);
  TROUPE_ASSIGN_OR_RETURN(bool has_row, last_event_id_.Step());
  return has_row ? last_event_id_.ColumnInt64(0) : int64_t{0};
}

}  // namespace troupe
