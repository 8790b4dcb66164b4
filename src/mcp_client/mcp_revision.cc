#include "mcp_client/mcp_revision.h"

#include <cstdint>
#include <string_view>

namespace troupe {
namespace {

int Base64Digit(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

}  // namespace

const char* McpNameSource(std::string_view method) {
  if (method == "tools/call" || method == "prompts/get") return "name";
  if (method == "resources/read") return "uri";
  if (method == "tasks/get" || method == "tasks/update" || method == "tasks/cancel") {
    return "taskId";
  }
  return nullptr;
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
                       (static_cast<uint8_t>(value[i + 1]) << 8) |
                       static_cast<uint8_t>(value[i + 2]);
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

}  // namespace troupe
