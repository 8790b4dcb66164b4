// Fallback models (DESIGN.md "Fallback models"): a task whose model failed after the provider's
// retries with an error another model may not have continues, in the same session, on the next
// model its runner names. It gives its slot back and waits for one in the next model's pool
// through the scheduler like any pending task, so a fallback never bypasses a limit.
#include <fmt/format.h>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

void TaskManager::FallBack(Active* a, const RunOutcome& outcome) {
  TaskRecord& t = a->rec;
  const std::string from_model = t.model;
  const int64_t now = clock_->WallMs();
  a->ttl_timer.Cancel();
  a->stale_timer.Cancel();
  // The attempt on the failed model ends in error, saying where the task goes on.
  const std::string why = fmt::format("{} (model {}); continuing on {}",
                                      outcome.error.empty() ? "the model failed" : outcome.error,
                                      from_model, outcome.fallback_model);
  (void)Write([rec = AttemptRecord{t.id, t.attempt, t.started_at_ms, now,
                                   std::string(TaskStateName(TaskState::kError)), why}](Store* st) {
    return st->FinishAttempt(rec);
  });
  // Its slot goes back first (to the next waiter of its pool, maybe before this returns).
  const Ticket old_ticket = a->ticket;
  by_ticket_.erase(old_ticket);
  a->ticket = next_ticket_++;
  by_ticket_[a->ticket] = a;
  scheduler_.Release(old_ticket);

  t.model = outcome.fallback_model;
  t.queued_at_ms = now;
  Transition(a, TaskState::kPending, "", "");
  StartPendingTimer(a);
  scheduler_.Request(a->ticket, t.model);  // may start the next attempt before this returns
}

}  // namespace troupe
