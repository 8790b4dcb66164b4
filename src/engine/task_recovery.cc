// TaskManager: start-up recovery, resuming, continuing, and graceful shutdown.
#include <fmt/format.h>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

// The final state a task was finishing its worktree for (FinishWorktreeLater), if it was.
std::optional<TaskState> FinishingState(const TaskRecord& t) {
  if (t.worktree_json.empty() || IsFinal(t.state)) return std::nullopt;
  Result<TaskWorktree> worktree = ParseTaskWorktree(t.worktree_json);
  if (!worktree.ok() || worktree->finishing.empty()) return std::nullopt;
  std::optional<TaskState> end = ParseTaskState(worktree->finishing);
  if (!end || !IsFinal(*end)) return std::nullopt;
  return end;
}

}  // namespace

// Moves a task that is not in the engine (only in the store) to `to` and announces it.
Status TaskManager::Restate(TaskRecord* t, TaskState to, const std::string& error) {
  const TaskState from = t->state;
  const int64_t now = clock_->WallMs();
  t->state = to;
  t->updated_at_ms = now;
  t->error = error;
  if (to == TaskState::kInterrupted) t->finished_at_ms = now;
  if (to == TaskState::kPending) {
    t->queued_at_ms = now;
    t->finished_at_ms = 0;
  }
  if (IsFinal(to) && !t->worktree_json.empty()) FinishWorktree(t);
  EngineEvent event;
  const size_t mark = WriteMark();
  Status s = Persist(*t, from, &event, /*attempt_started=*/false,
                     /*attempt_ended=*/from == TaskState::kRunning);
  if (!s.ok()) {
    DropWritesSince(mark);  // refused: the task stays as the store has it
    return s;
  }
  event.kind = EngineEvent::Kind::kState;
  event.from = from;
  Announce(event, *t, nullptr, to == TaskState::kInterrupted);
  return Status::Ok();
}

Status TaskManager::Recover() {
  BatchScope batch(this);
  TaskFilter filter;
  filter.states = {TaskState::kPending, TaskState::kRunning, TaskState::kInterrupted};
  std::vector<TaskRecord> tasks;
  TROUPE_ASSIGN_OR_RETURN(tasks, store_->ListTasks(filter));
  // In launch order, so queues keep their FIFO order across the restart.
  for (TaskRecord& t : tasks) {
    if (std::optional<TaskState> end = FinishingState(t)) {
      // Its model was done and its end decided; troupe stopped while its worktree was being
      // finished. Finish it now (on the loop: nothing is served yet) and end it as decided.
      const std::string error = t.error;
      TROUPE_RETURN_IF_ERROR(Restate(&t, *end, error));
      continue;
    }
    if (t.state == TaskState::kRunning) {
      // Its run died with the process that ran it.
      TROUPE_RETURN_IF_ERROR(
          Restate(&t, TaskState::kInterrupted,
                  fmt::format("troupe stopped while this task ran (attempt {})", t.attempt)));
    }
    if (t.state == TaskState::kInterrupted) {
      if (!options_.limits.resume_interrupted) continue;
      TROUPE_RETURN_IF_ERROR(Restate(&t, TaskState::kPending, ""));
    }
    auto a = std::make_unique<Active>(clock_);
    a->rec = std::move(t);
    TROUPE_RETURN_IF_ERROR(Enqueue(std::move(a)).status());
  }
  return Status::Ok();
}

Result<TaskView> TaskManager::Resume(const std::string& task_id) {
  BatchScope batch(this);
  if (shutting_down_)
    return Status::Unavailable("troupe is shutting down; resume after it restarts");
  if (active_.count(task_id)) {
    return Status::FailedPrecondition(fmt::format("task {} is already {}", task_id,
                                                  TaskStateName(active_.at(task_id)->rec.state)));
  }
  std::optional<TaskRecord> stored;
  TROUPE_ASSIGN_OR_RETURN(stored, StoredTask(task_id));
  if (!stored) return Status::NotFound(fmt::format("task {} does not exist", task_id));
  if (stored->state != TaskState::kInterrupted) {
    return Status::FailedPrecondition(fmt::format(
        "task {} is {}, only interrupted tasks can be resumed; continue its session {} instead",
        task_id, TaskStateName(stored->state), stored->session_id));
  }
  if (auto busy = busy_sessions_.find(stored->session_id); busy != busy_sessions_.end()) {
    return Status::FailedPrecondition(
        fmt::format("session {} is busy with task {}", stored->session_id, busy->second));
  }
  TROUPE_RETURN_IF_ERROR(Restate(&*stored, TaskState::kPending, ""));
  auto a = std::make_unique<Active>(clock_);
  a->rec = std::move(*stored);
  return Enqueue(std::move(a));
}

Result<TaskView> TaskManager::Continue(const std::string& session_id, const std::string& prompt,
                                       const std::string& description, const std::string& owner) {
  LaunchRequest request;
  request.session_id = session_id;
  request.prompt = prompt;
  request.description = description;
  request.owner = owner;
  return Launch(request);
}

Result<TaskView> TaskManager::LaunchAndWait(const LaunchRequest& request, int64_t timeout_ms,
                                            WatchCallback done) {
  TaskView view;
  TROUPE_ASSIGN_OR_RETURN(view, Launch(request));
  TROUPE_RETURN_IF_ERROR(
      Watch({view.task.id}, WaitMode::kAll, timeout_ms, std::move(done)).status());
  return view;
}

void TaskManager::Shutdown() {
  if (shutting_down_) return;
  {
    BatchScope batch(this);
    shutting_down_ = true;
    scheduler_.SetPaused(true);
    std::vector<std::string> running;
    for (const auto& [id, a] : active_) {
      if (a->rec.state == TaskState::kRunning) running.push_back(id);
    }
    for (const auto& id : running) {
      auto it = active_.find(id);
      if (it == active_.end()) continue;
      Active* a = it->second.get();
      if (a->run) a->run->Cancel();
      a->run.reset();
      Transition(a, TaskState::kInterrupted, "troupe shut down while this task ran", "");
    }
    // Pending tasks stay pending in the store; their timers die with the manager.
  }
  // A last try for what waits for the store: a task that finished must not run again after the
  // restart. (If the store still fails, those tasks are recovered as interrupted.)
  if (batch_depth_ == 0) (void)RetryUnsavedWrites();
  retry_timer_.Cancel();
}

}  // namespace troupe
