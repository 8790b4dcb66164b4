// The rows troupe persists: sessions, their messages and todo lists, tasks and their attempts,
// the notifications outbox, and the event log. Plain values; the engine gives them meaning.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/usage.h"

namespace troupe {

enum class TaskState {
  kPending,      // waiting for a slot
  kRunning,      // holds its slots
  kCompleted,    // final: the agent answered
  kError,        // final: failed, with a reason
  kCancelled,    // final: stopped by a caller
  kInterrupted,  // the daemon stopped while it ran; re-queued on start-up when configured
};

// "pending", "running", ... as stored and shown.
std::string_view TaskStateName(TaskState state);
std::optional<TaskState> ParseTaskState(std::string_view name);
// completed, error and cancelled. (interrupted is not final: it can be resumed.)
inline bool IsFinal(TaskState s) {
  return s == TaskState::kCompleted || s == TaskState::kError || s == TaskState::kCancelled;
}
// pending or running.
inline bool IsActive(TaskState s) { return s == TaskState::kPending || s == TaskState::kRunning; }

struct SessionRecord {
  std::string id;                 // ses_…
  std::string agent;              // explore, librarian, ...
  std::string model;              // provider/model as given
  std::string workspace;          // absolute directory the agent works in
  std::string parent_session_id;  // the native session that delegated it; empty if none
  std::string owner;              // who launched it from outside: "cli", "mcp:<session>", ...
  std::string title;              // description of the first task
  int depth = 0;                  // 0 for sessions started from outside; parent's depth + 1
  int64_t created_at_ms = 0;
  int64_t updated_at_ms = 0;
};

struct MessageRecord {
  std::string session_id;
  int64_t seq = 0;      // 1, 2, ... within the session; assigned by Store::AppendMessage
  std::string task_id;  // the task whose run produced it
  std::string role;     // "user", "assistant", "tool", "system"
  std::string content;  // JSON text: the message in troupe's provider-neutral form
  int64_t created_at_ms = 0;
};

struct TodoItem {
  std::string id;
  std::string content;
  std::string status;    // "pending", "in_progress", "completed", "cancelled"
  std::string priority;  // "high", "medium", "low"
};

struct TaskRecord {
  std::string id;  // bg_…
  std::string session_id;
  std::string parent_session_id;  // copied from the session at launch, for listing by parent
  std::string owner;
  std::string description;
  std::string prompt;
  std::string agent;
  std::string model;
  TaskState state = TaskState::kPending;
  int attempt = 0;  // number of times it has started running
  int depth = 0;
  std::string result;          // final answer when completed
  std::string error;           // reason when error / cancelled / interrupted
  std::string limits_json;     // per-task overrides of timeouts, JSON object text ("" = none)
  int64_t created_at_ms = 0;   // launch
  int64_t queued_at_ms = 0;    // last time it entered pending
  int64_t started_at_ms = 0;   // last time it entered running (0 = never)
  int64_t finished_at_ms = 0;  // reached a final or interrupted state (0 = not yet)
  int64_t updated_at_ms = 0;
  // Progress, persisted at state changes only (live progress travels as events).
  int turns = 0;
  int tool_calls = 0;
  // Usage, summed over the task's model requests (UsageTotals below); kept current after every
  // request, so what a task spent survives a crash.
  int64_t input_tokens = 0;  // every prompt token, cached or not (cache reads and writes included)
  int64_t output_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t reasoning_tokens = 0;
  int requests = 0;
  int64_t cost_nano_usd = 0;  // cost of its priced requests, in 1e-9 USD
  int unpriced_requests = 0;  // requests on a model without a price: its cost is unknown
  std::string last_tool;
  // The top-level session of its tree (its own session when launched from outside): a tree's
  // spend and spawn count are those of the tasks sharing it.
  std::string root_session_id;
  // The parent session's tool call (its id as the model gave it) that delegated this task;
  // "" when not delegated by a tool call. A replayed call finds its task by it.
  std::string parent_call_id;
  // The git worktree it runs in, as agent/task_worktree.h's JSON; "" = none (the workspace
  // itself). Set at launch, rewritten when the task ends.
  std::string worktree_json;
};

// What a task's record says it used.
UsageTotals UsageOf(const TaskRecord& task);
// Adds `usage` to the task's counters.
void AddUsage(TaskRecord* task, const UsageTotals& usage);

// One model request of a task: the ledger behind per-request, per-session, per-tree and daily
// spend.
struct ModelRequestRecord {
  int64_t id = 0;  // assigned by the store
  std::string task_id;
  std::string session_id;
  std::string root_session_id;
  std::string agent;
  std::string model;  // the model that answered, "provider/model"
  UsageTotals usage;  // requests = 1
  int64_t created_at_ms = 0;
};

// Which ledger rows Store::SumUsage adds up; every set field must match.
struct UsageFilter {
  std::string task_id;
  std::string session_id;
  std::string root_session_id;
  int64_t since_ms = 0;  // created_at_ms >= since_ms
  int64_t until_ms = 0;  // created_at_ms < until_ms; 0 = no end
};

// One run of a task: started when it entered running, ended when it left it.
struct AttemptRecord {
  std::string task_id;
  int attempt = 0;
  int64_t started_at_ms = 0;
  int64_t ended_at_ms = 0;  // 0 while running
  std::string outcome;      // final or interrupted state name; "" while running
  std::string error;
};

// The outbox: one row per final state, addressed to the task's parent, delivered once.
struct NotificationRecord {
  int64_t id = 0;  // assigned by the store
  std::string task_id;
  std::string recipient;  // parent session id, owner, or "" when nobody launched it
  std::string state;      // final state name
  std::string summary;    // one line: description and outcome
  int64_t created_at_ms = 0;
  int64_t delivered_at_ms = 0;  // 0 = not yet delivered
};

// The durable event log behind resumable event streams.
struct EventRecord {
  int64_t id = 0;    // assigned by the store, strictly increasing
  std::string type;  // "task.state", ...
  std::string task_id;
  std::string payload;  // JSON text
  int64_t created_at_ms = 0;
};

struct TaskFilter {
  std::vector<TaskState> states;  // empty = any
  std::string session_id;         // empty = any
  std::string parent_session_id;  // empty = any
  std::string parent_call_id;     // empty = any
  std::string owner;              // empty = any
  std::string root_session_id;    // empty = any
  std::string before_id;          // empty = any; else only ids ordered before it (a page cursor)
  int limit = 0;                  // 0 = no limit; newest first when set
};

}  // namespace troupe
