// The TaskManager's private in-memory records: one per live task (Active), one per waiter
// (Watcher), and one per event awaiting its commit (Announcement). Shared by the manager's
// implementation files only.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "core/clock.h"
#include "engine/task_manager.h"

namespace troupe {

struct TaskManager::Active {
  explicit Active(Clock* clock) : pending_timer(clock), ttl_timer(clock), stale_timer(clock) {}
  TaskRecord rec;
  std::string workspace;  // the session's; "" = read it from the store when the run starts
  Ticket ticket = 0;
  std::unique_ptr<RunHandle> run;
  Timer pending_timer;
  Timer ttl_timer;
  Timer stale_timer;
  int64_t last_activity_ms = 0;  // clock time of the last progress
  int64_t task_ttl_ms = 0;
  int64_t pending_ttl_ms = 0;
  int64_t stale_timeout_ms = 0;
  TaskBudget budget;  // from rec.limits_json
  // Pending outside the scheduler: its tree is at budgets.tree_max_running (it waits in the
  // tree's `held` queue, engine/tree_running_cap.cc).
  bool held = false;
  // Its model is done and its worktree is being finished off the loop (FinishWorktreeLater):
  // it ends — and nothing else ends it — once that is done. Its slot is released already.
  bool finishing = false;
  bool worktree_finished = false;  // by FinishWorktreeLater: the final state adds its summary only
};

struct TaskManager::Tree {
  TreeBudget budget;
  UsageTotals usage;
  int tasks = 0;
  int delegated = 0;
  int active = 0;                // its tasks in the engine now (pending, running)
  std::string verdict;           // set once the tree passed its cost budget
  std::deque<std::string> held;  // task ids waiting for room under tree_max_running, in order
};

// A launch whose worktree is being made (LaunchAsync): not a task yet.
struct TaskManager::Preparing {
  std::string parent_session_id;
  std::string owner;
  bool cancelled = false;
  std::string why;  // when cancelled
  LaunchDone done;
};

struct TaskManager::Watcher {
  explicit Watcher(Clock* clock) : timeout(clock) {}
  std::vector<std::string> ids;
  std::unordered_set<std::string> open;  // ids not yet final or interrupted
  WaitMode mode = WaitMode::kAny;
  WatchCallback callback;
  Timer timeout;
};

// An event waiting for its batch to commit. Owns a copy of the record it describes.
struct TaskManager::Announcement {
  EngineEvent event;
  TaskRecord record;
  ProgressUpdate progress;
  std::optional<UsageTotals> request;
  bool ends = false;  // final or interrupted: watchers of the task are told after publication
};

}  // namespace troupe
