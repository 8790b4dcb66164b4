// budgets.tree_max_running (docs/CONFIG.md "Budgets"): at most N tasks of one tree take room at
// once. A task takes room from when it asks the scheduler for a slot (so that a burst of launches
// cannot all be granted at once) until it ends — except while it has active children of its
// own: a parent waiting on its children (background_wait, or its turn ending) must not hold the
// room they need, or a tree capped at 1 would deadlock on its first delegation. The rest stay
// pending in the tree's queue, in launch order, with the reason in their status, and ask for a
// slot as room comes free. The cap only orders a tree's own tasks: pools and the global cap
// still decide when each one runs.
#include <fmt/format.h>

#include <unordered_set>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

int TaskManager::TreeWorking(const std::string& root, const Active* except) const {
  std::unordered_set<std::string> waiting_parents;
  for (const auto& [id, a] : active_) {
    if (a->rec.root_session_id == root && !a->rec.parent_session_id.empty()) {
      waiting_parents.insert(a->rec.parent_session_id);
    }
  }
  int working = 0;
  for (const auto& [id, a] : active_) {
    if (a.get() == except || a->held || a->rec.root_session_id != root) continue;
    if (!waiting_parents.count(a->rec.session_id)) ++working;
  }
  return working;
}

void TaskManager::Admit(Active* a) {
  const int cap = options_.budgets.tree_max_running;
  const std::string& root = a->rec.root_session_id;
  if (cap <= 0 || root.empty()) return scheduler_.Request(a->ticket, a->rec.model);
  // Behind the tasks held before it, then admitted at once if the tree has room.
  a->held = true;
  TreeOf(root).held.push_back(a->rec.id);
  AdmitHeld(root);
}

void TaskManager::AdmitHeld(const std::string& root) {
  const int cap = options_.budgets.tree_max_running;
  if (cap <= 0) return;
  // The tree is looked up again each time round: starting a task may end it, and ending the
  // tree's last task forgets the tree (TreeTaskEnded), or a woken parent may read it anew.
  for (;;) {
    auto it = trees_.find(root);
    if (it == trees_.end()) return;
    std::deque<std::string>& held = it->second->held;
    if (held.empty()) return;
    auto found = active_.find(held.front());
    if (found == active_.end() || !found->second->held) {  // ended while held
      held.pop_front();
      continue;
    }
    if (TreeWorking(root, nullptr) >= cap) return;
    Active* a = found->second.get();
    held.pop_front();
    a->held = false;
    scheduler_.Request(a->ticket, a->rec.model);  // may start, and end, the task right here
  }
}

void TaskManager::DescribeHeld(const Active& a, TaskView* view) const {
  const std::string& root = a.rec.root_session_id;
  int position = 0;
  if (auto it = trees_.find(root); it != trees_.end()) {
    const std::deque<std::string>& held = it->second->held;
    for (size_t i = 0; i < held.size(); ++i) {
      if (held[i] == a.rec.id) position = static_cast<int>(i) + 1;
    }
  }
  view->queue_position = position;
  view->waiting_reason = fmt::format(
      "tree {} at budgets.tree_max_running ({} of its tasks running or queued for a slot), "
      "position {} in the tree",
      root, TreeWorking(root, nullptr), position);
}

}  // namespace troupe
