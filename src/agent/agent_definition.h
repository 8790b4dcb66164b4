// An agent: a named role with a system prompt, a model, the tools it may call and the limits of
// one run. Definitions come from three places — built in (builtin_agents.h), Markdown files
// (agent_file.h) and the config's `agents` overrides — and agent_catalog.h merges them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_pattern.h"
#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

// Where a definition came from, for `troupe agents` and for messages.
enum class AgentOrigin {
  kBuiltin,
  kUser,     // a file in the user's agents directory (~/.config/troupe/agents)
  kProject,  // a file in the workspace's .troupe/agents
};

// "builtin", "user" or "project".
const char* AgentOriginName(AgentOrigin origin);

struct AgentSource {
  AgentOrigin origin = AgentOrigin::kBuiltin;
  std::string path;  // the Markdown file; empty for built-ins

  // "builtin", or the file's path.
  std::string ToString() const;
};

// Limits of an agent that names none.
inline constexpr int kDefaultMaxTurns = 50;
inline constexpr int kToolCallsPerTurn = 3;  // default max_tool_calls = 3 × max_turns

// Longest agent name accepted.
inline constexpr size_t kMaxAgentNameLength = 64;

struct AgentDefinition {
  std::string name;         // [a-z0-9_-]{1,64}; see ValidateAgentName
  std::string description;  // one line: what the agent is for (listings, the delegation tool)
  std::string system_prompt;
  std::string model;  // "provider/model" or an alias; empty = Config::default_model
  // Names from BuiltinToolNames() and MCP patterns ("mcp:docs/*", IsMcpToolEntry), no
  // duplicates, in order.
  std::vector<std::string> tools;
  int max_turns = kDefaultMaxTurns;
  int max_tool_calls = kDefaultMaxTurns * kToolCallsPerTurn;
  std::optional<double> temperature;     // unset = the provider's default
  std::optional<int> max_output_tokens;  // unset = the model's default (llm/model_limits.h)
  ReasoningSettings reasoning;           // unset = the model's default
  bool prompt_caching = true;
  // Per-agent timeouts; unset = the `background_task` setting of the same name.
  std::optional<int64_t> task_ttl_ms;
  std::optional<int64_t> pending_ttl_ms;
  std::optional<int64_t> stale_timeout_ms;
  // "worktree": a new session of this agent runs in a fresh git worktree (docs/DESIGN.md
  // "Worktrees") unless its launch says otherwise; "" = in the workspace itself.
  std::string isolation;
  // Set by the config's `agents` entry only (never by a Markdown file: rights come from the user's
  // config). Whether its tool processes may use the network; unset = the sandbox's setting.
  std::optional<NetworkAccess> network;
  // The agents it may start with delegate_task; unset = those whose tools are all among its own
  // (AllowedDelegates in agent_catalog.h), so delegating never widens what it may do.
  std::optional<std::vector<std::string>> delegates_to;
  // Per-task budgets of its tasks; unset = the `budgets` ones. A launch may only lower them.
  std::optional<int64_t> max_tokens;
  std::optional<double> max_cost_usd;
  // Models its tasks continue on, in order, when `model` fails after the provider's retries
  // with an error another model may not have (DESIGN.md "Fallback models").
  std::vector<std::string> fallback_models;
  // Loop detection thresholds (agent/loop_detector.h); unset = its defaults, 0 = off.
  std::optional<int> loop_repeats;
  std::optional<int> loop_idle_turns;
  AgentSource source;
  // The fields a config `agents` entry changed ("model", "tools", "prompt", ...), in the order
  // AgentConfig declares them; empty when the config did not touch this agent.
  std::vector<std::string> config_overrides;

  bool AllowsTool(std::string_view tool) const;
};

// The tools troupe implements, in the order listings show them: read, list, glob, grep, webfetch,
// edit, write, bash, todo_write, todo_read, delegate_task, background_output, background_wait,
// background_cancel.
const std::vector<std::string>& BuiltinToolNames();
// "none" or "worktree": what an agent's `isolation` may say.
bool IsAgentIsolation(std::string_view value);
bool IsBuiltinToolName(std::string_view name);

// OK when `name` is 1 to 64 characters of a-z, 0-9, '_' and '-'; otherwise InvalidArgument
// saying which rule `name` breaks.
Status ValidateAgentName(std::string_view name);

// Whether `entry` is an MCP pattern of an agent's tools: "mcp:<server>[/<tool glob>]" or
// "mcp:@research" (config/mcp_servers_config.h). Whether the server exists is checked against
// the config (config check, the task's start).
bool IsMcpToolEntry(std::string_view entry);

// OK when every entry of `tools` is a built-in tool name or an MCP pattern; otherwise
// InvalidArgument naming the first unknown one, a likely intended name, and the valid names.
Status ValidateToolNames(const std::vector<std::string>& tools);

// The message for an unknown tool name: `unknown tool "Read" (did you mean "read"?); valid
// tools: read, list, ...`.
std::string UnknownToolMessage(std::string_view tool);

// The entry of `candidates` that `wanted` most likely misspells — compared without case, '_' or
// '-', within one edit per three characters — or nullopt when none is that close.
std::optional<std::string> ClosestName(std::string_view wanted,
                                       const std::vector<std::string>& candidates);

// `names` joined with ", ".
std::string JoinNames(const std::vector<std::string>& names);

}  // namespace troupe
