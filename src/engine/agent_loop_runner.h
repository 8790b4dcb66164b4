// The engine's real AgentRunner: runs a task as the agent loop (agent/agent_loop.h) of the
// task's agent, on the provider its model names, with the tools the agent may use. It also is
// the loop's SessionHistory, over the TaskManager's session data, and the launch hook that fills
// in an agent's model and timeouts (TaskManagerOptions::prepare_launch).
//
// Wiring (the daemon and end-to-end tests do this): build the runner, build the TaskManager
// with it and with PrepareLaunch/CheckModel as hooks, then Attach the manager.
#pragma once

#include <memory>
#include <string>

#include "agent/agent_catalog.h"
#include "agent/agent_host.h"
#include "agent/agent_loop.h"
#include "agent/delegation_tools.h"
#include "agent/tool_set.h"
#include "mcp_client/mcp_servers.h"
#include "engine/agent_runner.h"
#include "engine/task_manager.h"
#include "llm/default_model.h"
#include "llm/provider_registry.h"

namespace troupe {

struct AgentLoopRunnerDeps {
  Clock* clock = nullptr;
  const AgentCatalog* agents = nullptr;
  ProviderRegistry* providers = nullptr;
  const ToolSet* tools = nullptr;  // built-ins plus the delegation tools
  // The configured MCP servers, for agents whose tools name them ("mcp:docs/*"); null = none.
  McpServers* mcp = nullptr;
  BlockingExecutor* executor = nullptr;
  AgentLimits limits;  // context window and output size; turns and tool calls come per agent
  // The daemon's default model. When it is the offline fallback, the result of every task that
  // ran on it ends with OfflineModelNotice: the one place that notice is written, so the REST API,
  // the CLI and the MCP tools all show it, and it stays with the result it describes.
  DefaultModel default_model{.model = kOfflineModel, .source = DefaultModelSource::kConfig};
  // Replaces the daemon's secrets in tool results and run errors before they are stored; null =
  // none.
  const SecretRedactor* redactor = nullptr;
};

class AgentLoopRunner : public AgentRunner, public SessionHistory {
 public:
  explicit AgentLoopRunner(AgentLoopRunnerDeps deps) : deps_(std::move(deps)) {}

  // The manager whose tasks this runner runs; before the first Start.
  void Attach(TaskManager* manager) { manager_ = manager; }

  // TaskManagerOptions::prepare_launch: refuses an unknown agent (naming the known ones) and
  // fills the agent's model and timeouts into a request that gave none.
  Status PrepareLaunch(LaunchRequest* request) const;

  std::unique_ptr<RunHandle> Start(const RunRequest& request, RunCallbacks callbacks) override;

  // SessionHistory, over TaskManager::Messages / AppendMessage / ClaimNotifications.
  Result<std::vector<ChatMessage>> Load(const std::string& session_id) override;
  Status Append(const std::string& session_id, const std::string& task_id,
                const ChatMessage& message) override;
  Result<std::vector<std::string>> ClaimNotifications(const std::string& session_id) override;

 private:
  AgentLoopRunnerDeps deps_;
  TaskManager* manager_ = nullptr;
};

// The catalog's agents as delegate_task lists them (AddDelegationTools), so a lead sees whom it
// may delegate to.
std::vector<DelegableAgent> DelegableAgentsOf(const AgentCatalog& catalog);

// The model a task of `agent` running on `model` continues on when that model fails in a way
// another may not (agent.model — or, for an agent without one, the default model it ran on —
// then agent.fallback_models, in order); "" after the last one or when `model` is not among them
// (a launch that named a model of its own). A launch that named fallback models of its own
// (`launch_fallbacks`, non-empty) follows its list instead: after its first model the first of
// them, and so on.
std::string NextFallbackModel(const AgentDefinition& agent, const std::string& model,
                              const std::vector<std::string>& launch_fallbacks = {});

// The system prompt a task runs with: the agent's, then where it works and when.
std::string AgentSystemPrompt(const AgentDefinition& agent, const std::string& workspace,
                              int64_t wall_ms, int depth);

}  // namespace troupe
