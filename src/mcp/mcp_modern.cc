// MCP 2026-07-28 request classification, envelope and header checks (see mcp_modern.h).
#include "mcp/mcp_modern.h"

#include <fmt/format.h>

#include <vector>

#include "core/utf8.h"
#include "mcp/mcp_params.h"
#include "mcp/mcp_server.h"

namespace troupe {
namespace {

using mcp_params::Expected;
using mcp_params::HasMember;
using mcp_params::InvalidParams;
using mcp_params::MakeError;
using mcp_params::Member;
using nlohmann::json;

jsonrpc::Error Mismatch(std::string message) {
  return MakeError(kMcpHeaderMismatch, "Header mismatch: " + std::move(message));
}

}  // namespace

bool IsMcpModernRequest(std::string_view method, const json& params) {
  (void)method;
  const json& meta = Member(params, "_meta");
  return HasMember(meta, kMcpMetaProtocolVersion) || HasMember(meta, kMcpMetaClientCapabilities) ||
         HasMember(meta, kMcpMetaClientInfo);
}

std::vector<std::string> McpAllProtocolVersions() {
  std::vector<std::string> versions = {kMcpModernProtocolVersion};
  for (const char* v : kMcpProtocolVersions) versions.emplace_back(v);
  return versions;
}

jsonrpc::Error McpUnsupportedVersionError(const std::string& requested,
                                          const std::vector<std::string>& supported) {
  jsonrpc::Error error =
      MakeError(kMcpUnsupportedProtocolVersion,
                fmt::format("Unsupported protocol version: \"{}\" (supported: {})",
                            ToValidUtf8(requested), fmt::join(supported, ", ")));
  error.data = {{"supported", supported}, {"requested", requested}};
  return error;
}

std::optional<jsonrpc::Error> ReadMcpEnvelope(const json& params, McpEnvelope* envelope) {
  if (auto error = mcp_params::CheckParamsObject(params)) return error;
  const json& meta = Member(params, "_meta");
  if (!meta.is_object()) {
    return InvalidParams(
        Expected("params._meta",
                 "an object carrying io.modelcontextprotocol/protocolVersion and "
                 "io.modelcontextprotocol/clientCapabilities (protocol 2026-07-28)",
                 meta));
  }
  const json& version = Member(meta, kMcpMetaProtocolVersion);
  if (!version.is_string()) {
    return InvalidParams(Expected(std::string("params._meta[\"") + kMcpMetaProtocolVersion + "\"]",
                                  "a protocol version string", version));
  }
  envelope->protocol_version = version.get<std::string>();
  if (envelope->protocol_version != kMcpModernProtocolVersion) {
    return McpUnsupportedVersionError(envelope->protocol_version, {kMcpModernProtocolVersion});
  }
  const json& capabilities = Member(meta, kMcpMetaClientCapabilities);
  if (!capabilities.is_object()) {
    return InvalidParams(
        Expected(std::string("params._meta[\"") + kMcpMetaClientCapabilities + "\"]", "an object",
                 capabilities));
  }
  envelope->client_capabilities = capabilities;
  if (HasMember(meta, kMcpMetaClientInfo)) {
    const json& info = Member(meta, kMcpMetaClientInfo);
    if (!info.is_object()) {
      return InvalidParams(
          Expected(std::string("params._meta[\"") + kMcpMetaClientInfo + "\"]", "an object", info));
    }
    envelope->client_info = info;
  }
  envelope->tasks = Member(capabilities, "extensions").is_object() &&
                    HasMember(Member(capabilities, "extensions"), kMcpTasksExtension);
  return std::nullopt;
}

std::optional<jsonrpc::Error> CheckMcpModernHeaders(const json& request,
                                                    const McpHeaderFn& header) {
  const std::string method = Member(request, "method").is_string()
                                 ? Member(request, "method").get<std::string>()
                                 : std::string();
  const json& params = Member(request, "params");
  const json& body_version = Member(Member(params, "_meta"), kMcpMetaProtocolVersion);
  const std::string version = header("mcp-protocol-version");
  if (version.empty()) return Mismatch("the MCP-Protocol-Version header is missing");
  if (!body_version.is_string() || body_version.get<std::string>() != version) {
    return Mismatch(fmt::format(
        "MCP-Protocol-Version header value '{}' does not match body value {}", ToValidUtf8(version),
        body_version.is_string() ? "'" + ToValidUtf8(body_version.get<std::string>()) + "'"
                                 : std::string("(none in params._meta)")));
  }
  const std::string header_method = header("mcp-method");
  if (header_method.empty()) return Mismatch("the Mcp-Method header is missing");
  if (header_method != method) {
    return Mismatch(fmt::format("Mcp-Method header value '{}' does not match body value '{}'",
                                ToValidUtf8(header_method), ToValidUtf8(method)));
  }
  // As the official SDK's server does, a tasks/* body without a taskId is left to the method's
  // own -32602; the other named methods need their header whatever the body holds.
  if (const char* source_key = McpNameSource(method)) {
    const json& source = Member(params, source_key);
    const bool task_method = std::string_view(source_key) == "taskId";
    if (task_method && !source.is_string()) return std::nullopt;
    const std::string raw = header("mcp-name");
    if (raw.empty()) return Mismatch("the Mcp-Name header is missing");
    std::optional<std::string> name = DecodeMcpHeaderValue(raw);
    if (!name) return Mismatch("the Mcp-Name header is not valid =?base64?…?= encoding");
    if (!source.is_string() || source.get<std::string>() != *name) {
      return Mismatch(
          fmt::format("Mcp-Name header value '{}' does not match body value {}", ToValidUtf8(*name),
                      source.is_string() ? "'" + ToValidUtf8(source.get<std::string>()) + "'"
                                         : std::string("(none)")));
    }
  }
  return std::nullopt;
}

}  // namespace troupe
