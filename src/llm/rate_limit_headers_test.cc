#include "llm/rate_limit_headers.h"

#include <gtest/gtest.h>

#include <vector>

namespace troupe {
namespace {

constexpr int64_t kNow = 1717243230'000;  // 2024-06-01T12:00:30Z

TEST(ParseRateLimitHeadersTest, ReadsOpenAiHeaders) {
  const std::vector<HttpHeader> headers = {
      {"x-ratelimit-limit-requests", "10000"},      {"x-ratelimit-remaining-requests", "9999"},
      {"x-ratelimit-reset-requests", "6ms"},        {"X-RateLimit-Limit-Tokens", "30000000"},
      {"x-ratelimit-remaining-tokens", "29998000"}, {"x-ratelimit-reset-tokens", "1h2m3.5s"},
  };
  const RateLimitInfo info = ParseRateLimitHeaders(headers, kNow);
  EXPECT_EQ(info.requests, (RateLimitBucket{10000, 9999, kNow + 6}));
  EXPECT_EQ(info.tokens, (RateLimitBucket{30000000, 29998000, kNow + 3'723'500}));
  EXPECT_TRUE(info.input_tokens.empty());
  EXPECT_TRUE(info.output_tokens.empty());
  EXPECT_EQ(info.retry_after_ms, std::nullopt);
  EXPECT_FALSE(info.requests.exhausted());
}

TEST(ParseRateLimitHeadersTest, ReadsAnthropicHeaders) {
  const std::vector<HttpHeader> headers = {
      {"anthropic-ratelimit-requests-limit", "50"},
      {"anthropic-ratelimit-requests-remaining", "0"},
      {"anthropic-ratelimit-requests-reset", "2024-06-01T12:00:45Z"},
      {"anthropic-ratelimit-tokens-limit", "90000"},
      {"anthropic-ratelimit-tokens-remaining", "81000"},
      {"anthropic-ratelimit-tokens-reset", "2024-06-01T14:00:31.5+02:00"},
      {"anthropic-ratelimit-input-tokens-limit", "80000"},
      {"anthropic-ratelimit-input-tokens-remaining", "72000"},
      {"anthropic-ratelimit-input-tokens-reset", "2024-06-01T12:00:31Z"},
      {"anthropic-ratelimit-output-tokens-limit", "10000"},
      {"anthropic-ratelimit-output-tokens-remaining", "9000"},
      {"anthropic-ratelimit-output-tokens-reset", "2024-06-01T07:00:32-05:00"},
      {"retry-after", "15"},
  };
  const RateLimitInfo info = ParseRateLimitHeaders(headers, kNow);
  EXPECT_EQ(info.requests, (RateLimitBucket{50, 0, kNow + 15'000}));
  EXPECT_TRUE(info.requests.exhausted());
  EXPECT_EQ(info.tokens, (RateLimitBucket{90000, 81000, kNow + 1'500}));
  EXPECT_EQ(info.input_tokens, (RateLimitBucket{80000, 72000, kNow + 1'000}));
  EXPECT_EQ(info.output_tokens, (RateLimitBucket{10000, 9000, kNow + 2'000}));
  EXPECT_EQ(info.retry_after_ms, 15'000);
}

TEST(ParseRateLimitHeadersTest, IgnoresMalformedValues) {
  const std::vector<HttpHeader> headers = {
      {"x-ratelimit-limit-requests", "lots"},
      {"x-ratelimit-remaining-requests", "-1"},
      {"x-ratelimit-reset-requests", "soon"},
      {"x-ratelimit-limit-tokens", "1.5"},
      {"x-ratelimit-remaining-tokens", "12"},
      {"x-ratelimit-reset-tokens", "1h 2m"},
      {"anthropic-ratelimit-input-tokens-reset", "2024-06-01 noon"},
      {"anthropic-ratelimit-output-tokens-limit", ""},
      {"retry-after", "later"},
  };
  const RateLimitInfo info = ParseRateLimitHeaders(headers, kNow);
  EXPECT_TRUE(info.requests.empty());
  EXPECT_EQ(info.tokens, (RateLimitBucket{std::nullopt, 12, std::nullopt}));
  EXPECT_TRUE(info.input_tokens.empty());
  EXPECT_TRUE(info.output_tokens.empty());
  EXPECT_EQ(info.retry_after_ms, std::nullopt);
}

TEST(ParseRateLimitHeadersTest, EmptyWithoutRateLimitHeaders) {
  EXPECT_TRUE(ParseRateLimitHeaders({}, kNow).empty());
  const std::vector<HttpHeader> headers = {{"content-type", "text/event-stream"}};
  EXPECT_TRUE(ParseRateLimitHeaders(headers, kNow).empty());
}

TEST(ParseRateLimitHeadersTest, KeepsLongRetryAfter) {
  const std::vector<HttpHeader> headers = {{"retry-after", "3600"}};
  EXPECT_EQ(ParseRateLimitHeaders(headers, kNow).retry_after_ms, 3'600'000);
  const std::vector<HttpHeader> date = {{"retry-after", "Sat, 01 Jun 2024 12:02:30 GMT"}};
  EXPECT_EQ(ParseRateLimitHeaders(date, kNow).retry_after_ms, 120'000);
  const std::vector<HttpHeader> ms = {{"retry-after-ms", "90000"}, {"retry-after", "1"}};
  EXPECT_EQ(ParseRateLimitHeaders(ms, kNow).retry_after_ms, 90'000);
}

TEST(ParseRateLimitHeadersTest, OpenAiValuesWinWhenBothFamiliesArePresent) {
  const std::vector<HttpHeader> headers = {
      {"anthropic-ratelimit-requests-limit", "50"},
      {"x-ratelimit-limit-requests", "10000"},
      {"anthropic-ratelimit-requests-remaining", "7"},
  };
  EXPECT_EQ(ParseRateLimitHeaders(headers, kNow).requests,
            (RateLimitBucket{10000, 7, std::nullopt}));
}

TEST(CooldownMsTest, OnlyForRateLimitAndOverload) {
  const std::vector<HttpHeader> headers = {{"retry-after", "5"}};
  for (int status : {200, 400, 408, 500, 503}) {
    EXPECT_EQ(CooldownMs(status, headers, kNow), std::nullopt) << status;
  }
  EXPECT_EQ(CooldownMs(429, headers, kNow), 5000);
  EXPECT_EQ(CooldownMs(529, headers, kNow), 5000);
}

TEST(CooldownMsTest, DefaultsToOneSecond) {
  EXPECT_EQ(CooldownMs(429, {}, kNow), kDefaultCooldownMs);
  EXPECT_EQ(CooldownMs(529, {}, kNow), 1000);
}

TEST(CooldownMsTest, ServerRequestedDelayWins) {
  const std::vector<HttpHeader> headers = {
      {"retry-after-ms", "2500"},
      {"x-ratelimit-remaining-tokens", "0"},
      {"x-ratelimit-reset-tokens", "20s"},
  };
  EXPECT_EQ(CooldownMs(429, headers, kNow), 2500);
}

TEST(CooldownMsTest, WaitsForTheLastExhaustedLimit) {
  const std::vector<HttpHeader> openai = {
      {"x-ratelimit-remaining-requests", "0"},
      {"x-ratelimit-reset-requests", "6m0s"},
      {"x-ratelimit-remaining-tokens", "0"},
      {"x-ratelimit-reset-tokens", "20s"},
  };
  EXPECT_EQ(CooldownMs(429, openai, kNow), 360'000);

  const std::vector<HttpHeader> anthropic = {
      {"anthropic-ratelimit-output-tokens-remaining", "0"},
      {"anthropic-ratelimit-output-tokens-reset", "2024-06-01T12:00:42Z"},
      // Not exhausted: its reset does not matter.
      {"anthropic-ratelimit-requests-remaining", "3"},
      {"anthropic-ratelimit-requests-reset", "2024-06-01T12:05:00Z"},
  };
  EXPECT_EQ(CooldownMs(429, anthropic, kNow), 12'000);
}

TEST(CooldownMsTest, IgnoresResetsInThePastOrOfLimitsNotExhausted) {
  const std::vector<HttpHeader> past = {
      {"anthropic-ratelimit-tokens-remaining", "0"},
      {"anthropic-ratelimit-tokens-reset", "2024-06-01T12:00:00Z"},
  };
  EXPECT_EQ(CooldownMs(429, past, kNow), kDefaultCooldownMs);
  const std::vector<HttpHeader> not_exhausted = {
      {"x-ratelimit-remaining-tokens", "100"},
      {"x-ratelimit-reset-tokens", "30s"},
  };
  EXPECT_EQ(CooldownMs(429, not_exhausted, kNow), kDefaultCooldownMs);
}

TEST(CooldownMsTest, CapsLongHints) {
  const std::vector<HttpHeader> retry_after = {{"retry-after", "86400"}};
  EXPECT_EQ(CooldownMs(429, retry_after, kNow), kMaxCooldownMs);
  const std::vector<HttpHeader> reset = {
      {"x-ratelimit-remaining-requests", "0"},
      {"x-ratelimit-reset-requests", "23h59m"},
  };
  EXPECT_EQ(CooldownMs(429, reset, kNow), kMaxCooldownMs);
}

}  // namespace
}  // namespace troupe
