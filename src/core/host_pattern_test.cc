#include "core/host_pattern.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using ::testing::HasSubstr;

HostPattern P(std::string_view text) {
  Result<HostPattern> p = ParseHostPattern(text);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  return p.ok() ? *p : HostPattern{};
}

std::string Error(std::string_view text) {
  Result<HostPattern> p = ParseHostPattern(text);
  EXPECT_FALSE(p.ok()) << text << " was accepted";
  return p.ok() ? "" : p.status().message();
}

TEST(HostPatternTest, ExactNamesMatchOnlyThemselvesOnAnyPortUnlessOneIsGiven) {
  const HostPattern github = P("GitHub.com");
  EXPECT_EQ(github.kind, HostPattern::Kind::kName);
  EXPECT_EQ(github.host, "github.com");
  EXPECT_TRUE(HostPatternMatches(github, "github.com", 443));
  EXPECT_TRUE(HostPatternMatches(github, "GITHUB.COM.", 80));
  EXPECT_FALSE(HostPatternMatches(github, "api.github.com", 443));
  EXPECT_FALSE(HostPatternMatches(github, "github.com.evil.net", 443));
  EXPECT_FALSE(HostPatternMatches(github, "evilgithub.com", 443));

  const HostPattern tls = P("github.com:443");
  EXPECT_EQ(tls.port, 443);
  EXPECT_TRUE(HostPatternMatches(tls, "github.com", 443));
  EXPECT_FALSE(HostPatternMatches(tls, "github.com", 80));
}

TEST(HostPatternTest, WildcardsMatchSubdomainsNotTheDomainItself) {
  const HostPattern npm = P("*.npmjs.org");
  EXPECT_EQ(npm.kind, HostPattern::Kind::kWildcard);
  EXPECT_TRUE(HostPatternMatches(npm, "registry.npmjs.org", 443));
  EXPECT_TRUE(HostPatternMatches(npm, "a.b.NPMJS.org", 443));
  EXPECT_FALSE(HostPatternMatches(npm, "npmjs.org", 443));
  EXPECT_FALSE(HostPatternMatches(npm, "evilnpmjs.org", 443));
  EXPECT_FALSE(HostPatternMatches(npm, "npmjs.org.evil.net", 443));
  EXPECT_FALSE(HostPatternMatches(npm, ".npmjs.org", 443));
}

TEST(HostPatternTest, AddressesCompareAsAddresses) {
  const HostPattern v4 = P("10.0.0.7:8080");
  EXPECT_EQ(v4.kind, HostPattern::Kind::kAddress);
  EXPECT_TRUE(HostPatternMatches(v4, "10.0.0.7", 8080));
  EXPECT_FALSE(HostPatternMatches(v4, "10.0.0.7", 80));
  EXPECT_FALSE(HostPatternMatches(v4, "10.0.0.8", 8080));
  const HostPattern v6 = P("[FD00::1]:443");
  EXPECT_EQ(v6.host, "fd00::1");
  EXPECT_TRUE(HostPatternMatches(v6, "[fd00:0:0::1]", 443));
  EXPECT_TRUE(HostPatternMatches(P("::1"), "0:0:0:0:0:0:0:1", 1));
  // A name is never an address, whatever it resolves to.
  EXPECT_FALSE(HostPatternMatches(P("127.0.0.1"), "localhost", 80));
}

TEST(HostPatternTest, BadPatternsSayWhatIsWrong) {
  EXPECT_THAT(Error("*"), HasSubstr("write true"));
  EXPECT_THAT(Error("*.com"), HasSubstr("two labels"));
  EXPECT_THAT(Error("https://github.com"), HasSubstr("not a URL"));
  EXPECT_THAT(Error("github.com/foo"), HasSubstr("not a URL"));
  EXPECT_THAT(Error("github.com:0"), HasSubstr("port"));
  EXPECT_THAT(Error("github.com:99999"), HasSubstr("port"));
  EXPECT_THAT(Error("github.com:"), HasSubstr("port"));
  EXPECT_THAT(Error("git hub.com"), HasSubstr("not ' '"));
  EXPECT_THAT(Error("a..b"), HasSubstr("empty label"));
  EXPECT_THAT(Error("git*.com"), HasSubstr("'*'"));
  EXPECT_THAT(Error("-a.com"), HasSubstr("'-'"));
  EXPECT_THAT(Error("1.2.3"), HasSubstr("IP address"));
  EXPECT_THAT(Error("fd00::1:80:x"), HasSubstr("IPv6"));
  EXPECT_THAT(Error("[fd00::1"), HasSubstr("']'"));
  EXPECT_THAT(Error(""), HasSubstr("no host"));
  EXPECT_THAT(Error(std::string(300, 'a')), HasSubstr("253"));
}

TEST(HostPatternTest, NetworkAccessDescribesItself) {
  EXPECT_EQ(DescribeNetworkAccess(false), "off");
  EXPECT_EQ(DescribeNetworkAccess(true), "on (unfiltered)");
  const NetworkAccess hosts = NetworkAccess::Hosts({P("github.com"), P("*.npmjs.org")});
  EXPECT_TRUE(hosts.filtered());
  EXPECT_EQ(DescribeNetworkAccess(hosts), "only github.com, *.npmjs.org");
  EXPECT_EQ(FindHostPattern(hosts.hosts, "registry.npmjs.org", 443), &hosts.hosts[1]);
  EXPECT_EQ(FindHostPattern(hosts.hosts, "example.com", 443), nullptr);
}

}  // namespace
}  // namespace troupe
