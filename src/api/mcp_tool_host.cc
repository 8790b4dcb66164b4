#include "api/mcp_tool_host.h"

namespace troupe {

McpToolResult McpToolResult::Text(std::string text) {
  McpToolResult r;
  r.content.push_back({{"type", "text"}, {"text", std::move(text)}});
  return r;
}

McpToolResult McpToolResult::Error(std::string text) {
  McpToolResult r = Text(std::move(text));
  r.is_error = true;
  return r;
}

}  // namespace troupe
