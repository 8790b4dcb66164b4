// The MCP tools over the delegation service: its answers shaped as MCP results, progress of the
// calls that wait, waits a caller can drop, MCP tasks, and the completion notices piggy-backed on
// every answer (see mcp_tools.h).
#include "mcp/mcp_tools.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "agent/delegation_service.h"
#include "agent/task_reports.h"
#include "core/utf8.h"
#include "engine/engine_delegator.h"
#include "mcp/mcp_answers.h"
#include "mcp/mcp_engine_tasks.h"
#include "mcp/mcp_tool_schemas.h"
#include "mcp/mcp_wait_progress.h"

namespace troupe {
namespace {

using json = nlohmann::json;

// An answer before the notices are attached; `reported` names the tasks whose final report it
// holds, so their completion notice (which would only repeat it) is left out.
struct Reply {
  McpToolResult result;
  std::vector<std::string> reported;
};

Reply Fail(const Status& status) { return {McpToolResult::Error(status.message()), {}}; }

// The service's answer as an MCP result: its text, and what it is about as structuredContent
// (the task or tasks, guidance, how to wait again); tool errors carry no structuredContent.
Reply Shape(DelegationAnswer a) {
  using Kind = DelegationAnswer::Kind;
  if (a.kind == Kind::kError) return Fail(Status::InvalidArgument(std::move(a.text)));
  Reply r{McpToolResult::Text(std::move(a.text)), {}};
  json& s = r.result.structured;
  switch (a.kind) {
    case Kind::kLaunched:
      s = DelegatedTaskJson(a.tasks[0]);
      AddGuidance(LaunchGuidance(a.tasks[0]), &r.result);
      break;
    case Kind::kReport: {
      const DelegatedTask& t = a.tasks[0];
      s = DelegatedTaskJson(t);
      if (t.final()) r.reported.push_back(t.task_id);  // its notice would only repeat it
      AddGuidance(ReportGuidance(t), &r.result);
      if (a.transcript) s["transcript"] = *a.transcript;
      // delegate_task waiting for its task: there is no result to work with when it failed.
      r.result.is_error = a.foreground && (t.state == "error" || t.state == "cancelled");
      break;
    }
    case Kind::kWaitSummary:
      s = {{"timed_out", a.timed_out}, {"tasks", DelegatedTasksJson(a.tasks)}};
      AddGuidance(WaitGuidance(a.tasks), &r.result);
      break;
    case Kind::kCancelled: {
      json cancelled = json::array();
      json finished = json::array();
      for (size_t i = 0; i < a.tasks.size(); ++i) {
        json j = DelegatedTaskJson(i < a.after.size() ? a.after[i] : a.tasks[i]);
        (a.tasks[i].final() ? finished : cancelled).push_back(std::move(j));
      }
      s = {{"cancelled", std::move(cancelled)}, {"already_finished", std::move(finished)}};
      AddGuidance(CancelGuidance(a.tasks), &r.result);
      break;
    }
    case Kind::kList:
      s = {{"tasks", DelegatedTasksJson(a.tasks)}};
      break;
    case Kind::kError:
      break;
  }
  if (a.wait_again) MarkWaitAgain(*a.wait_again, a.wait_again_sentence, &r.result);
  return r;
}

// The answer about a task that ended, as delegate_task waiting for it gives it: its report, and
// isError when it failed or was cancelled.
Reply FinalReply(const DelegatedTask& task) {
  DelegationAnswer a = DelegationService::Report(task);
  a.foreground = true;
  return Shape(std::move(a));
}

// What reports the steps of a wait for `tasks` through `context.progress`, once it sent the first
// ("waiting for bg_1 running, bg_2 pending", or "waiting for all of 5 tasks: 2 running, 3
// pending"); null when the caller asked for no progress.
std::unique_ptr<McpWaitProgress> NewProgress(Clock* clock, const McpCallContext& context,
                                             const std::vector<DelegatedTask>& tasks,
                                             McpWaitProgressOptions options) {
  if (!context.progress) return nullptr;
  std::vector<std::string> open;
  std::string listed;
  std::map<std::string, int> by_state;
  for (const DelegatedTask& t : tasks) {
    const bool ended = t.final() && !(t.state == "interrupted" && !options.interrupted_ends);
    if (!ended) open.push_back(t.task_id);
    listed += (listed.empty() ? "" : ", ") + t.task_id + " " + t.state;
    ++by_state[t.state];
  }
  auto progress =
      std::make_unique<McpWaitProgress>(clock, context.progress, open, tasks.size(), options);
  if (open.empty()) {
    progress->Stop();  // nothing to wait for: the answer comes at once
  } else if (tasks.size() <= 3) {
    progress->Begin("waiting for " + listed);
  } else {
    std::string counts;
    for (const auto& [state, n] : by_state) {
      counts += fmt::format("{}{} {}", counts.empty() ? "" : ", ", n, state);
    }
    progress->Begin(fmt::format("waiting for {} of {} tasks: {}",
                                options.mode == WaitMode::kAny ? "any" : "all", tasks.size(),
                                counts));
  }
  return progress;
}

// A call waiting for the engine, as the tools' registry of live waits knows it.
struct Waiting {
  virtual ~Waiting() = default;
  // Stops waiting: no callback, no progress, `done` dropped.
  virtual void Release() = 0;
};

// A call of the service that waits, with its progress. Shared between the McpCall handed out,
// the service's callback (until it is called or the call cancelled) and the tools' registry of
// live waits.
struct CallState : Waiting {
  std::function<void(McpToolResult)> done;
  std::unique_ptr<DelegationCall> call;  // cancelled, never destroyed, on Release
  EventBus* bus = nullptr;
  EventBus::SubscriptionId subscription = 0;
  // Stopped, never destroyed, on Release: Release may run inside its report.
  std::unique_ptr<McpWaitProgress> progress;

  void Release() override {
    done = nullptr;
    if (progress) progress->Stop();
    if (subscription != 0) bus->Unsubscribe(subscription);
    subscription = 0;
    if (call) call->Cancel();
  }
};

// tasks/result waiting for its task to end (TaskManager::Watch would also end the wait when
// the task is interrupted, which is no result). Shared between the McpCall handed out, the
// watch's callback, the deferred answer and the tools' registry of live waits; the watch's
// callback keeps it alive until Release.
struct ResultWait : Waiting {
  std::function<void(McpToolResult)> done;
  std::unique_ptr<McpTaskWatch> watch;
  Clock* clock = nullptr;
  TimerId answer_timer = 0;
  std::unique_ptr<McpWaitProgress> progress;  // as CallState's

  void Release() override {
    done = nullptr;
    if (progress) progress->Stop();
    watch.reset();
    if (answer_timer != 0) clock->CancelTimer(answer_timer);
    answer_timer = 0;
  }
};

class WaitingCall : public McpCall {
 public:
  explicit WaitingCall(std::shared_ptr<Waiting> state) : state_(std::move(state)) {}
  void Cancel() override { state_->Release(); }

 private:
  std::shared_ptr<Waiting> state_;
};

class AnsweredCall : public McpCall {
 public:
  void Cancel() override {}
};

}  // namespace

std::string EngineMcpTools::OwnerOf(const std::string& session_id) { return "mcp:" + session_id; }

struct EngineMcpTools::Impl {
  Impl(Clock* c, TaskManager* m, const AgentCatalog* a, EngineMcpToolsOptions o)
      : clock(c),
        manager(m),
        agents(a),
        options(std::move(o)),
        delegator(m, c),
        service(&delegator, McpDelegationOptions(options, agents)),
        task_events(std::make_unique<McpTaskEvents>(&m->events())) {}

  Clock* clock;
  TaskManager* manager;
  const AgentCatalog* agents;
  EngineMcpToolsOptions options;
  EngineDelegator delegator;
  DelegationService service;
  std::unique_ptr<McpTaskEvents> task_events;
  uint64_t next_call = 1;
  std::map<uint64_t, std::weak_ptr<Waiting>> waiting;

  ~Impl() {
    for (auto& [id, weak] : waiting) {
      if (auto state = weak.lock()) state->Release();
    }
  }

  DelegatedTask Delegated(const TaskView& view) const {
    return DelegatedTaskOf(view, clock->WallMs());
  }

  // What MCP session `session_id` may see and act on (agent/delegation_scope.h).
  static DelegationScope Scope(const std::string& session_id) {
    return DelegationScope::OwnedBy(OwnerOf(session_id), "MCP session",
                                    "MCP session " + session_id);
  }

  DelegationCaller Caller(const McpCallContext& context) const {
    DelegationCaller caller;
    caller.scope = Scope(context.session_id);
    caller.workspace = options.default_workspace;
    return caller;
  }

  // Claims the session's notices and sends `reply` with them (mcp/mcp_answers.h).
  void Deliver(const std::string& owner, Reply reply,
               const std::function<void(McpToolResult)>& done) {
    Result<std::vector<NotificationRecord>> notes = manager->ClaimNotifications(owner);
    if (notes.ok()) {
      std::erase_if(*notes, [&](const NotificationRecord& n) {
        return std::find(reply.reported.begin(), reply.reported.end(), n.task_id) !=
               reply.reported.end();
      });
      AttachNotices(*notes, &reply.result);
    }
    done(std::move(reply.result));
  }

  std::unique_ptr<McpCall> Answer(const std::string& owner, Reply reply,
                                  std::function<void(McpToolResult)> done) {
    Deliver(owner, std::move(reply), done);
    return std::make_unique<AnsweredCall>();
  }

  // Runs tool `name` on the service. While it waits, its steps go to `context.progress`
  // (mcp/mcp_wait_progress.h); the progress stops before the answer is handed over.
  std::unique_ptr<McpCall> Run(const McpCallContext& context, const std::string& name,
                               const json& arguments, std::function<void(McpToolResult)> done) {
    const std::string owner = OwnerOf(context.session_id);
    auto state = std::make_shared<CallState>();
    state->done = std::move(done);
    const uint64_t call_id = next_call++;
    // Holds `state` until the service answers or the call is cancelled (its callback is then
    // dropped): an McpCall destroyed without Cancel leaves the call running.
    auto on_answer = [this, state, call_id, owner](DelegationAnswer answer) {
      auto done = std::move(state->done);
      state->Release();
      waiting.erase(call_id);
      if (done) Deliver(owner, Shape(std::move(answer)), done);
    };
    auto on_wait = [this, state, &context](const std::vector<DelegatedTask>& tasks, bool any) {
      McpWaitProgressOptions progress_options;
      progress_options.mode = any ? WaitMode::kAny : WaitMode::kAll;
      state->progress = NewProgress(clock, context, tasks, progress_options);
      if (state->progress) {
        McpWaitProgress* progress = state->progress.get();  // lives as long as the subscription
        state->bus = &manager->events();
        state->subscription =
            state->bus->Subscribe([progress](const EngineEvent& e) { progress->OnEvent(e); });
      }
    };
    state->call = service.Run(Caller(context), name, arguments, std::move(on_answer), on_wait);
    if (!state->call) return std::make_unique<AnsweredCall>();
    std::erase_if(waiting, [](const auto& entry) { return entry.second.expired(); });
    waiting.emplace(call_id, state);
    return std::make_unique<WaitingCall>(std::move(state));
  }

  // Waits (from the engine's events) until `task` is final, then answers with its FinalReply;
  // see ResultWait. Not bounded: tasks/result waits until the end (the protocol says so; clients
  // of tasks poll tasks/get and ask for the result once it is there).
  std::unique_ptr<McpCall> AwaitEnd(const McpCallContext& context, const DelegatedTask& task,
                                    std::function<void(McpToolResult)> done);

  // Task `task_id` if session `context->session_id` holds it; NotFound otherwise. With
  // `by_task_handle`, any task launched through MCP, and `context->session_id` becomes its
  // owner's.
  Result<TaskView> OwnedTask(McpCallContext* context, const std::string& task_id);
};

// --- tasks/result ----------------------------------------------------------------------------

Result<TaskView> EngineMcpTools::Impl::OwnedTask(McpCallContext* context,
                                                 const std::string& task_id) {
  Result<TaskView> view = manager->Get(task_id);
  if (view.ok() && context->by_task_handle && view->task.owner.starts_with("mcp:")) {
    context->session_id = view->task.owner.substr(4);
  }
  if (view.ok() && Scope(context->session_id).Holds(Delegated(*view))) return view;
  if (!view.ok() && view.status().code() != StatusCode::kNotFound) return view.status();
  return Status::NotFound(fmt::format("no task {} in this session", ToValidUtf8(task_id)));
}

std::unique_ptr<McpCall> EngineMcpTools::Impl::AwaitEnd(const McpCallContext& context,
                                                        const DelegatedTask& task,
                                                        std::function<void(McpToolResult)> done) {
  const std::string owner = OwnerOf(context.session_id);
  const std::string task_id = task.task_id;
  auto state = std::make_shared<ResultWait>();
  state->done = std::move(done);
  state->clock = clock;
  const uint64_t call_id = next_call++;
  auto answer = [this, state, call_id, owner, task_id] {
    state->answer_timer = 0;
    auto done = std::move(state->done);
    state->Release();
    waiting.erase(call_id);
    if (!done) return;
    Result<TaskView> view = manager->Get(task_id);
    Deliver(owner, view.ok() ? FinalReply(Delegated(*view)) : Fail(view.status()), done);
  };
  McpWaitProgressOptions progress_options;
  progress_options.interrupted_ends = false;
  state->progress = NewProgress(clock, context, {task}, progress_options);
  state->watch = task_events->WatchTask(task_id, [state, answer](const EngineEvent& e) {
    if (!state->done) return;
    if (state->progress) state->progress->OnEvent(e);  // stops itself at the end
    if (e.kind == EngineEvent::Kind::kState && IsFinal(e.task->state)) {
      state->watch.reset();
      // From a later loop turn, as TaskManager::Watch answers: not inside the engine's
      // announcement, and after the store has the final state.
      if (state->answer_timer == 0) state->answer_timer = state->clock->StartTimer(0, answer);
    }
  });
  std::erase_if(waiting, [](const auto& entry) { return entry.second.expired(); });
  waiting.emplace(call_id, state);
  return std::make_unique<WaitingCall>(std::move(state));
}

// --- the host --------------------------------------------------------------------------------

DelegationServiceOptions McpDelegationOptions(const EngineMcpToolsOptions& options,
                                              const AgentCatalog* agents) {
  DelegationServiceOptions out;
  out.limits.default_wait_ms = options.default_wait_ms;
  out.limits.max_timeout_ms = kMcpTimeoutArgumentMaxMs;
  out.limits.max_wait_ms = options.max_wait_ms;
  out.limits.foreground_wait_ms = options.max_wait_ms;
  out.limits.say_how_to_wait_again = true;
  if (agents != nullptr) {
    for (const AgentDefinition& a : agents->List()) out.agents.push_back({a.name, a.description});
    out.check_agent = [agents](const std::string& name) {
      if (agents->Get(name) != nullptr) return Status::Ok();
      return Status::InvalidArgument("`agent`: " + agents->Find(name).status().message());
    };
  }
  return out;
}

EngineMcpTools::EngineMcpTools(Clock* clock, TaskManager* manager, const AgentCatalog* agents,
                               EngineMcpToolsOptions options)
    : impl_(std::make_unique<Impl>(clock, manager, agents, std::move(options))) {}

EngineMcpTools::~EngineMcpTools() = default;

json EngineMcpTools::ListTools() const { return McpToolDefinitions(impl_->options, impl_->agents); }

std::unique_ptr<McpCall> EngineMcpTools::Call(const McpCallContext& context,
                                              const std::string& name, const json& arguments,
                                              std::function<void(McpToolResult)> done) {
  Impl& impl = *impl_;
  if (name == "delegate_task" || name == "background_output" || name == "background_wait" ||
      name == "background_cancel" || name == "background_list") {
    return impl.Run(context, name, arguments, std::move(done));
  }
  return impl.Answer(OwnerOf(context.session_id),
                     Fail(Status::NotFound("unknown tool `" + ToValidUtf8(name) +
                                           "`; the tools are delegate_task, background_output, "
                                           "background_wait, background_cancel, background_list")),
                     std::move(done));
}

// --- tasks -----------------------------------------------------------------------------------

Result<McpTask> EngineMcpTools::StartTask(const McpCallContext& context, const std::string& name,
                                          const json& arguments) {
  if (name != "delegate_task") {
    return Status::InvalidArgument(fmt::format(
        "tool `{}` does not run as a task; only delegate_task does", ToValidUtf8(name)));
  }
  Result<DelegationService::Launched> launched =
      impl_->service.LaunchCall(impl_->Caller(context), arguments);
  if (!launched.ok()) return launched.status();
  Result<TaskView> view = impl_->manager->Get(launched->task.task_id);
  if (!view.ok()) return view.status();
  return McpTaskOf(*view, impl_->clock->WallMs());
}

Result<McpTask> EngineMcpTools::GetTask(const McpCallContext& given, const std::string& task_id) {
  McpCallContext context = given;
  Result<TaskView> view = impl_->OwnedTask(&context, task_id);
  if (!view.ok()) return view.status();
  return McpTaskOf(*view, impl_->clock->WallMs());
}

Result<std::vector<McpTask>> EngineMcpTools::ListTasks(const McpCallContext& context) {
  Result<TaskFilter> filter = TaskFilterOf(Impl::Scope(context.session_id).Held());
  if (!filter.ok()) return filter.status();
  Result<std::vector<TaskView>> views = impl_->manager->List(*filter);
  if (!views.ok()) return views.status();
  const int64_t now = impl_->clock->WallMs();
  std::vector<McpTask> tasks;
  tasks.reserve(views->size());
  for (const TaskView& v : *views) tasks.push_back(McpTaskOf(v, now));
  return tasks;
}

Result<McpTask> EngineMcpTools::CancelTask(const McpCallContext& given,
                                           const std::string& task_id) {
  McpCallContext context = given;
  Result<TaskView> view = impl_->OwnedTask(&context, task_id);
  if (!view.ok()) return view.status();
  Result<std::vector<DelegatedTask>> cancelled =
      impl_->service.Cancel(Impl::Scope(context.session_id), task_id);
  if (!cancelled.ok()) return cancelled.status();
  Result<TaskView> now = impl_->manager->Get(task_id);
  return McpTaskOf(now.ok() ? *now : *view, impl_->clock->WallMs());
}

std::unique_ptr<McpCall> EngineMcpTools::AwaitTaskResult(const McpCallContext& given,
                                                         const std::string& task_id,
                                                         std::function<void(McpToolResult)> done) {
  Impl& impl = *impl_;
  McpCallContext context = given;
  Result<TaskView> view = impl.OwnedTask(&context, task_id);
  const std::string owner = OwnerOf(context.session_id);
  if (!view.ok()) return impl.Answer(owner, Fail(view.status()), std::move(done));
  if (IsFinal(view->task.state)) {
    return impl.Answer(owner, FinalReply(impl.Delegated(*view)), std::move(done));
  }
  return impl.AwaitEnd(context, impl.Delegated(*view), std::move(done));
}

std::unique_ptr<McpTaskWatch> EngineMcpTools::WatchTasks(
    const std::string& session_id, std::function<void(const McpTaskNotice&)> on_notice) {
  // The watch lives in impl_->task_events, so the callback never outlives impl.
  Impl* impl = impl_.get();
  return impl->task_events->WatchEnds(
      OwnerOf(session_id), [impl, on_notice = std::move(on_notice)](const EngineEvent& e) {
        TaskView view;
        view.task = *e.task;
        const int64_t now = impl->clock->WallMs();
        McpTaskNotice notice;
        notice.task = McpTaskOf(view, now);
        notice.details = McpTaskNoticeDetails(view, now);
        on_notice(notice);
      });
}

std::unique_ptr<McpTaskWatch> EngineMcpTools::WatchTask(
    const McpCallContext& given, const std::string& task_id,
    std::function<void(const McpTask&)> on_change) {
  McpCallContext context = given;
  if (!impl_->OwnedTask(&context, task_id).ok()) return nullptr;
  Impl* impl = impl_.get();
  return impl->task_events->WatchTask(
      task_id, [impl, on_change = std::move(on_change)](const EngineEvent& e) {
        if (e.kind != EngineEvent::Kind::kState) return;
        TaskView view;
        view.task = *e.task;
        on_change(McpTaskOf(view, impl->clock->WallMs()));
      });
}

size_t EngineMcpTools::task_watches() const { return impl_->task_events->watches(); }

}  // namespace troupe
