// The one place delegation is decided: delegate_task, background_output, background_wait,
// background_cancel and background_list, for every caller. The agents' tools
// (agent/delegation_tools.h) and the MCP tools (mcp/mcp_tools.h) are adapters over it that only
// shape its answers (a ToolResult; MCP content + structuredContent).
//
// It decides, over a TaskDelegator (the mechanism: the engine, or a fake in tests):
//  - rights, by the caller's DelegationScope (agent/delegation_scope.h): what it may read, wait
//    for, list, cancel and continue;
//  - argument checks (agent/tool_args.h), with errors that name the tool and the argument;
//  - waiting: background_output(block=true), background_wait and delegate_task(background=false)
//    hold a TaskDelegator::Wait, bounded by DelegationLimits; a timeout_ms above
//    max_wait_ms is lowered and the answer says so;
//  - rendering: the reference's Markdown shapes (agent/task_reports.h), the same bytes for
//    every caller but for the words that say whose tasks they are ("you delegated" /
//    "you launched") and how the caller learns of an end.
//
// Answers: Run calls `done` exactly once unless the call is cancelled: before Run returns when
// nothing needs waiting for (argument errors included), else from a later loop turn.
//
// Threading: loop thread only, like the delegator.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "agent/agent_host.h"
#include "agent/delegation_scope.h"
#include "core/status.h"

namespace troupe {

// How long the waiting tools wait by default, and at most (timeout_ms), for an agent.
inline constexpr int64_t kDelegationWaitDefaultMs = 60'000;
inline constexpr int64_t kDelegationWaitMaxMs = 600'000;
// How long delegate_task(background=false) waits, for an agent, before answering with the
// status instead of the result (the task keeps running; the model is told it will be notified).
inline constexpr int64_t kForegroundWaitMs = 3'600'000;
// Most task ids one background_wait accepts.
inline constexpr size_t kMaxWaitIds = 100;

struct DelegationLimits {
  // timeout_ms of background_output(block=true) and background_wait when not given.
  int64_t default_wait_ms = kDelegationWaitDefaultMs;
  // The largest timeout_ms accepted at all (larger ones are argument errors).
  int64_t max_timeout_ms = kDelegationWaitMaxMs;
  // The longest one call waits: a larger timeout_ms is lowered to it, and the answer says so.
  int64_t max_wait_ms = kDelegationWaitMaxMs;
  // How long delegate_task(background=false) waits before answering with the status.
  int64_t foreground_wait_ms = kForegroundWaitMs;
  // A wait that ended while tasks still run names the call that waits again (in the text and
  // in DelegationAnswer::wait_again): for callers whose waits are cut short by max_wait_ms.
  bool say_how_to_wait_again = false;
};

// An agent the caller may delegate to, as delegate_task lists it for the model.
struct DelegableAgent {
  std::string name;
  std::string description;  // one line
};

struct DelegationServiceOptions {
  DelegationLimits limits;
  // The agents delegate_task offers. When not empty, `agent` must name one of them; when empty,
  // any name is passed on (the engine refuses unknown ones).
  std::vector<DelegableAgent> agents;
  // When set, decides instead of `agents` whether an agent name is known (its error is the
  // answer).
  std::function<Status(const std::string& agent)> check_agent;
};

// Who calls, and where what it launches runs.
struct DelegationCaller {
  DelegationScope scope = DelegationScope::Everything();
  std::string task_id;    // the calling task, "" = none
  std::string workspace;  // of launched tasks ("" = the engine's default)
  // The delegating tool call (ToolContext::call_key): a replay of it finds the task it started.
  std::string call_key;
  // The agents the caller may start (ToolContext::delegates_to); nullopt = any.
  std::optional<std::vector<std::string>> allowed_agents;
};

// A tool call an answer suggests: the tool and its arguments, in the order to show them.
struct SuggestedCall {
  std::string tool;
  std::vector<std::pair<std::string, nlohmann::json>> arguments;

  // {"tool": …, "arguments": {…}}
  nlohmann::json ToJson() const;
  // `background_wait(task_ids=["bg_1","bg_2"], mode="all")`: each argument as JSON.
  std::string ToText() const;
};

// The sentence that ends a wait stopped at its bound while tasks still run: "[timeout_ms …
// was lowered to …, the longest one call waits (…).] To wait again, call <wait_again>."
// `asked_ms` is the timeout_ms the caller gave (0 = none); it is said to be lowered when above
// `waited_ms`.
std::string WaitAgainSentence(const SuggestedCall& wait_again, int64_t waited_ms, int64_t asked_ms);

// The largest max_tokens delegate_task accepts.
inline constexpr int64_t kMaxDelegatedTokens = 1'000'000'000'000;
// The most models one `model` list of delegate_task may name (as the REST API's).
inline constexpr size_t kMaxDelegatedModels = 8;

// delegate_task's arguments, checked. Optional strings are "" when absent.
struct DelegateArguments {
  std::string description;
  std::string prompt;
  std::string agent;  // "" only when session_id continues a session
  std::string model;  // "" = the agent's
  // The rest of a model list (`model` given as ["a", "b", …]): the models the task continues on,
  // in order, when `model` fails after its retries; they replace its agent's fallback_models.
  std::vector<std::string> fallback_models;
  std::string session_id;
  bool background = true;
  // Budgets for the task; they can only lower its parent's (and the configured ones).
  std::optional<int64_t> max_tokens;
  std::optional<double> max_cost_usd;
  std::string isolation;  // "" = the agent's; "none" or "worktree"
};

// What a call answers: the text every caller shows, and what it is about, for callers that
// also give it as data (MCP's structuredContent).
struct DelegationAnswer {
  enum class Kind {
    kError,        // a tool error: bad arguments, a task out of reach, a refused launch
    kLaunched,     // delegate_task in the background: tasks[0] was launched
    kReport,       // tasks[0]'s status table, result or error block
    kWaitSummary,  // background_wait: `tasks` as they are now
    kCancelled,    // background_cancel: `tasks` as they were before, `after` as they are
    kList,         // background_list: `tasks`
  };
  Kind kind = Kind::kError;
  std::string text;
  std::vector<DelegatedTask> tasks;
  std::vector<DelegatedTask> after;
  bool continued = false;   // kLaunched: the task continues an existing session
  bool foreground = false;  // kReport: the answer of delegate_task(background=false)
  bool timed_out = false;   // kReport, kWaitSummary: the wait ended at its time limit
  // When the wait ended at its bound while tasks run and the limits say so: the call that goes
  // on waiting, and the sentence of the text that names it.
  std::optional<SuggestedCall> wait_again;
  std::string wait_again_sentence;
  // kReport with full_session: the transcript, as the text ends with it.
  std::optional<std::string> transcript;

  bool is_error() const { return kind == Kind::kError; }
  static DelegationAnswer Error(const Status& status);
};

// A call that waits. Cancel (or destruction) drops the wait: `done` is not called afterwards.
class DelegationCall {
 public:
  virtual ~DelegationCall() = default;
  virtual void Cancel() = 0;
};

class DelegationService {
 public:
  using Done = std::function<void(DelegationAnswer)>;
  // Told when a call starts waiting for `tasks` (as they were), until any (`any`) or all end.
  using WaitStarted = std::function<void(const std::vector<DelegatedTask>& tasks, bool any)>;

  // `delegator` must outlive the service and every call it started.
  DelegationService(TaskDelegator* delegator, DelegationServiceOptions options);

  const DelegationServiceOptions& options() const { return options_; }

  // Runs tool `tool` (delegate_task, background_output, background_wait, background_cancel,
  // background_list) with `arguments` for `caller`. Returns the call while it waits; null when
  // `done` was called already.
  std::unique_ptr<DelegationCall> Run(const DelegationCaller& caller, std::string_view tool,
                                      const nlohmann::json& arguments, Done done,
                                      WaitStarted on_wait = nullptr);

  // ---- the operations under the tools, for callers that are not tool calls (MCP tasks) ----

  // delegate_task's arguments checked and launched; errors name the tool ("delegate_task: …").
  struct Launched {
    DelegatedTask task;
    bool continued = false;
    bool background = true;
  };
  Result<Launched> LaunchCall(const DelegationCaller& caller, const nlohmann::json& arguments);
  // Launches (or continues a session) as `caller` may; the refusal, unprefixed, says why.
  Result<DelegatedTask> Launch(const DelegationCaller& caller, const DelegateArguments& args);
  // Task `task_id` when `scope` may read it (`holding` false) or hold it (true); NotFound
  // otherwise (the scope's message), or the delegator's error.
  Result<DelegatedTask> Find(const DelegationScope& scope, const std::string& task_id,
                             bool holding);
  // Cancels `task_id` (which `scope` must hold), or every active task it holds when `task_id`
  // is "". Returns the tasks as they were before.
  Result<std::vector<DelegatedTask>> Cancel(const DelegationScope& scope,
                                            const std::string& task_id);
  // The tasks `scope` holds, oldest first; `states` ("" = any; "active" = pending or running).
  Result<std::vector<DelegatedTask>> List(const DelegationScope& scope, std::string_view states);
  // The answer about `task`: its report (status, result or error block).
  static DelegationAnswer Report(const DelegatedTask& task);

 private:
  struct Waiter;
  std::unique_ptr<DelegationCall> Wait(
      const std::vector<DelegatedTask>& tasks, bool any, int64_t timeout_ms,
      std::function<DelegationAnswer(std::vector<DelegatedTask>, bool timed_out)> format,
      std::function<DelegationAnswer(const Status&)> on_error, Done done,
      const WaitStarted& on_wait);
  std::unique_ptr<DelegationCall> DelegateTask(const DelegationCaller& caller,
                                               const nlohmann::json& arguments, Done done,
                                               const WaitStarted& on_wait);
  // What delegate_task answers once its task is launched: at once (background), or its result
  // after a wait.
  std::unique_ptr<DelegationCall> AnswerLaunch(const DelegationCaller& caller,
                                               const Launched& launched, Done done,
                                               const WaitStarted& on_wait);
  // Launch's checks: the request to delegate, or the refusal.
  Result<DelegateRequest> RequestFor(const DelegationCaller& caller, const DelegateArguments& args);
  struct LaterCall;
  class LaterCallHandle;
  std::unique_ptr<DelegationCall> Output(const DelegationCaller& caller,
                                         const nlohmann::json& arguments, Done done,
                                         const WaitStarted& on_wait);
  std::unique_ptr<DelegationCall> WaitFor(const DelegationCaller& caller,
                                          const nlohmann::json& arguments, Done done,
                                          const WaitStarted& on_wait);
  DelegationAnswer CancelTool(const DelegationCaller& caller, const nlohmann::json& arguments);
  DelegationAnswer ListTool(const DelegationCaller& caller, const nlohmann::json& arguments);
  std::string AgentNames() const;

  TaskDelegator* delegator_;
  DelegationServiceOptions options_;
};

}  // namespace troupe
