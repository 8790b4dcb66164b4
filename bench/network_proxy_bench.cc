// What the sandbox's network allow-list adds to a request (issue 17): N requests to a local HTTP
// server, each on a new connection as a tool's curl makes them, timed
//   - direct: the client connects to the server;
//   - proxy, plain: `GET http://…` through the bridge (`troupe __net-bridge`, its own process, on
//     a loopback port) and the daemon's proxy (NetworkProxy on its Unix socket);
//   - proxy, tunnel: CONNECT through the same, then the GET inside the tunnel (what https does,
//     less TLS);
//   - proxy only, plain: the same GET straight to the proxy's socket, without the bridge.
// The proxy allows the server's 127.0.0.1 address (ProxyRules::allow_loopback_for_tests, as its
// tests do), so it checks the list and the address and dials as it would for a listed host.
// Prints the median, p99 and max of each, in microseconds.
// Run: build/default/bench/network_proxy_bench [--requests 2000]
// clang-format off
// Before Asio (through http_test_server.h): Boost 1.74's awaitable.hpp needs <utility> first.
#include <utility>
// clang-format on
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "agent/network_proxy.h"
#include "core/testing/threaded_http_test_server.h"

extern char** environ;

namespace troupe {
namespace {

using Clock = std::chrono::steady_clock;

// A connected socket: to 127.0.0.1:`port`, or to the Unix socket `path`; -1 when it cannot.
int ConnectTcp(uint16_t port) {
  const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  const int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

int ConnectUnix(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool WriteAll(int fd, const std::string& data) {
  return write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
}

// Reads until `end` has arrived (or the peer closed); what came.
std::string ReadUntil(int fd, const std::string& end) {
  std::string out;
  char buf[4096];
  while (out.find(end) == std::string::npos) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

constexpr const char* kBody = "bench page\n";

// One request on a new connection made by `connect`; `tunnel` sends a CONNECT first. False when
// the reply is not the server's page.
bool OneRequest(const std::function<int()>& connect, const std::string& request,
                const std::string& tunnel_to) {
  const int fd = connect();
  if (fd < 0) return false;
  if (!tunnel_to.empty()) {
    if (!WriteAll(fd, "CONNECT " + tunnel_to + " HTTP/1.1\r\nHost: " + tunnel_to + "\r\n\r\n") ||
        ReadUntil(fd, "\r\n\r\n").rfind("HTTP/1.1 200", 0) != 0) {
      close(fd);
      return false;
    }
  }
  const bool ok = WriteAll(fd, request) && ReadUntil(fd, kBody).find(kBody) != std::string::npos;
  close(fd);
  return ok;
}

struct Figures {
  double median_us = 0;
  double p99_us = 0;
  double max_us = 0;
};

// Times `requests` runs of `one` after a warm-up and prints the figures; false (with a message)
// when one fails.
bool Time(const std::string& what, int requests, const std::function<bool()>& one,
          Figures* figures) {
  for (int i = 0; i < requests / 20 + 1; ++i) {
    if (!one()) {
      fmt::print(stderr, "{}: a warm-up request failed\n", what);
      return false;
    }
  }
  std::vector<double> us;
  us.reserve(static_cast<size_t>(requests));
  for (int i = 0; i < requests; ++i) {
    const auto start = Clock::now();
    if (!one()) {
      fmt::print(stderr, "{}: request {} failed\n", what, i);
      return false;
    }
    us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count());
  }
  std::sort(us.begin(), us.end());
  figures->median_us = us[us.size() / 2];
  figures->p99_us = us[std::min(us.size() - 1, us.size() * 99 / 100)];
  figures->max_us = us.back();
  fmt::print("{:<28} median {:8.1f} us   p99 {:8.1f} us   max {:8.1f} us\n", what,
             figures->median_us, figures->p99_us, figures->max_us);
  return true;
}

int Run(int requests) {
  auto server = testing::ThreadedHttpTestServer::Start([](const testing::RecordedRequest&) {
    testing::ScriptedResponse r = testing::ScriptedResponse::Text(200, kBody);
    r.close_after = true;  // one request per connection, as through the proxy
    return r;
  });
  if (!server.ok()) {
    fmt::print(stderr, "cannot start the HTTP server: {}\n", server.status().ToString());
    return 1;
  }
  const std::string target = (*server)->HostPort();
  auto proxy = NetworkProxy::Start("/tmp", ProxyLimits{}, nullptr);
  if (!proxy.ok()) {
    fmt::print(stderr, "{}\n", proxy.status().ToString());
    return 1;
  }
  ProxyRules rules;
  rules.hosts.push_back(ParseHostPattern(target).value());
  rules.allow_loopback_for_tests = true;
  auto endpoint = (*proxy)->Open(std::move(rules), "bench");
  if (!endpoint.ok()) {
    fmt::print(stderr, "{}\n", endpoint.status().ToString());
    return 1;
  }
  const std::string socket_path = (*endpoint)->socket_path();

  // The bridge as the sandbox runs it, here on the host's loopback with `sleep` as its program.
  const Result<uint16_t> bridge_port = testing::UnusedLoopbackPort();
  if (!bridge_port.ok()) return 1;
  std::vector<std::string> args = {TROUPE_BINARY, "__net-bridge", std::to_string(*bridge_port),
                                   socket_path,   "--",           "/bin/sleep",
                                   "3600"};
  std::vector<char*> argv;
  for (std::string& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  // A process group of its own: stopping it stops the bridge's program too.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attr, 0);
  pid_t bridge = 0;
  const int spawned = posix_spawn(&bridge, argv[0], nullptr, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  if (spawned != 0) {
    fmt::print(stderr, "cannot start {}\n", args[0]);
    return 1;
  }
  const auto until = Clock::now() + std::chrono::seconds(10);
  int probe = -1;
  while ((probe = ConnectTcp(*bridge_port)) < 0 && Clock::now() < until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (probe < 0) {
    fmt::print(stderr, "the bridge did not listen on 127.0.0.1:{}\n", *bridge_port);
    kill(-bridge, SIGKILL);
    waitpid(bridge, nullptr, 0);
    return 1;
  }
  close(probe);

  const uint16_t port = (*server)->port();
  const std::string origin = "GET /page HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  const std::string absolute =
      "GET http://" + target + "/page HTTP/1.1\r\nHost: " + target + "\r\n\r\n";
  auto direct = [port] { return ConnectTcp(port); };
  auto bridged = [&] { return ConnectTcp(*bridge_port); };
  auto unix_only = [&] { return ConnectUnix(socket_path); };

  fmt::print("{} requests each, a new connection per request, 127.0.0.1\n", requests);
  Figures d, p, t, u;
  const bool ok =
      Time(
          "direct", requests, [&] { return OneRequest(direct, origin, ""); }, &d) &&
      Time(
          "bridge+proxy, plain", requests, [&] { return OneRequest(bridged, absolute, ""); }, &p) &&
      Time(
          "bridge+proxy, CONNECT", requests, [&] { return OneRequest(bridged, origin, target); },
          &t) &&
      Time(
          "proxy only, plain", requests, [&] { return OneRequest(unix_only, absolute, ""); }, &u);
  if (ok) {
    fmt::print("added by bridge+proxy (median): plain {:.1f} us, CONNECT {:.1f} us\n",
               p.median_us - d.median_us, t.median_us - d.median_us);
  }
  kill(-bridge, SIGTERM);
  waitpid(bridge, nullptr, 0);
  return ok ? 0 : 1;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) {
  int requests = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--requests") == 0) requests = std::max(1, std::atoi(argv[i + 1]));
  }
  return troupe::Run(requests);
}
