// What a model reads of an MCP tool's answer (a CallToolResult): its text content, in order;
// structuredContent as JSON when no text says the same; images, audio and resources reduced to
// a readable note ("[image: image/png, 12 KiB]", "[resource: file:///x (text/plain)]" followed
// by an embedded resource's text). Capped like the built-in tools' output. isError makes a tool
// error, shown to the model as it is. Pure.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>

#include "agent/tool.h"

namespace troupe {

inline constexpr size_t kMaxMcpResultBytes = 50 * 1024;

ToolResult McpResultToToolResult(const nlohmann::json& result,
                                 size_t max_bytes = kMaxMcpResultBytes);

}  // namespace troupe
