// What the agent loop needs from the program that hosts it — the engine implements these over
// its store and task manager (engine/agent_loop_runner.h). Keeping them here, as interfaces,
// lets the agent layer sit below the engine and be tested with fakes.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"
#include "store/usage.h"

namespace troupe {

// What a run reports, as deltas since the previous report; every report also counts as activity
// for the engine's stale timer (the engine calls it ProgressUpdate).
struct AgentProgress {
  int turns = 0;
  int tool_calls = 0;
  // One per model request that answered, with its usage as the provider reported it.
  int requests = 0;
  int64_t input_tokens = 0;  // every prompt token: uncached + cache reads + cache writes
  int64_t output_tokens = 0;
  int64_t cache_write_tokens = 0;
  int64_t cache_read_tokens = 0;
  int64_t reasoning_tokens = 0;  // of output_tokens
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
  // Who may act on it (agent/delegation_scope.h): the session that delegated it ("" for a
  // top-level task), and the owner of a top-level task ("mcp:<session>", "" = none).
  std::string parent_session_id;
  std::string owner;
  // Tokens and cost so far (store/usage.h).
  UsageTotals usage;

  bool final() const { return state != "pending" && state != "running"; }
};

// A session as continuing it needs to know it.
struct DelegatedSession {
  std::string id;
  std::string agent;
  std::string parent_session_id;  // "" for a top-level session
};

struct DelegateRequest {
  std::string parent_session_id;  // "" launches a top-level task (of `owner`)
  std::string parent_task_id;
  std::string owner;  // a top-level task's owner, told of its end through the outbox
  std::string agent;
  std::string prompt;
  std::string description;
  std::string model;  // "" = the agent's
  // Models the task continues on, in order, when `model` fails after its retries (DESIGN.md
  // "Fallback models"); empty = the agent's fallback_models.
  std::vector<std::string> fallback_models;
  std::string session_id;  // continue this session instead of starting one
  std::string workspace;
  // The delegating tool call (ToolContext::call_key); when set, delegating again with the same
  // key returns the task the first call started instead of starting another.
  std::string call_key;
  // Budgets the delegating model asked for; the engine keeps the narrower of these and the
  // parent's own.
  std::optional<int64_t> max_tokens;
  std::optional<double> max_cost_usd;
  // "worktree": the task runs in a fresh git worktree of the workspace (docs/DESIGN.md
  // "Worktrees"); "none": in the workspace; "" = as its agent says.
  std::string isolation;
};

// Which tasks TaskDelegator::List returns; every set field must match.
struct DelegationQuery {
  std::optional<std::string> parent_session_id;
  std::optional<std::string> owner;
  std::vector<std::string> states;  // "pending", "running", …; empty = any
};

// How delegation reaches the engine, so nested tasks obey the same pools and maxDepth. A
// mechanism only: it launches, reads, waits and cancels what it is asked to; who may do what is
// decided above it, by the DelegationService and its scope (agent/delegation_service.h).
class TaskDelegator {
 public:
  virtual ~TaskDelegator() = default;
  // Launches a task: a child of request.parent_session_id, or a top-level task when that is "";
  // with request.session_id, a continuation of that session. Errors of the engine (maxDepth, a
  // busy session, a bad model) pass through unchanged.
  virtual Result<DelegatedTask> Delegate(const DelegateRequest& request) = 0;
  // Delegate whose answer may come later: a new session in a git worktree is a task only once
  // git made its worktree, and that runs off the loop. `done` is called exactly once, before
  // this returns or from a later loop turn (with Cancelled after CancelLaunch). Returns an id for
  // CancelLaunch while the answer is pending ("" when there is nothing to cancel). The default
  // answers at once with Delegate.
  using DelegateDone = std::function<void(Result<DelegatedTask>)>;
  virtual std::string DelegateLater(const DelegateRequest& request, DelegateDone done) {
    done(Delegate(request));
    return "";
  }
  // The caller of DelegateLater gave up before its answer: no task is started for it, and
  // whatever was made for it (a worktree, its branch) is removed. Nothing once it answered.
  virtual void CancelLaunch(const std::string& launch_id) { (void)launch_id; }
  // NotFound when there is no such task.
  virtual Result<DelegatedTask> Get(const std::string& task_id) = 0;
  // nullopt when there is no such session.
  virtual Result<std::optional<DelegatedSession>> Session(const std::string& session_id) = 0;
  // The session's transcript as readable text (roles, tool calls and results).
  virtual Result<std::string> Transcript(const std::string& session_id) = 0;
  // Calls `done` once (from a later loop turn) when any/all of `task_ids` are final, or after
  // `timeout_ms` with timed_out. Returns a handle id for CancelWait.
  using WaitCallback = std::function<void(std::vector<DelegatedTask> tasks, bool timed_out)>;
  virtual Result<uint64_t> Wait(const std::vector<std::string>& task_ids, bool all,
                                int64_t timeout_ms, WaitCallback done) = 0;
  virtual void CancelWait(uint64_t wait_id) = 0;
  // Cancels each task (and what it delegated) with `reason`, in one store transaction. Returns
  // the tasks as they were just before; a task that had already ended is returned unchanged
  // and left alone.
  virtual Result<std::vector<DelegatedTask>> Cancel(const std::vector<std::string>& task_ids,
                                                    const std::string& reason) = 0;
  // The tasks `query` matches, oldest first.
  virtual Result<std::vector<DelegatedTask>> List(const DelegationQuery& query) = 0;
};

}  // namespace troupe
