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

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
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
  jsonrpc::Error error = MakeError(
      kMcpUnsupportedProtocolVersion,
      fmt::format("Unsupported protocol version: \"{}\" (supported: {})", ToValidUtf8(requested),
                  fmt::join(supported, ", ")));
  error.data = {{"supported", supported}, {"requested", requested}};
  return error;
}

std::optional<jsonrpc::Error> ReadMcpEnvelope(const json& params, McpEnvelope* envelope) {
  if (auto error = mcp_params::CheckParamsObject(params)) return error;
  const json& meta = Member(params, "_meta");
  if (!meta.is_object()) {
    return InvalidParams(Expected(
        "params._meta", "an object carrying io.modelcontextprotocol/protocolVersion and "
                        "io.modelcontextprotocol/clientCapabilities (protocol 2026-07-28)",
        meta));
  }
  const json& version = Member(meta, kMcpMetaProtocolVersion);
  if (!version.is_string()) {
    return InvalidParams(
        Expected(std::string("params._meta[\"") + kMcpMetaProtocolVersion + "\"]",
                 "a protocol version string", version));
  }
  envelope->protocol_version = version.get<std::string>();
  if (envelope->protocol_version != kMcpModernProtocolVersion) {
    return McpUnsupportedVersionError(envelope->protocol_version, {kMcpModernProtocolVersion});
  }
  const json& capabilities = Member(meta, kMcpMetaClientCapabilities);
  if (!capabilities.is_object()) {
    return InvalidParams(
        Expected(std::string("params._meta[\"") + kMcpMetaClientCapabilities + "\"]",
                 "an object", capabilities));
  }
  envelope->client_capabilities = capabilities;
  if (HasMember(meta, kMcpMetaClientInfo)) {
    const json& info = Member(meta, kMcpMetaClientInfo);
    if (!info.is_object()) {
      return InvalidParams(Expected(std::string("params._meta[\"") + kMcpMetaClientInfo + "\"]",
                                    "an object", info));
    }
    envelope->client_info = info;
  }
  envelope->tasks = Member(capabilities, "extensions").is_object() &&
                    HasMember(Member(capabilities, "extensions"), kMcpTasksExtension);
  return std::nullopt;
}

std::string EncodeMcpHeaderValue(const std::string& value) {
  bool plain = !value.empty() && value.front() != ' ' && value.back() != ' ' &&
               !(value.starts_with("=?base64?") && value.ends_with("?="));
  for (char c : value) plain = plain && c >= 0x20 && c <= 0x7e;
  if (plain) return value;
  static constexpr char kDigits[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out = "=?base64?";
  size_t i = 0;
  for (; i + 2 < value.size(); i += 3) {
    const uint32_t n = (static_cast<uint8_t>(value[i]) << 16) |
                       (static_cast<uint8_t>(value[i + 1]) << 8) | static_cast<uint8_t>(value[i + 2]);
    for (int shift : {18, 12, 6, 0}) out.push_back(kDigits[(n >> shift) & 63]);
  }
  if (i < value.size()) {
    uint32_t n = static_cast<uint8_t>(value[i]) << 16;
    if (i + 1 < value.size()) n |= static_cast<uint8_t>(value[i + 1]) << 8;
    out.push_back(kDigits[(n >> 18) & 63]);
    out.push_back(kDigits[(n >> 12) & 63]);
    out.push_back(i + 1 < value.size() ? kDigits[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out + "?=";
}

std::optional<std::string> DecodeMcpHeaderValue(const std::string& value) {
  constexpr std::string_view kPrefix = "=?base64?";
  constexpr std::string_view kSuffix = "?=";
  if (value.size() < kPrefix.size() + kSuffix.size() || !value.starts_with(kPrefix) ||
      !value.ends_with(kSuffix)) {
    return value;
  }
  std::string_view payload(value);
  payload = payload.substr(kPrefix.size(), payload.size() - kPrefix.size() - kSuffix.size());
  std::string out;
  int bits = 0;
  int buffer = 0;
  size_t padding = 0;
  for (char c : payload) {
    if (c == '=') {
      ++padding;
      continue;
    }
    if (padding > 0) return std::nullopt;  // data after padding
    const int digit = Base64Digit(c);
    if (digit < 0) return std::nullopt;
    buffer = (buffer << 6) | digit;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buffer >> bits) & 0xff));
    }
  }
  if (padding > 2) return std::nullopt;
  return out;
}

std::optional<jsonrpc::Error> CheckMcpModernHeaders(const json& request, const McpHeaderFn& header) {
  const std::string method = Member(request, "method").is_string()
                                 ? Member(request, "method").get<std::string>()
                                 : std::string();
  const json& params = Member(request, "params");
  const json& body_version = Member(Member(params, "_meta"), kMcpMetaProtocolVersion);
  const std::string version = header("mcp-protocol-version");
  if (version.empty()) return Mismatch("the MCP-Protocol-Version header is missing");
  if (!body_version.is_string() || body_version.get<std::string>() != version) {
    return Mismatch(fmt::format(
        "MCP-Protocol-Version header value '{}' does not match body value {}",
        ToValidUtf8(version),
        body_version.is_string() ? "'" + ToValidUtf8(body_version.get<std::string>()) + "'"
                                 : std::string("(none in params._meta)")));
  }
  const std::string header_method = header("mcp-method");
  if (header_method.empty()) return Mismatch("the Mcp-Method header is missing");
  if (header_method != method) {
    return Mismatch(fmt::format("Mcp-Method header value '{}' does not match body value '{}'",
                                ToValidUtf8(header_method), ToValidUtf8(method)));
  }
  if (method == "tools/call" || method == "resources/read" || method == "prompts/get") {
    const json& source = method == "resources/read" ? Member(params, "uri") : Member(params, "name");
    const std::string raw = header("mcp-name");
    if (raw.empty()) return Mismatch("the Mcp-Name header is missing");
    std::optional<std::string> name = DecodeMcpHeaderValue(raw);
    if (!name) return Mismatch("the Mcp-Name header is not valid =?base64?…?= encoding");
    if (!source.is_string() || source.get<std::string>() != *name) {
      return Mismatch(fmt::format(
          "Mcp-Name header value '{}' does not match body value {}", ToValidUtf8(*name),
          source.is_string() ? "'" + ToValidUtf8(source.get<std::string>()) + "'"
                             : std::string("(none)")));
    }
  }
  return std::nullopt;
}

}  // namespace troupe
