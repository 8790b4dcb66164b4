// TaskManager: isolated tasks in git worktrees (docs/DESIGN.md "Worktrees"). The git work itself
// is agent/worktrees.h's; this file decides when: a worktree is made at launch, before the task
// is stored (so that a workspace that is not a git repository is refused, and a task exists only
// once its worktree does) — off the loop for LaunchAsync; made present again when a run starts
// (a continuation, a resumed task); and finished — leftovers committed, branch recorded,
// directory removed — when the task reaches a final state. An interrupted task keeps it.
#include <fmt/format.h>

#include <memory>
#include <set>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

constexpr const char* kIsolationNone = "none";
constexpr const char* kIsolationWorktree = "worktree";

Status CheckIsolation(const LaunchRequest& request) {
  if (!request.isolation.empty() && request.isolation != kIsolationNone &&
      request.isolation != kIsolationWorktree) {
    return Status::InvalidArgument(fmt::format("isolation \"{}\" is not one of \"none\", "
                                               "\"worktree\"",
                                               request.isolation))
        .WithField("isolation");
  }
  if (!request.base.empty() && request.isolation != kIsolationWorktree) {
    return Status::InvalidArgument(
               "base names where a worktree starts; it needs isolation \"worktree\"")
        .WithField("base");
  }
  return Status::Ok();
}

}  // namespace

Status TaskManager::PlaceInWorktree(const LaunchRequest& request, bool new_session, Active* a,
                                    Placement* placement) {
  TROUPE_RETURN_IF_ERROR(CheckIsolation(request));
  TaskRecord& t = a->rec;
  if (!new_session) {
    // A continuation works where its session worked: the worktree of the session's last task.
    TaskFilter filter;
    filter.session_id = t.session_id;
    filter.limit = 1;
    std::vector<TaskView> previous;
    TROUPE_ASSIGN_OR_RETURN(previous, List(filter));
    const std::string before = previous.empty() ? "" : previous.front().task.worktree_json;
    if (before.empty()) {
      if (request.isolation == kIsolationWorktree) {
        return Status::InvalidArgument(
                   fmt::format("session {} ran in its workspace, not in a worktree; isolation is "
                               "chosen when a session starts",
                               t.session_id))
            .WithField("isolation");
      }
      return Status::Ok();
    }
    TaskWorktree worktree;
    TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(before));
    // What it found is the previous task's; this one starts afresh on the same branch.
    worktree.commits.clear();
    worktree.diff_stat.clear();
    worktree.auto_committed = false;
    worktree.finish_error.clear();
    t.worktree_json = TaskWorktreeJson(worktree);
    a->workspace = worktree.workspace();
    return Status::Ok();
  }
  if (request.isolation != kIsolationWorktree) return Status::Ok();
  if (options_.worktrees == nullptr) {
    return Status::FailedPrecondition("this troupe cannot make worktrees; launch without isolation")
        .WithField("isolation");
  }
  TaskWorktree worktree;
  if (placement != nullptr && placement->worktree) {
    worktree = *placement->worktree;
  } else if (placement != nullptr) {
    placement->wanted = true;
    placement->workspace = a->workspace;
    placement->base = request.base;
    return Status::Ok();
  } else {
    TROUPE_ASSIGN_OR_RETURN(worktree, options_.worktrees->Create(a->workspace, request.base, t.id));
  }
  t.worktree_json = TaskWorktreeJson(worktree);
  a->workspace = worktree.workspace();
  return Status::Ok();
}

void TaskManager::RunBlocking(const std::string& owner, std::function<void()> work,
                              std::function<void()> done) {
  if (options_.blocking == nullptr) {
    work();
    done();
    return;
  }
  BlockingWork what;
  what.owner = owner;
  what.waits = true;  // on git processes
  std::weak_ptr<bool> alive = alive_;
  options_.blocking->RunFor(
      what,
      [work = std::move(work)] {
        work();
        return ToolResult::Ok("");
      },
      [alive, done = std::move(done)](const ToolResult&) {
        if (auto a = alive.lock(); a && *a) done();
      });
}

void TaskManager::RunGitWrite(const std::string& repo, const std::string& owner,
                              std::function<void()> work, std::function<void()> done) {
  auto start = [this, repo, owner, work = std::move(work), done = std::move(done)]() mutable {
    RunBlocking(owner, std::move(work), [this, repo, done = std::move(done)] {
      done();
      StartNextGitWrite(repo);
    });
  };
  auto queue = git_writes_.find(repo);
  if (queue != git_writes_.end()) {
    queue->second.push_back(std::move(start));
    return;
  }
  git_writes_.emplace(repo, std::deque<std::function<void()>>());
  start();
}

void TaskManager::StartNextGitWrite(const std::string& repo) {
  auto queue = git_writes_.find(repo);
  if (queue == git_writes_.end()) return;
  if (queue->second.empty()) {
    git_writes_.erase(queue);
    return;
  }
  std::function<void()> next = std::move(queue->second.front());
  queue->second.pop_front();
  next();
}

std::string TaskManager::LaunchAsync(const LaunchRequest& request, LaunchDone done) {
  Placement placement;
  Result<TaskView> launched = LaunchPlaced(request, &placement);
  if (!placement.wanted) {
    done(std::move(launched));
    return "";
  }
  const std::string id = placement.task_id;
  auto preparing = std::make_unique<Preparing>();
  preparing->parent_session_id = request.parent_session_id;
  preparing->owner = request.owner;
  preparing->done = std::move(done);
  preparing_[id] = std::move(preparing);
  auto made = std::make_shared<Result<TaskWorktree>>(Status::Internal("not run"));
  Worktrees* worktrees = options_.worktrees;
  RunGitWrite(
      placement.workspace, id,
      [made, worktrees, id, workspace = placement.workspace, base = placement.base] {
        *made = worktrees->Create(workspace, base, id);
      },
      [this, request, id, made] { OnWorktreeMade(request, id, std::move(*made)); });
  return id;
}

void TaskManager::CancelLaunch(const std::string& launch_id, const std::string& why) {
  auto it = preparing_.find(launch_id);
  if (it == preparing_.end() || it->second->cancelled) return;
  it->second->cancelled = true;
  it->second->why = why;
}

void TaskManager::OnWorktreeMade(const LaunchRequest& request, const std::string& task_id,
                                 Result<TaskWorktree> made) {
  auto it = preparing_.find(task_id);
  if (it == preparing_.end()) return;
  std::unique_ptr<Preparing> preparing = std::move(it->second);
  preparing_.erase(it);
  if (!made.ok()) return preparing->done(made.status());
  if (preparing->cancelled) {
    DiscardWorktree(*made);
    return preparing->done(Status::Cancelled(
        fmt::format("the launch was cancelled ({}) while its worktree was being made; the "
                    "worktree and its branch {} were removed",
                    preparing->why, made->branch)));
  }
  // The launch is decided again now — the store, the budgets, a shutdown may have changed.
  Placement placement;
  placement.task_id = task_id;
  placement.worktree = *made;
  Result<TaskView> launched = LaunchPlaced(request, &placement);
  if (!launched.ok()) DiscardWorktree(*made);
  preparing->done(std::move(launched));
}

void TaskManager::DiscardWorktree(const TaskWorktree& worktree) {
  Worktrees* worktrees = options_.worktrees;
  RunGitWrite(
      worktree.repo, "", [worktrees, worktree] { (void)worktrees->Discard(worktree); }, [] {});
}

void TaskManager::CancelPreparing(const std::function<bool(const Preparing&)>& matches) {
  for (auto& [id, p] : preparing_) {
    if (!p->cancelled && matches(*p)) {
      p->cancelled = true;
      p->why = p->parent_session_id.empty() ? "cancelled by its owner"
                                            : "its parent session's tasks were cancelled";
    }
  }
}

Status TaskManager::ReopenWorktree(Active* a) {
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, ParseTaskWorktree(a->rec.worktree_json));
  if (options_.worktrees == nullptr) {
    return Status::FailedPrecondition(
        fmt::format("task {} runs in worktree {}, but this troupe cannot make worktrees", a->rec.id,
                    worktree.path));
  }
  Status present = options_.worktrees->Ensure(&worktree);
  if (!present.ok()) {
    return present.WithContext(fmt::format("reopening the worktree of branch {}", worktree.branch));
  }
  a->rec.worktree_json = TaskWorktreeJson(worktree);
  a->workspace = worktree.workspace();
  return Status::Ok();
}

bool TaskManager::ReopenWorktreeLater(Active* a) {
  if (options_.blocking == nullptr || options_.worktrees == nullptr) return false;
  Result<TaskWorktree> worktree = ParseTaskWorktree(a->rec.worktree_json);
  if (!worktree.ok() || options_.worktrees->Present(*worktree)) return false;
  auto reopened = std::make_shared<TaskWorktree>(*worktree);
  auto status = std::make_shared<Status>(Status::Internal("not run"));
  Worktrees* worktrees = options_.worktrees;
  RunGitWrite(
      worktree->repo, a->rec.id,
      [reopened, status, worktrees] { *status = worktrees->Ensure(&*reopened); },
      [this, id = a->rec.id, attempt = a->rec.attempt, reopened, status] {
        OnWorktreeReopened(id, attempt, *status, *reopened);
      });
  return true;
}

void TaskManager::OnWorktreeReopened(const std::string& task_id, int attempt, const Status& status,
                                     const TaskWorktree& worktree) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  const bool waiting = it != active_.end() && it->second->rec.attempt == attempt &&
                       it->second->rec.state == TaskState::kRunning && !it->second->finishing &&
                       it->second->run == nullptr;
  if (!waiting) {
    // It ended meanwhile (a cancel, a time-out, a shutdown): nobody works in the directory git
    // added; it goes (the branch stays), and a resumed task adds it again.
    if (status.ok()) {
      Worktrees* worktrees = options_.worktrees;
      RunGitWrite(
          worktree.repo, "", [worktrees, worktree] { (void)worktrees->Remove(worktree); }, [] {});
    }
    return;
  }
  Active* a = it->second.get();
  if (!status.ok()) {
    Transition(
        a, TaskState::kError,
        status.WithContext(fmt::format("reopening the worktree of branch {}", worktree.branch))
            .message(),
        "");
    return;
  }
  a->rec.worktree_json = TaskWorktreeJson(worktree);
  a->workspace = worktree.workspace();
  RunAgent(a);
}

void TaskManager::FinishWorktree(TaskRecord* t, bool run_git) {
  Result<TaskWorktree> worktree = ParseTaskWorktree(t->worktree_json);
  if (!worktree.ok() || options_.worktrees == nullptr) return;
  worktree->finishing.clear();
  if (run_git && !worktree->removed) {
    options_.worktrees->Finish(&*worktree, fmt::format("troupe: {} (task {}, {})", t->description,
                                                       t->id, TaskStateName(t->state)));
  }
  t->worktree_json = TaskWorktreeJson(*worktree);
  if (t->state == TaskState::kCompleted) {
    t->result += (t->result.empty() ? "" : "\n\n") + WorktreeSummary(*worktree);
  }
}

bool TaskManager::FinishWorktreeLater(Active* a, TaskState to, const std::string& error,
                                      const std::string& result) {
  TaskRecord& t = a->rec;
  if (options_.blocking == nullptr || options_.worktrees == nullptr || t.worktree_json.empty() ||
      a->worktree_finished) {
    return false;
  }
  Result<TaskWorktree> worktree = ParseTaskWorktree(t.worktree_json);
  if (!worktree.ok() || worktree->removed) return false;
  // The model is done: nothing of it runs any more, and its slot goes to the next task now.
  a->finishing = true;
  if (a->run) a->run->Cancel();
  a->run.reset();
  a->pending_timer.Cancel();
  a->ttl_timer.Cancel();
  a->stale_timer.Cancel();
  scheduler_.Release(a->ticket);
  // What the final state will be is stored with the record (still running), so a daemon that
  // dies meanwhile finishes it on its restart (Recover) instead of running the model again.
  worktree->finishing = TaskStateName(to);
  t.worktree_json = TaskWorktreeJson(*worktree);
  t.error = error;
  t.result = result;
  t.finished_at_ms = clock_->WallMs();
  auto stored = std::make_shared<const TaskRecord>(t);
  (void)Write([stored](Store* st) { return st->UpdateTask(*stored); }, stored);
  auto finished = std::make_shared<TaskWorktree>(*worktree);
  Worktrees* worktrees = options_.worktrees;
  const std::string message =
      fmt::format("troupe: {} (task {}, {})", t.description, t.id, TaskStateName(to));
  RunGitWrite(
      worktree->repo, t.id,
      [finished, worktrees, message] { worktrees->Finish(&*finished, message); },
      [this, id = t.id, to, finished] { OnWorktreeFinished(id, to, std::move(*finished)); });
  return true;
}

void TaskManager::OnWorktreeFinished(const std::string& task_id, TaskState to,
                                     TaskWorktree finished) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  if (it == active_.end() || !it->second->finishing) return;
  Active* a = it->second.get();
  finished.finishing.clear();
  a->rec.worktree_json = TaskWorktreeJson(finished);
  a->finishing = false;
  a->worktree_finished = true;  // Transition's FinishWorktree only adds the summary now
  const std::string error = a->rec.error;
  const std::string result = a->rec.result;
  Transition(a, to, error, result);
}

namespace {

// The worktree of `view` whose branch can be diffed (apply = false) or applied.
Result<TaskWorktree> BranchOfTask(const TaskView& view, Worktrees* worktrees, bool apply) {
  const std::string& id = view.task.id;
  if (view.task.worktree_json.empty()) {
    return Status::NotFound(
        fmt::format("task {} ran in its workspace, not in a worktree: {}", id,
                    apply ? "its change is there already" : "it has no branch to diff"));
  }
  if (apply && !IsFinal(view.task.state)) {
    return Status::FailedPrecondition(fmt::format(
        "task {} is {}; apply its branch once it has ended", id, TaskStateName(view.task.state)));
  }
  if (worktrees == nullptr) {
    return Status::FailedPrecondition(
        fmt::format("this troupe cannot {} worktrees", apply ? "apply" : "read"));
  }
  return ParseTaskWorktree(view.task.worktree_json);
}

std::string ApplyMessage(const TaskView& view, const TaskWorktree& worktree) {
  return fmt::format("troupe: apply {} ({}, task {})", worktree.branch, view.task.description,
                     view.task.id);
}

}  // namespace

Result<std::string> TaskManager::WorktreeDiff(const std::string& task_id) {
  TaskView view;
  TROUPE_ASSIGN_OR_RETURN(view, Get(task_id));
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, BranchOfTask(view, options_.worktrees, false));
  return options_.worktrees->Diff(worktree);
}

Result<ApplyReport> TaskManager::ApplyWorktree(const std::string& task_id) {
  TaskView view;
  TROUPE_ASSIGN_OR_RETURN(view, Get(task_id));
  TaskWorktree worktree;
  TROUPE_ASSIGN_OR_RETURN(worktree, BranchOfTask(view, options_.worktrees, true));
  return options_.worktrees->Apply(worktree, ApplyMessage(view, worktree));
}

void TaskManager::WorktreeDiffAsync(const std::string& task_id,
                                    std::function<void(Result<std::string>)> done) {
  Result<TaskView> view = Get(task_id);
  if (!view.ok()) return done(view.status());
  Result<TaskWorktree> worktree = BranchOfTask(*view, options_.worktrees, false);
  if (!worktree.ok()) return done(worktree.status());
  auto diff = std::make_shared<Result<std::string>>(Status::Internal("not run"));
  Worktrees* worktrees = options_.worktrees;
  RunBlocking(
      task_id, [diff, worktrees, w = *worktree] { *diff = worktrees->Diff(w); },
      [diff, done = std::move(done)] { done(std::move(*diff)); });
}

void TaskManager::ApplyWorktreeAsync(const std::string& task_id,
                                     std::function<void(Result<ApplyReport>)> done) {
  Result<TaskView> view = Get(task_id);
  if (!view.ok()) return done(view.status());
  Result<TaskWorktree> worktree = BranchOfTask(*view, options_.worktrees, true);
  if (!worktree.ok()) return done(worktree.status());
  auto report = std::make_shared<Result<ApplyReport>>(Status::Internal("not run"));
  Worktrees* worktrees = options_.worktrees;
  RunGitWrite(
      worktree->repo, task_id,
      [report, worktrees, w = *worktree, message = ApplyMessage(*view, *worktree)] {
        *report = worktrees->Apply(w, message);
      },
      [report, done = std::move(done)] { done(std::move(*report)); });
}

Result<std::vector<std::string>> TaskManager::RemoveOrphanedWorktrees() {
  if (options_.worktrees == nullptr) return std::vector<std::string>{};
  TaskFilter filter;
  filter.states = {TaskState::kPending, TaskState::kRunning, TaskState::kInterrupted};
  std::vector<TaskView> owners;
  TROUPE_ASSIGN_OR_RETURN(owners, List(filter));
  std::set<std::string> keep;
  for (const TaskView& owner : owners) {
    if (owner.task.worktree_json.empty()) continue;
    Result<TaskWorktree> worktree = ParseTaskWorktree(owner.task.worktree_json);
    if (worktree.ok()) keep.insert(worktree->path);
  }
  return options_.worktrees->RemoveOrphans(keep);
}

}  // namespace troupe
