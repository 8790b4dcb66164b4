#include "http/request_checks.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(RequestChecksTest, ConstantTimeEqualsComparesWholeStrings) {
  EXPECT_TRUE(ConstantTimeEquals("secret", "secret"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secreT"));
  EXPECT_FALSE(ConstantTimeEquals("secret", "secret2"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
}

TEST(RequestChecksTest, BearerTokenAcceptsTheSchemeInAnyCaseAndBlanks) {
  EXPECT_TRUE(HasBearerToken("Bearer tok", "tok"));
  EXPECT_TRUE(HasBearerToken("bEARER \t tok \t", "tok"));
  EXPECT_TRUE(HasBearerToken("Bearer\ttok", "tok"));
}

TEST(RequestChecksTest, BearerTokenRefusesOthers) {
  EXPECT_FALSE(HasBearerToken("Bearer tok", "other"));
  EXPECT_FALSE(HasBearerToken("Bearer tokx", "tok"));
  EXPECT_FALSE(HasBearerToken("Basic tok", "tok"));
  EXPECT_FALSE(HasBearerToken("Bearertok", "tok"));
  EXPECT_FALSE(HasBearerToken("Bearer", "tok"));
  EXPECT_FALSE(HasBearerToken("", "tok"));
  EXPECT_FALSE(HasBearerToken("Bearer ", ""));  // an empty token matches nothing
}

TEST(RequestChecksTest, ResponseHeadersMayNotBreakTheFraming) {
  EXPECT_TRUE(IsAllowedResponseHeader("Retry-After", "3"));
  EXPECT_TRUE(IsAllowedResponseHeader("x-request-id", ""));
  EXPECT_FALSE(IsAllowedResponseHeader("", "x"));
  EXPECT_FALSE(IsAllowedResponseHeader("Bad Name", "x"));
  EXPECT_FALSE(IsAllowedResponseHeader("X-Split", "a\r\nInjected: yes"));
  EXPECT_FALSE(IsAllowedResponseHeader("X-Nul", std::string_view("a\0b", 3)));
  EXPECT_FALSE(IsAllowedResponseHeader("X-Ctl", "a\x01b"));
  EXPECT_TRUE(IsAllowedResponseHeader("X-Tab", "a\tb \xC3\xA9"));
  EXPECT_FALSE(IsAllowedResponseHeader("content-length", "5"));
  EXPECT_FALSE(IsAllowedResponseHeader("Transfer-Encoding", "chunked"));
  EXPECT_FALSE(IsAllowedResponseHeader("CONNECTION", "close"));
}

// One check for both callers: the MCP endpoint (any loopback page: port 0) and the TCP gate
// (this listener's own origin: its port, http only).
TEST(RequestChecksTest, LoopbackOriginsWithAnyPort) {
  EXPECT_TRUE(IsLoopbackOrigin("http://localhost"));
  EXPECT_TRUE(IsLoopbackOrigin("https://127.0.0.1:8443"));
  EXPECT_TRUE(IsLoopbackOrigin("HTTP://LocalHost:3000"));
  EXPECT_TRUE(IsLoopbackOrigin("http://[::1]"));
  EXPECT_FALSE(IsLoopbackOrigin("http://[::2]:80"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost:"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost:1234567"));
  EXPECT_FALSE(IsLoopbackOrigin("ftp://localhost"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost/path"));
  EXPECT_FALSE(IsLoopbackOrigin("http://localhost.evil.example"));
  EXPECT_FALSE(IsLoopbackOrigin("http://127.0.0.1@evil.example"));
  EXPECT_FALSE(IsLoopbackOrigin("null"));
}

TEST(RequestChecksTest, LoopbackOriginsOfOnePort) {
  EXPECT_TRUE(IsLoopbackOrigin("http://127.0.0.1:7077", 7077));
  EXPECT_TRUE(IsLoopbackOrigin(" http://[::1]:7077 ", 7077));
  EXPECT_FALSE(IsLoopbackOrigin("http://127.0.0.1", 7077)) << "no port is port 80";
  EXPECT_FALSE(IsLoopbackOrigin("http://127.0.0.1:7078", 7077));
  EXPECT_FALSE(IsLoopbackOrigin("https://127.0.0.1:7077", 7077)) << "the listener speaks http";
  EXPECT_TRUE(IsLoopbackHost("LOCALHOST:7077", 7077));
  EXPECT_TRUE(IsLoopbackHost("localhost", 0));
  EXPECT_FALSE(IsLoopbackHost("localhost", 7077));
  EXPECT_FALSE(IsLoopbackHost("localhost:7077x", 7077));
  EXPECT_FALSE(IsLoopbackHost("[::1", 0));
}

}  // namespace
}  // namespace troupe
