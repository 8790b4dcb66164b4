#include "agent/delegation_service.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <set>
#include <utility>

#include "agent/delegation_arguments.h"
#include "agent/task_reports.h"
#include "agent/tool_args.h"
#include "core/duration_format.h"
#include "core/utf8.h"
#include "wire/jsonrpc.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using Answer = DelegationAnswer;

const char* const kTaskStates[] = {"pending", "running",   "completed",
                                   "error",   "cancelled", "interrupted"};

// The call that waits again for `task_id`, returning its report when it ends.
SuggestedCall WaitForOne(const std::string& task_id) {
  return {"background_output", {{"task_id", task_id}, {"block", true}}};
}

// Sets the wait-again fields of `answer` when the limits ask for them; returns the sentence.
std::string NoteWaitAgain(const DelegationLimits& limits, SuggestedCall call, int64_t waited_ms,
                          int64_t asked_ms, Answer* answer) {
  if (!limits.say_how_to_wait_again) return "";
  answer->wait_again_sentence = WaitAgainSentence(call, waited_ms, asked_ms);
  answer->wait_again = std::move(call);
  return answer->wait_again_sentence;
}

Answer TaskAnswer(Answer::Kind kind, std::string text, const DelegatedTask& task) {
  Answer a;
  a.kind = kind;
  a.text = std::move(text);
  a.tasks = {task};
  return a;
}

Answer LaunchedAnswer(const DelegatedTask& task, bool continued) {
  Answer a = TaskAnswer(Answer::Kind::kLaunched, FormatLaunched(task, continued), task);
  a.continued = continued;
  return a;
}

// The report of `task`, then (with `full`) its transcript as it is when the answer is given.
Answer ReportWithTranscript(TaskDelegator* delegator, const DelegatedTask& task, bool full) {
  Answer a = DelegationService::Report(task);
  if (full) {
    Result<std::string> transcript = delegator->Transcript(task.session_id);
    a.transcript =
        transcript.ok()
            ? *transcript
            : "(The session's transcript could not be read: " + transcript.status().message() + ")";
    a.text += "\n\n" + *a.transcript;
  }
  return a;
}

// How a caller in `scope` learns that a task it left running has ended.
const char* HowToldOfTheEnd(const DelegationScope& scope) {
  switch (scope.kind()) {
    case DelegationScope::Kind::kChildren:
      return " and you will be notified when it finishes";
    case DelegationScope::Kind::kOwner:
      return ", and its completion is reported with your next call of these tools";
    case DelegationScope::Kind::kAll:
      break;
  }
  return "";
}

}  // namespace

// ---------------------------------------------------------------------------------------------

json SuggestedCall::ToJson() const {
  json args = json::object();
  for (const auto& [name, value] : arguments) args[name] = value;
  return {{"tool", tool}, {"arguments", std::move(args)}};
}

std::string SuggestedCall::ToText() const {
  std::string out = tool + "(";
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (i > 0) out += ", ";
    out += arguments[i].first + "=" + jsonrpc::Serialize(arguments[i].second);
  }
  return out + ")";
}

std::string WaitAgainSentence(const SuggestedCall& wait_again, int64_t waited_ms,
                              int64_t asked_ms) {
  std::string sentence;
  if (asked_ms > waited_ms) {
    sentence = fmt::format(
        "timeout_ms {} was lowered to {}, the longest one call waits (most MCP clients end a tool "
        "call after 60s). ",
        asked_ms, FormatDuration(waited_ms));
  }
  return sentence + "To wait again, call " + wait_again.ToText() + ".";
}

DelegationAnswer DelegationAnswer::Error(const Status& status) {
  DelegationAnswer a;
  a.kind = Kind::kError;
  a.text = status.message();
  return a;
}

DelegationService::DelegationService(TaskDelegator* delegator, DelegationServiceOptions options)
    : delegator_(delegator), options_(std::move(options)) {}

DelegationAnswer DelegationService::Report(const DelegatedTask& task) {
  return TaskAnswer(Answer::Kind::kReport, FormatTaskReport(task), task);
}

std::string DelegationService::AgentNames() const {
  std::string names;
  for (const DelegableAgent& a : options_.agents) names += (names.empty() ? "" : ", ") + a.name;
  return names;
}

// --- waiting ---------------------------------------------------------------------------------

// A call waiting on TaskDelegator::Wait. The wait's callback shares `state` with the call:
// Cancel clears `done` and cancels the wait, so a late callback finds nothing to call.
struct DelegationService::Waiter : DelegationCall {
  struct State {
    Done done;
    uint64_t wait_id = 0;
  };
  Waiter(TaskDelegator* d, std::shared_ptr<State> s) : delegator(d), state(std::move(s)) {}
  ~Waiter() override { Cancel(); }
  void Cancel() override {
    state->done = nullptr;
    if (state->wait_id != 0) delegator->CancelWait(state->wait_id);
    state->wait_id = 0;
  }
  TaskDelegator* delegator;
  std::shared_ptr<State> state;
};

std::unique_ptr<DelegationCall> DelegationService::Wait(
    const std::vector<DelegatedTask>& tasks, bool any, int64_t timeout_ms,
    std::function<Answer(std::vector<DelegatedTask>, bool)> format,
    std::function<Answer(const Status&)> on_error, Done done, const WaitStarted& on_wait) {
  std::vector<std::string> ids;
  for (const DelegatedTask& t : tasks) ids.push_back(t.task_id);
  auto state = std::make_shared<Waiter::State>();
  state->done = std::move(done);
  auto answer = [state, format = std::move(format)](std::vector<DelegatedTask> now,
                                                    bool timed_out) {
    state->wait_id = 0;  // spent: nothing to cancel any more
    if (!state->done) return;
    Done d = std::move(state->done);
    state->done = nullptr;
    d(format(std::move(now), timed_out));
  };
  Result<uint64_t> id = delegator_->Wait(ids, !any, timeout_ms, std::move(answer));
  if (!id.ok()) {
    Done d = std::move(state->done);
    state->done = nullptr;
    d(on_error(id.status()));
    return nullptr;
  }
  state->wait_id = *id;
  auto call = std::make_unique<Waiter>(delegator_, state);
  if (on_wait) on_wait(tasks, any);
  return call;
}

// --- the tools -------------------------------------------------------------------------------

std::unique_ptr<DelegationCall> DelegationService::Run(const DelegationCaller& caller,
                                                       std::string_view tool, const json& arguments,
                                                       Done done, WaitStarted on_wait) {
  if (tool == "delegate_task") return DelegateTask(caller, arguments, std::move(done), on_wait);
  if (tool == "background_output") return Output(caller, arguments, std::move(done), on_wait);
  if (tool == "background_wait") return WaitFor(caller, arguments, std::move(done), on_wait);
  if (tool == "background_cancel") {
    done(CancelTool(caller, arguments));
  } else if (tool == "background_list") {
    done(ListTool(caller, arguments));
  } else {
    done(Answer::Error(Status::NotFound("unknown tool `" + ToValidUtf8(tool) + "`")));
  }
  return nullptr;
}

// A delegate_task whose launch has not answered yet, then its wait (if it has one).
struct DelegationService::LaterCall {
  bool cancelled = false;
  bool answered = false;
  std::string launch_id;  // while the launch is pending, for TaskDelegator::CancelLaunch
  std::unique_ptr<DelegationCall> wait;
};

// Cancelling it before the launch answered cancels the launch (what git made for it is
// removed, no task starts); after, it cancels the wait, and the task runs on as any other.
class DelegationService::LaterCallHandle : public DelegationCall {
 public:
  LaterCallHandle(TaskDelegator* delegator, std::shared_ptr<LaterCall> call)
      : delegator_(delegator), call_(std::move(call)) {}
  ~LaterCallHandle() override { Cancel(); }
  void Cancel() override {
    if (call_->cancelled) return;
    call_->cancelled = true;
    if (!call_->answered && !call_->launch_id.empty()) delegator_->CancelLaunch(call_->launch_id);
    if (call_->wait) call_->wait->Cancel();
  }

 private:
  TaskDelegator* delegator_;
  std::shared_ptr<LaterCall> call_;
};

Result<DelegatedTask> DelegationService::Launch(const DelegationCaller& caller,
                                                const DelegateArguments& d) {
  DelegateRequest request;
  TROUPE_ASSIGN_OR_RETURN(request, RequestFor(caller, d));
  return delegator_->Delegate(request);
}

Result<DelegateRequest> DelegationService::RequestFor(const DelegationCaller& caller,
                                                      const DelegateArguments& d) {
  if (!d.agent.empty()) {
    if (options_.check_agent) {
      TROUPE_RETURN_IF_ERROR(options_.check_agent(d.agent));
    } else if (!options_.agents.empty() &&
               std::none_of(options_.agents.begin(), options_.agents.end(),
                            [&](const DelegableAgent& a) { return a.name == d.agent; })) {
      return Status::InvalidArgument("unknown agent `" + ToValidUtf8(d.agent) +
                                     "`; available agents: " + AgentNames());
    }
  }
  if (!d.agent.empty() && caller.allowed_agents &&
      std::find(caller.allowed_agents->begin(), caller.allowed_agents->end(), d.agent) ==
          caller.allowed_agents->end()) {
    return Status::FailedPrecondition(
        "you may not delegate to agent `" + ToValidUtf8(d.agent) +
        "`: it has tools you do not have, and delegating must not widen what you may do; " +
        (caller.allowed_agents->empty()
             ? std::string("you may delegate to no agent")
             : fmt::format("you may delegate to: {}", fmt::join(*caller.allowed_agents, ", "))) +
        " (a user can allow more with `delegates_to` in your agent definition or config)");
  }
  const DelegationScope& scope = caller.scope;
  TROUPE_RETURN_IF_ERROR(scope.Check(" to delegate from"));
  if (!d.session_id.empty()) {
    std::optional<DelegatedSession> session;
    TROUPE_ASSIGN_OR_RETURN(session, delegator_->Session(d.session_id));
    if (!session) return scope.NoSuchSession(d.session_id);
    TROUPE_RETURN_IF_ERROR(scope.MayContinue(*session, d.agent));
  }
  DelegateRequest request;
  scope.PlaceLaunch(&request);
  request.parent_task_id = caller.task_id;
  request.agent = d.agent;
  request.prompt = d.prompt;
  request.description = d.description;
  request.model = d.model;
  request.fallback_models = d.fallback_models;
  request.session_id = d.session_id;
  request.workspace = caller.workspace;
  request.call_key = caller.call_key;
  request.max_tokens = d.max_tokens;
  request.max_cost_usd = d.max_cost_usd;
  request.isolation = d.isolation;
  return request;
}

Result<DelegationService::Launched> DelegationService::LaunchCall(const DelegationCaller& caller,
                                                                  const json& arguments) {
  ToolArgs args("delegate_task", arguments);
  Result<DelegateArguments> parsed = ParseDelegateArguments(args, AgentNames());
  if (!parsed.ok()) return parsed.status();
  Result<DelegatedTask> task = Launch(caller, *parsed);
  if (!task.ok()) return args.Error(task.status().message());
  return Launched{std::move(*task), !parsed->session_id.empty(), parsed->background};
}

std::unique_ptr<DelegationCall> DelegationService::DelegateTask(const DelegationCaller& caller,
                                                                const json& arguments, Done done,
                                                                const WaitStarted& on_wait) {
  ToolArgs args("delegate_task", arguments);
  Result<DelegateArguments> parsed = ParseDelegateArguments(args, AgentNames());
  if (!parsed.ok()) {
    done(Answer::Error(parsed.status()));
    return nullptr;
  }
  Result<DelegateRequest> request = RequestFor(caller, *parsed);
  if (!request.ok()) {
    done(Answer::Error(args.Error(request.status().message())));
    return nullptr;
  }
  // The launch may answer later (a task in a worktree, once git made it): until then a cancel
  // of this call drops it; after, it reaches the wait that follows, if any.
  auto later = std::make_shared<LaterCall>();
  const bool continued = !parsed->session_id.empty();
  const bool background = parsed->background;
  later->launch_id = delegator_->DelegateLater(
      *request,
      [this, later, caller, continued, background, done, on_wait](Result<DelegatedTask> task) {
        later->answered = true;
        if (later->cancelled) return;
        if (!task.ok()) {
          return done(Answer::Error(
              ToolArgs("delegate_task", json::object()).Error(task.status().message())));
        }
        later->wait = AnswerLaunch(caller, Launched{*task, continued, background}, done, on_wait);
        if (later->cancelled && later->wait) later->wait->Cancel();
      });
  if (later->answered) return std::move(later->wait);
  return std::make_unique<LaterCallHandle>(delegator_, later);
}

std::unique_ptr<DelegationCall> DelegationService::AnswerLaunch(const DelegationCaller& caller,
                                                                const Launched& launched, Done done,
                                                                const WaitStarted& on_wait) {
  const DelegatedTask task = launched.task;
  const bool continued = launched.continued;
  if (launched.background) {
    done(LaunchedAnswer(task, continued));
    return nullptr;
  }

  // Foreground: the result itself, or — after foreground_wait_ms — the status, and the task
  // keeps running in the background.
  const DelegationLimits limits = options_.limits;
  const std::string told = HowToldOfTheEnd(caller.scope);
  auto format = [task, limits, told](std::vector<DelegatedTask> now, bool timed_out) {
    const DelegatedTask& t = now.empty() ? task : now[0];
    if (t.final()) {
      Answer a = Report(t);
      a.foreground = true;
      return a;
    }
    Answer a = TaskAnswer(Answer::Kind::kReport, "", t);
    a.foreground = true;
    a.timed_out = timed_out;
    const std::string again =
        NoteWaitAgain(limits, WaitForOne(t.task_id), limits.foreground_wait_ms, 0, &a);
    a.text = "Still " + t.state + " after waiting " + FormatDuration(limits.foreground_wait_ms) +
             "; it keeps running in the background" + told + "." +
             (again.empty() ? "" : " " + again) + "\n\n" + FormatTaskStatus(t);
    return a;
  };
  auto on_error = [task, continued](const Status& s) {
    Answer a = LaunchedAnswer(task, continued);
    a.text += "\n\n(Could not wait for it: " + s.message() + "; it runs in the background.)";
    return a;
  };
  return Wait({task}, false, limits.foreground_wait_ms, std::move(format), std::move(on_error),
              std::move(done), on_wait);
}

Result<DelegatedTask> DelegationService::Find(const DelegationScope& scope,
                                              const std::string& task_id, bool holding) {
  Result<DelegatedTask> task = delegator_->Get(task_id);
  if (!task.ok() && task.status().code() != StatusCode::kNotFound) return task.status();
  if (task.ok() && (holding ? scope.Holds(*task) : scope.MayRead(*task))) return task;
  return Status::NotFound(scope.NotVisible("task_id", task_id, holding));
}

std::unique_ptr<DelegationCall> DelegationService::Output(const DelegationCaller& caller,
                                                          const json& arguments, Done done,
                                                          const WaitStarted& on_wait) {
  ToolArgs args("background_output", arguments);
  auto fail = [&](const Status& s) {
    done(Answer::Error(s));
    return nullptr;
  };
  if (Status s = args.CheckObject({"task_id", "block", "timeout_ms", "full_session"}); !s.ok()) {
    return fail(s);
  }
  const DelegationLimits limits = options_.limits;
  Result<std::string> task_id = args.RequiredString("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return fail(task_id.status());
  Result<bool> block = args.OptionalBool("block", false);
  if (!block.ok()) return fail(block.status());
  Result<int64_t> asked =
      args.OptionalInt("timeout_ms", limits.default_wait_ms, 0, limits.max_timeout_ms);
  if (!asked.ok()) return fail(asked.status());
  Result<bool> full_session = args.OptionalBool("full_session", false);
  if (!full_session.ok()) return fail(full_session.status());
  if (Status s = caller.scope.Check("; delegated tasks belong to a session"); !s.ok()) {
    return fail(args.Error(s.message()));
  }
  Result<DelegatedTask> found = Find(caller.scope, *task_id, false);
  if (!found.ok()) return fail(args.Error(found.status().message()));

  TaskDelegator* delegator = delegator_;
  const bool full = *full_session;
  const DelegatedTask before = *found;
  const int64_t waited = std::min(*asked, limits.max_wait_ms);
  if (!*block || before.final() || waited == 0) {
    done(ReportWithTranscript(delegator, before, full));
    return nullptr;
  }
  const int64_t asked_ms = args.Find("timeout_ms") != nullptr ? *asked : 0;
  auto format = [delegator, full, before, waited, asked_ms, limits](std::vector<DelegatedTask> now,
                                                                    bool timed_out) {
    const DelegatedTask& t = now.empty() ? before : now[0];
    Answer a = ReportWithTranscript(delegator, t, full);
    if (timed_out && !t.final()) {
      a.timed_out = true;
      const std::string again = NoteWaitAgain(limits, WaitForOne(t.task_id), waited, asked_ms, &a);
      a.text = "Still " + t.state + " after waiting " + FormatDuration(waited) + "." +
               (again.empty() ? "" : " " + again) + "\n\n" + a.text;
    }
    return a;
  };
  auto on_error = [delegator, full, before](const Status& s) {
    Answer a = ReportWithTranscript(delegator, before, full);
    a.text = "(Could not wait: " + s.message() + ".)\n\n" + a.text;
    return a;
  };
  return Wait({before}, false, waited, std::move(format), std::move(on_error), std::move(done),
              on_wait);
}

std::unique_ptr<DelegationCall> DelegationService::WaitFor(const DelegationCaller& caller,
                                                           const json& arguments, Done done,
                                                           const WaitStarted& on_wait) {
  ToolArgs args("background_wait", arguments);
  auto fail = [&](const Status& s) {
    done(Answer::Error(s));
    return nullptr;
  };
  const DelegationLimits limits = options_.limits;
  Result<WaitArguments> wait = ParseWaitArguments(args, limits);
  if (!wait.ok()) return fail(wait.status());
  const DelegationScope& scope = caller.scope;
  if (Status s = scope.Check("; delegated tasks belong to a session"); !s.ok()) {
    return fail(args.Error(s.message()));
  }

  std::vector<DelegatedTask> tasks;
  if (wait->task_ids.empty()) {
    Result<std::vector<DelegatedTask>> active = List(scope, "active");
    if (!active.ok()) {
      return fail(args.Error("could not list your tasks: " + active.status().message()));
    }
    tasks = std::move(*active);
    if (tasks.empty()) {
      Answer a;
      a.kind = Answer::Kind::kWaitSummary;
      a.text = std::string("None of the tasks you ") + scope.verb() +
               " is pending or running; there is nothing to wait for. Read finished tasks with "
               "background_output.";
      done(std::move(a));
      return nullptr;
    }
  } else {
    for (const std::string& id : wait->task_ids) {
      Result<DelegatedTask> t = delegator_->Get(id);
      if (!t.ok() || !scope.MayRead(*t)) {
        return fail(args.Error(scope.NotVisible("task_ids", id, false)));
      }
      tasks.push_back(std::move(*t));
    }
  }
  const int64_t waited = std::min(wait->timeout_ms, limits.max_wait_ms);
  const int64_t asked_ms = wait->timeout_given ? wait->timeout_ms : 0;
  const char* mode = wait->any ? "any" : "all";
  auto format = [waited, asked_ms, mode, limits](std::vector<DelegatedTask> now, bool timed_out) {
    Answer a;
    a.kind = Answer::Kind::kWaitSummary;
    a.timed_out = timed_out;
    a.text = FormatWaitSummary(now, timed_out, waited);
    std::vector<std::string> open;
    for (const DelegatedTask& t : now) {
      if (!t.final()) open.push_back(t.task_id);
    }
    if (timed_out && !open.empty()) {
      const std::string again = NoteWaitAgain(
          limits, {"background_wait", {{"task_ids", open}, {"mode", mode}}}, waited, asked_ms, &a);
      if (!again.empty()) a.text += "\n\n" + again;
    }
    a.tasks = std::move(now);
    return a;
  };
  if (waited == 0) {
    done(format(tasks, false));
    return nullptr;
  }
  auto on_error = [](const Status& s) {
    return Answer::Error(Status::Unavailable("background_wait: could not wait: " + s.message()));
  };
  return Wait(tasks, wait->any, waited, std::move(format), std::move(on_error), std::move(done),
              on_wait);
}

Result<std::vector<DelegatedTask>> DelegationService::Cancel(const DelegationScope& scope,
                                                             const std::string& task_id) {
  TROUPE_RETURN_IF_ERROR(scope.Check("; delegated tasks belong to a session"));
  std::vector<std::string> ids;
  if (!task_id.empty()) {
    Result<DelegatedTask> task = Find(scope, task_id, true);
    if (!task.ok()) return task.status();
    ids.push_back(task_id);
  } else {
    std::vector<DelegatedTask> active;
    TROUPE_ASSIGN_OR_RETURN(active, List(scope, "active"));
    for (const DelegatedTask& t : active) ids.push_back(t.task_id);
  }
  if (ids.empty()) return std::vector<DelegatedTask>{};
  return delegator_->Cancel(ids, scope.CancelReason());
}

DelegationAnswer DelegationService::CancelTool(const DelegationCaller& caller,
                                               const json& arguments) {
  ToolArgs args("background_cancel", arguments);
  if (Status s = args.CheckObject({"task_id", "all"}); !s.ok()) return Answer::Error(s);
  Result<std::string> task_id = args.OptionalText("task_id", "a task id (bg_…)");
  if (!task_id.ok()) return Answer::Error(task_id.status());
  Result<bool> all = args.OptionalBool("all", false);
  if (!all.ok()) return Answer::Error(all.status());
  if (!task_id->empty() && *all) {
    return Answer::Error(args.Error("give either `task_id` or `all`=true, not both"));
  }
  if (task_id->empty() && !*all) {
    return Answer::Error(args.Error(
        std::string("`task_id` is required (the task to cancel), or pass `all`=true to cancel "
                    "every task you ") +
        caller.scope.verb() + " that is pending or running"));
  }
  Result<std::vector<DelegatedTask>> before = Cancel(caller.scope, *task_id);
  if (!before.ok()) return Answer::Error(args.Error(before.status().message()));
  Answer a;
  a.kind = Answer::Kind::kCancelled;
  a.text = FormatCancelled(*before);
  for (const DelegatedTask& t : *before) {
    Result<DelegatedTask> now = delegator_->Get(t.task_id);
    a.after.push_back(now.ok() ? *now : t);
  }
  a.tasks = std::move(*before);
  return a;
}

Result<std::vector<DelegatedTask>> DelegationService::List(const DelegationScope& scope,
                                                           std::string_view states) {
  TROUPE_RETURN_IF_ERROR(scope.Check("; delegated tasks belong to a session"));
  DelegationQuery query = scope.Held();
  if (states == "active") {
    query.states = {"pending", "running"};
  } else if (!states.empty()) {
    query.states = {std::string(states)};
  }
  return delegator_->List(query);
}

DelegationAnswer DelegationService::ListTool(const DelegationCaller& caller,
                                             const json& arguments) {
  ToolArgs args("background_list", arguments);
  if (Status s = args.CheckObject({"status"}); !s.ok()) return Answer::Error(s);
  Result<std::string> status = args.OptionalText("status", "a task state or \"active\"");
  if (!status.ok()) return Answer::Error(status.status());
  if (!status->empty() && *status != "active" &&
      std::none_of(std::begin(kTaskStates), std::end(kTaskStates),
                   [&](const char* s) { return *status == s; })) {
    return Answer::Error(
        args.Error("`status` must be one of pending, running, completed, error, cancelled, "
                   "interrupted, active (got " +
                   DescribeArgumentValue(*args.Find("status")) + ")"));
  }
  Result<std::vector<DelegatedTask>> tasks = List(caller.scope, *status);
  if (!tasks.ok()) {
    return Answer::Error(args.Error("could not list tasks: " + tasks.status().message()));
  }
  Answer a;
  a.kind = Answer::Kind::kList;
  a.text = FormatTaskList(*tasks);
  a.tasks = std::move(*tasks);
  return a;
}

}  // namespace troupe
