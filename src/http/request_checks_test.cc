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

}  // namespace
}  // namespace troupe
