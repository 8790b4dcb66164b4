#include "engine/task_manager.h"

#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <set>

#include "core/duration_format.h"
#include "engine/model_name.h"
#include "engine/task_manager_internal.h"

namespace troupe {

namespace {

std::string DefaultDescription(const std::string& prompt) {
  std::string line = prompt.substr(0, prompt.find('\n'));
  if (line.size() > 60) line = line.substr(0, 57) + "...";
  return line;
}

std::string LimitsJson(const LaunchRequest& r) {
  nlohmann::json j = nlohmann::json::object();
  if (r.task_ttl_ms) j["taskTtlMs"] = *r.task_ttl_ms;
  if (r.pending_ttl_ms) j["pendingTtlMs"] = *r.pending_ttl_ms;
  if (r.stale_timeout_ms) j["staleTimeoutMs"] = *r.stale_timeout_ms;
  if (!r.fallback_models.empty()) j["fallbackModels"] = r.fallback_models;
  return j.empty() ? std::string() : j.dump();
}

// The fallback models the task's launch named (LaunchRequest::fallback_models), from its limits.
std::vector<std::string> FallbackModelsOf(const TaskRecord& t) {
  std::vector<std::string> out;
  if (t.limits_json.empty()) return out;
  const nlohmann::json limits = nlohmann::json::parse(t.limits_json, nullptr, false);
  if (!limits.is_object()) return out;
  auto it = limits.find("fallbackModels");
  if (it == limits.end() || !it->is_array()) return out;
  for (const nlohmann::json& m : *it) {
    if (m.is_string()) out.push_back(m.get<std::string>());
  }
  return out;
}

// Reads one override from the stored limits JSON, else the configured default.
int64_t LimitFrom(const nlohmann::json& limits, const char* key, int64_t fallback) {
  auto it = limits.find(key);
  if (it != limits.end() && it->is_number_integer() && it->get<int64_t>() > 0) {
    return it->get<int64_t>();
  }
  return fallback;
}

std::string EventPayload(const TaskRecord& t, TaskState from) {
  nlohmann::json j = {
      {"task_id", t.id},
      {"session_id", t.session_id},
      {"state", TaskStateName(t.state)},
      {"from", TaskStateName(from)},
      {"agent", t.agent},
      {"model", t.model},
      {"description", t.description},
      {"attempt", t.attempt},
  };
  if (!t.parent_session_id.empty()) j["parent_session_id"] = t.parent_session_id;
  if (!t.owner.empty()) j["owner"] = t.owner;
  if (!t.error.empty()) j["error"] = t.error;
  return j.dump();
}

}  // namespace

TaskManager::TaskManager(Clock* clock, Store* store, AgentRunner* runner, IdGenerator* ids,
                         TaskManagerOptions options)
    : clock_(clock),
      store_(store),
      runner_(runner),
      ids_(ids),
      options_(std::move(options)),
      scheduler_(clock, ConcurrencyPolicy(options_.limits, options_.model_aliases),
                 [this](Ticket t) { OnGrant(t); }),
      retry_timer_(clock) {}

TaskManager::~TaskManager() {
  *alive_ = false;  // git work still out comes back to nothing
  // Not a shutdown: nothing is written, as if the process died. Runs are stopped only so that
  // none calls back into a destroyed manager.
  for (auto& [id, a] : active_) {
    if (a->run) a->run->Cancel();
  }
}

Result<TaskView> TaskManager::Launch(const LaunchRequest& request) {
  return LaunchPlaced(request, nullptr);
}

Result<TaskView> TaskManager::LaunchPlaced(const LaunchRequest& original, Placement* placement) {
  BatchScope batch(this);
  if (shutting_down_)
    return Status::Unavailable("troupe is shutting down; launch again after it restarts");
  LaunchRequest request = original;
  if (options_.prepare_launch) TROUPE_RETURN_IF_ERROR(options_.prepare_launch(&request));
  if (request.prompt.empty())
    return Status::InvalidArgument("prompt is empty: say what the task should do")
        .WithField("prompt");

  const int64_t now = clock_->WallMs();
  std::optional<SessionRecord> new_session;
  std::optional<SessionRecord> parent_session;  // a new delegated session's parent
  SessionRecord session;
  if (!request.session_id.empty()) {
    std::optional<SessionRecord> found;
    TROUPE_ASSIGN_OR_RETURN(found, store_->GetSession(request.session_id));
    if (!found)
      return Status::NotFound(fmt::format("session {} does not exist", request.session_id))
          .WithField("session_id");
    session = *found;
    if (auto busy = busy_sessions_.find(session.id); busy != busy_sessions_.end()) {
      return Status::FailedPrecondition(
          fmt::format("session {} is busy with task {}; wait for it or cancel it before continuing",
                      session.id, busy->second));
    }
  } else {
    if (request.agent.empty())
      return Status::InvalidArgument("agent is required for a new session").WithField("agent");
    session.id = ids_->NewSessionId();
    session.agent = request.agent;
    session.model = request.model.empty() ? options_.default_model : request.model;
    session.workspace = request.workspace.empty() ? options_.default_workspace : request.workspace;
    session.parent_session_id = request.parent_session_id;
    session.owner = request.owner;
    session.title =
        request.description.empty() ? DefaultDescription(request.prompt) : request.description;
    session.created_at_ms = now;
    session.updated_at_ms = now;
    if (!request.parent_session_id.empty()) {
      std::optional<SessionRecord> parent;
      TROUPE_ASSIGN_OR_RETURN(parent, store_->GetSession(request.parent_session_id));
      if (!parent) {
        return Status::NotFound(
                   fmt::format("parent session {} does not exist", request.parent_session_id))
            .WithField("parent_session_id");
      }
      session.depth = parent->depth + 1;
      parent_session = parent;
      if (session.depth > options_.limits.max_depth) {
        return Status::ResourceExhausted(fmt::format(
            "delegation depth {} exceeds maxDepth {}: session {} may not delegate further",
            session.depth, options_.limits.max_depth, parent->id));
      }
    }
    new_session = session;
  }

  auto a = std::make_unique<Active>(clock_);
  a->workspace = session.workspace;
  TaskRecord& t = a->rec;
  t.id =
      placement != nullptr && !placement->task_id.empty() ? placement->task_id : ids_->NewTaskId();
  t.session_id = session.id;
  t.parent_session_id = session.parent_session_id;
  t.parent_call_id = request.parent_call_id;
  t.owner = request.owner.empty() ? session.owner : request.owner;
  t.description =
      request.description.empty() ? DefaultDescription(request.prompt) : request.description;
  t.prompt = request.prompt;
  t.agent = request.agent.empty() ? session.agent : request.agent;
  t.model = request.model.empty() ? session.model : request.model;
  std::vector<std::string> models = {t.model};
  models.insert(models.end(), request.fallback_models.begin(), request.fallback_models.end());
  std::set<std::string> named;
  for (const std::string& model : models) {
    // A model named twice would be fallen back to again and again (NextFallbackModel finds its
    // first place in the list).
    if (!named.insert(scheduler_.policy().Canonical(model)).second) {
      return Status::InvalidArgument(
                 fmt::format("model \"{}\" is named twice in the model list", model))
          .WithField("model");
    }
    if (ProviderOf(scheduler_.policy().Canonical(model)).empty()) {
      return Status::InvalidArgument(
                 fmt::format("model \"{}\" must be written provider/model, e.g. "
                             "anthropic/claude-sonnet-4-5",
                             model))
          .WithField("model");
    }
    if (options_.check_model) {
      TROUPE_RETURN_IF_ERROR(options_.check_model(scheduler_.policy().Canonical(model)));
    }
  }
  t.state = TaskState::kPending;
  t.depth = session.depth;
  t.limits_json = LimitsJson(request);
  TROUPE_RETURN_IF_ERROR(PlanSpend(request, session, parent_session, &t));
  t.created_at_ms = t.queued_at_ms = t.updated_at_ms = now;
  TROUPE_RETURN_IF_ERROR(PlaceInWorktree(request, new_session.has_value(), a.get(), placement));
  if (placement != nullptr && placement->wanted) {
    placement->task_id = t.id;  // nothing written: LaunchAsync comes back once it is made
    return Status::Unavailable("the task's worktree is being made");
  }

  MessageRecord prompt;
  prompt.session_id = session.id;
  prompt.task_id = t.id;
  prompt.role = "user";
  prompt.content = nlohmann::json{{"role", "user"}, {"content", request.prompt}}.dump();
  prompt.created_at_ms = now;

  auto log = std::make_shared<EventRecord>(
      EventRecord{0, "task.state", t.id, EventPayload(t, TaskState::kPending), now});
  const size_t mark = WriteMark();
  Status written = [&]() -> Status {
    if (new_session) {
      TROUPE_RETURN_IF_ERROR(Write([s = *new_session](Store* st) { return st->InsertSession(s); }));
    } else {
      TROUPE_RETURN_IF_ERROR(
          Write([id = session.id, now](Store* st) { return st->TouchSession(id, now); }));
    }
    auto message = std::make_shared<MessageRecord>(std::move(prompt));
    TROUPE_RETURN_IF_ERROR(
        Write([message](Store* st) { return st->AppendMessage(message.get()); }, nullptr, message));
    auto task = std::make_shared<const TaskRecord>(t);
    TROUPE_RETURN_IF_ERROR(Write([task](Store* st) { return st->InsertTask(*task); }, task));
    return Write([log](Store* st) { return st->AppendEvent(log.get()); });
  }();
  if (!written.ok()) {
    // Not acknowledged, so not kept: the batch rolls back and this launch is not retried.
    DropWritesSince(mark);
    // Nothing ran in it: just remove it (LaunchAsync discards the one it made, branch too).
    const bool made_for_it = placement != nullptr && placement->worktree.has_value();
    if (!t.worktree_json.empty() && !made_for_it) FinishWorktree(&t);
    return written.WithContext("launch could not be stored");
  }
  CountLaunch(t);
  EngineEvent event;
  event.kind = EngineEvent::Kind::kState;
  event.id = log->id;
  event.payload = log->payload;
  event.from = TaskState::kPending;
  Announce(event, t, nullptr, false);
  return Enqueue(std::move(a));
}

Result<TaskView> TaskManager::Enqueue(std::unique_ptr<Active> owned) {
  Active* a = owned.get();
  const std::string id = a->rec.id;
  nlohmann::json limits = nlohmann::json::object();
  if (!a->rec.limits_json.empty()) {
    limits = nlohmann::json::parse(a->rec.limits_json, nullptr, /*allow_exceptions=*/false);
    if (!limits.is_object()) limits = nlohmann::json::object();
  }
  a->task_ttl_ms = LimitFrom(limits, "taskTtlMs", options_.limits.task_ttl_ms);
  a->pending_ttl_ms = LimitFrom(limits, "pendingTtlMs", options_.limits.pending_ttl_ms);
  a->stale_timeout_ms = LimitFrom(limits, "staleTimeoutMs", options_.limits.stale_timeout_ms);
  a->budget = TaskBudgetOf(a->rec);
  a->ticket = next_ticket_++;
  by_ticket_[a->ticket] = a;
  busy_sessions_[a->rec.session_id] = id;
  StartPendingTimer(a);
  if (!a->rec.root_session_id.empty()) ++TreeOf(a->rec.root_session_id).active;
  active_.emplace(id, std::move(owned));
  Admit(a);  // may start (and even finish) the task
  return Get(id);
}

void TaskManager::StartPendingTimer(Active* a) {
  const std::string id = a->rec.id;
  // The pending TTL counts from when the task entered the queue, also across restarts.
  const int64_t waited = clock_->WallMs() - a->rec.queued_at_ms;
  a->pending_timer.Start(a->pending_ttl_ms - waited, [this, id] {
    BatchScope batch(this);
    auto it = active_.find(id);
    if (it == active_.end() || it->second->rec.state != TaskState::kPending) return;
    Active* p = it->second.get();
    const std::string pool = scheduler_.PoolOf(p->ticket);
    Transition(p, TaskState::kError,
               fmt::format("waited {} for a slot in pool {} without getting one (pendingTtlMs {})",
                           FormatDuration(p->pending_ttl_ms), pool, p->pending_ttl_ms),
               "");
  });
}

void TaskManager::OnGrant(Ticket ticket) {
  BatchScope batch(this);
  auto it = by_ticket_.find(ticket);
  if (it == by_ticket_.end()) return;
  Active* a = it->second;
  a->pending_timer.Cancel();
  Transition(a, TaskState::kRunning, "", "");
  StartRun(a);
}

void TaskManager::StartRun(Active* a) {
  const std::string id = a->rec.id;
  const int attempt = a->rec.attempt;
  a->last_activity_ms = clock_->NowMs();
  a->ttl_timer.Start(a->task_ttl_ms, [this, id] {
    BatchScope batch(this);
    auto it = active_.find(id);
    if (it == active_.end() || it->second->rec.state != TaskState::kRunning) return;
    Active* r = it->second.get();
    if (r->run) r->run->Cancel();
    Transition(r, TaskState::kError,
               fmt::format("timed out after {} (taskTtlMs {})", FormatDuration(r->task_ttl_ms),
                           r->task_ttl_ms),
               "");
  });
  a->stale_timer.Start(a->stale_timeout_ms, [this, id] { OnStaleCheck(id); });

  if (a->workspace.empty()) {  // recovered tasks: only the store knows
    if (auto s = store_->GetSession(a->rec.session_id); s.ok() && *s)
      a->workspace = (*s)->workspace;
  }
  if (!a->rec.worktree_json.empty()) {
    // Removed when the session's previous task ended: git adds it again off the loop, and the
    // run starts once it is there (OnWorktreeReopened).
    if (ReopenWorktreeLater(a)) return;
    Status reopened = ReopenWorktree(a);
    if (!reopened.ok()) {
      Transition(a, TaskState::kError, reopened.message(), "");
      return;
    }
  }
  RunAgent(a);
}

void TaskManager::RunAgent(Active* a) {
  const std::string id = a->rec.id;
  const int attempt = a->rec.attempt;
  RunRequest request;
  request.task_id = id;
  request.session_id = a->rec.session_id;
  request.agent = a->rec.agent;
  request.model = a->rec.model;
  request.fallback_models = FallbackModelsOf(a->rec);
  request.prompt = a->rec.prompt;
  request.attempt = attempt;
  request.depth = a->rec.depth;
  request.workspace = a->workspace;
  RunCallbacks callbacks;
  callbacks.progress = [this, id, attempt](const ProgressUpdate& u) { OnProgress(id, attempt, u); };
  callbacks.finish = [this, id, attempt](RunOutcome o) { OnFinish(id, attempt, std::move(o)); };
  callbacks.admit_request = [this, id, attempt](int64_t estimated_prompt_tokens,
                                                int max_output_tokens) {
    return AdmitRequest(id, attempt, estimated_prompt_tokens, max_output_tokens);
  };
  std::unique_ptr<RunHandle> handle = runner_->Start(request, std::move(callbacks));
  // The run may have finished (or been cancelled through a callback) inside Start.
  auto it = active_.find(id);
  if (it != active_.end() && it->second->rec.attempt == attempt &&
      it->second->rec.state == TaskState::kRunning) {
    it->second->run = std::move(handle);
  }
}

void TaskManager::OnProgress(const std::string& task_id, int attempt, const ProgressUpdate& u) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  if (it == active_.end()) return;
  Active* a = it->second.get();
  if (a->rec.state != TaskState::kRunning || a->rec.attempt != attempt) return;
  a->last_activity_ms = clock_->NowMs();
  a->rec.turns += u.turns;
  a->rec.tool_calls += u.tool_calls;
  if (!u.tool.empty()) a->rec.last_tool = u.tool;
  // A model request's usage is charged, stored and checked against the budgets; other reports
  // (a runner's streamed chunks) only add the tokens they count.
  if (u.requests > 0) {
    ChargeRequest(a, u);
    return;
  }
  a->rec.input_tokens += u.input_tokens;
  a->rec.output_tokens += u.output_tokens;
  EngineEvent event;
  event.kind = EngineEvent::Kind::kProgress;
  event.from = TaskState::kRunning;
  Announce(event, a->rec, &u, false);
}

void TaskManager::OnStaleCheck(const std::string& task_id) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  if (it == active_.end() || it->second->rec.state != TaskState::kRunning) return;
  Active* a = it->second.get();
  const int64_t idle = clock_->NowMs() - a->last_activity_ms;
  if (idle < a->stale_timeout_ms) {
    // Progress arrived since the timer was set: check again when the new quiet period would end.
    a->stale_timer.Start(a->stale_timeout_ms - idle, [this, task_id] { OnStaleCheck(task_id); });
    return;
  }
  if (a->run) a->run->Cancel();
  Transition(a, TaskState::kError,
             fmt::format("stale: no output from the provider and no tool progress for {} "
                         "(staleTimeoutMs {})",
                         FormatDuration(idle), a->stale_timeout_ms),
             "");
}

void TaskManager::OnFinish(const std::string& task_id, int attempt, RunOutcome outcome) {
  BatchScope batch(this);
  auto it = active_.find(task_id);
  if (it == active_.end()) return;
  Active* a = it->second.get();
  if (a->rec.state != TaskState::kRunning || a->rec.attempt != attempt || a->finishing) return;
  a->run.reset();  // finished: nothing to cancel any more
  if (!outcome.ok && !outcome.fallback_model.empty() && !shutting_down_) {
    return FallBack(a, outcome);  // engine/model_fallback.cc
  }
  if (outcome.ok) {
    Transition(a, TaskState::kCompleted, "", outcome.result);
  } else {
    Transition(a, TaskState::kError, outcome.error.empty() ? "the agent failed" : outcome.error,
               "");
  }
}

void TaskManager::Transition(Active* a, TaskState to, const std::string& error,
                             const std::string& result) {
  // Its model is done and its end decided: only the worktree's finish ends it now.
  if (a->finishing) return;
  if (IsFinal(to) && a->rec.state == TaskState::kRunning &&
      FinishWorktreeLater(a, to, error, result)) {
    return;
  }
  TaskRecord& t = a->rec;
  const TaskState from = t.state;
  const int64_t now = clock_->WallMs();
  const bool ends = IsFinal(to) || to == TaskState::kInterrupted;
  t.state = to;
  t.updated_at_ms = now;
  if (to == TaskState::kRunning) {
    ++t.attempt;
    t.started_at_ms = now;
    t.error.clear();
  }
  if (ends) {
    t.finished_at_ms = now;
    t.error = error;
    t.result = result;
  }
  if (IsFinal(to) && !t.worktree_json.empty()) FinishWorktree(&t, !a->worktree_finished);
  EngineEvent event;
  // On failure the engine goes on in memory (slots must not leak): the write is kept and saved
  // when the store works again (engine/store_writes.cc).
  (void)Persist(t, from, &event, /*attempt_started=*/to == TaskState::kRunning,
                /*attempt_ended=*/ends && from == TaskState::kRunning);
  event.kind = EngineEvent::Kind::kState;
  event.from = from;
  Announce(event, t, nullptr, ends);
  if (!ends) return;
  // Leaving the engine: take ownership so the record outlives the map entry while we announce.
  auto node = active_.extract(t.id);
  std::unique_ptr<Active> owned = std::move(node.mapped());
  by_ticket_.erase(owned->ticket);
  if (auto b = busy_sessions_.find(t.session_id); b != busy_sessions_.end() && b->second == t.id) {
    busy_sessions_.erase(b);
  }
  owned->pending_timer.Cancel();
  owned->ttl_timer.Cancel();
  owned->stale_timer.Cancel();
  // Hands the slot to the next waiter, which may start running before this returns; then its
  // tree's room (tree_max_running) to the tree's next held task.
  scheduler_.Release(owned->ticket);  // (nothing when FinishWorktreeLater released it)
  AdmitHeld(owned->rec.root_session_id);
  if (options_.wake_idle_parents && IsFinal(to) && !owned->rec.parent_session_id.empty()) {
    MaybeWakeParent(owned->rec.parent_session_id, to);
  }
  if (options_.wake_idle_parents && to == TaskState::kCompleted) {
    // Its children's notices that came in while it ran wait for a request that will not come.
    MaybeWakeParent(owned->rec.session_id, TaskState::kCompleted);
  }
  TreeTaskEnded(owned->rec.root_session_id);
}

TaskManager::Batch::Batch(TaskManager* manager) : manager_(manager) { ++manager_->batch_depth_; }

TaskManager::Batch::~Batch() {
  if (--manager_->batch_depth_ == 0) manager_->CloseBatch();
}

void TaskManager::CloseBatch() {
  CommitBatch();
  if (flushing_) return;  // an outer CloseBatch is publishing; it will reach what we queued
  flushing_ = true;
  // Publication may re-enter the manager (a watcher launches a task...): those calls commit when
  // their own scope closes and queue behind, so the bus sees events in commit order.
  while (!announcements_.empty()) {
    Announcement a = std::move(announcements_.front());
    announcements_.pop_front();
    a.event.task = &a.record;
    a.event.progress = a.event.kind == EngineEvent::Kind::kProgress ? &a.progress : nullptr;
    a.event.request = a.request ? &*a.request : nullptr;
    events_.Publish(a.event);
    if (a.ends) NotifyWatchers(a.record.id);
  }
  flushing_ = false;
}

void TaskManager::Announce(const EngineEvent& event, const TaskRecord& task,
                           const ProgressUpdate* progress, bool ends) {
  if (!batch_open_ && !flushing_ && announcements_.empty()) {
    // Nothing awaits a commit (e.g. a progress report on its own): publish in place, no copy.
    EngineEvent now = event;
    now.task = &task;
    now.progress = progress;
    events_.Publish(now);
    if (ends) NotifyWatchers(task.id);
    return;
  }
  Announcement& a = announcements_.emplace_back();
  a.event = event;
  a.record = task;
  if (progress) a.progress = *progress;
  if (event.request) a.request = *event.request;
  a.ends = ends;
}

Status TaskManager::Persist(const TaskRecord& t, TaskState from, EngineEvent* event,
                            bool attempt_started, bool attempt_ended) {
  // Every write is tried (and kept) even after one fails, so that all of them are retried.
  auto task = std::make_shared<const TaskRecord>(t);
  Status s = Write([task](Store* st) { return st->UpdateTask(*task); }, task);
  auto keep_first = [&s](Status w) {
    if (s.ok() && !w.ok()) s = std::move(w);
  };
  if (attempt_started) {
    keep_first(Write([a = AttemptRecord{t.id, t.attempt, t.started_at_ms, 0, "", ""}](Store* st) {
      return st->InsertAttempt(a);
    }));
  }
  if (attempt_ended) {
    keep_first(Write([a = AttemptRecord{t.id, t.attempt, t.started_at_ms, t.finished_at_ms,
                                        std::string(TaskStateName(t.state)), t.error}](Store* st) {
      return st->FinishAttempt(a);
    }));
  }
  if (IsFinal(t.state)) {
    NotificationRecord n;
    n.task_id = t.id;
    n.recipient = t.parent_session_id.empty() ? t.owner : t.parent_session_id;
    n.state = TaskStateName(t.state);
    n.summary = TaskCompletionSummary(t);
    n.created_at_ms = t.updated_at_ms;
    keep_first(Write([n](Store* st) mutable { return st->InsertNotification(&n); }));
  }
  auto log = std::make_shared<EventRecord>(
      EventRecord{0, "task.state", t.id, EventPayload(t, from), t.updated_at_ms});
  keep_first(Write([log](Store* st) { return st->AppendEvent(log.get()); }));
  event->id = log->id;  // 0 while the store fails: the event is saved later
  event->payload = log->payload;
  return s;
}

}  // namespace troupe

namespace troupe {

TaskView TaskManager::ViewOf(const Active& a) const {
  TaskView view;
  view.task = a.rec;
  view.pool = scheduler_.PoolOf(a.ticket);
  view.finishing = a.finishing;
  if (a.held) {
    DescribeHeld(a, &view);
  } else if (a.rec.state == TaskState::kPending) {
    WaitInfo info = scheduler_.Describe(a.ticket);
    view.queue_position = info.position;
    view.waiting_reason = std::move(info.reason);
  } else if (a.rec.state == TaskState::kRunning) {
    view.last_activity_wall_ms = a.last_activity_ms + (clock_->WallMs() - clock_->NowMs());
  }
  return view;
}

std::string TaskCompletionSummary(const TaskRecord& t) {
  const int64_t ran = t.started_at_ms > 0 ? t.finished_at_ms - t.started_at_ms : 0;
  std::string summary = fmt::format("{} ({}: {}) {} after {}", t.id, t.agent, t.description,
                                    TaskStateName(t.state), FormatDuration(ran));
  if (!t.error.empty()) summary.append(": ").append(t.error);
  return summary;
}

}  // namespace troupe
