// The input schemas of the delegation tools, defined once for every surface that offers them:
// the agents' tools (agent/delegation_tools.h) and the MCP tools (mcp/mcp_tool_schemas.h). What
// differs between surfaces comes from the DelegationServiceOptions they run with — the limits
// of timeout_ms (a maximum, or a bound a larger value is lowered to) and the agents offered —
// so a schema always says what the service accepts.
#pragma once

#include <nlohmann/json.hpp>
#include <string_view>

#include "agent/delegation_service.h"

namespace troupe {

// The input schema of tool `tool` (delegate_task, background_output, background_wait,
// background_cancel, background_list): an object schema with additionalProperties false and a
// `required` array. An unknown tool name gets an empty object schema.
nlohmann::json DelegationInputSchema(std::string_view tool,
                                     const DelegationServiceOptions& options);

}  // namespace troupe
