#include "agent/agent_catalog.h"

#include <algorithm>
#include <cassert>
#include <filesystem>
#include <system_error>
#include <utility>

#include "agent/builtin_agents.h"
#include "config/config_loader.h"
#include "config/message_text.h"

namespace troupe {

namespace {

namespace fs = std::filesystem;

using Severity = AgentDiagnostic::Severity;

AgentDiagnostic Problem(Severity severity, std::string file, std::string message) {
  return {severity, std::move(file), std::move(message)};
}

// The agent files of `dir` in byte order of their names. A missing directory has none.
std::vector<std::string> ListAgentFiles(const std::string& dir,
                                        std::vector<AgentDiagnostic>* diagnostics) {
  std::vector<std::string> files;
  std::error_code ec;
  const fs::file_status status = fs::status(dir, ec);
  if (ec && ec != std::errc::no_such_file_or_directory && ec != std::errc::not_a_directory) {
    diagnostics->push_back(Problem(Severity::kError, dir,
                                   dir + ": cannot read the agents directory: " + ec.message()));
    return files;
  }
  if (!fs::exists(status)) return files;
  if (!fs::is_directory(status)) {
    diagnostics->push_back(Problem(Severity::kError, dir,
                                   dir + ": expected a directory of agent files (*.md), found a "
                                         "file; remove or rename it"));
    return files;
  }
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const fs::path& path = it->path();
    const std::string filename = path.filename().string();
    if (filename.starts_with(".") || path.extension() != ".md") continue;
    std::error_code type_error;
    // Follows symbolic links; a dangling one is still an agent file, and ReadAgentFile says why
    // it cannot be read.
    if (it->is_directory(type_error)) continue;
    files.push_back(path.string());
  }
  if (ec) {
    diagnostics->push_back(Problem(Severity::kError, dir,
                                   dir + ": cannot read the agents directory: " + ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

// Loads the agent files of `dir` into *agents, replacing agents of the same name.
void LoadDirectory(const std::string& dir, AgentOrigin origin,
                   std::map<std::string, AgentDefinition>* agents,
                   std::vector<AgentDiagnostic>* diagnostics) {
  std::map<std::string, std::string> defined_here;  // name -> file
  for (const std::string& file : ListAgentFiles(dir, diagnostics)) {
    Result<AgentFile> parsed = ReadAgentFile(file, origin);
    if (!parsed.ok()) {
      diagnostics->push_back(Problem(Severity::kError, file, parsed.status().message()));
      continue;
    }
    for (AgentDiagnostic& warning : parsed->warnings) diagnostics->push_back(std::move(warning));
    AgentDefinition& agent = parsed->definition;
    if (auto [it, added] = defined_here.emplace(agent.name, file); !added) {
      diagnostics->push_back(Problem(Severity::kError, file,
                                     file + ": agent \"" + agent.name +
                                         "\" is already defined by " + it->second +
                                         "; this file is ignored"));
      continue;
    }
    (*agents)[agent.name] = std::move(agent);
  }
}

std::string OverrideName(const std::string& agent) { return "config agents." + agent; }

}  // namespace

std::string DefaultUserAgentsDir() {
  // The user config file's directory, found the same way the config loader finds it.
  const std::vector<std::string> paths = DefaultConfigPaths("");
  if (paths.empty()) return "";
  return (fs::path(paths.front()).parent_path() / "agents").string();
}

AgentCatalog::AgentCatalog(std::vector<AgentDefinition> agents,
                           std::vector<AgentDiagnostic> diagnostics)
    : agents_(std::move(agents)), diagnostics_(std::move(diagnostics)) {
  std::sort(agents_.begin(), agents_.end(),
            [](const AgentDefinition& a, const AgentDefinition& b) { return a.name < b.name; });
  assert(std::adjacent_find(agents_.begin(), agents_.end(),
                            [](const AgentDefinition& a, const AgentDefinition& b) {
                              return a.name == b.name;
                            }) == agents_.end() &&
         "AgentCatalog needs unique names");
}

const AgentDefinition* AgentCatalog::Get(std::string_view name) const {
  auto it = std::lower_bound(
      agents_.begin(), agents_.end(), name,
      [](const AgentDefinition& agent, std::string_view n) { return agent.name < n; });
  return it != agents_.end() && it->name == name ? &*it : nullptr;
}

Result<AgentDefinition> AgentCatalog::Find(std::string_view name) const {
  if (const AgentDefinition* agent = Get(name)) return *agent;
  const std::vector<std::string> names = Names();
  std::string message = "unknown agent \"" + Snippet(name) + "\"";
  if (std::optional<std::string> guess = ClosestName(name, names)) {
    message += " (did you mean \"" + *guess + "\"?)";
  }
  message += names.empty() ? "; no agents are defined" : "; known agents: " + JoinNames(names);
  return Status::NotFound(std::move(message)).WithField("agent");
}

std::vector<std::string> AgentCatalog::Names() const {
  std::vector<std::string> names;
  names.reserve(agents_.size());
  for (const AgentDefinition& agent : agents_) names.push_back(agent.name);
  return names;
}

bool AgentCatalog::has_errors() const {
  return std::any_of(diagnostics_.begin(), diagnostics_.end(),
                     [](const AgentDiagnostic& d) { return d.is_error(); });
}

void ApplyAgentConfig(const AgentConfig& config, AgentDefinition* agent,
                      std::vector<AgentDiagnostic>* diagnostics) {
  const std::string where = OverrideName(agent->name);
  auto changed = [&](const char* field) { agent->config_overrides.emplace_back(field); };
  auto refuse = [&](const std::string& message) {
    diagnostics->push_back(Problem(Severity::kError, "", where + "." + message));
  };
  if (config.model) {
    agent->model = *config.model;
    changed("model");
  }
  if (config.tools) {
    if (Status s = ValidateToolNames(*config.tools); !s.ok()) {
      refuse("tools: " + s.message() + "; the agent keeps its tools");
    } else {
      std::vector<std::string> tools;
      for (const std::string& tool : *config.tools) {
        if (std::find(tools.begin(), tools.end(), tool) == tools.end()) tools.push_back(tool);
      }
      agent->tools = std::move(tools);
      changed("tools");
    }
  }
  if (config.max_turns) {
    agent->max_turns = *config.max_turns;
    changed("max_turns");
  }
  if (config.max_tool_calls) {
    agent->max_tool_calls = *config.max_tool_calls;
    changed("max_tool_calls");
  }
  if (config.temperature) {
    agent->temperature = *config.temperature;
    changed("temperature");
  }
  if (config.max_output_tokens) {
    agent->max_output_tokens = *config.max_output_tokens;
    changed("max_output_tokens");
  }
  if (config.thinking_budget) {
    agent->reasoning.budget_tokens = *config.thinking_budget;
    changed("thinking_budget");
  }
  if (config.reasoning_effort) {
    agent->reasoning.effort = *config.reasoning_effort;
    changed("reasoning_effort");
  }
  if (config.prompt_caching) {
    agent->prompt_caching = *config.prompt_caching;
    changed("prompt_caching");
  }
  if (config.prompt || config.prompt_append) {
    std::string prompt = config.prompt.value_or(agent->system_prompt);
    if (config.prompt_append && !config.prompt_append->empty()) {
      // A blank line keeps the appended text a paragraph of its own.
      while (!prompt.empty() && (prompt.back() == '\n' || prompt.back() == ' ')) prompt.pop_back();
      prompt += prompt.empty() ? *config.prompt_append : "\n\n" + *config.prompt_append;
    }
    if (prompt.find_first_not_of(" \t\r\n") == std::string::npos) {
      refuse("prompt: the resulting system prompt is empty; the agent keeps its prompt");
    } else {
      agent->system_prompt = std::move(prompt);
      if (config.prompt) changed("prompt");
      if (config.prompt_append) changed("prompt_append");
    }
  }
  if (config.description) {
    if (config.description->find_first_not_of(" \t\r\n") == std::string::npos) {
      refuse("description: must not be empty; the agent keeps its description");
    } else {
      agent->description = *config.description;
      changed("description");
    }
  }
  if (config.task_ttl_ms) {
    agent->task_ttl_ms = *config.task_ttl_ms;
    changed("task_ttl_ms");
  }
  if (config.pending_ttl_ms) {
    agent->pending_ttl_ms = *config.pending_ttl_ms;
    changed("pending_ttl_ms");
  }
  if (config.stale_timeout_ms) {
    agent->stale_timeout_ms = *config.stale_timeout_ms;
    changed("stale_timeout_ms");
  }
  if (config.max_tokens) {
    agent->max_tokens = *config.max_tokens;
    changed("max_tokens");
  }
  if (config.max_cost_usd) {
    agent->max_cost_usd = *config.max_cost_usd;
    changed("max_cost_usd");
  }
  if (config.fallback_models) {
    agent->fallback_models = *config.fallback_models;
    changed("fallback_models");
  }
  if (config.loop_repeats) {
    agent->loop_repeats = *config.loop_repeats;
    changed("loop_repeats");
  }
  if (config.loop_idle_turns) {
    agent->loop_idle_turns = *config.loop_idle_turns;
    changed("loop_idle_turns");
  }
  if (config.network) {
    agent->network = *config.network;
    changed("network");
  }
  if (config.isolation) {
    agent->isolation = *config.isolation == "none" ? "" : *config.isolation;
    changed("isolation");
  }
  if (config.delegates_to) {
    std::vector<std::string> agents;
    for (const std::string& name : *config.delegates_to) {
      if (Status s = ValidateAgentName(name); !s.ok()) {
        refuse("delegates_to: " + s.message() + "; the agent keeps its delegation rights");
        return;
      }
      if (std::find(agents.begin(), agents.end(), name) == agents.end()) agents.push_back(name);
    }
    agent->delegates_to = std::move(agents);
    changed("delegates_to");
  }
}

std::vector<std::string> AgentCatalog::AllowedDelegates(const AgentDefinition& from) const {
  std::vector<std::string> out;
  if (from.delegates_to) {
    for (const std::string& name : *from.delegates_to) {
      if (Get(name) != nullptr) out.push_back(name);
    }
    return out;
  }
  // Tools that give no rights over files or processes of their own: the delegation tools (the
  // callee's delegations are held to the callee's own rights), the session's todo list, and
  // reading the web: webfetch and the MCP servers the user marked for research (a lead reaches
  // the librarian that has them).
  auto counts = [](const std::string& tool) {
    return tool != "todo_write" && tool != "todo_read" && tool != "delegate_task" &&
           !tool.starts_with("background_") && tool != "webfetch" && tool != "mcp:@research";
  };
  for (const AgentDefinition& to : agents_) {
    const bool narrower = std::all_of(to.tools.begin(), to.tools.end(), [&](const std::string& t) {
      return !counts(t) || from.AllowsTool(t);
    });
    if (narrower) out.push_back(to.name);
  }
  return out;
}

AgentCatalog LoadAgentCatalog(const AgentCatalogOptions& options) {
  std::map<std::string, AgentDefinition> agents;
  std::vector<AgentDiagnostic> diagnostics;
  for (AgentDefinition& agent : BuiltinAgents()) agents[agent.name] = std::move(agent);

  const std::string user_dir = options.user_agents_dir.value_or(DefaultUserAgentsDir());
  if (!user_dir.empty()) LoadDirectory(user_dir, AgentOrigin::kUser, &agents, &diagnostics);
  if (!options.project_dir.empty()) {
    const std::string project_dir = (fs::path(options.project_dir) / ".troupe" / "agents").string();
    LoadDirectory(project_dir, AgentOrigin::kProject, &agents, &diagnostics);
  }

  std::vector<std::string> names;
  names.reserve(agents.size());
  for (const auto& [name, agent] : agents) names.push_back(name);
  for (const auto& [name, config] : options.overrides) {
    auto it = agents.find(name);
    if (it == agents.end()) {
      std::string message = OverrideName(name) + ": there is no agent \"" + Snippet(name) +
                            "\" to configure, so this entry is ignored";
      if (std::optional<std::string> guess = ClosestName(name, names)) {
        message += " (did you mean \"" + *guess + "\"?)";
      }
      message += "; known agents: " + JoinNames(names);
      diagnostics.push_back(Problem(Severity::kWarning, "", std::move(message)));
      continue;
    }
    ApplyAgentConfig(config, &it->second, &diagnostics);
  }

  std::vector<AgentDefinition> list;
  list.reserve(agents.size());
  for (auto& [name, agent] : agents) list.push_back(std::move(agent));
  return AgentCatalog(std::move(list), std::move(diagnostics));
}

}  // namespace troupe
