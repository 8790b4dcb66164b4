#include "http/request_checks.h"

#include <string>

#include "core/text_case.h"
#include "core/text_trim.h"

namespace troupe {
namespace {

bool IsTokenChar(char c) {
  if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

}  // namespace

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  volatile unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff = diff | static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

bool HasBearerToken(std::string_view value, std::string_view token) {
  if (value.size() < 7 || AsciiLowercase(value.substr(0, 6)) != "bearer" ||
      (value[6] != ' ' && value[6] != '\t')) {
    return false;
  }
  value.remove_prefix(7);
  while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
  return !token.empty() && ConstantTimeEquals(value, token);
}

bool IsAllowedResponseHeader(std::string_view name, std::string_view value) {
  if (name.empty()) return false;
  for (char c : name) {
    if (!IsTokenChar(c)) return false;
  }
  for (char c : value) {
    // Field content is visible characters, blanks and obs-text; no control characters (CR and
    // LF would start a line of their own).
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  const std::string lower = AsciiLowercase(name);
  return lower != "content-length" && lower != "transfer-encoding" && lower != "connection";
}

bool IsLoopbackHost(std::string_view host, int port) {
  const std::string lower = AsciiLowercase(TrimBlanks(host));
  std::string_view rest = lower;
  std::string_view name;
  if (rest.starts_with('[')) {
    const size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    name = rest.substr(0, close + 1);
  } else {
    name = rest.substr(0, rest.find(':'));
  }
  rest.remove_prefix(name.size());
  if (name != "127.0.0.1" && name != "localhost" && name != "[::1]") return false;
  if (rest.empty()) return port == 0;
  if (rest.front() != ':' || rest.size() < 2 || rest.size() > 6) return false;
  int value = 0;
  for (char c : rest.substr(1)) {
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  return port == 0 || value == port;
}

bool IsLoopbackOrigin(std::string_view origin, int port) {
  origin = TrimBlanks(origin);
  const size_t sep = origin.find("://");
  if (sep == std::string_view::npos) return false;
  const std::string scheme = AsciiLowercase(origin.substr(0, sep));
  if (scheme != "http" && (port != 0 || scheme != "https")) return false;
  return IsLoopbackHost(origin.substr(sep + 3), port);
}

}  // namespace troupe
