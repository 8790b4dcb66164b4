// The definitions tools/list shows for troupe's MCP tools: names, descriptions written for
// models, input schemas (agent/delegation_schemas.h: the one definition the agents' tools use
// too, under the MCP limits), output schemas (the structuredContent mcp/mcp_tools.cc returns),
// annotations, and delegate_task's task support.
#pragma once

#include <nlohmann/json.hpp>

#include "agent/agent_catalog.h"
#include "mcp/mcp_tools.h"

namespace troupe {

// The five tools, in a stable order. Limits (timeouts) come from `options`; delegate_task's
// description and `agent` enum list the catalog's agents (none when `agents` is null).
nlohmann::json McpToolDefinitions(const EngineMcpToolsOptions& options, const AgentCatalog* agents);

}  // namespace troupe
