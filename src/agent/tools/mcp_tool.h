// Tools of the configured MCP servers as agent tools: `<server>__<tool>` with the server's
// description and JSON Schema, called through McpServers (mcp_client/). An agent is given them
// by patterns in its `tools` ("mcp:docs", "mcp:docs/search_*", "mcp:@research" = every server
// marked `research`), resolved when its task starts: the servers are started (lazily: a shared
// one once for all tasks, a per-task stdio server for this task) and listed then.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "agent/tool.h"
#include "config/mcp_servers_config.h"
#include "mcp_client/mcp_servers.h"

namespace troupe {

// "<server>__<tool>", characters other than [A-Za-z0-9_-] replaced by '_', at most 64 bytes
// (what OpenAI and Anthropic accept as a tool name).
std::string McpToolName(const std::string& server, const std::string& tool);

class McpTool : public Tool {
 public:
  // `owner`: the task whose instance of the server it calls (McpServers::Hold).
  McpTool(McpServers* servers, std::string server, std::string owner, const McpToolInfo& info);
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override;

 private:
  McpServers* servers_;
  std::string server_;
  std::string owner_;
  std::string tool_;
  ToolSpec spec_;
};

// Whether `tools` (an agent's list) holds MCP patterns.
bool HasMcpPatterns(const std::vector<std::string>& tools);

// The MCP patterns of an agent's `tools` with "@research" expanded; InvalidArgument naming an
// unknown server ("unknown MCP server \"x\" in the tools of agent \"a\" (mcp:x/*); configured:
// docs, memory"). `servers` may be null (none configured).
Result<std::vector<McpToolPattern>> ExpandMcpPatterns(const McpServers* servers,
                                                      const std::string& agent,
                                                      const std::vector<std::string>& tools);

// Starts the servers `patterns` name (`owner`'s instances of per-task servers) and calls `done`
// with their matching tools (in pattern order, each once), or the first error (a blocked
// server, one that failed to start). `done` runs from a later loop turn, never after the
// returned token is destroyed.
std::shared_ptr<void> ResolveMcpTools(
    McpServers* servers, const std::string& owner, std::vector<McpToolPattern> patterns,
    std::function<void(Result<std::vector<std::shared_ptr<Tool>>>)> done);

}  // namespace troupe
