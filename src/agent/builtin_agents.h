// The agents troupe ships: explore, librarian, oracle, general and lead (DESIGN.md, Vocabulary).
// Files and config overrides may replace or adjust them (agent_catalog.h).
//
//   agent      tools                                              max_turns  max_tool_calls
//   explore    read list glob grep                                       25              75
//   librarian  read list glob grep                                       30              90
//   oracle     read list glob grep                                       40             120
//   general    read list glob grep edit write bash todo_*               100             300
//   lead       read list glob grep todo_* delegate_task background_*      60             180
//
// None names a model or a temperature: they use Config::default_model and the provider's
// default, so the built-ins work with whatever providers are configured. Giving oracle the
// strongest model available is the config's job (`agents.oracle.model`).
#pragma once

#include <vector>

#include "agent/agent_definition.h"

namespace troupe {

// The built-in definitions, sorted by name; each has source.origin == kBuiltin.
std::vector<AgentDefinition> BuiltinAgents();

}  // namespace troupe
