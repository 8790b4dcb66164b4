#include "agent/proxy_rules.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using ::testing::HasSubstr;

HostPattern P(std::string_view text) { return ParseHostPattern(text).value(); }

// 4 or 16 bytes of `text`.
std::string Bytes(const std::string& text) {
  unsigned char b[16];
  if (inet_pton(AF_INET, text.c_str(), b) == 1) return std::string(reinterpret_cast<char*>(b), 4);
  EXPECT_EQ(inet_pton(AF_INET6, text.c_str(), b), 1) << text;
  return std::string(reinterpret_cast<char*>(b), 16);
}

TEST(ProxyRulesTest, ConnectTargetsAreHostAndPort) {
  Result<ProxyTarget> t = ParseProxyTarget("CONNECT", "GitHub.com:443");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_TRUE(t->tunnel);
  EXPECT_EQ(t->host, "github.com");
  EXPECT_EQ(t->port, 443);
  Result<ProxyTarget> v6 = ParseProxyTarget("CONNECT", "[::1]:8443");
  ASSERT_TRUE(v6.ok()) << v6.status().ToString();
  EXPECT_EQ(v6->host, "::1");
  EXPECT_EQ(v6->port, 8443);
  EXPECT_THAT(ParseProxyTarget("CONNECT", "github.com").status().message(), HasSubstr("port"));
  EXPECT_FALSE(ParseProxyTarget("CONNECT", "user@github.com:443").ok());
  EXPECT_FALSE(ParseProxyTarget("CONNECT", "github.com:443/x").ok());
  EXPECT_FALSE(ParseProxyTarget("CONNECT", "github.com:99999").ok());
}

TEST(ProxyRulesTest, PlainRequestsAreAbsoluteHttpUrls) {
  Result<ProxyTarget> t = ParseProxyTarget("GET", "http://Example.org/a/b?c=d");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE(t->tunnel);
  EXPECT_EQ(t->host, "example.org");
  EXPECT_EQ(t->port, 80);
  EXPECT_EQ(t->origin_form, "/a/b?c=d");
  Result<ProxyTarget> port = ParseProxyTarget("POST", "http://127.0.0.1:8080");
  ASSERT_TRUE(port.ok());
  EXPECT_EQ(port->port, 8080);
  EXPECT_EQ(port->origin_form, "/");
  EXPECT_THAT(ParseProxyTarget("GET", "/index.html").status().message(),
              HasSubstr("absolute http:// URL"));
  EXPECT_FALSE(ParseProxyTarget("GET", "https://example.org/").ok());
  EXPECT_FALSE(ParseProxyTarget("GET", "http://u:p@example.org/").ok());
  EXPECT_FALSE(ParseProxyTarget("GET", "http://").ok());
  EXPECT_FALSE(ParseProxyTarget("GET", "http://:8080/x").ok());
}

TEST(ProxyRulesTest, OnlyListedHostsAreAllowed) {
  ProxyRules rules;
  rules.hosts = {P("github.com"), P("*.npmjs.org:443")};
  EXPECT_NE(AllowingPattern(rules, "github.com", 22), nullptr);
  EXPECT_NE(AllowingPattern(rules, "registry.npmjs.org", 443), nullptr);
  EXPECT_EQ(AllowingPattern(rules, "registry.npmjs.org", 80), nullptr);
  EXPECT_EQ(AllowingPattern(rules, "example.com", 443), nullptr);
  const std::string text = RefusalText(rules, "example.com", 443);
  EXPECT_THAT(text, HasSubstr("example.com:443"));
  EXPECT_THAT(text, HasSubstr("sandbox.network"));
}

TEST(ProxyRulesTest, NonPublicAddressesNeedAnAddressPatternAndLoopbackNeverFromConfig) {
  ProxyRules rules;
  const HostPattern name = P("intranet.example.com");
  const HostPattern named_private = P("10.0.0.7");
  const HostPattern named_loopback = P("127.0.0.1");
  const HostPattern metadata = P("169.254.169.254");
  EXPECT_EQ(AddressRefusal(rules, name, Bytes("93.184.216.34")), "");
  EXPECT_EQ(AddressRefusal(rules, name, Bytes("2606:2800:220:1::1")), "");
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("10.0.0.7")), HasSubstr("private"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("172.20.1.1")), HasSubstr("private"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("192.168.1.1")), HasSubstr("private"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("100.64.0.1")), HasSubstr("private"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("fd00::1")), HasSubstr("private"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("169.254.169.254")), HasSubstr("link-local"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("fe80::1")), HasSubstr("link-local"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("0.0.0.0")), HasSubstr("unspecified"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("224.0.0.1")), HasSubstr("multicast"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("127.0.0.1")), HasSubstr("loopback"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("::1")), HasSubstr("loopback"));
  // IPv4 inside IPv6 is judged as IPv4.
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("::ffff:127.0.0.1")), HasSubstr("loopback"));
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("::ffff:10.1.2.3")), HasSubstr("private"));
  // The user named the address: private and link-local are theirs to allow.
  EXPECT_EQ(AddressRefusal(rules, named_private, Bytes("10.0.0.7")), "");
  EXPECT_EQ(AddressRefusal(rules, metadata, Bytes("169.254.169.254")), "");
  // Loopback (the daemon's own TCP port lives there) only with the tests' allowance.
  EXPECT_THAT(AddressRefusal(rules, named_loopback, Bytes("127.0.0.1")), HasSubstr("loopback"));
  rules.allow_loopback_for_tests = true;
  EXPECT_EQ(AddressRefusal(rules, named_loopback, Bytes("127.0.0.1")), "");
  EXPECT_THAT(AddressRefusal(rules, name, Bytes("127.0.0.1")), HasSubstr("loopback"));
}

}  // namespace
}  // namespace troupe
