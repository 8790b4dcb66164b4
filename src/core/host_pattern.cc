#include "core/host_pattern.h"

#include <arpa/inet.h>

#include <array>
#include <charconv>
#include <cstring>

#include "core/text_case.h"

namespace troupe {
namespace {

constexpr size_t kMaxNameLength = 253;
constexpr size_t kMaxLabelLength = 63;

bool IsLabelChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
}

// "" when `name` (normalized) is a host name: dot-separated labels of letters, digits, '-' and
// '_', none empty or longer than 63, not starting or ending with '-', the last not all digits
// (that would be an IP address written short, which resolvers read as one).
std::string NameProblem(std::string_view name) {
  if (name.empty()) return "it names no host";
  if (name.size() > kMaxNameLength) return "a host name has at most 253 characters";
  size_t start = 0;
  std::string_view last;
  while (start <= name.size()) {
    const size_t end = std::min(name.find('.', start), name.size());
    const std::string_view label = name.substr(start, end - start);
    if (label.empty()) return "a host name has no empty label (\"..\", or a leading dot)";
    if (label.size() > kMaxLabelLength) return "a label of a host name has at most 63 characters";
    for (char c : label) {
      if (!IsLabelChar(c)) {
        return std::string("a host name has letters, digits, '-', '_' and dots, not '") + c + "'";
      }
    }
    if (label.front() == '-' || label.back() == '-') {
      return "a label of a host name neither starts nor ends with '-'";
    }
    last = label;
    start = end + 1;
  }
  if (last.find_first_not_of("0123456789") == std::string_view::npos) {
    return "it is neither a host name nor a whole IP address";
  }
  return "";
}

std::optional<uint16_t> ParsePort(std::string_view text) {
  unsigned value = 0;
  if (text.empty() || text.size() > 5) return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value == 0 || value > 65535) {
    return std::nullopt;
  }
  return static_cast<uint16_t>(value);
}

// The 16 bytes of an IPv6 address, or an IPv4 address mapped into IPv6 (::ffff:a.b.c.d), so
// two spellings of one address compare equal.
std::optional<std::array<unsigned char, 16>> AddressBytes(std::string_view host) {
  const std::string text(host);
  std::array<unsigned char, 16> bytes{};
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    bytes[10] = bytes[11] = 0xff;
    std::memcpy(bytes.data() + 12, &v4, 4);
    return bytes;
  }
  if (inet_pton(AF_INET6, text.c_str(), bytes.data()) == 1) return bytes;
  return std::nullopt;
}

}  // namespace

std::string NormalizeHost(std::string_view host) {
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return AsciiLowercase(host);
}

bool IsIpLiteral(std::string_view host) { return AddressBytes(NormalizeHost(host)).has_value(); }

Result<HostPattern> ParseHostPattern(std::string_view text) {
  const std::string quoted = "\"" + std::string(text) + "\"";
  auto invalid = [&](const std::string& why) {
    return Status::InvalidArgument("host pattern " + quoted + ": " + why);
  };
  if (text.find("://") != std::string_view::npos || text.find('/') != std::string_view::npos) {
    return invalid(
        "write a host name (\"github.com\", \"*.npmjs.org\", \"github.com:443\"), not a "
        "URL or a path");
  }
  HostPattern pattern;
  pattern.text = std::string(text);
  std::string_view host = text;
  std::string_view port;
  if (host.starts_with('[')) {
    const size_t close = host.find(']');
    if (close == std::string_view::npos) return invalid("'[' without its ']'");
    std::string_view rest = host.substr(close + 1);
    host = host.substr(1, close - 1);
    if (!rest.empty()) {
      if (rest[0] != ':') return invalid("expected \":port\" after ']'");
      port = rest.substr(1);
      if (port.empty()) return invalid("a port after ':' is missing");
    }
    if (!AddressBytes(host)) return invalid("between '[' and ']' goes an IPv6 address");
  } else if (const size_t colon = host.find(':'); colon != std::string_view::npos) {
    if (host.find(':', colon + 1) == std::string_view::npos) {
      port = host.substr(colon + 1);
      host = host.substr(0, colon);
      if (port.empty()) return invalid("a port after ':' is missing");
    } else if (!AddressBytes(host)) {
      return invalid("not an IPv6 address (with a port, write \"[::1]:8080\")");
    }
  }
  if (!port.empty()) {
    pattern.port = ParsePort(port);
    if (!pattern.port) return invalid("the port is a number from 1 to 65535");
  }
  if (host.empty()) return invalid("it names no host");
  if (host == "*") {
    return invalid("\"*\" would allow every host; to allow the whole network write true");
  }
  const std::string normalized = NormalizeHost(host);
  if (AddressBytes(normalized)) {
    pattern.kind = HostPattern::Kind::kAddress;
    pattern.host = normalized;
    return pattern;
  }
  std::string_view name = normalized;
  if (name.starts_with("*.")) {
    pattern.kind = HostPattern::Kind::kWildcard;
    name.remove_prefix(2);
    if (name.find('.') == std::string_view::npos) {
      return invalid(
          "a wildcard needs a domain of at least two labels (\"*.example.com\"), not a "
          "whole top-level domain");
    }
  }
  if (name.find('*') != std::string_view::npos) {
    return invalid("'*' only stands for subdomains, at the start: \"*.example.com\"");
  }
  if (std::string why = NameProblem(name); !why.empty()) return invalid(why);
  pattern.host = std::string(name);
  return pattern;
}

bool HostPatternMatches(const HostPattern& pattern, std::string_view host, uint16_t port) {
  if (pattern.port && *pattern.port != port) return false;
  const std::string normalized = NormalizeHost(host);
  switch (pattern.kind) {
    case HostPattern::Kind::kAddress: {
      auto want = AddressBytes(pattern.host);
      auto got = AddressBytes(normalized);
      return want && got && *want == *got;
    }
    case HostPattern::Kind::kName:
      return normalized == pattern.host;
    case HostPattern::Kind::kWildcard:
      return normalized.size() > pattern.host.size() + 1 && normalized.ends_with(pattern.host) &&
             normalized[normalized.size() - pattern.host.size() - 1] == '.';
  }
  return false;
}

const HostPattern* FindHostPattern(const std::vector<HostPattern>& patterns, std::string_view host,
                                   uint16_t port) {
  for (const HostPattern& pattern : patterns) {
    if (HostPatternMatches(pattern, host, port)) return &pattern;
  }
  return nullptr;
}

std::string DescribeNetworkAccess(const NetworkAccess& access) {
  if (access.all) return "on (unfiltered)";
  if (access.hosts.empty()) return "off";
  std::string out = "only ";
  for (size_t i = 0; i < access.hosts.size(); ++i) {
    if (i > 0) out += ", ";
    out += access.hosts[i].text;
  }
  return out;
}

}  // namespace troupe
