// The engine side of delegation: TaskDelegator (agent/agent_host.h) over the TaskManager, so the
// tasks an agent delegates are ordinary tasks — same pools, same limits, same outbox — whose
// session records the delegating session as its parent (and so its depth, held to maxDepth by
// TaskManager::Launch).
//
// Ownership rules enforced here (the tools check them too, but the engine is where they hold):
//  - a continuation (DelegateRequest::session_id) must name a session the caller delegated;
//  - Cancel with a task id cancels only a task the caller delegated.
//
// Threading: loop thread only, like the TaskManager.
#pragma once

#include <cstdint>
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

class EngineDelegator : public TaskDelegator {
 public:
  // Both must outlive the delegator and every wait it started.
  EngineDelegator(TaskManager* manager, Clock* clock) : manager_(manager), clock_(clock) {}

  // Launches a child of request.parent_session_id (required), or — with request.session_id —
  // continues one of its child sessions. Errors of TaskManager::Launch (maxDepth, busy session,
  // bad model) pass through unchanged.
  Result<DelegatedTask> Delegate(const DelegateRequest& request) override;
  Result<DelegatedTask> Get(const std::string& task_id) override;
  // The session's messages as FormatTranscript (agent/task_reports.h) prints them, capped.
  Result<std::string> Transcript(const std::string& session_id) override;
  // TaskManager::Watch: `done` is called once, from a later loop turn. A timeout_ms <= 0 waits
  // without a time limit.
  Result<uint64_t> Wait(const std::vector<std::string>& task_ids, bool all, int64_t timeout_ms,
                        WaitCallback done) override;
  void CancelWait(uint64_t wait_id) override;
  // One task (when parent_session_id delegated it; its own children are cancelled with it), or
  // every active task parent_session_id delegated, in one store transaction. Returns the tasks
  // as they were before; a task that had already ended is returned unchanged.
  Result<std::vector<DelegatedTask>> Cancel(const std::string& parent_session_id,
                                            const std::string& task_id) override;
  // Every task parent_session_id (required) delegated, oldest first.
  Result<std::vector<DelegatedTask>> Children(const std::string& parent_session_id) override;

 private:
  TaskManager* manager_;
  Clock* clock_;
};

}  // namespace troupe
