// MCP revision 2026-07-28 ("modern": stateless, no initialize) beside the 2025 revisions
// ("legacy", mcp/mcp_server.h): how a request tells its era, the per-request `_meta` envelope,
// the revision's error codes and the Streamable HTTP request-header checks. Pure functions; the
// session (mcp_session_modern.cc) and the HTTP transport (mcp_http.cc) act on them.
//
// Decisions (the revision leaves these to the server):
// - A request is modern when its params._meta carries any of the reserved envelope keys
//   (io.modelcontextprotocol/protocolVersion, clientCapabilities, clientInfo). Everything else
//   is legacy and served as before, byte for byte — also a bare server/discover, which a 2025
//   session answers -32601 "send initialize" as it always did.
// - A modern request whose envelope lacks the protocol version or the client capabilities, or
//   has them of the wrong type, is -32602 naming the key. A version troupe does not speak is
//   -32022 UnsupportedProtocolVersion with data {supported, requested}.
// - On Streamable HTTP the MCP-Protocol-Version, Mcp-Method and Mcp-Name headers must be
//   present and match the body, else -32020 HeaderMismatch (HTTP 400): Mcp-Name is params.name
//   of tools/call and prompts/get, params.uri of resources/read, and (the tasks extension's
//   binding) params.taskId of tasks/get, tasks/update and tasks/cancel. An Mcp-Name in the
//   `=?base64?…?=` form is decoded first.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "mcp_client/mcp_revision.h"
#include "wire/jsonrpc.h"

namespace troupe {

// Whether the request (`method`, `params`) is of the modern era (see above).
bool IsMcpModernRequest(std::string_view method, const nlohmann::json& params);

// What a modern request's _meta says about its caller.
struct McpEnvelope {
  std::string protocol_version;
  nlohmann::json client_capabilities = nlohmann::json::object();
  nlohmann::json client_info;  // null when not given
  // The client declared capabilities.extensions["io.modelcontextprotocol/tasks"].
  bool tasks = false;
};

// params._meta of a modern request into `*envelope`, or the error (-32602, -32022).
std::optional<jsonrpc::Error> ReadMcpEnvelope(const nlohmann::json& params,
                                              McpEnvelope* envelope);

// -32022 for `requested`, listing the versions spoken (modern first, then `legacy`).
jsonrpc::Error McpUnsupportedVersionError(const std::string& requested,
                                          const std::vector<std::string>& supported);

// The supported versions of both eras, newest first.
std::vector<std::string> McpAllProtocolVersions();

// A header's value by lower-case name ("" when absent).
using McpHeaderFn = std::function<std::string(const char* lower_name)>;

// The Streamable HTTP header checks of a modern request (-32020 naming the header and both
// values), nullopt when they hold.
std::optional<jsonrpc::Error> CheckMcpModernHeaders(const nlohmann::json& request,
                                                    const McpHeaderFn& header);

}  // namespace troupe
