#include "agent/delegation_tools.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "agent/delegation_schemas.h"
#include "agent/pending_tool_run.h"

namespace troupe {
namespace {

ToolResult ToToolResult(DelegationAnswer answer) {
  return answer.is_error() ? ToolResult::Error(std::move(answer.text))
                           : ToolResult::Ok(std::move(answer.text));
}

// A tool call whose service call waits; the service's answer goes to `done` unless the run was
// cancelled first.
class DelegationRun : public ToolRun {
 public:
  struct State {
    std::function<void(ToolResult)> done;
    bool starting = true;               // inside DelegationService::Run
    std::optional<ToolResult> at_once;  // the answer Run gave before returning
  };
  DelegationRun(std::unique_ptr<DelegationCall> call, std::shared_ptr<State> state)
      : call_(std::move(call)), state_(std::move(state)) {}
  ~DelegationRun() override { Cancel(); }
  void Cancel() override {
    state_->done = nullptr;
    if (call_) call_->Cancel();
  }

 private:
  std::unique_ptr<DelegationCall> call_;
  std::shared_ptr<State> state_;
};

}  // namespace

DelegationLimits AgentDelegationLimits() { return DelegationLimits{}; }

DelegatorTool::DelegatorTool(TaskDelegator* delegator, std::string name, std::string description,
                             std::vector<DelegableAgent> agents)
    : service_(delegator,
               DelegationServiceOptions{AgentDelegationLimits(), std::move(agents), {}}) {
  spec_.name = std::move(name);
  spec_.description = std::move(description);
  spec_.input_schema = DelegationInputSchema(spec_.name, service_.options());
}

std::unique_ptr<ToolRun> DelegatorTool::Start(const nlohmann::json& arguments,
                                              const ToolContext& context,
                                              std::function<void(ToolResult)> done) {
  DelegationCaller caller;
  caller.scope = DelegationScope::ChildrenOf(context.session_id);
  caller.task_id = context.task_id;
  caller.workspace = context.workspace_root;
  caller.call_key = context.call_key;
  caller.allowed_agents = context.delegates_to;
  // An answer given inside Run is delivered from a later loop turn, as every tool's is.
  auto state = std::make_shared<DelegationRun::State>();
  std::unique_ptr<DelegationCall> call =
      service_.Run(caller, spec_.name, arguments, [state](DelegationAnswer answer) {
        if (state->starting) {
          state->at_once = ToToolResult(std::move(answer));
          return;
        }
        if (!state->done) return;
        auto deliver = std::move(state->done);
        state->done = nullptr;
        deliver(ToToolResult(std::move(answer)));
      });
  state->starting = false;
  if (state->at_once) {
    return PendingToolRun::Answer(context, std::move(*state->at_once), std::move(done));
  }
  state->done = std::move(done);
  return std::make_unique<DelegationRun>(std::move(call), std::move(state));
}

namespace {

std::string DelegateTaskDescription(const std::vector<DelegableAgent>& agents, bool limited) {
  std::string d =
      "Start a task on another agent. It runs in its own session, in the background, "
      "while you keep working. Delegate work a specialist does better, and work that "
      "can run in parallel: launch every independent part in the same turn (one call "
      "each) so they run at the same time. The agent does not see this conversation, "
      "so the prompt must stand alone: the goal, the context and paths you already "
      "know, the constraints, and exactly what to report back.\n"
      "Returns at once with the task id and session id. You are notified "
      "automatically when the task finishes, so do not poll background_output; keep "
      "working, or call background_wait when you have nothing else to do, then read "
      "the result with background_output.\n"
      "To follow up on a task (after it finished, failed or was cancelled), call "
      "delegate_task with its session_id and a new prompt: the agent keeps its whole "
      "conversation.\n"
      "Set background=false only when you cannot do anything else until the answer "
      "is there; the call then waits and returns the result itself.";
  if (!agents.empty()) {
    d += "\n\nAgents:";
    for (const DelegableAgent& a : agents) d += "\n- " + a.name + ": " + a.description;
  } else if (limited) {
    d += "\n\nYou may not start tasks on any agent; you can only continue sessions of tasks "
         "you started.";
  }
  return d;
}

}  // namespace

DelegateTaskTool::DelegateTaskTool(TaskDelegator* delegator, std::vector<DelegableAgent> agents)
    : DelegatorTool(delegator, "delegate_task",
                    DelegateTaskDescription(agents, /*limited=*/false), agents) {}

ToolSpec DelegateTaskTool::SpecFor(const ToolContext& context) const {
  if (!context.delegates_to.has_value()) return spec();
  DelegationServiceOptions offered = options();
  const std::vector<std::string>& allowed = *context.delegates_to;
  std::erase_if(offered.agents, [&allowed](const DelegableAgent& a) {
    return std::find(allowed.begin(), allowed.end(), a.name) == allowed.end();
  });
  ToolSpec s = spec();
  s.description = DelegateTaskDescription(offered.agents, /*limited=*/true);
  s.input_schema = DelegationInputSchema(s.name, offered);
  return s;
}

BackgroundOutputTool::BackgroundOutputTool(TaskDelegator* delegator)
    : DelegatorTool(
          delegator, "background_output",
          "Show a task you delegated: while it is pending or running, a status table (state, "
          "time, last tool, original prompt); once completed, its result; if it failed or was "
          "cancelled, the reason. A result reads the same every time you ask.\n"
          "You are notified automatically when tasks finish, so do not call this in a loop to "
          "watch a task. To wait for it, pass block=true (waits up to timeout_ms for it to "
          "finish) or use background_wait. full_session=true adds the task's whole "
          "conversation (its tool calls and their results), to check how it reached its "
          "answer.") {}

BackgroundWaitTool::BackgroundWaitTool(TaskDelegator* delegator)
    : DelegatorTool(
          delegator, "background_wait",
          "Block until tasks you delegated finish: all of them (mode \"all\", the default) or "
          "the first one (mode \"any\"), or until timeout_ms passes. Without task_ids it waits "
          "for every task you delegated that is still pending or running. Returns which tasks "
          "finished and which are still running; read the results with background_output.\n"
          "Use it only when you have nothing useful to do until results arrive. Otherwise keep "
          "working: you are notified automatically when tasks finish. Use mode \"any\" to "
          "handle results one by one as they come in.") {}

BackgroundCancelTool::BackgroundCancelTool(TaskDelegator* delegator)
    : DelegatorTool(
          delegator, "background_cancel",
          "Cancel a task you delegated that is no longer needed (task_id), or every task you "
          "delegated that is still pending or running (all=true). What a cancelled task "
          "delegated is cancelled with it. A pending task never starts; a running one stops at "
          "once. Returns the cancelled tasks and the sessions you can continue later with "
          "delegate_task(session_id=…, prompt=…).") {}

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

}  // namespace troupe
