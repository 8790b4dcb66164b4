// The delegation tools, through which an agent runs other agents in the background (names,
// arguments and output shapes of the reference system; see agent/task_reports.h):
//   delegate_task      start a task on an agent, or continue one of this session's children
//   background_output  a task's status table, result block or error block (optionally waiting)
//   background_wait    block until any / all of this session's tasks finish, or a timeout
//   background_cancel  cancel one task, or every active task this session delegated
// Adapters over the DelegationService (agent/delegation_service.h), which decides everything —
// rights, arguments, waiting, the text — for the scope DelegationScope::ChildrenOf(the calling
// session): a session sees only the tasks it delegated itself, and a task of another session is
// answered like one that does not exist. The tools only turn its answers into ToolResults, from
// a later loop turn, and own their waits: cancelling or destroying a ToolRun drops its wait.
//
// Threading: loop thread only, like the delegator.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agent/agent_host.h"
#include "agent/delegation_service.h"
#include "agent/tool.h"
#include "agent/tool_set.h"
#include "core/status.h"

namespace troupe {

// The limits of an agent's waits: timeout_ms by default kDelegationWaitDefaultMs, at most
// kDelegationWaitMaxMs; delegate_task(background=false) waits kForegroundWaitMs.
DelegationLimits AgentDelegationLimits();

// One of the four tools: its spec, and the service it runs on for the calling session.
class DelegatorTool : public Tool {
 public:
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 protected:
  // `delegator` must outlive the tool and its runs.
  DelegatorTool(TaskDelegator* delegator, std::string name, std::string description,
                std::vector<DelegableAgent> agents = {});

  const DelegationServiceOptions& options() const { return service_.options(); }

 private:
  DelegationService service_;
  ToolSpec spec_;
};

class DelegateTaskTool : public DelegatorTool {
 public:
  // When `agents` is not empty, the description lists them and `agent` must name one of them;
  // when empty, any name is passed on (the engine refuses unknown ones).
  explicit DelegateTaskTool(TaskDelegator* delegator, std::vector<DelegableAgent> agents = {});

  // For a caller limited to some agents (ToolContext::delegates_to), the description and the
  // `agent` enum offer only those: a model is not shown agents it would be refused.
  ToolSpec SpecFor(const ToolContext& context) const override;
};

class BackgroundOutputTool : public DelegatorTool {
 public:
  explicit BackgroundOutputTool(TaskDelegator* delegator);
};

class BackgroundWaitTool : public DelegatorTool {
 public:
  explicit BackgroundWaitTool(TaskDelegator* delegator);
};

class BackgroundCancelTool : public DelegatorTool {
 public:
  explicit BackgroundCancelTool(TaskDelegator* delegator);
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
