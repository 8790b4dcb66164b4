// How each record of records.h maps to a row: the column lists of the SQLite schema, in the order
// the bind functions number their parameters (?1, ?2, ...) and the read functions expect the
// selected columns (0, 1, ...).
#pragma once

#include <type_traits>
#include <utility>
#include <vector>

#include "core/status.h"
#include "store/records.h"
#include "store/sqlite_db.h"

namespace troupe {

inline constexpr const char* kSessionColumns =
    "id, agent, model, workspace, parent_session_id, owner, title, depth, created_at_ms, "
    "updated_at_ms";
inline constexpr const char* kMessageColumns =
    "session_id, seq, task_id, role, content, created_at_ms";
inline constexpr const char* kTodoColumns = "id, content, status, priority";
inline constexpr const char* kTaskColumns =
    "id, session_id, parent_session_id, owner, description, prompt, agent, model, state, "
    "attempt, depth, result, error, limits_json, created_at_ms, queued_at_ms, started_at_ms, "
    "finished_at_ms, updated_at_ms, turns, tool_calls, input_tokens, output_tokens, last_tool, "
    "parent_call_id, cache_write_tokens, cache_read_tokens, reasoning_tokens, requests, "
    "cost_nano_usd, unpriced_requests, root_session_id, worktree_json";
inline constexpr const char* kModelRequestColumns =
    "id, task_id, session_id, root_session_id, agent, model, input_tokens, output_tokens, "
    "cache_write_tokens, cache_read_tokens, reasoning_tokens, cost_nano_usd, priced, "
    "created_at_ms";
inline constexpr const char* kAttemptColumns =
    "task_id, attempt, started_at_ms, ended_at_ms, outcome, error";
inline constexpr const char* kNotificationColumns =
    "id, task_id, recipient, state, summary, created_at_ms, delivered_at_ms";
inline constexpr const char* kEventColumns = "id, type, task_id, payload, created_at_ms";

// Bind functions bind every column of the list, as ?1..?N. Strings are bound without copying:
// the record must outlive the execution.
void BindSession(Statement& s, const SessionRecord& r);
void BindTask(Statement& s, const TaskRecord& r);
void BindAttempt(Statement& s, const AttemptRecord& r);
// Binds every column but id, as ?1..?13.
void BindModelRequest(Statement& s, const ModelRequestRecord& r);

// Read functions read the current row of a SELECT of the column list.
SessionRecord ReadSession(const Statement& s);
MessageRecord ReadMessage(const Statement& s);
TodoItem ReadTodo(const Statement& s);
// Corruption if the stored state is not a known state name.
Result<TaskRecord> ReadTask(const Statement& s);
ModelRequestRecord ReadModelRequest(const Statement& s);
AttemptRecord ReadAttempt(const Statement& s);
NotificationRecord ReadNotification(const Statement& s);
EventRecord ReadEvent(const Statement& s);

// Steps `s` (bound) to completion and appends every row, converted by `read` (returning a Row or
// a Result<Row>), to `out`.
template <typename Row, typename Read>
Status CollectRows(Statement& s, Read read, std::vector<Row>* out) {
  while (true) {
    TROUPE_ASSIGN_OR_RETURN(bool has_row, s.Step());
    if (!has_row) return Status::Ok();
    if constexpr (std::is_same_v<decltype(read(s)), Row>) {
      out->push_back(read(s));
    } else {
      TROUPE_ASSIGN_OR_RETURN(Row row, read(s));
      out->push_back(std::move(row));
    }
  }
}

}  // namespace troupe
