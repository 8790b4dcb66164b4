// The filtering proxy that is a sandboxed tool's only way out when its agent's network is an
// allow-list (`"network": ["github.com", "*.npmjs.org"]`, docs/CONFIG.md).
//
// The tool keeps its own network namespace (loopback only). Each tool run gets an endpoint: a
// Unix socket in a private directory (0700) that the sandbox binds in, where a bridge inside the
// namespace (agent/network_bridge.h) forwards what the tool sends to 127.0.0.1:<port>. The
// proxy speaks HTTP/1.1 proxy requests, parsed by Boost.Beast:
//   - CONNECT host:port (https, and anything tunnelled): a tunnel once the host is allowed;
//   - absolute-form plain HTTP (GET http://host/path): forwarded once, as origin-form with
//     `Host` set to the target and `Connection: close`, and the reply relayed back.
// A host no pattern allows gets 403 with a body naming it and the config key to change; so does
// a host whose addresses are all loopback, private or link-local (AddressRefusal in
// proxy_rules.h): the proxy resolves names itself and dials only the addresses it checked.
// Limits, because the tool is untrusted: connections per endpoint and in all (503), request
// header size (431), plain-HTTP body size (413), the time to send a request (the connection is
// closed), to resolve and connect upstream (504), and idle time (closed).
//
// Thread-safety: Start and Open may be called from any thread; the proxy runs on a thread of
// its own, so tool traffic never touches the daemon's event loop.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "agent/proxy_rules.h"
#include "core/status.h"

namespace troupe {

struct ProxyLimits {
  size_t max_connections = 256;  // in all, across endpoints
  size_t max_connections_per_endpoint = 64;
  uint32_t header_limit = 16 * 1024;                  // bytes of a request's start line and headers
  uint64_t body_limit = 16 * 1024 * 1024;             // a plain-HTTP request's body
  std::chrono::milliseconds request_timeout{30'000};  // to send the request (head and body)
  std::chrono::milliseconds connect_timeout{30'000};  // to resolve and connect upstream
  std::chrono::milliseconds idle_timeout{300'000};    // nothing either way for this long
};

// Told about each refused host once per scope (a task): "scope" and what was refused.
using ProxyRefusalLog = std::function<void(const std::string& scope, const std::string& message)>;

// One tool run's way out: its socket path, open while this handle lives.
class ProxyEndpoint {
 public:
  virtual ~ProxyEndpoint() = default;
  virtual const std::string& socket_path() const = 0;
};

class NetworkProxy {
 public:
  // Makes a private directory under `socket_parent` (short: a Unix socket path has at most 107
  // bytes; "/tmp" is the usual choice) and starts the proxy's thread.
  static Result<std::shared_ptr<NetworkProxy>> Start(std::string socket_parent, ProxyLimits limits,
                                                     ProxyRefusalLog log);
  ~NetworkProxy();
  NetworkProxy(const NetworkProxy&) = delete;
  NetworkProxy& operator=(const NetworkProxy&) = delete;

  // A new endpoint deciding by `rules`; refusals are logged under `scope`. The socket is
  // removed and accepts no more when the handle is destroyed (connections in flight finish).
  Result<std::shared_ptr<ProxyEndpoint>> Open(ProxyRules rules, std::string scope);

  struct Impl;

 private:
  explicit NetworkProxy(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<Impl> impl_;
};

}  // namespace troupe
