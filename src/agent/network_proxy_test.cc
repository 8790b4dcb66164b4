// The sandbox's network proxy against a real HTTP server on 127.0.0.1, spoken to over its Unix
// socket the way the bridge inside a sandbox speaks to it.
#include "agent/network_proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <functional>
#include <mutex>
#include <thread>

#include "core/testing/threaded_http_test_server.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

// Every wait below is bounded: a socket read gives up after 10 s.
constexpr int kReadTimeoutSeconds = 10;

// A connected client of `endpoint`'s socket (the bridge's side), or -1 with a test failure.
int ConnectTo(const ProxyEndpoint& endpoint) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, endpoint.socket_path().c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ADD_FAILURE() << "cannot connect to " << endpoint.socket_path() << ": " << std::strerror(errno);
    close(fd);
    return -1;
  }
  timeval tv{kReadTimeoutSeconds, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

// What comes back on `fd` until the proxy closes it (or the read times out).
std::string ReadUntilClosed(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = read(fd, buf, sizeof buf);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

class NetworkProxyTest : public ::testing::Test {
 protected:
  NetworkProxyTest() {
    server_ = testing::ThreadedHttpTestServer::Start([](const testing::RecordedRequest& r) {
                testing::ScriptedResponse response;
                response.body.emplace_back("page at " + r.target + " for " +
                                           r.Header("Host").value_or(""));
                return response;
              }).value();
    ProxyLimits limits;
    limits.header_limit = 4096;
    StartProxy(limits);
  }

  // The proxy's thread may still log: it goes before what it logs to.
  ~NetworkProxyTest() override { proxy_.reset(); }

  void StartProxy(ProxyLimits limits) {
    proxy_.reset();
    proxy_ = NetworkProxy::Start("/tmp", limits,
                                 [this](const std::string& scope, const std::string& message) {
                                   std::lock_guard<std::mutex> lock(mu_);
                                   logged_.push_back(scope + ": " + message);
                                 })
                 .value();
  }

  std::string Loopback() const { return server_->HostPort(); }

  // Restarts the proxy with the default limits changed by `change`; an endpoint allowing the
  // test server.
  std::shared_ptr<ProxyEndpoint> WithLimits(const std::function<void(ProxyLimits&)>& change) {
    ProxyLimits limits;
    change(limits);
    StartProxy(limits);
    return Open({Loopback()});
  }

  // A client of `endpoint` that asked for a tunnel to the test server (the reply not read yet).
  int Tunnel(const ProxyEndpoint& endpoint) {
    const int fd = ConnectTo(endpoint);
    const std::string connect = "CONNECT " + Loopback() + " HTTP/1.1\r\nHost: x\r\n\r\n";
    EXPECT_EQ(write(fd, connect.data(), connect.size()), static_cast<ssize_t>(connect.size()));
    return fd;
  }

  std::shared_ptr<ProxyEndpoint> Open(std::vector<std::string> patterns, bool loopback = true) {
    ProxyRules rules;
    for (const std::string& p : patterns) rules.hosts.push_back(ParseHostPattern(p).value());
    rules.allow_loopback_for_tests = loopback;
    return proxy_->Open(std::move(rules), "bg_test").value();
  }

  // Sends `request` on the endpoint's socket; `then` (if any) after the first reply bytes;
  // returns all that came back until the proxy closed (at most 10 s).
  static std::string Exchange(const ProxyEndpoint& endpoint, const std::string& request,
                              const std::string& then = "") {
    const int fd = ConnectTo(endpoint);
    if (fd < 0) return "";
    EXPECT_EQ(write(fd, request.data(), request.size()), static_cast<ssize_t>(request.size()));
    std::string out;
    char buf[4096];
    bool sent_then = then.empty();
    for (;;) {
      const ssize_t n = read(fd, buf, sizeof buf);
      if (n <= 0) break;
      out.append(buf, static_cast<size_t>(n));
      if (!sent_then && out.find("\r\n\r\n") != std::string::npos) {
        sent_then = true;
        // No half-close: the server answers and closes (Connection: close), which ends the
        // tunnel from its side.
        EXPECT_EQ(write(fd, then.data(), then.size()), static_cast<ssize_t>(then.size()));
      }
    }
    close(fd);
    return out;
  }

  std::string Get(const ProxyEndpoint& endpoint, const std::string& path) {
    return Exchange(endpoint, "GET http://" + Loopback() + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
  }

  std::vector<std::string> Logged() {
    std::lock_guard<std::mutex> lock(mu_);
    return logged_;
  }

  std::unique_ptr<testing::ThreadedHttpTestServer> server_;
  std::shared_ptr<NetworkProxy> proxy_;
  std::mutex mu_;
  std::vector<std::string> logged_;
};

TEST_F(NetworkProxyTest, ForwardsAPlainRequestToAnAllowedHostInOriginForm) {
  auto endpoint = Open({Loopback()});
  const std::string reply =
      Exchange(*endpoint, "GET http://" + Loopback() +
                              "/page?x=1 HTTP/1.1\r\nHost: elsewhere.example\r\n"
                              "Proxy-Connection: keep-alive\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(reply, HasSubstr("page at /page?x=1"));
  // The Host header names where the request went, not what the tool claimed.
  EXPECT_THAT(reply, HasSubstr("for " + Loopback()));
  EXPECT_THAT(reply, Not(HasSubstr("elsewhere")));
  EXPECT_TRUE(Logged().empty());
}

TEST_F(NetworkProxyTest, TunnelsConnectToAnAllowedHost) {
  auto endpoint = Open({Loopback()});
  const std::string reply =
      Exchange(*endpoint, "CONNECT " + Loopback() + " HTTP/1.1\r\nHost: " + Loopback() + "\r\n\r\n",
               "GET /through HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 200 Connection Established\r\n"));
  EXPECT_THAT(reply, HasSubstr("page at /through"));
}

TEST_F(NetworkProxyTest, RefusesHostsNotOnTheListWithA403NamingTheHostAndLogsOnce) {
  auto endpoint = Open({"github.com"});
  for (int i = 0; i < 2; ++i) {
    const std::string reply =
        Exchange(*endpoint, "CONNECT " + Loopback() + " HTTP/1.1\r\nHost: x\r\n\r\n");
    EXPECT_THAT(reply, StartsWith("HTTP/1.1 403"));
    EXPECT_THAT(reply, HasSubstr("does not include " + Loopback()));
    EXPECT_THAT(reply, HasSubstr("sandbox.network"));
  }
  const std::string plain =
      Exchange(*endpoint, "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n\r\n");
  EXPECT_THAT(plain, StartsWith("HTTP/1.1 403"));
  EXPECT_THAT(plain, HasSubstr("evil.example:80"));
  EXPECT_EQ(server_->accepted_connections(), 0);
  const std::vector<std::string> logged = Logged();
  ASSERT_EQ(logged.size(), 2u);
  EXPECT_THAT(logged[0], HasSubstr("bg_test: host not on the allow-list: " + Loopback()));
  EXPECT_THAT(logged[1], HasSubstr("evil.example:80"));
}

TEST_F(NetworkProxyTest, NeverDialsLoopbackFromConfigNorThroughANamePattern) {
  // Listed by address, but without the tests' allowance: as a user's config would have it.
  auto listed = Open({Loopback()}, /*loopback=*/false);
  EXPECT_THAT(Exchange(*listed, "CONNECT " + Loopback() + " HTTP/1.1\r\nHost: x\r\n\r\n"),
              HasSubstr("loopback"));
  // A name that resolves to loopback, allowance or not.
  const std::string local = "localhost:" + std::to_string(server_->port());
  auto named = Open({local});
  const std::string reply = Exchange(*named, "CONNECT " + local + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 403"));
  EXPECT_THAT(reply, HasSubstr("loopback"));
  EXPECT_EQ(server_->accepted_connections(), 0);
}

TEST_F(NetworkProxyTest, RefusesWhatIsNotAProxyRequestAndOversizedHeaders) {
  auto endpoint = Open({Loopback()});
  EXPECT_THAT(Exchange(*endpoint, "GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"),
              StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange(*endpoint, "NOT HTTP AT ALL\r\n\r\n"), StartsWith("HTTP/1.1 400"));
  EXPECT_THAT(Exchange(*endpoint, "GET http://" + Loopback() + "/ HTTP/1.1\r\nX-Big: " +
                                      std::string(8000, 'a') + "\r\n\r\n"),
              StartsWith("HTTP/1.1 431"));
  EXPECT_EQ(server_->accepted_connections(), 0);
}

// A socket the proxy holds open without a request: its connection counts until it closes.
class HeldConnection {
 public:
  explicit HeldConnection(const ProxyEndpoint& endpoint) : fd_(ConnectTo(endpoint)) {}
  ~HeldConnection() { Close(); }
  void Close() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

milliseconds Since(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start);
}

TEST_F(NetworkProxyTest, RefusesConnectionsPastTheCapPerEndpointWith503UntilOneEnds) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.max_connections_per_endpoint = 2; });
  auto other = Open({Loopback()});
  HeldConnection first(*endpoint);
  HeldConnection second(*endpoint);
  // The proxy accepts in order: these two are counted before the third is looked at.
  const std::string refused = Get(*endpoint, "/third");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(refused, HasSubstr("too many connections at once (at most 2 per tool run)"));
  // Another tool run's endpoint has its own count.
  EXPECT_THAT(Get(*other, "/other"), HasSubstr("page at /other"));
  EXPECT_EQ(server_->accepted_connections(), 1);

  // When one ends, its place is free again (the proxy notices the close on its own thread).
  first.Close();
  std::string reply;
  const auto start = Clock::now();
  do {
    reply = Get(*endpoint, "/after");
  } while (!reply.starts_with("HTTP/1.1 200") && Since(start) < milliseconds(5000));
  EXPECT_THAT(reply, HasSubstr("page at /after"));
}

TEST_F(NetworkProxyTest, RefusesConnectionsPastTheCapInAllWith503NamingThatCap) {
  auto a = WithLimits([](ProxyLimits& l) { l.max_connections = 2; });
  auto b = Open({Loopback()});
  HeldConnection on_a(*a);
  HeldConnection on_b(*b);
  const std::string refused = Get(*b, "/third");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 503"));
  EXPECT_THAT(refused, HasSubstr("at most 2 for all tool runs"));
  EXPECT_EQ(server_->accepted_connections(), 0);
}

TEST_F(NetworkProxyTest, ClosesAClientThatNeverSendsAnythingAfterTheRequestTimeout) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.request_timeout = milliseconds(300); });
  const int fd = ConnectTo(*endpoint);
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  EXPECT_EQ(ReadUntilClosed(fd), "");  // closed, not answered: there is no request to answer
  close(fd);
  EXPECT_GE(Since(start), milliseconds(250));
  EXPECT_LT(Since(start), milliseconds(kReadTimeoutSeconds * 1000 / 2)) << "closed by the timeout";
}

TEST_F(NetworkProxyTest, ClosesAClientThatSendsItsHeadByteByByteWhenTheRequestTimeoutEnds) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.request_timeout = milliseconds(500); });
  const int fd = ConnectTo(*endpoint);
  ASSERT_GE(fd, 0);
  // A head that never ends, a byte each 50 ms: each byte is progress, but the deadline is for the
  // whole request, so the proxy closes after 500 ms however busy the client looks.
  const std::string head = "GET http://" + Loopback() + "/ HTTP/1.1\r\nX-Slow: ";
  ASSERT_EQ(write(fd, head.data(), head.size()), static_cast<ssize_t>(head.size()));
  const auto start = Clock::now();
  bool closed = false;
  while (!closed && Since(start) < milliseconds(5000)) {
    if (send(fd, "a", 1, MSG_NOSIGNAL) != 1) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 50) == 1) {
      char buf[256];
      closed = read(fd, buf, sizeof buf) <= 0;
    }
  }
  const milliseconds took = Since(start);
  close(fd);
  EXPECT_GE(took, milliseconds(400));
  EXPECT_LT(took, milliseconds(3000));
  EXPECT_EQ(server_->accepted_connections(), 0);
}

TEST_F(NetworkProxyTest, ClosesAnIdleTunnelOnBothSidesAfterTheIdleTimeout) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.idle_timeout = milliseconds(300); });
  const int fd = Tunnel(*endpoint);
  ASSERT_GE(fd, 0);
  const auto start = Clock::now();
  // The tunnel is up, then nothing flows either way.
  EXPECT_EQ(ReadUntilClosed(fd), "HTTP/1.1 200 Connection Established\r\n\r\n");
  close(fd);
  EXPECT_GE(Since(start), milliseconds(250));
  EXPECT_LT(Since(start), milliseconds(kReadTimeoutSeconds * 1000 / 2));
  EXPECT_EQ(server_->accepted_connections(), 1);
  // The upstream side was closed too: the server saw its client go.
  const auto wait = Clock::now();
  while (server_->peer_closes() < 1 && Since(wait) < milliseconds(5000)) {
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_EQ(server_->peer_closes(), 1);
}

TEST_F(NetworkProxyTest, KeepsATunnelWithTrafficOpenPastTheIdleTimeout) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.idle_timeout = milliseconds(300); });
  const int fd = Tunnel(*endpoint);
  ASSERT_GE(fd, 0);
  char buf[4096];
  ASSERT_GT(read(fd, buf, sizeof buf), 0);
  // Six keep-alive requests 150 ms apart: 900 ms in all, three idle timeouts, never idle.
  for (int i = 0; i < 6; ++i) {
    std::this_thread::sleep_for(milliseconds(150));
    const std::string get = "GET /" + std::to_string(i) + " HTTP/1.1\r\nHost: x\r\n\r\n";
    ASSERT_EQ(write(fd, get.data(), get.size()), static_cast<ssize_t>(get.size())) << i;
    // The reply may come in pieces (the head, then the body).
    const std::string body = "page at /" + std::to_string(i) + " for x";
    std::string reply;
    while (reply.find(body) == std::string::npos) {
      const ssize_t n = read(fd, buf, sizeof buf);
      ASSERT_GT(n, 0) << "closed at request " << i << " after " << reply;
      reply.append(buf, static_cast<size_t>(n));
    }
  }
  close(fd);
}

TEST_F(NetworkProxyTest, RefusesAPlainRequestBodyOverTheLimitWith413) {
  auto endpoint = WithLimits([](ProxyLimits& l) { l.body_limit = 1024; });
  const std::string reply =
      Exchange(*endpoint, "POST http://" + Loopback() +
                              "/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                              std::string(5000, 'b'));
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 413"));
  EXPECT_THAT(reply, HasSubstr("over 1024 bytes"));
  // At the limit it goes through.
  const std::string fits =
      Exchange(*endpoint, "POST http://" + Loopback() +
                              "/upload HTTP/1.1\r\nHost: x\r\nContent-Length: 1024\r\n\r\n" +
                              std::string(1024, 'b'));
  EXPECT_THAT(fits, HasSubstr("page at /upload"));
  EXPECT_EQ(server_->accepted_connections(), 1);
}

TEST_F(NetworkProxyTest, AnswersAConnectThatTakesTooLongWith504) {
  // A listener on 127.0.0.1 that never accepts, its queue (backlog 0) filled by one connection:
  // the kernel drops further SYNs, so the proxy's connect hangs as it would to a black hole.
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 0), 0);
  ASSERT_EQ(getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
  const int filler = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_EQ(connect(filler, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  const std::string black_hole = "127.0.0.1:" + std::to_string(ntohs(addr.sin_port));

  ProxyLimits limits;
  limits.connect_timeout = milliseconds(300);
  StartProxy(limits);
  auto endpoint = Open({black_hole});
  const auto start = Clock::now();
  const std::string reply =
      Exchange(*endpoint, "CONNECT " + black_hole + " HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(reply, StartsWith("HTTP/1.1 504"));
  EXPECT_THAT(reply, HasSubstr("cannot connect to " + black_hole + " within 300 ms"));
  EXPECT_GE(Since(start), milliseconds(250));
  EXPECT_LT(Since(start), milliseconds(kReadTimeoutSeconds * 1000 / 2));
  close(filler);
  close(listener);
}

TEST_F(NetworkProxyTest, AClosedEndpointAcceptsNoMore) {
  auto endpoint = Open({Loopback()});
  const std::string path = endpoint->socket_path();
  endpoint.reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace troupe
