#include "store/sqlite_rows.h"

#include <optional>
#include <string>

namespace troupe {

void BindSession(Statement& s, const SessionRecord& r) {
  s.BindText(1, r.id).BindText(2, r.agent).BindText(3, r.model).BindText(4, r.workspace);
  s.BindText(5, r.parent_session_id).BindText(6, r.owner).BindText(7, r.title);
  s.BindInt64(8, r.depth).BindInt64(9, r.created_at_ms).BindInt64(10, r.updated_at_ms);
}

void BindTask(Statement& s, const TaskRecord& r) {
  s.BindText(1, r.id).BindText(2, r.session_id).BindText(3, r.parent_session_id);
  s.BindText(4, r.owner).BindText(5, r.description).BindText(6, r.prompt).BindText(7, r.agent);
  s.BindText(8, r.model).BindText(9, TaskStateName(r.state)).BindInt64(10, r.attempt);
  s.BindInt64(11, r.depth).BindText(12, r.result).BindText(13, r.error);
  s.BindText(14, r.limits_json).BindInt64(15, r.created_at_ms).BindInt64(16, r.queued_at_ms);
  s.BindInt64(17, r.started_at_ms).BindInt64(18, r.finished_at_ms);
  s.BindInt64(19, r.updated_at_ms).BindInt64(20, r.turns).BindInt64(21, r.tool_calls);
  s.BindInt64(22, r.input_tokens).BindInt64(23, r.output_tokens).BindText(24, r.last_tool);
  s.BindText(25, r.parent_call_id).BindInt64(26, r.cache_write_tokens);
  s.BindInt64(27, r.cache_read_tokens).BindInt64(28, r.reasoning_tokens);
  s.BindInt64(29, r.requests).BindInt64(30, r.cost_nano_usd).BindInt64(31, r.unpriced_requests);
  s.BindText(32, r.root_session_id).BindText(33, r.worktree_json);
}

void BindModelRequest(Statement& s, const ModelRequestRecord& r) {
  s.BindText(1, r.task_id).BindText(2, r.session_id).BindText(3, r.root_session_id);
  s.BindText(4, r.agent).BindText(5, r.model).BindInt64(6, r.usage.input_tokens);
  s.BindInt64(7, r.usage.output_tokens).BindInt64(8, r.usage.cache_write_tokens);
  s.BindInt64(9, r.usage.cache_read_tokens).BindInt64(10, r.usage.reasoning_tokens);
  s.BindInt64(11, r.usage.cost_nano_usd).BindInt64(12, r.usage.cost_known() ? 1 : 0);
  s.BindInt64(13, r.created_at_ms);
}

ModelRequestRecord ReadModelRequest(const Statement& s) {
  ModelRequestRecord r;
  r.id = s.ColumnInt64(0);
  r.task_id = s.ColumnText(1);
  r.session_id = s.ColumnText(2);
  r.root_session_id = s.ColumnText(3);
  r.agent = s.ColumnText(4);
  r.model = s.ColumnText(5);
  r.usage.requests = 1;
  r.usage.input_tokens = s.ColumnInt64(6);
  r.usage.output_tokens = s.ColumnInt64(7);
  r.usage.cache_write_tokens = s.ColumnInt64(8);
  r.usage.cache_read_tokens = s.ColumnInt64(9);
  r.usage.reasoning_tokens = s.ColumnInt64(10);
  r.usage.cost_nano_usd = s.ColumnInt64(11);
  r.usage.unpriced_requests = s.ColumnInt64(12) != 0 ? 0 : 1;
  r.created_at_ms = s.ColumnInt64(13);
  return r;
}

void BindAttempt(Statement& s, const AttemptRecord& r) {
  s.BindText(1, r.task_id).BindInt64(2, r.attempt).BindInt64(3, r.started_at_ms);
  s.BindInt64(4, r.ended_at_ms).BindText(5, r.outcome).BindText(6, r.error);
}

SessionRecord ReadSession(const Statement& s) {
  SessionRecord r;
  r.id = s.ColumnText(0);
  r.agent = s.ColumnText(1);
  r.model = s.ColumnText(2);
  r.workspace = s.ColumnText(3);
  r.parent_session_id = s.ColumnText(4);
  r.owner = s.ColumnText(5);
  r.title = s.ColumnText(6);
  r.depth = s.ColumnInt(7);
  r.created_at_ms = s.ColumnInt64(8);
  r.updated_at_ms = s.ColumnInt64(9);
  return r;
}

MessageRecord ReadMessage(const Statement& s) {
  MessageRecord r;
  r.session_id = s.ColumnText(0);
  r.seq = s.ColumnInt64(1);
  r.task_id = s.ColumnText(2);
  r.role = s.ColumnText(3);
  r.content = s.ColumnText(4);
  r.created_at_ms = s.ColumnInt64(5);
  return r;
}

TodoItem ReadTodo(const Statement& s) {
  TodoItem r;
  r.id = s.ColumnText(0);
  r.content = s.ColumnText(1);
  r.status = s.ColumnText(2);
  r.priority = s.ColumnText(3);
  return r;
}

Result<TaskRecord> ReadTask(const Statement& s) {
  TaskRecord r;
  r.id = s.ColumnText(0);
  r.session_id = s.ColumnText(1);
  r.parent_session_id = s.ColumnText(2);
  r.owner = s.ColumnText(3);
  r.description = s.ColumnText(4);
  r.prompt = s.ColumnText(5);
  r.agent = s.ColumnText(6);
  r.model = s.ColumnText(7);
  std::string state = s.ColumnText(8);
  std::optional<TaskState> parsed = ParseTaskState(state);
  if (!parsed) {
    return Status::Corruption("task " + r.id + " has unknown state \"" + state +
                              "\" in the database");
  }
  r.state = *parsed;
  r.attempt = s.ColumnInt(9);
  r.depth = s.ColumnInt(10);
  r.result = s.ColumnText(11);
  r.error = s.ColumnText(12);
  r.limits_json = s.ColumnText(13);
  r.created_at_ms = s.ColumnInt64(14);
  r.queued_at_ms = s.ColumnInt64(15);
  r.started_at_ms = s.ColumnInt64(16);
  r.finished_at_ms = s.ColumnInt64(17);
  r.updated_at_ms = s.ColumnInt64(18);
  r.turns = s.ColumnInt(19);
  r.tool_calls = s.ColumnInt(20);
  r.input_tokens = s.ColumnInt64(21);
  r.output_tokens = s.ColumnInt64(22);
  r.last_tool = s.ColumnText(23);
  r.parent_call_id = s.ColumnText(24);
  r.cache_write_tokens = s.ColumnInt64(25);
  r.cache_read_tokens = s.ColumnInt64(26);
  r.reasoning_tokens = s.ColumnInt64(27);
  r.requests = s.ColumnInt(28);
  r.cost_nano_usd = s.ColumnInt64(29);
  r.unpriced_requests = s.ColumnInt(30);
  r.root_session_id = s.ColumnText(31);
  r.worktree_json = s.ColumnText(32);
  return r;
}

AttemptRecord ReadAttempt(const Statement& s) {
  AttemptRecord r;
  r.task_id = s.ColumnText(0);
  r.attempt = s.ColumnInt(1);
  r.started_at_ms = s.ColumnInt64(2);
  r.ended_at_ms = s.ColumnInt64(3);
  r.outcome = s.ColumnText(4);
  r.error = s.ColumnText(5);
  return r;
}

NotificationRecord ReadNotification(const Statement& s) {
  NotificationRecord r;
  r.id = s.ColumnInt64(0);
  r.task_id = s.ColumnText(1);
  r.recipient = s.ColumnText(2);
  r.state = s.ColumnText(3);
  r.summary = s.ColumnText(4);
  r.created_at_ms = s.ColumnInt64(5);
  r.delivered_at_ms = s.ColumnInt64(6);
  return r;
}

EventRecord ReadEvent(const Statement& s) {
  EventRecord r;
  r.id = s.ColumnInt64(0);
  r.type = s.ColumnText(1);
  r.task_id = s.ColumnText(2);
  r.payload = s.ColumnText(3);
  r.created_at_ms = s.ColumnInt64(4);
  return r;
}

}  // namespace troupe
