// What the sandbox's network proxy (agent/network_proxy.h) decides, as pure functions: where a
// request wants to go, whether its host is on the allow-list, and whether an address the host
// resolved to may be dialled. No sockets here; network_proxy.cc does the I/O.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/host_pattern.h"
#include "core/status.h"

namespace troupe {

struct ProxyRules {
  std::vector<HostPattern> hosts;  // the allow-list
  // Where a user changes the list, named in refusals: "sandbox.network" or
  // "agents.<name>.network".
  std::string config_key = "sandbox.network (or agents.<agent>.network for one agent)";
  // Loopback addresses (the host's own services, the daemon's TCP port among them) are never
  // dialled unless this is set — and then only for an address pattern. Tests only; no config key
  // sets it.
  bool allow_loopback_for_tests = false;
};

// Where a proxied request goes.
struct ProxyTarget {
  std::string host;  // normalized (NormalizeHost)
  uint16_t port = 0;
  bool tunnel = false;      // CONNECT: bytes are relayed as they are once the host is allowed
  std::string origin_form;  // plain HTTP: the path and query to send upstream ("/x?y")
};

// The target of a request the proxy received: "host:port" for CONNECT (a port is required),
// an absolute http:// URL otherwise (the port defaults to 80). InvalidArgument for anything else
// (an origin-form "/path" sent to a proxy, https:// URLs not tunnelled, user info, no host).
Result<ProxyTarget> ParseProxyTarget(std::string_view method, std::string_view target);

// The pattern allowing `host`:`port`, or nullptr when the host is not on the list.
const HostPattern* AllowingPattern(const ProxyRules& rules, std::string_view host, uint16_t port);

// Why an address `host` resolved to may not be dialled, "" when it may. Loopback, private
// (RFC 1918, CGNAT, IPv6 unique-local), link-local (the cloud metadata service at
// 169.254.169.254), unspecified, multicast and reserved addresses are refused unless `allowing`
// is an address pattern (the user named that very address); loopback needs
// allow_loopback_for_tests besides. IPv4 mapped into IPv6 is judged as IPv4. `address` is 4 or
// 16 bytes in network order.
std::string AddressRefusal(const ProxyRules& rules, const HostPattern& allowing,
                           std::string_view address);

// The body of the 403 for a refused host: which host, and the key to change.
std::string RefusalText(const ProxyRules& rules, std::string_view host, uint16_t port);

}  // namespace troupe
