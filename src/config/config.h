// troupe's configuration as the rest of the program sees it: typed, validated, with every
// default of DESIGN.md filled in. Loaded from JSONC files by config_loader.h.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/host_pattern.h"

namespace troupe {

// The `background_task` section. Key names are the reference's (defaultConcurrency,
// providerConcurrency, modelConcurrency) plus troupe's own.
struct BackgroundTaskConfig {
  int default_concurrency = 5;                      // per model; 0 = unlimited
  std::map<std::string, int> provider_concurrency;  // "anthropic" -> 3; 0 = unlimited
  std::map<std::string, int> model_concurrency;     // "anthropic/claude-opus-4-5" -> 2
  int global_concurrency = 0;                       // cap on all running tasks; 0 = none
  int64_t task_ttl_ms = 30 * 60 * 1000;             // wall time a task may run
  int64_t pending_ttl_ms = 30 * 60 * 1000;          // time a task may wait for a slot
  int64_t stale_timeout_ms = 3 * 60 * 1000;         // no progress for this long = stale
  int max_depth = 3;                                // nesting of delegated tasks
  bool resume_interrupted = true;                   // re-queue interrupted tasks on start-up
};

// The `sandbox` section: how tool processes (bash, ripgrep) are confined (agent/sandbox.h).
struct SandboxConfig {
  std::string mode = "bwrap";  // "bwrap" or "none" (no sandbox, by explicit choice)
  // Whether tool processes may use the network: false (none), true (all of the host's), or an
  // allow-list of host patterns (only those, through the sandbox's proxy); agents may override.
  NetworkAccess network;
  std::vector<std::string> hide;    // more paths never visible inside ("~/" = the home directory)
  int64_t max_processes = 2048;     // RLIMIT_NPROC; 0 = none
  int64_t cpu_seconds = 900;        // RLIMIT_CPU of each process; 0 = none
  int64_t memory_mb = 16 * 1024;    // RLIMIT_AS of each process; 0 = none
  int64_t file_size_mb = 4 * 1024;  // RLIMIT_FSIZE; 0 = none
  std::string bwrap;                // the bwrap program; empty = from the system directories
};

// One entry of `providers`.
struct ProviderConfig {
  std::string name;         // the key: the part before '/' in "provider/model"
  std::string type;         // "openai", "openai-responses", "anthropic" or "mock"
  std::string base_url;     // empty = the type's default
  std::string api_key_env;  // empty = the type's default (OPENAI_API_KEY, ANTHROPIC_API_KEY)
  // The header the key goes in ("api-key" for Azure OpenAI); empty = the type's default.
  std::string api_key_header;
  std::map<std::string, std::string> headers;  // extra request headers
  // Type mock only: default directives of the scripted model (llm/mock_directives.h), applied
  // below those of each request. Their syntax is checked when the provider is built.
  std::string mock_script;
  // The most response body one attempt may bring, streamed or not (HTTP types).
  int64_t max_reply_bytes = int64_t{32} << 20;
  // Model id (as the provider names it) -> the most tokens it may write in one reply; above
  // troupe's table of well-known models (llm/model_limits.h).
  std::map<std::string, int> max_output_tokens;
};

// One entry of `agents`: overrides of a built-in or user agent. Unset fields keep the agent's.
struct AgentConfig {
  std::optional<std::string> model;
  std::optional<std::vector<std::string>> tools;
  std::optional<int> max_turns;
  std::optional<int> max_tool_calls;
  std::optional<double> temperature;
  std::optional<int> max_output_tokens;         // unset = the model's default (llm/model_limits.h)
  std::optional<int> thinking_budget;           // Anthropic extended thinking budget, tokens
  std::optional<std::string> reasoning_effort;  // minimal, low, medium, high (OpenAI)
  std::optional<bool> prompt_caching;           // unset = on
  std::optional<std::string> prompt;            // replaces the system prompt
  std::optional<std::string> prompt_append;     // appended to it
  std::optional<std::string> description;
  std::optional<int64_t> task_ttl_ms;
  std::optional<int64_t> pending_ttl_ms;
  std::optional<int64_t> stale_timeout_ms;
  std::optional<NetworkAccess> network;  // the agent's tool processes' network (as sandbox's)
  std::optional<std::string> isolation;  // "none" or "worktree" (a git worktree per session)
  // The agents it may delegate to; unset = those whose tools are all among its own.
  std::optional<std::vector<std::string>> delegates_to;
  // Per-task budgets of the agent's tasks (below the global ones of `budgets`).
  std::optional<int64_t> max_tokens;
  std::optional<double> max_cost_usd;
  // Models to continue on when `model` fails in a way another may not (docs/CONFIG.md).
  std::optional<std::vector<std::string>> fallback_models;
  // Loop detection (agent/loop_detector.h); unset = its defaults, 0 = off.
  std::optional<int> loop_repeats;
  std::optional<int> loop_idle_turns;
};

// One entry of `prices`: what a model costs, in USD per million tokens.
struct ModelPrice {
  double input = 0;        // uncached prompt tokens
  double output = 0;       // completion tokens, reasoning included
  double cache_write = 0;  // prompt tokens written to the cache (default: input)
  double cache_read = 0;   // prompt tokens read from the cache (default: input)
  bool operator==(const ModelPrice&) const = default;
};

// The `budgets` section: limits on spend (docs/CONFIG.md "Budgets"). Unset = no limit.
struct BudgetConfig {
  std::optional<int64_t> task_max_tokens;  // input + output tokens of one task
  std::optional<double> task_max_cost_usd;
  std::optional<double> tree_max_cost_usd;   // a top-level task and all it delegated
  int tree_max_tasks = 50;                   // tasks ever launched in one tree; 0 = no cap
  int tree_max_running = 0;                  // tasks of one tree running at once; 0 = no cap
  std::optional<double> daily_max_cost_usd;  // all tasks, per UTC day
  // A task under a cost budget on a model without a price is refused (its spend could not be
  // counted) unless this is true: then it runs and only its token budgets see it.
  bool allow_unpriced_models = false;
};

// One entry of `mcp_servers` (or Claude Code's `mcpServers`): an MCP server whose tools agents
// may be given (docs/CONFIG.md "MCP servers"). Exactly one of `command` (stdio) and `url`
// (streamable HTTP) is set.
struct McpServerConfig {
  std::string name;     // the key: [a-z0-9_-], the `<name>__` prefix of its tools
  std::string command;  // stdio: the program (looked up in PATH)
  std::vector<std::string> args;
  std::map<std::string, std::string> env;      // added to the daemon's; "${VAR}" expanded at start
  std::string cwd;                             // "" = the daemon's workspace
  std::string url;                             // streamable HTTP endpoint
  std::map<std::string, std::string> headers;  // "${VAR}" expanded when the server is used
  int64_t timeout_ms = 60'000;                 // one tools/call; the task's cancel ends it sooner
  int64_t startup_timeout_ms = 30'000;         // start + initialize + tools/list
  bool research = false;                       // the built-in librarian gets its tools
  // stdio: one process serves every task (the server says it keeps no per-client state); when
  // false each task gets its own process, stopped when the task ends. HTTP servers are always
  // shared (the key is refused on them).
  bool shared = false;
  // Set when a project file (.troupe/troupe.jsonc) defined or changed this server and the
  // user's own file does not list it in `mcp_servers_allowed`: troupe never starts it, and says
  // this instead (config check, `troupe mcp-servers`, an agent's task).
  std::string blocked;
  std::string file;  // the config file that defined it last, for messages
};

// The `webfetch` section: what the webfetch tool may fetch.
struct WebFetchConfig {
  // Host patterns ("*.example.com", "docs.rs", "*"): a URL's host must match an allow pattern
  // and no deny pattern. The default allows every host.
  std::vector<std::string> allow_hosts = {"*"};
  std::vector<std::string> deny_hosts;
  int64_t max_bytes = 5 * 1024 * 1024;  // response body read at most; the rest is cut
  int64_t timeout_ms = 30'000;          // the whole fetch, redirects included
  int max_redirects = 5;
};

struct Config {
  BackgroundTaskConfig background_task;
  SandboxConfig sandbox;
  std::map<std::string, ProviderConfig> providers;
  std::map<std::string, AgentConfig> agents;
  // "opus" -> "anthropic/claude-opus-4-5": names users may type for a model.
  std::map<std::string, std::string> model_aliases;
  // Model used by agents that name none; empty when no file sets it: the daemon then chooses
  // one from the API keys in its environment (llm/default_model.h).
  std::string default_model;
  // "provider/model" (canonical) -> its price, above troupe's shipped table
  // (engine/default_prices.cc).
  std::map<std::string, ModelPrice> prices;
  BudgetConfig budgets;
  std::map<std::string, McpServerConfig> mcp_servers;
  WebFetchConfig webfetch;
};

}  // namespace troupe
