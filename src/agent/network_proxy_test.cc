// The sandbox's network proxy against a real HTTP server on 127.0.0.1, spoken to over its Unix
// socket the way the bridge inside a sandbox speaks to it.
#include "agent/network_proxy.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <cstring>
#include <mutex>
#include <thread>

#include "core/testing/http_test_server.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

class NetworkProxyTest : public ::testing::Test {
 protected:
  NetworkProxyTest() {
    server_ = testing::HttpTestServer::Start(io_).value();
    server_->SetHandler([](const testing::RecordedRequest& r) {
      testing::ScriptedResponse response;
      response.body.emplace_back("page at " + r.target + " for " + r.Header("Host").value_or(""));
      return response;
    });
    thread_ = std::thread([this] { io_.run(); });
    ProxyLimits limits;
    limits.header_limit = 4096;
    proxy_ = NetworkProxy::Start("/tmp", limits,
                                 [this](const std::string& scope, const std::string& message) {
                                   std::lock_guard<std::mutex> lock(mu_);
                                   logged_.push_back(scope + ": " + message);
                                 })
                 .value();
  }
  ~NetworkProxyTest() override {
    proxy_.reset();
    io_.post([this] { server_.reset(); });
    work_.reset();
    thread_.join();
  }

  std::string Loopback() const { return "127.0.0.1:" + std::to_string(server_->port()); }

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
    const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::strncpy(addr.sun_path, endpoint.socket_path().c_str(), sizeof addr.sun_path - 1);
    EXPECT_EQ(connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    timeval tv{10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
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

  std::vector<std::string> Logged() {
    std::lock_guard<std::mutex> lock(mu_);
    return logged_;
  }

  boost::asio::io_context io_;
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_{
      io_.get_executor()};
  std::unique_ptr<testing::HttpTestServer> server_;
  std::thread thread_;
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

TEST_F(NetworkProxyTest, AClosedEndpointAcceptsNoMore) {
  auto endpoint = Open({Loopback()});
  const std::string path = endpoint->socket_path();
  endpoint.reset();
  EXPECT_NE(access(path.c_str(), F_OK), 0);
}

}  // namespace
}  // namespace troupe
