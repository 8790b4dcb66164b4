#include "cli/config_check.h"

#include <fmt/format.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "agent/agent_catalog.h"
#include "config/config_loader.h"
#include "config/mcp_servers_config.h"
#include "llm/default_model.h"
#include "llm/provider_registry.h"
#include "rest/task_json.h"

namespace troupe {
namespace {

// "file:line:col: <agent>: tools: unknown MCP server …" for each "mcp:<server>" of an agent
// file (user or project) whose server the config does not define. The line and column are
// where the entry is written in the file (its first occurrence).
std::vector<std::string> UnknownMcpServersOfAgentFiles(const Config& c,
                                                       const std::string& workspace) {
  AgentCatalogOptions options;
  options.project_dir = workspace;
  const AgentCatalog catalog = LoadAgentCatalog(options);
  std::string known;
  for (const auto& [name, _] : c.mcp_servers) known += (known.empty() ? "" : ", ") + name;
  std::vector<std::string> errors;
  for (const AgentDefinition& agent : catalog.List()) {
    if (agent.source.origin == AgentOrigin::kBuiltin) continue;
    std::string text;
    if (std::ifstream in(agent.source.path); in) {
      std::stringstream buffer;
      buffer << in.rdbuf();
      text = buffer.str();
    }
    for (const std::string& entry : agent.tools) {
      const McpToolPattern pattern = ParseMcpToolPattern(entry);
      if (pattern.server.empty() || pattern.server == "@research" ||
          c.mcp_servers.count(pattern.server) > 0) {
        continue;
      }
      int line = 1;
      int column = 1;
      if (const size_t at = text.find(entry); at != std::string::npos) {
        for (size_t i = 0; i < at; ++i) {
          if (text[i] == '\n') {
            ++line;
            column = 1;
          } else {
            ++column;
          }
        }
      }
      errors.push_back(fmt::format(
          "{}:{}:{}: agent \"{}\": tools: unknown MCP server \"{}\"; configured: {}",
          agent.source.path, line, column, agent.name, pattern.server,
          known.empty() ? "none (see mcp_servers)" : known));
    }
  }
  return errors;
}

}  // namespace

int RunConfigCheck(const ConfigCheckOptions& options) {
  const std::vector<std::string> paths =
      options.files.empty() ? DefaultConfigPaths(options.workspace) : options.files;
  auto loaded = LoadConfigFiles(paths);
  if (!loaded.ok()) {
    if (options.json) {
      fmt::print("{}\n",
                 nlohmann::json{{"valid", false}, {"error", loaded.status().message()}}.dump(2));
    } else {
      fmt::print(stderr, "{}\n", loaded.status().message());
      fmt::print(stderr, "troupe: configuration is invalid (fix the lines above)\n");
    }
    return 1;
  }
  const Config& c = loaded->config;
  if (std::vector<std::string> errors = UnknownMcpServersOfAgentFiles(c, options.workspace);
      !errors.empty()) {
    if (options.json) {
      fmt::print("{}\n", nlohmann::json{{"valid", false},
                                        {"error", fmt::format("{}", fmt::join(errors, "\n"))}}
                              .dump(2));
    } else {
      for (const std::string& e : errors) fmt::print(stderr, "{}\n", e);
      fmt::print(stderr, "troupe: configuration is invalid (fix the lines above)\n");
    }
    return 1;
  }
  const BackgroundTaskConfig& b = c.background_task;
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& w : loaded->warnings) warnings.push_back(w.ToString());
  nlohmann::json providers = nlohmann::json::object();
  for (const auto& [name, p] : c.providers) {
    providers[name] = {{"type", p.type}, {"base_url", p.base_url}, {"api_key_env", p.api_key_env}};
  }
  // What a daemon started from this environment would run agents on (its own choice is in
  // `troupe agents` and GET /v1/health: it may have been started from another environment).
  nlohmann::json chosen;
  std::string chosen_text;
  auto registry = ProviderRegistry::Create(c, ProviderDeps{});
  if (registry.ok()) {
    const DefaultModel d = ChooseDefaultModel(c.default_model, (*registry)->List());
    chosen = DefaultModelJson(d);
    chosen_text = fmt::format("{} ({})", d.model, DefaultModelOrigin(d));
  } else {
    chosen = {{"error", registry.status().message()}};
    chosen_text = registry.status().message();
  }
  nlohmann::json out = {
      {"valid", true},
      {"files", loaded->files},
      {"searched", paths},
      {"warnings", warnings},
      {"default_model", c.default_model},
      {"default_model_here", chosen},
      {"providers", providers},
      {"background_task",
       {{"defaultConcurrency", b.default_concurrency},
        {"providerConcurrency", b.provider_concurrency},
        {"modelConcurrency", b.model_concurrency},
        {"globalConcurrency", b.global_concurrency},
        {"taskTtlMs", b.task_ttl_ms},
        {"pendingTtlMs", b.pending_ttl_ms},
        {"staleTimeoutMs", b.stale_timeout_ms},
        {"maxDepth", b.max_depth},
        {"resumeInterrupted", b.resume_interrupted}}},
  };
  if (options.json) {
    fmt::print("{}\n", out.dump(2));
    return 0;
  }
  if (loaded->files.empty()) {
    fmt::print("no config files found (looked for: {}); using defaults\n", fmt::join(paths, ", "));
  } else {
    fmt::print("read: {}\n", fmt::join(loaded->files, ", "));
  }
  for (const auto& w : loaded->warnings) fmt::print("warning: {}\n", w.ToString());
  fmt::print("background_task: {}\n", out["background_task"].dump());
  if (c.default_model.empty()) {
    fmt::print("default_model: not set; a daemon started from this environment would use {}\n",
               chosen_text);
  } else {
    fmt::print("default_model: {}\n", c.default_model);
  }
  fmt::print("configuration is valid\n");
  return 0;
}

}  // namespace troupe
