// The bridge inside a sandbox whose network is an allow-list (agent/network_proxy.h): the
// sandboxed tool has its own network namespace with loopback only, so the bridge listens on
// 127.0.0.1:<port> there and relays each connection to the proxy's Unix socket, bound into the
// sandbox. It is the troupe binary itself, run as a hidden subcommand:
//
//   troupe __net-bridge <port> <socket path> -- <program> <args...>
//
// It binds its listener first, then runs the program as its child (which inherits everything
// but the listener), relays until the program ends, and exits with the program's status (a
// program killed by a signal is reported as that signal).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace troupe {

inline constexpr std::string_view kNetworkBridgeCommand = "__net-bridge";

// `args` after the subcommand's name. Returns the exit status to exit with; prints why to
// stderr and returns 125 when it cannot start.
int RunNetworkBridge(const std::vector<std::string>& args);

}  // namespace troupe
