// The agents a troupe daemon knows: the built-ins, then user files, then project files, then the
// config's `agents` overrides.
//
//   built-in  <  user file     <  project file                <  config `agents.NAME`
//                ~/.config/troupe/agents/NAME.md                 field by field: model, tools,
//                              <workspace>/.troupe/agents/       max_turns, max_tool_calls,
//                              NAME.md                           temperature, prompt (replaces),
//                                                                prompt_append, description,
//                                                                timeouts
//
// A file whose agent has the name of an earlier one replaces that definition whole. Loading
// never fails as a whole: a broken file, an unreadable directory or an override that does not
// apply becomes a diagnostic, and everything else still loads, so one typo in one file does not
// take every agent away.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/agent_definition.h"
#include "agent/agent_file.h"
#include "config/config.h"
#include "core/status.h"

namespace troupe {

struct AgentCatalogOptions {
  // The workspace whose .troupe/agents/*.md are read; empty = no project agents.
  std::string project_dir;
  // The directory of the user's *.md agents; nullopt = DefaultUserAgentsDir(), empty = none.
  std::optional<std::string> user_agents_dir;
  // Config::agents.
  std::map<std::string, AgentConfig> overrides;
};

// $XDG_CONFIG_HOME/troupe/agents (when that variable is an absolute path), else
// ~/.config/troupe/agents; empty when no home directory is known.
std::string DefaultUserAgentsDir();

// An immutable set of agents with unique names, sorted by name.
class AgentCatalog {
 public:
  AgentCatalog() = default;
  // `agents` must have unique names; they are sorted here.
  AgentCatalog(std::vector<AgentDefinition> agents, std::vector<AgentDiagnostic> diagnostics);

  // The agent called `name`; NotFound naming the known agents (and the likely intended one)
  // otherwise.
  Result<AgentDefinition> Find(std::string_view name) const;
  // The agent called `name`, or nullptr. Valid as long as the catalog is.
  const AgentDefinition* Get(std::string_view name) const;
  // Every agent, sorted by name.
  const std::vector<AgentDefinition>& List() const { return agents_; }
  std::vector<std::string> Names() const;

  // Problems met while loading, in the order found: files in directory order (user, then
  // project), then overrides by agent name.
  const std::vector<AgentDiagnostic>& diagnostics() const { return diagnostics_; }

  // The agents `from` may start with delegate_task, in name order: its `delegates_to` (the
  // names of agents that exist) when set — a user's explicit choice — and otherwise every agent
  // whose tools are all among `from`'s own (the delegation and todo tools aside), so delegating
  // never widens what an agent may do: the read-only lead reaches explore, librarian and oracle,
  // not general with its bash.
  std::vector<std::string> AllowedDelegates(const AgentDefinition& from) const;
  bool has_errors() const;

 private:
  std::vector<AgentDefinition> agents_;
  std::vector<AgentDiagnostic> diagnostics_;
};

// Builds the catalog as the file comment describes. Within a directory files are read in byte
// order of their names; only regular files (or links to them) named *.md and not starting with
// '.' are agent files. A missing directory is no error. Two files of one directory defining the
// same name: the first wins, the second is reported. Never fails; see diagnostics().
AgentCatalog LoadAgentCatalog(const AgentCatalogOptions& options);

// Applies one config `agents` entry to `agent` field by field, recording the changed fields in
// agent->config_overrides. A field that would make the agent invalid (an unknown tool, an empty
// prompt) is not applied and is reported in *diagnostics; the others still are.
void ApplyAgentConfig(const AgentConfig& config, AgentDefinition* agent,
                      std::vector<AgentDiagnostic>* diagnostics);

}  // namespace troupe
