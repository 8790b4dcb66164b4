// What the agent loop needs from the program that hosts it — the engine implements these over
// its store and task manager (engine/agent_loop_runner.h). Keeping them here, as interfaces,
// lets the agent layer sit below the engine and be tested with fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

// What a run reports, as deltas since the previous report; every report also counts as activity
// for the engine's stale timer (the engine calls it ProgressUpdate).
struct AgentProgress {
  int turns = 0;
  int tool_calls = 0;
  int64_t input_tokens = 0;
  int64_t output_tokens = 0;
  int64_t bytes = 0;
  std::string tool;  // the tool just started
  std::string note;
};

// A session's conversation, durable.
class SessionHistory {
 public:
  virtual ~SessionHistory() = default;
  // Every message of the session, oldest first.
  virtual Result<std::vector<ChatMessage>> Load(const std::string& session_id) = 0;
  // Persists one finished message (before the loop acts on it).
  virtual Status Append(const std::string& session_id, const std::string& task_id,
                        const ChatMessage& message) = 0;
  // Notifications addressed to the session (its children reached a final state) that it has not
  // seen, each handed out once: one line per child.
  virtual Result<std::vector<std::string>> ClaimNotifications(const std::string& session_id) = 0;
};

// A delegated task as the delegation tools show it.
struct DelegatedTask {
  std::string task_id;
  std::string session_id;
  std::string agent;
  std::string model;
  std::string description;
  std::string prompt;
  std::string state;  // pending, running, completed, error, cancelled, interrupted
  int queue_position = 0;
  std::string waiting_reason;
  int64_t duration_ms = 0;  // running or ran for; queued for while pending
  std::string last_tool;
  std::string result;  // completed
  std::string error;   // error, cancelled

  bool final() const { return state != "pending" && state != "running"; }
};

struct DelegateRequest {
  std::string parent_session_id;
  std::string parent_task_id;
  std::string agent;
  std::string prompt;
  std::string description;
  std::string model;       // "" = the agent's
  std::string session_id;  // continue this child session instead of starting one
  std::string workspace;
  // The delegating tool call (ToolContext::call_key); when set, delegating again with the same
  // key returns the task the first call started instead of starting another.
  std::string call_key;
};

// How the delegation tools reach the engine, so nested tasks obey the same pools and maxDepth.
class TaskDelegator {
 public:
  virtual ~TaskDelegator() = default;
  virtual Result<DelegatedTask> Delegate(const DelegateRequest& request) = 0;
  virtual Result<DelegatedTask> Get(const std::string& task_id) = 0;
  // The child's transcript as readable text (roles, tool calls and results).
  virtual Result<std::string> Transcript(const std::string& session_id) = 0;
  // Calls `done` once (from a later loop turn) when any/all of `task_ids` are final, or after
  // `timeout_ms` with timed_out. Returns a handle id for CancelWait.
  using WaitCallback = std::function<void(std::vector<DelegatedTask> tasks, bool timed_out)>;
  virtual Result<uint64_t> Wait(const std::vector<std::string>& task_ids, bool all,
                                int64_t timeout_ms, WaitCallback done) = 0;
  virtual void CancelWait(uint64_t wait_id) = 0;
  // Cancels one task (and what it delegated), or every active task `parent_session_id`
  // delegated when task_id is empty. Returns the tasks as they were before cancelling.
  virtual Result<std::vector<DelegatedTask>> Cancel(const std::string& parent_session_id,
                                                    const std::string& task_id) = 0;
  // Tasks `parent_session_id` delegated, newest last.
  virtual Result<std::vector<DelegatedTask>> Children(const std::string& parent_session_id) = 0;
};

}  // namespace troupe
