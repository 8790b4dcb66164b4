// The MCP tools over the engine: argument checks, the five tools, waits that a caller can drop,
// and the completion notices piggy-backed on every answer (see mcp_tools.h).
#include "mcp/mcp_tools.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <utility>
#include <vector>

#include "agent/delegation_tools.h"
#include "agent/task_reports.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "core/duration_format.h"
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

// `text` about `task`, with the task as structuredContent. A report of a final task names it in
// `reported`.
Reply TaskReply(std::string text, const DelegatedTask& task) {
  Reply r{McpToolResult::Text(std::move(text)), {}};
  r.result.structured = DelegatedTaskJson(task);
  if (task.final()) r.reported.push_back(task.task_id);
  return r;
}

// The task's report (status, result or error block), with its guidance.
Reply ReportReply(const DelegatedTask& task) {
  Reply r = TaskReply(FormatTaskReport(task), task);
  AddGuidance(ReportGuidance(task), &r.result);
  return r;
}

// The answer about a task that ended, as delegate_task waiting for it gives it: its report, and
// isError when it failed or was cancelled (there is no result to work with).
Reply FinalReply(const DelegatedTask& task) {
  Reply r = ReportReply(task);
  r.result.is_error = task.state == "error" || task.state == "cancelled";
  return r;
}

// The launch confirmation (delegate_task, background=true), with its guidance.
Reply LaunchReply(const DelegatedTask& task, bool continued) {
  Reply r = TaskReply(FormatLaunched(task, continued), task);
  r.reported.clear();  // a launch confirmation is no report of the end
  AddGuidance(LaunchGuidance(task), &r.result);
  return r;
}

// The text block of `r` that holds the answer proper (its only one until notices are attached).
std::string& AnswerText(Reply& r) { return r.result.content[0]["text"].get_ref<std::string&>(); }

// The call that waits again for `task_id`, returning its report when it ends.
McpSuggestedCall WaitForOne(const std::string& task_id) {
  return {"background_output", {{"task_id", task_id}, {"block", true}}};
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

// A call waiting on TaskManager::Watch. Shared between the McpCall handed out, the watch's
// callback, the progress subscription and the tools' registry of live waits.
struct CallState : Waiting {
  std::function<void(McpToolResult)> done;
  TaskManager* manager = nullptr;  // null once the wait is over or the tools are gone
  TaskManager::WatchId watch = 0;
  EventBus::SubscriptionId subscription = 0;
  // Stopped, never destroyed, on Release: Release may run inside its report.
  std::unique_ptr<McpWaitProgress> progress;

  void Release() override {
    done = nullptr;
    if (progress) progress->Stop();
    if (manager == nullptr) return;
    if (watch != 0) manager->CancelWatch(watch);
    if (subscription != 0) manager->events().Unsubscribe(subscription);
    watch = 0;
    subscription = 0;
    manager = nullptr;
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

// A delegate_task launch that passed the checks.
struct DelegateLaunch {
  TaskView view;
  bool continued = false;  // it continues an existing session
  bool background = true;  // the caller asked not to wait
};

struct EngineMcpTools::Impl {
  using Format = std::function<Reply(const std::vector<DelegatedTask>& tasks, bool timed_out)>;

  Clock* clock;
  TaskManager* manager;
  const AgentCatalog* agents;
  EngineMcpToolsOptions options;
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

  // Waits for `tasks` (any or all) up to `timeout_ms` (0 = no limit), reporting their steps
  // through `context.progress` (mcp/mcp_wait_progress.h), then answers with `format`. When the
  // wait cannot start, answers with `on_error`.
  std::unique_ptr<McpCall> Wait(const McpCallContext& context,
                                const std::vector<DelegatedTask>& tasks, WaitMode mode,
                                int64_t timeout_ms, Format format,
                                std::function<Reply(const Status&)> on_error,
                                std::function<void(McpToolResult)> done) {
    const std::string owner = OwnerOf(context.session_id);
    std::vector<std::string> ids;
    for (const DelegatedTask& t : tasks) ids.push_back(t.task_id);
    auto state = std::make_shared<CallState>();
    state->done = std::move(done);
    state->manager = manager;
    const uint64_t call_id = next_call++;
    auto on_fire = [this, state, call_id, owner, format = std::move(format)](
                       const std::vector<TaskView>& views, bool timed_out) {
      state->watch = 0;  // spent
      auto done = std::move(state->done);
      state->Release();
      waiting.erase(call_id);
      if (!done) return;
      std::vector<DelegatedTask> tasks;
      for (const TaskView& v : views) tasks.push_back(Delegated(v));
      Deliver(owner, format(tasks, timed_out), done);
    };
    Result<TaskManager::WatchId> watch = manager->Watch(ids, mode, timeout_ms, std::move(on_fire));
    if (!watch.ok()) {
      auto done_now = std::move(state->done);
      state->Release();
      return Answer(owner, on_error(watch.status()), std::move(done_now));
    }
    state->watch = *watch;
    McpWaitProgressOptions progress_options;
    progress_options.mode = mode;
    state->progress = NewProgress(clock, context, tasks, progress_options);
    if (state->progress) {
      McpWaitProgress* progress = state->progress.get();  // lives as long as the subscription
      state->subscription =
          manager->events().Subscribe([progress](const EngineEvent& e) { progress->OnEvent(e); });
    }
    std::erase_if(waiting, [](const auto& entry) { return entry.second.expired(); });
    waiting.emplace(call_id, state);
    return std::make_unique<WaitingCall>(std::move(state));
  }

  // Waits (from the engine's events) until `task` is final, then answers with its FinalReply;
  // see ResultWait. Not bounded: tasks/result waits until the end (the protocol says so; clients
  // of tasks poll tasks/get and ask for the result once it is there).
  std::unique_ptr<McpCall> AwaitEnd(const McpCallContext& context, const DelegatedTask& task,
                                    std::function<void(McpToolResult)> done);

  // Task `task_id` if session `session_id` owns it; NotFound otherwise.
  Result<TaskView> OwnedTask(const std::string& session_id, const std::string& task_id);

  // delegate_task's argument checks and launch, for the tool and for a task-augmented call.
  // An error carries the message for the caller.
  Result<DelegateLaunch> LaunchDelegate(const McpCallContext& context, const json& arguments);
  std::unique_ptr<McpCall> DelegateTask(const McpCallContext& context, const json& arguments,
                                        std::function<void(McpToolResult)> done);
  std::unique_ptr<McpCall> BackgroundOutput(const McpCallContext& context, const json& arguments,
                                            std::function<void(McpToolResult)> done);
  std::unique_ptr<McpCall> BackgroundWait(const McpCallContext& context, const json& arguments,
                                          std::function<void(McpToolResult)> done);
  Reply BackgroundCancel(const McpCallContext& context, const json& arguments);
  Reply BackgroundList(const McpCallContext& context, const json& arguments);
};

// --- delegate_task ---------------------------------------------------------------------------

Result<DelegateLaunch> EngineMcpTools::Impl::LaunchDelegate(const McpCallContext& context,
                                                            const json& arguments) {
  ToolArgs args("delegate_task", arguments);
  std::string names;
  if (agents != nullptr) {
    for (const std::string& n : agents->Names()) {
      if (!names.empty()) names += ", ";
      names += n;
    }
  }
  Result<DelegateArguments> parsed = ParseDelegateArguments(args, names);
  if (!parsed.ok()) return parsed.status();
  const DelegateArguments& d = *parsed;
  if (!d.agent.empty() && agents != nullptr && agents->Get(d.agent) == nullptr) {
    return args.Error("`agent`: " + agents->Find(d.agent).status().message());
  }
  if (!d.session_id.empty()) {
    Result<std::optional<SessionRecord>> session = manager->Session(d.session_id);
    if (!session.ok()) return args.Error(session.status().message());
    if (!session->has_value()) {
      return args.Error(fmt::format(
          "`session_id`: session {} does not exist; continue a session that delegate_task "
          "returned",
          ToValidUtf8(d.session_id)));
    }
    const SessionRecord& s = **session;
    if (!s.parent_session_id.empty()) {
      return args.Error(fmt::format(
          "`session_id`: session {} was delegated by agent session {} and belongs to it; "
          "continue only sessions launched from outside",
          s.id, s.parent_session_id));
    }
    if (!d.agent.empty() && d.agent != s.agent) {
      return args.Error(
          fmt::format("`agent`: session {} belongs to agent {}, not {}; leave `agent` out to "
                      "continue it",
                      s.id, s.agent, d.agent));
    }
  }

  LaunchRequest request;
  request.description = d.description;
  request.prompt = d.prompt;
  request.agent = d.agent;
  request.model = d.model;
  request.session_id = d.session_id;
  request.owner = OwnerOf(context.session_id);
  request.workspace = options.default_workspace;
  Result<TaskView> view = manager->Launch(request);
  if (!view.ok()) return args.Error(view.status().message());
  return DelegateLaunch{std::move(*view), !d.session_id.empty(), d.background};
}

std::unique_ptr<McpCall> EngineMcpTools::Impl::DelegateTask(
    const McpCallContext& context, const json& arguments, std::function<void(McpToolResult)> done) {
  const std::string owner = OwnerOf(context.session_id);
  Result<DelegateLaunch> launch = LaunchDelegate(context, arguments);
  if (!launch.ok()) return Answer(owner, Fail(launch.status()), std::move(done));
  const DelegatedTask launched = Delegated(launch->view);
  const bool continued = launch->continued;
  if (launch->background) {
    return Answer(owner, LaunchReply(launched, continued), std::move(done));
  }

  const int64_t limit = options.max_wait_ms;
  Format format = [launched, limit](const std::vector<DelegatedTask>& tasks, bool) {
    const DelegatedTask& t = tasks.empty() ? launched : tasks[0];
    if (t.final()) return FinalReply(t);
    Reply r = TaskReply(FormatTaskStatus(t), t);
    AddGuidance(ReportGuidance(t), &r.result);
    const std::string again = StillRunning(WaitForOne(t.task_id), limit, 0, &r.result);
    AnswerText(r) = "Still " + t.state + " after waiting " + FormatDuration(limit) +
                    "; it keeps running in the background, and its completion is reported with "
                    "your next call of these tools. " +
                    again + "\n\n" + AnswerText(r);
    return r;
  };
  auto on_error = [launched, continued](const Status& s) {
    Reply r = LaunchReply(launched, continued);
    AnswerText(r) += "\n\n(Could not wait for it: " + s.message() + "; it runs in the background.)";
    return r;
  };
  return Wait(context, {launched}, WaitMode::kAll, limit, std::move(format), std::move(on_error),
              std::move(done));
}

// --- tasks/result ----------------------------------------------------------------------------

Result<TaskView> EngineMcpTools::Impl::OwnedTask(const std::string& session_id,
                                                 const std::string& task_id) {
  Result<TaskView> view = manager->Get(task_id);
  if (view.ok() && view->task.owner == OwnerOf(session_id)) return view;
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

// --- background_output -----------------------------------------------------------------------

std::unique_ptr<McpCall> EngineMcpTools::Impl::BackgroundOutput(
    const McpCallContext& context, const json& arguments, std::function<void(McpToolResult)> done) {
  const std::string owner = OwnerOf(context.session_id);
  auto fail = [&](const Status& s) { return Answer(owner, Fail(s), std::move(done)); };
  ToolArgs args("background_output", arguments);
  if (Status s = args.CheckObject({"task_id", "block", "timeout_ms", "full_session"}); !s.ok()) {
    return fail(s);
  }
  Result<std::string> task_id = args.RequiredString("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return fail(task_id.status());
  Result<bool> block = args.OptionalBool("block", false);
  if (!block.ok()) return fail(block.status());
  Result<int64_t> asked =
      args.OptionalInt("timeout_ms", options.default_wait_ms, 0, kMcpTimeoutArgumentMaxMs);
  if (!asked.ok()) return fail(asked.status());
  Result<bool> full_session = args.OptionalBool("full_session", false);
  if (!full_session.ok()) return fail(full_session.status());
  Result<TaskView> view = manager->Get(*task_id);
  if (!view.ok()) {
    return fail(args.Error("`task_id`: no task " + ToValidUtf8(*task_id) +
                           "; use a task_id that delegate_task or background_list returned"));
  }

  TaskManager* m = manager;
  Clock* c = clock;
  auto render = [m, c, full = *full_session](const DelegatedTask& t) {
    Reply r = ReportReply(t);
    if (full) {
      Result<std::string> transcript = EngineDelegator(m, c).Transcript(t.session_id);
      const std::string text = transcript.ok() ? *transcript
                                               : "(The session's transcript could not be read: " +
                                                     transcript.status().message() + ")";
      AnswerText(r) += "\n\n" + text;
      r.result.structured["transcript"] = text;
    }
    return r;
  };
  const DelegatedTask before = Delegated(*view);
  const int64_t waited = std::min(*asked, options.max_wait_ms);
  if (!*block || before.final() || waited == 0) {
    return Answer(owner, render(before), std::move(done));
  }
  const int64_t asked_ms = args.Find("timeout_ms") != nullptr ? *asked : 0;
  Format format = [before, render, waited, asked_ms](const std::vector<DelegatedTask>& tasks,
                                                     bool timed_out) {
    const DelegatedTask& t = tasks.empty() ? before : tasks[0];
    Reply r = render(t);
    if (timed_out && !t.final()) {
      const std::string again = StillRunning(WaitForOne(t.task_id), waited, asked_ms, &r.result);
      AnswerText(r) = "Still " + t.state + " after waiting " + FormatDuration(waited) + ". " +
                      again + "\n\n" + AnswerText(r);
    }
    return r;
  };
  auto on_error = [render, before](const Status& s) {
    Reply r = render(before);
    AnswerText(r) = "(Could not wait: " + s.message() + ".)\n\n" + AnswerText(r);
    return r;
  };
  return Wait(context, {before}, WaitMode::kAll, waited, std::move(format), std::move(on_error),
              std::move(done));
}

// --- background_wait -------------------------------------------------------------------------

std::unique_ptr<McpCall> EngineMcpTools::Impl::BackgroundWait(
    const McpCallContext& context, const json& arguments, std::function<void(McpToolResult)> done) {
  const std::string owner = OwnerOf(context.session_id);
  auto fail = [&](const Status& s) { return Answer(owner, Fail(s), std::move(done)); };
  ToolArgs args("background_wait", arguments);
  if (Status s = args.CheckObject({"task_ids", "mode", "timeout_ms"}); !s.ok()) return fail(s);
  Result<WaitArguments> wait =
      ParseWaitArguments(args, options.default_wait_ms, kMcpTimeoutArgumentMaxMs);
  if (!wait.ok()) return fail(wait.status());
  const std::vector<std::string>& wanted = wait->task_ids;

  std::vector<DelegatedTask> tasks;
  if (wanted.empty()) {
    TaskFilter filter;
    filter.owner = owner;
    filter.states = {TaskState::kPending, TaskState::kRunning};
    Result<std::vector<TaskView>> active = manager->List(filter);
    if (!active.ok())
      return fail(args.Error("could not list your tasks: " + active.status().message()));
    for (const TaskView& v : *active) tasks.push_back(Delegated(v));
    if (tasks.empty()) {
      Reply r{McpToolResult::Text(
                  "None of the tasks you launched is pending or running; there is nothing to "
                  "wait for. Read finished tasks with background_output."),
              {}};
      r.result.structured = {{"timed_out", false}, {"tasks", json::array()}};
      return Answer(owner, std::move(r), std::move(done));
    }
  } else {
    for (const std::string& id : wanted) {
      Result<TaskView> v = manager->Get(id);
      if (!v.ok()) {
        return fail(args.Error("`task_ids`: no task " + ToValidUtf8(id) +
                               "; use task ids that delegate_task or background_list returned"));
      }
      tasks.push_back(Delegated(*v));
    }
  }
  const int64_t waited = std::min(wait->timeout_ms, options.max_wait_ms);
  const int64_t asked_ms = args.Find("timeout_ms") != nullptr ? wait->timeout_ms : 0;
  const char* mode = wait->any ? "any" : "all";
  auto reply = [waited, asked_ms, mode](const std::vector<DelegatedTask>& now, bool timed_out) {
    Reply r{McpToolResult::Text(FormatWaitSummary(now, timed_out, waited)), {}};
    r.result.structured = {{"timed_out", timed_out}, {"tasks", DelegatedTasksJson(now)}};
    AddGuidance(WaitGuidance(now), &r.result);
    std::vector<std::string> open;
    for (const DelegatedTask& t : now) {
      if (!t.final()) open.push_back(t.task_id);
    }
    if (timed_out && !open.empty()) {
      AnswerText(r) +=
          "\n\n" + StillRunning({"background_wait", {{"task_ids", open}, {"mode", mode}}}, waited,
                                asked_ms, &r.result);
    }
    return r;
  };
  if (waited == 0) return Answer(owner, reply(tasks, false), std::move(done));
  auto on_error = [](const Status& s) {
    return Fail(Status::Unavailable("background_wait: could not wait: " + s.message()));
  };
  return Wait(context, tasks, wait->any ? WaitMode::kAny : WaitMode::kAll, waited, std::move(reply),
              std::move(on_error), std::move(done));
}

// --- background_cancel -----------------------------------------------------------------------

Reply EngineMcpTools::Impl::BackgroundCancel(const McpCallContext& context, const json& arguments) {
  const std::string owner = OwnerOf(context.session_id);
  ToolArgs args("background_cancel", arguments);
  if (Status s = args.CheckObject({"task_id", "all"}); !s.ok()) return Fail(s);
  Result<std::string> task_id = args.OptionalText("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return Fail(task_id.status());
  Result<bool> all = args.OptionalBool("all", false);
  if (!all.ok()) return Fail(all.status());
  if (!task_id->empty() && *all) {
    return Fail(args.Error("give either `task_id` or `all`=true, not both"));
  }
  if (task_id->empty() && !*all) {
    return Fail(
        args.Error("`task_id` is required (the task to cancel), or pass `all`=true to "
                   "cancel every task you launched that is pending or running"));
  }
  std::vector<DelegatedTask> before;
  if (*all) {
    for (const TaskView& v : manager->CancelAll(owner)) before.push_back(Delegated(v));
  } else {
    Result<TaskView> view = manager->Get(*task_id);
    if (!view.ok() || view->task.owner != owner) {
      return Fail(args.Error("`task_id`: no task " + ToValidUtf8(*task_id) +
                             " among the tasks this MCP session launched; cancel only your own "
                             "tasks (see background_list)"));
    }
    before.push_back(Delegated(*view));
    Result<TaskView> cancelled =
        manager->Cancel(*task_id, "cancelled by MCP session " + context.session_id);
    if (!cancelled.ok()) return Fail(args.Error(cancelled.status().message()));
  }
  json cancelled = json::array();
  json finished = json::array();
  for (const DelegatedTask& t : before) {
    Result<TaskView> now = manager->Get(t.task_id);
    json j = DelegatedTaskJson(now.ok() ? Delegated(*now) : t);
    (t.final() ? finished : cancelled).push_back(std::move(j));
  }
  Reply r{McpToolResult::Text(FormatCancelled(before)), {}};
  r.result.structured = {{"cancelled", std::move(cancelled)},
                         {"already_finished", std::move(finished)}};
  AddGuidance(CancelGuidance(before), &r.result);
  return r;
}

// --- background_list -------------------------------------------------------------------------

Reply EngineMcpTools::Impl::BackgroundList(const McpCallContext& context, const json& arguments) {
  ToolArgs args("background_list", arguments);
  if (Status s = args.CheckObject({"status"}); !s.ok()) return Fail(s);
  Result<std::string> status = args.OptionalText("status", "a task state or \"active\"");
  if (!status.ok()) return Fail(status.status());
  TaskFilter filter;
  filter.owner = OwnerOf(context.session_id);
  if (*status == "active") {
    filter.states = {TaskState::kPending, TaskState::kRunning};
  } else if (!status->empty()) {
    std::optional<TaskState> state = ParseTaskState(*status);
    if (!state) {
      return Fail(
          args.Error("`status` must be one of pending, running, completed, error, "
                     "cancelled, interrupted, active (got " +
                     DescribeArgumentValue(*args.Find("status")) + ")"));
    }
    filter.states = {*state};
  }
  Result<std::vector<TaskView>> views = manager->List(filter);
  if (!views.ok()) return Fail(args.Error("could not list tasks: " + views.status().message()));
  std::vector<DelegatedTask> tasks;
  for (const TaskView& v : *views) tasks.push_back(Delegated(v));
  Reply r{McpToolResult::Text(FormatTaskList(tasks)), {}};
  r.result.structured = {{"tasks", DelegatedTasksJson(tasks)}};
  return r;
}

// --- the host --------------------------------------------------------------------------------

EngineMcpTools::EngineMcpTools(Clock* clock, TaskManager* manager, const AgentCatalog* agents,
                               EngineMcpToolsOptions options)
    : impl_(std::make_unique<Impl>()) {
  impl_->clock = clock;
  impl_->manager = manager;
  impl_->agents = agents;
  impl_->options = std::move(options);
  impl_->task_events = std::make_unique<McpTaskEvents>(&manager->events());
}

EngineMcpTools::~EngineMcpTools() = default;

json EngineMcpTools::ListTools() const { return McpToolDefinitions(impl_->options, impl_->agents); }

std::unique_ptr<McpCall> EngineMcpTools::Call(const McpCallContext& context,
                                              const std::string& name, const json& arguments,
                                              std::function<void(McpToolResult)> done) {
  Impl& impl = *impl_;
  const std::string owner = OwnerOf(context.session_id);
  if (name == "delegate_task") return impl.DelegateTask(context, arguments, std::move(done));
  if (name == "background_output") {
    return impl.BackgroundOutput(context, arguments, std::move(done));
  }
  if (name == "background_wait") return impl.BackgroundWait(context, arguments, std::move(done));
  if (name == "background_cancel") {
    return impl.Answer(owner, impl.BackgroundCancel(context, arguments), std::move(done));
  }
  if (name == "background_list") {
    return impl.Answer(owner, impl.BackgroundList(context, arguments), std::move(done));
  }
  return impl.Answer(owner,
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
  Result<DelegateLaunch> launch = impl_->LaunchDelegate(context, arguments);
  if (!launch.ok()) return launch.status();
  return McpTaskOf(launch->view, impl_->clock->WallMs());
}

Result<McpTask> EngineMcpTools::GetTask(const McpCallContext& context, const std::string& task_id) {
  Result<TaskView> view = impl_->OwnedTask(context.session_id, task_id);
  if (!view.ok()) return view.status();
  return McpTaskOf(*view, impl_->clock->WallMs());
}

Result<std::vector<McpTask>> EngineMcpTools::ListTasks(const McpCallContext& context) {
  TaskFilter filter;
  filter.owner = OwnerOf(context.session_id);
  Result<std::vector<TaskView>> views = impl_->manager->List(filter);
  if (!views.ok()) return views.status();
  const int64_t now = impl_->clock->WallMs();
  std::vector<McpTask> tasks;
  tasks.reserve(views->size());
  for (const TaskView& v : *views) tasks.push_back(McpTaskOf(v, now));
  return tasks;
}

Result<McpTask> EngineMcpTools::CancelTask(const McpCallContext& context,
                                           const std::string& task_id) {
  Result<TaskView> view = impl_->OwnedTask(context.session_id, task_id);
  if (!view.ok()) return view.status();
  Result<TaskView> cancelled = impl_->manager->Cancel(
      task_id, fmt::format("cancelled by MCP session {}", context.session_id));
  if (!cancelled.ok()) return cancelled.status();
  Result<TaskView> now = impl_->manager->Get(task_id);
  return McpTaskOf(now.ok() ? *now : *cancelled, impl_->clock->WallMs());
}

std::unique_ptr<McpCall> EngineMcpTools::AwaitTaskResult(const McpCallContext& context,
                                                         const std::string& task_id,
                                                         std::function<void(McpToolResult)> done) {
  Impl& impl = *impl_;
  const std::string owner = OwnerOf(context.session_id);
  Result<TaskView> view = impl.OwnedTask(context.session_id, task_id);
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

size_t EngineMcpTools::task_watches() const { return impl_->task_events->watches(); }

}  // namespace troupe
