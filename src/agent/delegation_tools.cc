#include "agent/delegation_tools.h"

#include <algorithm>
#include <set>
#include <utility>

#include "agent/pending_tool_run.h"
#include "agent/task_reports.h"
#include "agent/tool_args.h"
#include "agent/tool_output.h"
#include "core/duration_format.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using Formatter = std::function<ToolResult(std::vector<DelegatedTask> tasks, bool timed_out)>;

// A tool call waiting on TaskDelegator::Wait. The wait's callback shares `state_` with the run:
// Cancel clears `done` and cancels the wait, so a late callback finds nothing to call.
class WaitingRun : public ToolRun {
 public:
  WaitingRun(TaskDelegator* delegator, std::function<void(ToolResult)> done)
      : delegator_(delegator), state_(std::make_shared<State>()) {
    state_->done = std::move(done);
  }
  ~WaitingRun() override { Cancel(); }

  // Starts the wait; `format` turns what it reports into the answer.
  Status Begin(const std::vector<std::string>& ids, bool all, int64_t timeout_ms,
               Formatter format) {
    auto answer = [state = state_, format = std::move(format)](std::vector<DelegatedTask> tasks,
                                                               bool timed_out) {
      state->wait_id = 0;  // spent: nothing to cancel any more
      if (!state->done) return;
      auto done = std::move(state->done);
      state->done = nullptr;
      done(format(std::move(tasks), timed_out));
    };
    Result<uint64_t> id = delegator_->Wait(ids, all, timeout_ms, std::move(answer));
    if (!id.ok()) return id.status();
    state_->wait_id = *id;
    return Status::Ok();
  }

  void Cancel() override {
    state_->done = nullptr;
    if (state_->wait_id != 0) delegator_->CancelWait(state_->wait_id);
    state_->wait_id = 0;
  }

 private:
  struct State {
    std::function<void(ToolResult)> done;
    uint64_t wait_id = 0;
  };
  TaskDelegator* delegator_;
  std::shared_ptr<State> state_;
};

// Starts a WaitingRun; when the wait cannot start, answers with `on_error(status)` instead.
std::unique_ptr<ToolRun> StartWait(TaskDelegator* delegator, const ToolContext& context,
                                   const std::vector<std::string>& ids, bool all,
                                   int64_t timeout_ms, Formatter format,
                                   std::function<ToolResult(const Status&)> on_error,
                                   std::function<void(ToolResult)> done) {
  auto run = std::make_unique<WaitingRun>(delegator, done);
  Status s = run->Begin(ids, all, timeout_ms, std::move(format));
  if (s.ok()) return run;
  run.reset();  // drops its copy of `done` unused
  return PendingToolRun::Answer(context, on_error(s), std::move(done));
}

// The tasks the calling session delegated, or a tool error.
Result<std::vector<DelegatedTask>> OwnChildren(const ToolArgs& args, TaskDelegator* delegator,
                                               const ToolContext& context) {
  if (context.session_id.empty()) {
    return args.Error("there is no calling session; delegated tasks belong to a session");
  }
  Result<std::vector<DelegatedTask>> children = delegator->Children(context.session_id);
  if (!children.ok()) {
    return args.Error("could not list this session's tasks: " + children.status().message());
  }
  return children;
}

Status NotOwnTask(const ToolArgs& args, const std::string& task_id) {
  return args.Error("no task `" + ToValidUtf8(task_id) +
                    "` among the tasks this session delegated; use a task_id that "
                    "delegate_task returned to you");
}

// Task `task_id`, when the calling session delegated it.
Result<DelegatedTask> OwnTask(const ToolArgs& args, TaskDelegator* delegator,
                              const ToolContext& context, const std::string& task_id) {
  Result<std::vector<DelegatedTask>> children = OwnChildren(args, delegator, context);
  if (!children.ok()) return children.status();
  for (DelegatedTask& t : *children) {
    if (t.task_id == task_id) return std::move(t);
  }
  return NotOwnTask(args, task_id);
}

json WaitTimeoutSchema(const char* what) {
  return {{"type", "integer"},
          {"minimum", 0},
          {"maximum", kDelegationWaitMaxMs},
          {"default", kDelegationWaitDefaultMs},
          {"description", what}};
}

std::string AgentNames(const std::vector<DelegableAgent>& agents) {
  std::string names;
  for (const DelegableAgent& a : agents) names += (names.empty() ? "" : ", ") + a.name;
  return names;
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// delegate_task

DelegateTaskTool::DelegateTaskTool(TaskDelegator* delegator, std::vector<DelegableAgent> agents)
    : DelegatorTool(delegator), agents_(std::move(agents)) {
  spec_.name = "delegate_task";
  spec_.description =
      "Start a task on another agent. It runs in its own session, in the background, while you "
      "keep working. Delegate work a specialist does better, and work that can run in parallel: "
      "launch every independent part in the same turn (one call each) so they run at the same "
      "time. The agent does not see this conversation, so the prompt must stand alone: the goal, "
      "the context and paths you already know, the constraints, and exactly what to report "
      "back.\n"
      "Returns at once with the task id and session id. You are notified automatically when the "
      "task finishes, so do not poll background_output; keep working, or call background_wait "
      "when you have nothing else to do, then read the result with background_output.\n"
      "To follow up on a task (after it finished, failed or was cancelled), call delegate_task "
      "with its session_id and a new prompt: the agent keeps its whole conversation.\n"
      "Set background=false only when you cannot do anything else until the answer is there; "
      "the call then waits and returns the result itself.";
  json agent = {{"type", "string"},
                {"description", "The agent to run the task (required unless session_id is given)"}};
  if (!agents_.empty()) {
    spec_.description += "\n\nAgents:";
    json names = json::array();
    for (const DelegableAgent& a : agents_) {
      spec_.description += "\n- " + a.name + ": " + a.description;
      names.push_back(a.name);
    }
    agent["enum"] = std::move(names);
  }
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"description",
         {{"type", "string"},
          {"description", "A short label for the task, 3-5 words (shown in status tables)"}}},
        {"prompt",
         {{"type", "string"},
          {"description",
           "The complete, self-contained instructions for the agent, including what to report"}}},
        {"agent", std::move(agent)},
        {"model",
         {{"type", "string"},
          {"description", "Run on this model (provider/model) instead of the agent's own"}}},
        {"background",
         {{"type", "boolean"},
          {"default", true},
          {"description",
           "true (default): return at once and be notified when it finishes; false: wait for "
           "the result"}}},
        {"session_id",
         {{"type", "string"},
          {"description",
           "Continue this session (one you delegated earlier) with `prompt` as the follow-up, "
           "instead of starting a new one"}}}}},
      {"required", {"description", "prompt"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> DelegateTaskTool::Start(const json& arguments, const ToolContext& context,
                                                 std::function<void(ToolResult)> done) {
  ToolArgs args("delegate_task", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  auto fail = [&](const Status& s) { return answer(ToolResult::Error(s.message())); };
  Result<DelegateArguments> parsed = ParseDelegateArguments(args, AgentNames(agents_));
  if (!parsed.ok()) return fail(parsed.status());
  const DelegateArguments& d = *parsed;
  if (!d.agent.empty() && !agents_.empty() &&
      std::none_of(agents_.begin(), agents_.end(),
                   [&](const DelegableAgent& a) { return a.name == d.agent; })) {
    return fail(args.Error("unknown agent `" + ToValidUtf8(d.agent) +
                           "`; available agents: " + AgentNames(agents_)));
  }
  if (context.session_id.empty()) {
    return fail(args.Error("there is no calling session to delegate from"));
  }

  DelegateRequest request;
  request.parent_session_id = context.session_id;
  request.parent_task_id = context.task_id;
  request.agent = d.agent;
  request.prompt = d.prompt;
  request.description = d.description;
  request.model = d.model;
  request.session_id = d.session_id;
  request.workspace = context.workspace_root;
  request.call_key = context.call_key;
  Result<DelegatedTask> task = delegator_->Delegate(request);
  if (!task.ok()) return fail(args.Error(task.status().message()));
  const bool continued = !d.session_id.empty();
  if (d.background) return answer(ToolResult::Ok(FormatLaunched(*task, continued)));

  // Foreground: the result itself, or — after kForegroundWaitMs — the status, and the task
  // keeps running in the background.
  DelegatedTask launched = *task;
  Formatter format = [launched](std::vector<DelegatedTask> tasks, bool timed_out) {
    const DelegatedTask& t = tasks.empty() ? launched : tasks[0];
    if (t.final()) return ToolResult::Ok(FormatTaskReport(t));
    return ToolResult::Ok("Still " + t.state + " after waiting " +
                          FormatDuration(kForegroundWaitMs) +
                          "; it keeps running in the background and you will be notified when it "
                          "finishes.\n\n" +
                          FormatTaskStatus(t));
  };
  auto on_error = [launched, continued](const Status& s) {
    return ToolResult::Ok(FormatLaunched(launched, continued) + "\n\n(Could not wait for it: " +
                          s.message() + "; it runs in the background.)");
  };
  return StartWait(delegator_, context, {launched.task_id}, true, kForegroundWaitMs,
                   std::move(format), std::move(on_error), std::move(done));
}

// ---------------------------------------------------------------------------------------------
// background_output

BackgroundOutputTool::BackgroundOutputTool(TaskDelegator* delegator) : DelegatorTool(delegator) {
  spec_.name = "background_output";
  spec_.description =
      "Show a task you delegated: while it is pending or running, a status table (state, time, "
      "last tool, original prompt); once completed, its result; if it failed or was cancelled, "
      "the reason. A result reads the same every time you ask.\n"
      "You are notified automatically when tasks finish, so do not call this in a loop to watch "
      "a task. To wait for it, pass block=true (waits up to timeout_ms for it to finish) or use "
      "background_wait. full_session=true adds the task's whole conversation (its tool calls "
      "and their results), to check how it reached its answer.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"task_id", {{"type", "string"}, {"description", "The task id (bg_…) to show"}}},
        {"block",
         {{"type", "boolean"},
          {"default", false},
          {"description", "Wait for the task to finish (up to timeout_ms) before answering"}}},
        {"timeout_ms", WaitTimeoutSchema("With block=true: the longest wait, in milliseconds")},
        {"full_session",
         {{"type", "boolean"},
          {"default", false},
          {"description", "Also show the task's whole conversation"}}}}},
      {"required", {"task_id"}},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> BackgroundOutputTool::Start(const json& arguments,
                                                     const ToolContext& context,
                                                     std::function<void(ToolResult)> done) {
  ToolArgs args("background_output", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  auto fail = [&](const Status& s) { return answer(ToolResult::Error(s.message())); };
  if (Status s = args.CheckObject({"task_id", "block", "timeout_ms", "full_session"}); !s.ok()) {
    return fail(s);
  }
  Result<std::string> task_id = args.RequiredString("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return fail(task_id.status());
  Result<bool> block = args.OptionalBool("block", false);
  if (!block.ok()) return fail(block.status());
  Result<int64_t> timeout_ms =
      args.OptionalInt("timeout_ms", kDelegationWaitDefaultMs, 0, kDelegationWaitMaxMs);
  if (!timeout_ms.ok()) return fail(timeout_ms.status());
  Result<bool> full_session = args.OptionalBool("full_session", false);
  if (!full_session.ok()) return fail(full_session.status());
  Result<DelegatedTask> task = OwnTask(args, delegator_, context, *task_id);
  if (!task.ok()) return fail(task.status());

  // The report, then (when asked) the transcript as it is when the answer is given.
  TaskDelegator* delegator = delegator_;
  auto render = [delegator, full = *full_session](const DelegatedTask& t) {
    std::string text = FormatTaskReport(t);
    if (full) {
      Result<std::string> transcript = delegator->Transcript(t.session_id);
      text += "\n\n" + (transcript.ok() ? *transcript
                                        : "(The session's transcript could not be read: " +
                                              transcript.status().message() + ")");
    }
    return ToolResult::Ok(std::move(text));
  };
  if (!*block || task->final() || *timeout_ms == 0) return answer(render(*task));

  DelegatedTask before = *task;
  const int64_t waited = *timeout_ms;
  Formatter format = [before, render, waited](std::vector<DelegatedTask> tasks, bool timed_out) {
    const DelegatedTask& t = tasks.empty() ? before : tasks[0];
    ToolResult r = render(t);
    if (timed_out && !t.final()) {
      r.content =
          "Still " + t.state + " after waiting " + FormatDuration(waited) + ".\n\n" + r.content;
    }
    return r;
  };
  auto on_error = [render, before](const Status& s) {
    ToolResult r = render(before);
    r.content = "(Could not wait: " + s.message() + ".)\n\n" + r.content;
    return r;
  };
  return StartWait(delegator_, context, {before.task_id}, false, waited, std::move(format),
                   std::move(on_error), std::move(done));
}

// ---------------------------------------------------------------------------------------------
// background_wait

BackgroundWaitTool::BackgroundWaitTool(TaskDelegator* delegator) : DelegatorTool(delegator) {
  spec_.name = "background_wait";
  spec_.description =
      "Block until tasks you delegated finish: all of them (mode \"all\", the default) or the "
      "first one (mode \"any\"), or until timeout_ms passes. Without task_ids it waits for every "
      "task you delegated that is still pending or running. Returns which tasks finished and "
      "which are still running; read the results with background_output.\n"
      "Use it only when you have nothing useful to do until results arrive. Otherwise keep "
      "working: you are notified automatically when tasks finish. Use mode \"any\" to handle "
      "results one by one as they come in.";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"task_ids",
         {{"type", "array"},
          {"items", {{"type", "string"}}},
          {"minItems", 1},
          {"maxItems", kMaxWaitIds},
          {"description",
           "The tasks to wait for (default: all of your tasks that are pending or running)"}}},
        {"mode",
         {{"type", "string"},
          {"enum", {"all", "any"}},
          {"default", "all"},
          {"description", "all: until every task finished; any: until the first one finished"}}},
        {"timeout_ms", WaitTimeoutSchema("The longest wait, in milliseconds")}}},
      {"required", json::array()},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> BackgroundWaitTool::Start(const json& arguments,
                                                   const ToolContext& context,
                                                   std::function<void(ToolResult)> done) {
  ToolArgs args("background_wait", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  auto fail = [&](const Status& s) { return answer(ToolResult::Error(s.message())); };
  if (Status s = args.CheckObject({"task_ids", "mode", "timeout_ms"}); !s.ok()) return fail(s);

  Result<WaitArguments> wait =
      ParseWaitArguments(args, kDelegationWaitDefaultMs, kDelegationWaitMaxMs);
  if (!wait.ok()) return fail(wait.status());
  const std::vector<std::string>& wanted = wait->task_ids;

  Result<std::vector<DelegatedTask>> children = OwnChildren(args, delegator_, context);
  if (!children.ok()) return fail(children.status());
  std::vector<DelegatedTask> tasks;
  if (wanted.empty()) {
    for (DelegatedTask& t : *children) {
      if (!t.final()) tasks.push_back(std::move(t));
    }
    if (tasks.empty()) {
      return answer(ToolResult::Ok(
          "None of the tasks you delegated is pending or running; there is nothing to wait "
          "for. Read finished tasks with background_output."));
    }
  } else {
    for (const std::string& id : wanted) {
      auto it = std::find_if(children->begin(), children->end(),
                             [&](const DelegatedTask& t) { return t.task_id == id; });
      if (it == children->end()) return fail(NotOwnTask(args, id));
      tasks.push_back(*it);
    }
  }
  const bool all = !wait->any;
  if (wait->timeout_ms == 0) return answer(ToolResult::Ok(FormatWaitSummary(tasks, false, 0)));

  std::vector<std::string> ids;
  for (const DelegatedTask& t : tasks) ids.push_back(t.task_id);
  const int64_t waited = wait->timeout_ms;
  Formatter format = [waited](std::vector<DelegatedTask> now, bool timed_out) {
    return ToolResult::Ok(FormatWaitSummary(now, timed_out, waited));
  };
  auto on_error = [](const Status& s) {
    return ToolResult::Error("background_wait: could not wait: " + s.message());
  };
  return StartWait(delegator_, context, ids, all, waited, std::move(format), std::move(on_error),
                   std::move(done));
}

// ---------------------------------------------------------------------------------------------
// background_cancel

BackgroundCancelTool::BackgroundCancelTool(TaskDelegator* delegator) : DelegatorTool(delegator) {
  spec_.name = "background_cancel";
  spec_.description =
      "Cancel a task you delegated that is no longer needed (task_id), or every task you "
      "delegated that is still pending or running (all=true). What a cancelled task delegated "
      "is cancelled with it. A pending task never starts; a running one stops at once. Returns "
      "the cancelled tasks and the sessions you can continue later with "
      "delegate_task(session_id=…, prompt=…).";
  spec_.input_schema = {
      {"type", "object"},
      {"properties",
       {{"task_id", {{"type", "string"}, {"description", "The task id (bg_…) to cancel"}}},
        {"all",
         {{"type", "boolean"},
          {"description", "true: cancel every task you delegated that is pending or running"}}}}},
      {"required", json::array()},
      {"additionalProperties", false}};
}

std::unique_ptr<ToolRun> BackgroundCancelTool::Start(const json& arguments,
                                                     const ToolContext& context,
                                                     std::function<void(ToolResult)> done) {
  ToolArgs args("background_cancel", arguments);
  auto answer = [&](ToolResult r) {
    return PendingToolRun::Answer(context, std::move(r), std::move(done));
  };
  auto fail = [&](const Status& s) { return answer(ToolResult::Error(s.message())); };
  if (Status s = args.CheckObject({"task_id", "all"}); !s.ok()) return fail(s);
  Result<std::string> task_id = args.OptionalText("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return fail(task_id.status());
  Result<bool> all = args.OptionalBool("all", false);
  if (!all.ok()) return fail(all.status());
  if (!task_id->empty() && *all) {
    return fail(args.Error("give either `task_id` or `all`=true, not both"));
  }
  if (task_id->empty() && !*all) {
    return fail(
        args.Error("`task_id` is required (the task to cancel), or pass `all`=true to "
                   "cancel every task you delegated that is pending or running"));
  }
  if (!task_id->empty()) {
    Result<DelegatedTask> task = OwnTask(args, delegator_, context, *task_id);
    if (!task.ok()) return fail(task.status());
  } else if (context.session_id.empty()) {
    return fail(args.Error("there is no calling session; delegated tasks belong to a session"));
  }
  Result<std::vector<DelegatedTask>> before = delegator_->Cancel(context.session_id, *task_id);
  if (!before.ok()) return fail(args.Error(before.status().message()));
  return answer(ToolResult::Ok(FormatCancelled(*before)));
}

// ---------------------------------------------------------------------------------------------

Status AddDelegationTools(ToolSet* tools, TaskDelegator* delegator,
                          std::vector<DelegableAgent> agents) {
  TROUPE_RETURN_IF_ERROR(tools->Add(
      std::make_unique<DelegateTaskTool>(delegator, std::move(agents)), ToolAccess::kWrites));
  TROUPE_RETURN_IF_ERROR(
      tools->Add(std::make_unique<BackgroundOutputTool>(delegator), ToolAccess::kReadOnly));
  TROUPE_RETURN_IF_ERROR(
      tools->Add(std::make_unique<BackgroundWaitTool>(delegator), ToolAccess::kReadOnly));
  return tools->Add(std::make_unique<BackgroundCancelTool>(delegator), ToolAccess::kReadOnly);
}

Result<DelegateArguments> ParseDelegateArguments(const ToolArgs& args,
                                                 std::string_view available_agents) {
  TROUPE_RETURN_IF_ERROR(
      args.CheckObject({"description", "prompt", "agent", "model", "background", "session_id"}));
  DelegateArguments out;
  TROUPE_ASSIGN_OR_RETURN(
      out.description, args.RequiredString("description", "a short label for the task, 3-5 words"));
  TROUPE_ASSIGN_OR_RETURN(out.prompt,
                          args.RequiredString("prompt", "the complete instructions for the agent"));
  TROUPE_ASSIGN_OR_RETURN(out.session_id, args.OptionalText("session_id", "a session id (ses_…)"));
  TROUPE_ASSIGN_OR_RETURN(out.agent, args.OptionalText("agent", "an agent name"));
  TROUPE_ASSIGN_OR_RETURN(out.model, args.OptionalText("model", "a model name (provider/model)"));
  TROUPE_ASSIGN_OR_RETURN(out.background, args.OptionalBool("background", true));
  if (out.agent.empty() && out.session_id.empty()) {
    const std::string hint =
        available_agents.empty() ? "" : "; available agents: " + std::string(available_agents);
    return args.Error(
        "`agent` is required (the agent to run the task) unless `session_id` continues an "
        "earlier session" +
        hint);
  }
  return out;
}

Result<WaitArguments> ParseWaitArguments(const ToolArgs& args, int64_t default_timeout_ms,
                                         int64_t max_timeout_ms) {
  WaitArguments out;
  if (const json* ids = args.Find("task_ids")) {
    if (!ids->is_array() || ids->empty() || ids->size() > kMaxWaitIds) {
      return args.Error("`task_ids` must be an array of 1 to " + std::to_string(kMaxWaitIds) +
                        " task ids (got " + DescribeArgumentValue(*ids) +
                        "); leave it out to wait for all of your active tasks");
    }
    std::set<std::string> seen;
    for (size_t i = 0; i < ids->size(); ++i) {
      const json& id = (*ids)[i];
      if (!id.is_string() || id.get_ref<const std::string&>().empty()) {
        return args.Error("`task_ids[" + std::to_string(i) + "]` must be a task id (bg_…) (got " +
                          DescribeArgumentValue(id) + ")");
      }
      if (seen.insert(id.get<std::string>()).second) out.task_ids.push_back(id.get<std::string>());
    }
  }
  Result<std::string> mode = args.OptionalText("mode", "\"all\" or \"any\"");
  if (!mode.ok()) return mode.status();
  if (!mode->empty() && *mode != "all" && *mode != "any") {
    return args.Error("`mode` must be \"all\" or \"any\" (got " +
                      DescribeArgumentValue(*args.Find("mode")) + ")");
  }
  out.any = *mode == "any";
  Result<int64_t> timeout_ms =
      args.OptionalInt("timeout_ms", default_timeout_ms, 0, max_timeout_ms);
  if (!timeout_ms.ok()) return timeout_ms.status();
  out.timeout_ms = *timeout_ms;
  return out;
}

}  // namespace troupe
