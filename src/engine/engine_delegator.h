// The engine side of delegation: TaskDelegator (agent/agent_host.h) over the TaskManager, so the
// tasks an agent delegates are ordinary tasks — same pools, same limits, same outbox — whose
// session records the delegating session as its parent (and so its depth, held to maxDepth by
// TaskManager::Launch), and the tasks an MCP client launches are top-level tasks of its owner.
//
// A mechanism: who may read, cancel or continue what is decided by the DelegationService and
// its scope (agent/delegation_service.h, agent/delegation_scope.h), not here. What holds here
// is the engine's own: maxDepth, a busy session, and that a replayed delegating call finds the
// task it started.
//
// Threading: loop thread only, like the TaskManager.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "agent/agent_host.h"
#include "core/clock.h"
#include "engine/task_manager.h"

namespace troupe {

// A task as the delegation tools show it. Durations are measured on the wall clock, as the
// record's timestamps are: pending = now - queued, running = now - started, ended = finished -
// started (finished - queued for a task that never started).
DelegatedTask DelegatedTaskOf(const TaskView& view, int64_t now_wall_ms);

// The store's filter for `query`. InvalidArgument when a field that is set is empty ("" would
// match every task) or a state is not a task state.
Result<TaskFilter> TaskFilterOf(const DelegationQuery& query);

class EngineDelegator : public TaskDelegator {
 public:
  // Both must outlive the delegator and every wait it started.
  EngineDelegator(TaskManager* manager, Clock* clock) : manager_(manager), clock_(clock) {}

  // Launches a child of request.parent_session_id, or a top-level task of request.owner when
  // there is no parent; with request.session_id, continues that session. With a call_key seen
  // under the same parent, returns the task that call started. Errors of TaskManager::Launch
  // (maxDepth, busy session, bad model) pass through unchanged.
  Result<DelegatedTask> Delegate(const DelegateRequest& request) override;
  // Delegate through TaskManager::LaunchAsync: a new session in a worktree answers once git made
  // it, off the loop.
  std::string DelegateLater(const DelegateRequest& request, DelegateDone done) override;
  void CancelLaunch(const std::string& launch_id) override;
  Result<DelegatedTask> Get(const std::string& task_id) override;
  Result<std::optional<DelegatedSession>> Session(const std::string& session_id) override;
  // The session's messages as FormatTranscript (agent/task_reports.h) prints them, capped.
  Result<std::string> Transcript(const std::string& session_id) override;
  // TaskManager::Watch: `done` is called once, from a later loop turn. A timeout_ms <= 0 waits
  // without a time limit.
  Result<uint64_t> Wait(const std::vector<std::string>& task_ids, bool all, int64_t timeout_ms,
                        WaitCallback done) override;
  void CancelWait(uint64_t wait_id) override;
  // Each task (its own children with it), in one store transaction; one Cancel per task rather
  // than CancelChildren, so each records `reason`. A task that had already ended (or that an
  // earlier one's cascade ended) is returned as it is and left alone.
  Result<std::vector<DelegatedTask>> Cancel(const std::vector<std::string>& task_ids,
                                            const std::string& reason) override;
  // Oldest first; errors of TaskFilterOf.
  Result<std::vector<DelegatedTask>> List(const DelegationQuery& query) override;
  // Every task parent_session_id (required) delegated, oldest first.
  Result<std::vector<DelegatedTask>> Children(const std::string& parent_session_id);

 private:
  // The checks before a launch, and the task a replayed call started (nullopt: none).
  Result<std::optional<DelegatedTask>> Replayed(const DelegateRequest& request);

  TaskManager* manager_;
  Clock* clock_;
};

}  // namespace troupe
