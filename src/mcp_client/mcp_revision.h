// What MCP revision 2026-07-28 puts on the wire that both sides of troupe use: the version,
// the reserved _meta keys of the per-request envelope, the revision's error codes, and the
// `=?base64?…?=` form of header values (Mcp-Name). troupe's server (mcp/mcp_modern.h) checks
// them; its client (mcp_client/mcp_connection.h, http_channel.h) writes them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace troupe {

inline constexpr const char* kMcpModernProtocolVersion = "2026-07-28";

// The revision's error codes.
inline constexpr int kMcpHeaderMismatch = -32020;
inline constexpr int kMcpMissingRequiredClientCapability = -32021;
inline constexpr int kMcpUnsupportedProtocolVersion = -32022;

// The reserved _meta keys.
inline constexpr const char* kMcpMetaProtocolVersion = "io.modelcontextprotocol/protocolVersion";
inline constexpr const char* kMcpMetaClientCapabilities =
    "io.modelcontextprotocol/clientCapabilities";
inline constexpr const char* kMcpMetaClientInfo = "io.modelcontextprotocol/clientInfo";
inline constexpr const char* kMcpMetaServerInfo = "io.modelcontextprotocol/serverInfo";
inline constexpr const char* kMcpMetaLogLevel = "io.modelcontextprotocol/logLevel";
inline constexpr const char* kMcpMetaSubscriptionId = "io.modelcontextprotocol/subscriptionId";
// The tasks extension's identifier (capabilities.extensions key).
inline constexpr const char* kMcpTasksExtension = "io.modelcontextprotocol/tasks";

// The params member a request's Mcp-Name header mirrors on Streamable HTTP: "name" for
// tools/call and prompts/get, "uri" for resources/read, and — the tasks extension's binding
// (SEP-2663) — "taskId" for tasks/get, tasks/update and tasks/cancel; nullptr for the rest.
const char* McpNameSource(std::string_view method);

// `value` as a header value: as is when it is plain visible ASCII without surrounding spaces
// and not itself of the sentinel form; `=?base64?…?=` otherwise.
std::string EncodeMcpHeaderValue(const std::string& value);

// `value` decoded when it has the `=?base64?…?=` form; as is otherwise. nullopt for a sentinel
// whose payload is not valid base64.
std::optional<std::string> DecodeMcpHeaderValue(const std::string& value);

}  // namespace troupe
