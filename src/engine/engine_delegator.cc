#include "engine/engine_delegator.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>

#include "agent/message_codec.h"
#include "agent/task_reports.h"

namespace troupe {
namespace {

std::vector<DelegatedTask> DelegatedTasksOf(const std::vector<TaskView>& views, int64_t now) {
  std::vector<DelegatedTask> out;
  out.reserve(views.size());
  for (const TaskView& v : views) out.push_back(DelegatedTaskOf(v, now));
  return out;
}

}  // namespace

DelegatedTask DelegatedTaskOf(const TaskView& view, int64_t now_wall_ms) {
  const TaskRecord& r = view.task;
  DelegatedTask t;
  t.task_id = r.id;
  t.session_id = r.session_id;
  t.agent = r.agent;
  t.model = r.model;
  t.description = r.description;
  t.prompt = r.prompt;
  t.state = std::string(TaskStateName(r.state));
  t.queue_position = view.queue_position;
  t.waiting_reason = view.waiting_reason;
  switch (r.state) {
    case TaskState::kPending:
      t.duration_ms = now_wall_ms - r.queued_at_ms;
      break;
    case TaskState::kRunning:
      t.duration_ms = now_wall_ms - r.started_at_ms;
      break;
    default:
      if (r.finished_at_ms != 0) {
        t.duration_ms =
            r.finished_at_ms - (r.started_at_ms != 0 ? r.started_at_ms : r.queued_at_ms);
      }
      break;
  }
  t.duration_ms = std::max<int64_t>(t.duration_ms, 0);
  t.last_tool = r.last_tool;
  t.result = r.result;
  t.error = r.error;
  t.parent_session_id = r.parent_session_id;
  t.owner = r.owner;
  t.usage = UsageOf(r);
  return t;
}

namespace {

LaunchRequest LaunchOf(const DelegateRequest& request) {
  LaunchRequest launch;
  launch.description = request.description;
  launch.prompt = request.prompt;
  launch.agent = request.agent;
  launch.model = request.model;
  launch.fallback_models = request.fallback_models;
  launch.session_id = request.session_id;
  launch.parent_session_id = request.parent_session_id;
  launch.parent_call_id = request.call_key;
  launch.workspace = request.workspace;
  launch.owner = request.owner;
  launch.max_tokens = request.max_tokens;
  launch.max_cost_usd = request.max_cost_usd;
  launch.isolation = request.isolation;
  return launch;
}

}  // namespace

Result<std::optional<DelegatedTask>> EngineDelegator::Replayed(const DelegateRequest& request) {
  if (request.parent_session_id.empty() && request.owner.empty()) {
    return Status::InvalidArgument(
        "a delegated task needs the session that delegates it, or an owner");
  }
  if (!request.call_key.empty() && !request.parent_session_id.empty()) {
    // A run resumed after a crash replays the tool calls it had not answered: the task that
    // call started (its launch committed, the answer not) is the answer, not a second task.
    TaskFilter filter;
    filter.parent_session_id = request.parent_session_id;
    filter.parent_call_id = request.call_key;
    Result<std::vector<TaskView>> started = manager_->List(filter);
    if (!started.ok()) return started.status();
    if (!started->empty()) {
      return std::optional<DelegatedTask>(DelegatedTaskOf(started->front(), clock_->WallMs()));
    }
  }
  return std::optional<DelegatedTask>();
}

Result<DelegatedTask> EngineDelegator::Delegate(const DelegateRequest& request) {
  Result<std::optional<DelegatedTask>> replayed = Replayed(request);
  if (!replayed.ok()) return replayed.status();
  if (*replayed) return **replayed;
  Result<TaskView> view = manager_->Launch(LaunchOf(request));
  if (!view.ok()) return view.status();
  return DelegatedTaskOf(*view, clock_->WallMs());
}

std::string EngineDelegator::DelegateLater(const DelegateRequest& request, DelegateDone done) {
  Result<std::optional<DelegatedTask>> replayed = Replayed(request);
  if (!replayed.ok()) {
    done(replayed.status());
    return "";
  }
  if (*replayed) {
    done(**replayed);
    return "";
  }
  Clock* clock = clock_;
  return manager_->LaunchAsync(LaunchOf(request),
                               [clock, done = std::move(done)](Result<TaskView> view) {
                                 if (!view.ok()) return done(view.status());
                                 done(DelegatedTaskOf(*view, clock->WallMs()));
                               });
}

void EngineDelegator::CancelLaunch(const std::string& launch_id) {
  manager_->CancelLaunch(launch_id, "its delegate_task call was cancelled");
}

Result<DelegatedTask> EngineDelegator::Get(const std::string& task_id) {
  Result<TaskView> view = manager_->Get(task_id);
  if (!view.ok()) return view.status();
  return DelegatedTaskOf(*view, clock_->WallMs());
}

Result<std::string> EngineDelegator::Transcript(const std::string& session_id) {
  std::optional<SessionRecord> session;
  TROUPE_ASSIGN_OR_RETURN(session, manager_->Session(session_id));
  if (!session) return Status::NotFound(fmt::format("session {} does not exist", session_id));
  std::vector<MessageRecord> records;
  TROUPE_ASSIGN_OR_RETURN(records, manager_->Messages(session_id));
  std::vector<Result<ChatMessage>> messages;
  messages.reserve(records.size());
  for (const MessageRecord& m : records) {
    Result<ChatMessage> decoded = DecodeStoredMessage(m.content);
    if (decoded.ok()) {
      messages.push_back(std::move(decoded));
    } else {
      messages.push_back(decoded.status().WithContext(fmt::format("message {}", m.seq)));
    }
  }
  return FormatTranscript(session_id, messages);
}

Result<uint64_t> EngineDelegator::Wait(const std::vector<std::string>& task_ids, bool all,
                                       int64_t timeout_ms, WaitCallback done) {
  Clock* clock = clock_;
  Result<TaskManager::WatchId> id = manager_->Watch(
      task_ids, all ? WaitMode::kAll : WaitMode::kAny, std::max<int64_t>(timeout_ms, 0),
      [clock, done = std::move(done)](const std::vector<TaskView>& views, bool timed_out) {
        done(DelegatedTasksOf(views, clock->WallMs()), timed_out);
      });
  if (!id.ok()) return id.status();
  return static_cast<uint64_t>(*id);
}

void EngineDelegator::CancelWait(uint64_t wait_id) { manager_->CancelWatch(wait_id); }

Result<std::optional<DelegatedSession>> EngineDelegator::Session(const std::string& session_id) {
  std::optional<SessionRecord> session;
  TROUPE_ASSIGN_OR_RETURN(session, manager_->Session(session_id));
  if (!session) return std::optional<DelegatedSession>();
  return std::optional<DelegatedSession>(
      DelegatedSession{session->id, session->agent, session->parent_session_id});
}

Result<std::vector<DelegatedTask>> EngineDelegator::Cancel(const std::vector<std::string>& task_ids,
                                                           const std::string& reason) {
  TaskManager::Batch batch(manager_);
  std::vector<DelegatedTask> before;
  for (const std::string& id : task_ids) {
    TaskView view;
    TROUPE_ASSIGN_OR_RETURN(view, manager_->Get(id));
    before.push_back(DelegatedTaskOf(view, clock_->WallMs()));
    Result<TaskView> cancelled = manager_->Cancel(id, reason);
    if (!cancelled.ok()) return cancelled.status();
  }
  return before;
}

Result<TaskFilter> TaskFilterOf(const DelegationQuery& query) {
  TaskFilter filter;
  if (query.parent_session_id) {
    if (query.parent_session_id->empty()) {
      return Status::InvalidArgument(
          "listing delegated tasks needs the session that delegated them");
    }
    filter.parent_session_id = *query.parent_session_id;
  }
  if (query.owner) {
    if (query.owner->empty()) return Status::InvalidArgument("listing owned tasks needs the owner");
    filter.owner = *query.owner;
  }
  for (const std::string& name : query.states) {
    std::optional<TaskState> state = ParseTaskState(name);
    if (!state) return Status::InvalidArgument(fmt::format("no task state \"{}\"", name));
    filter.states.push_back(*state);
  }
  return filter;
}

Result<std::vector<DelegatedTask>> EngineDelegator::List(const DelegationQuery& query) {
  TaskFilter filter;
  TROUPE_ASSIGN_OR_RETURN(filter, TaskFilterOf(query));
  std::vector<TaskView> views;
  TROUPE_ASSIGN_OR_RETURN(views, manager_->List(filter));
  return DelegatedTasksOf(views, clock_->WallMs());
}

Result<std::vector<DelegatedTask>> EngineDelegator::Children(const std::string& parent_session_id) {
  DelegationQuery query;
  query.parent_session_id = parent_session_id;
  return List(query);
}

}  // namespace troupe
