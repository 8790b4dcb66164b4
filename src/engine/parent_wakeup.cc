// TaskManager: waking an idle parent session when its delegated tasks are done.
//
// A native parent (an agent that delegated with background=true and then gave its answer) is
// idle: nothing would ever show it its children's results. When the last of its active children
// ends — or one fails, which it may want to react to at once — the parent's unseen notifications
// are claimed and become the prompt of a continuation on the parent's session, so the parent's
// agent runs again with the results in front of it. Intermediate successes are deposited
// silently (they stay in the outbox and go into the next wake-up or the next request). A parent
// that was running when its children ended reads their notices at its next request; when its
// turn ends without one, it is idle with the notices unseen, and the same rule wakes it then.
#include <fmt/format.h>

#include <algorithm>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

void TaskManager::MaybeWakeParent(const std::string& parent_session_id, TaskState child_state) {
  if (shutting_down_) return;
  // A running parent sees its notifications at its next request; if that turn ends without one,
  // the end of its task calls here again (Transition), with the parent idle.
  if (busy_sessions_.contains(parent_session_id)) return;
  // Look first, claim only once the continuation is queued: a refused wake-up (the provider
  // lost its key, the session is gone) leaves the notifications for the next request or reader.
  // (Looked up before the rest: most sessions that end a turn have none.)
  Result<std::vector<NotificationRecord>> notes = store_->ListUndelivered(parent_session_id);
  if (!notes.ok() || notes.value().empty()) return;
  const bool failed =
      child_state == TaskState::kError ||
      std::any_of(notes.value().begin(), notes.value().end(), [](const NotificationRecord& n) {
        return n.state == TaskStateName(TaskState::kError);
      });
  if (!failed) {
    for (const auto& [id, a] : active_) {
      if (a->rec.parent_session_id == parent_session_id) return;  // siblings still at work
    }
  }
  // Only a parent that finished its own turn is waiting; one that failed or was cancelled is
  // not to be restarted behind the user's back.
  TaskFilter latest;
  latest.session_id = parent_session_id;
  latest.limit = 1;
  Result<std::vector<TaskRecord>> last = store_->ListTasks(latest);
  if (!last.ok() || last.value().empty() || last.value()[0].state != TaskState::kCompleted) {
    return;
  }

  std::string prompt = "<system-reminder>\nBackground tasks you delegated have finished:\n";
  for (const NotificationRecord& n : notes.value()) prompt += "- " + n.summary + "\n";
  prompt +=
      "Read their results with background_output, then continue your work and give your final "
      "answer.\n</system-reminder>";
  Result<TaskView> woken =
      Continue(parent_session_id, prompt,
               fmt::format("woken: {} delegated task(s) finished", notes.value().size()),
               last.value()[0].owner);
  if (!woken.ok()) return;
  const int64_t now = clock_->WallMs();
  for (const NotificationRecord& n : notes.value()) {
    // Inside the open batch; kept and retried if the store fails.
    (void)Write([id = n.id, now](Store* st) { return st->MarkDelivered(id, now).status(); });
  }
}

}  // namespace troupe
