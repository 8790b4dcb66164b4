// Which hosts a sandboxed tool may reach over the network, as the user writes them in the
// config: an exact name ("github.com"), every subdomain of a name ("*.npmjs.org"), or an IP
// address ("10.0.0.7", "[fd00::1]"); each with an optional port ("github.com:443").
//
// Matching is on the name the tool asked for (before any DNS lookup), case-insensitive, with a
// trailing dot ignored. A wildcard matches subdomains only: "*.npmjs.org" matches
// "registry.npmjs.org" and "a.b.npmjs.org", never "npmjs.org" itself (write both to allow both).
// A pattern without a port matches every port.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace troupe {

struct HostPattern {
  enum class Kind {
    kName,      // exactly this name
    kWildcard,  // any name ending in "." + host
    kAddress,   // this IP address (IPv4 dotted, IPv6 without brackets)
  };
  Kind kind = Kind::kName;
  std::string host;              // normalized: lowercase, no trailing dot, no brackets, no "*."
  std::optional<uint16_t> port;  // nullopt = any port
  std::string text;              // as written, for messages

  bool operator==(const HostPattern&) const = default;
};

// The pattern `text` means, or InvalidArgument saying what is wrong with it ("*" alone, "*.com",
// a URL, a path, a bad port, a name with characters no host name has).
Result<HostPattern> ParseHostPattern(std::string_view text);

// `host` as patterns are matched against it: lowercase, without a trailing dot or IPv6 brackets.
std::string NormalizeHost(std::string_view host);

// True when `host` (as the tool asked for it; normalized here) on `port` matches `pattern`.
bool HostPatternMatches(const HostPattern& pattern, std::string_view host, uint16_t port);

// The first pattern of `patterns` matching, or nullptr.
const HostPattern* FindHostPattern(const std::vector<HostPattern>& patterns, std::string_view host,
                                   uint16_t port);

// True when `host` is an IP address literal (IPv4 dotted or IPv6, brackets allowed).
bool IsIpLiteral(std::string_view host);

// Which network a tool process may use (the config's `network` value): none (its own network
// namespace), all of the host's (`all`), or only `hosts` through the filtering proxy.
struct NetworkAccess {
  bool all = false;
  std::vector<HostPattern> hosts;  // used when !all; empty = no network

  NetworkAccess() = default;
  // The config's boolean: true = the host's network, false = none.
  NetworkAccess(bool all_network) : all(all_network) {}  // NOLINT: a bool reads as before
  static NetworkAccess Hosts(std::vector<HostPattern> patterns) {
    NetworkAccess access;
    access.hosts = std::move(patterns);
    return access;
  }
  bool none() const { return !all && hosts.empty(); }
  bool filtered() const { return !all && !hosts.empty(); }
  bool operator==(const NetworkAccess&) const = default;
};

// "off", "on (unfiltered)" or "only github.com, *.npmjs.org", for logs.
std::string DescribeNetworkAccess(const NetworkAccess& access);

}  // namespace troupe
