// The delegation tools, through which an agent runs other agents in the background (names,
// arguments and output shapes of the reference system; see agent/task_reports.h):
//   delegate_task      start a task on an agent, or continue one of this session's children
//   background_output  a task's status table, result block or error block (optionally waiting)
//   background_wait    block until any / all of this session's tasks finish, or a timeout
//   background_cancel  cancel one task, or every active task this session delegated
// They reach the engine only through TaskDelegator (agent/agent_host.h), so nested tasks obey the
// same pools and maxDepth as any other.
//
// Isolation: a session sees only the tasks it delegated itself. A task id that is not among
// TaskDelegator::Children(context.session_id) is answered with a tool error — the same one
// whether the task belongs to another session or does not exist, so nothing leaks.
//
// Waiting: background_output(block=true), background_wait and delegate_task(background=false)
// hold a TaskDelegator::Wait; cancelling or destroying their ToolRun calls CancelWait before it
// returns, and `done` is not called afterwards. Every answer arrives from a later loop turn.
//
// Threading: loop thread only, like the delegator.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_host.h"
#include "agent/tool.h"
#include "agent/tool_args.h"
#include "agent/tool_set.h"
#include "core/status.h"

namespace troupe {

// How long the waiting tools wait by default, and at most (timeout_ms).
inline constexpr int64_t kDelegationWaitDefaultMs = 60'000;
inline constexpr int64_t kDelegationWaitMaxMs = 600'000;
// How long delegate_task(background=false) waits before answering with the status instead of
// the result (the task keeps running; the model is told it will be notified).
inline constexpr int64_t kForegroundWaitMs = 3'600'000;

// Most task ids one background_wait accepts.
inline constexpr size_t kMaxWaitIds = 100;

// background_wait's arguments (task_ids?, mode, timeout_ms), checked: shared by the agents'
// tool and the MCP tool of the same name.
struct WaitArguments {
  std::vector<std::string> task_ids;  // without duplicates; empty = the caller's active tasks
  bool any = false;                   // mode "any" (default "all")
  int64_t timeout_ms = 0;
};
Result<WaitArguments> ParseWaitArguments(const ToolArgs& args, int64_t default_timeout_ms,
                                         int64_t max_timeout_ms);

// delegate_task's arguments, checked: shared by the agents' tool and the MCP tool of the same
// name. Optional strings are "" when absent.
struct DelegateArguments {
  std::string description;
  std::string prompt;
  std::string agent;  // "" only when session_id continues a session
  std::string model;
  std::string session_id;
  bool background = true;
};
// `available_agents` ("a, b, c"; "" = none known) is the hint when `agent` is missing.
Result<DelegateArguments> ParseDelegateArguments(const ToolArgs& args,
                                                 std::string_view available_agents);

// An agent the caller may delegate to, as delegate_task lists it for the model.
struct DelegableAgent {
  std::string name;
  std::string description;  // one line
};

// What the four tools share: the engine they reach and their spec, filled by each constructor.
class DelegatorTool : public Tool {
 public:
  const ToolSpec& spec() const override { return spec_; }

 protected:
  explicit DelegatorTool(TaskDelegator* delegator) : delegator_(delegator) {}
  TaskDelegator* delegator_;
  ToolSpec spec_;
};

class DelegateTaskTool : public DelegatorTool {
 public:
  // `delegator` must outlive the tool and its runs. When `agents` is not empty, the description
  // lists them and `agent` must name one of them; when empty, any name is passed on (the engine
  // refuses unknown ones).
  explicit DelegateTaskTool(TaskDelegator* delegator, std::vector<DelegableAgent> agents = {});
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  std::vector<DelegableAgent> agents_;
};

class BackgroundOutputTool : public DelegatorTool {
 public:
  explicit BackgroundOutputTool(TaskDelegator* delegator);
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;
};

class BackgroundWaitTool : public DelegatorTool {
 public:
  explicit BackgroundWaitTool(TaskDelegator* delegator);
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;
};

class BackgroundCancelTool : public DelegatorTool {
 public:
  explicit BackgroundCancelTool(TaskDelegator* delegator);
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;
};

// Adds the four tools to `tools`. Access (agent/tool_set.h):
//  - delegate_task is kWrites: the agents it starts may edit files and run commands (general),
//    so giving it to an agent grants what the team can do, not only what the agent reads;
//  - background_output and background_wait are kReadOnly: they read task state;
//  - background_cancel is kReadOnly too: it changes no file and starts nothing; it can only stop
//    work the same session started (and without delegate_task a session has none).
// `delegator` must outlive `tools`. AlreadyExists when a name is taken.
Status AddDelegationTools(ToolSet* tools, TaskDelegator* delegator,
                          std::vector<DelegableAgent> agents = {});

}  // namespace troupe
