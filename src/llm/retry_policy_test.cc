#include "llm/retry_policy.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace troupe {
namespace {

constexpr int64_t kNow = 1717243230'000;  // 2024-06-01T12:00:30Z

RetryInput Failure(int status, int attempt = 1) {
  RetryInput in;
  in.http_status = status;
  in.attempt = attempt;
  in.now_ms = kNow;
  return in;
}

RetryDecision Decide(int status, const std::vector<HttpHeader>& headers, int attempt = 1,
                     double random = 0.0) {
  RetryInput in = Failure(status, attempt);
  in.headers = headers;
  in.random = random;
  return DecideRetry(in);
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(DecideRetryTest, RetriesTheSdksRetryableStatuses) {
  for (int status : {408, 409, 429, 500, 502, 503, 504, 529, 599}) {
    const RetryDecision d = Decide(status, {});
    EXPECT_TRUE(d.retry) << status;
    EXPECT_EQ(d.delay_ms, 500) << status;
    EXPECT_TRUE(Contains(d.reason, "HTTP " + std::to_string(status) + " is retryable")) << d.reason;
  }
}

TEST(DecideRetryTest, NeverRetriesOtherStatuses) {
  for (int status : {400, 401, 403, 404, 405, 410, 413, 422, 200, 301}) {
    const RetryDecision d = Decide(status, {});
    EXPECT_FALSE(d.retry) << status;
    EXPECT_EQ(d.delay_ms, 0);
    EXPECT_TRUE(Contains(d.reason, "is not retryable")) << d.reason;
  }
}

TEST(DecideRetryTest, RetriesTransportErrors) {
  for (TransportError error :
       {TransportError::kConnect, TransportError::kTimeout, TransportError::kReset}) {
    RetryInput in = Failure(0);
    in.transport_error = error;
    const RetryDecision d = DecideRetry(in);
    EXPECT_TRUE(d.retry);
    EXPECT_EQ(d.delay_ms, 500);
    EXPECT_TRUE(Contains(d.reason, "exponential backoff")) << d.reason;
  }
  const RetryDecision none = DecideRetry(Failure(0));
  EXPECT_FALSE(none.retry);
  EXPECT_TRUE(Contains(none.reason, "nothing to retry")) << none.reason;
}

TEST(DecideRetryTest, TransportErrorsIgnoreHeaders) {
  const std::vector<HttpHeader> headers = {{"retry-after-ms", "1234"}, {"x-should-retry", "false"}};
  RetryInput in = Failure(0);
  in.transport_error = TransportError::kReset;
  in.headers = headers;
  EXPECT_EQ(DecideRetry(in).delay_ms, 500);
}

TEST(DecideRetryTest, ShouldRetryHeaderOverridesStatus) {
  EXPECT_TRUE(Decide(400, {{"x-should-retry", "true"}}).retry);
  EXPECT_TRUE(Decide(404, {{"X-Should-Retry", "true"}}).retry);
  EXPECT_FALSE(Decide(503, {{"x-should-retry", "false"}}).retry);
  EXPECT_FALSE(Decide(429, {{"x-should-retry", "false"}}).retry);
  EXPECT_TRUE(Contains(Decide(503, {{"x-should-retry", "false"}}).reason, "x-should-retry: false"));
  // Values other than "true" and "false" leave the status rules in charge, as in the SDKs.
  EXPECT_TRUE(Decide(503, {{"x-should-retry", "no"}}).retry);
  EXPECT_FALSE(Decide(400, {{"x-should-retry", "yes"}}).retry);
  EXPECT_FALSE(Decide(400, {{"x-should-retry", "TRUE"}}).retry);
}

TEST(DecideRetryTest, StopsWhenAttemptsAreUsed) {
  EXPECT_TRUE(Decide(503, {}, 1).retry);
  EXPECT_TRUE(Decide(503, {}, 2).retry);
  const RetryDecision third = Decide(503, {}, 3);
  EXPECT_FALSE(third.retry);
  EXPECT_EQ(third.delay_ms, 0);
  EXPECT_TRUE(Contains(third.reason, "all 3 attempts are used")) << third.reason;
  // Even when the server says to retry.
  EXPECT_FALSE(Decide(400, {{"x-should-retry", "true"}}, 3).retry);
  EXPECT_FALSE(Decide(503, {}, 7).retry);
}

TEST(DecideRetryTest, MaxAttemptsIsConfigurable) {
  RetryInput in = Failure(500, 4);
  in.max_attempts = 5;
  EXPECT_TRUE(DecideRetry(in).retry);
  in.attempt = 5;
  EXPECT_FALSE(DecideRetry(in).retry);
  in.max_attempts = 1;
  in.attempt = 1;
  EXPECT_FALSE(DecideRetry(in).retry);
  in.max_attempts = 0;  // treated as 1
  EXPECT_FALSE(DecideRetry(in).retry);
  in.max_attempts = 3;
  in.attempt = 0;  // treated as 1
  EXPECT_EQ(DecideRetry(in), DecideRetry(Failure(500, 1)));
}

TEST(DecideRetryTest, UsesRetryAfterMs) {
  const RetryDecision d = Decide(429, {{"retry-after-ms", "1500"}});
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay_ms, 1500);
  EXPECT_TRUE(Contains(d.reason, "as the server asks")) << d.reason;
  EXPECT_EQ(Decide(429, {{"retry-after-ms", "1500.2"}}).delay_ms, 1501);  // rounded up
  EXPECT_EQ(Decide(429, {{"retry-after-ms", "60000"}}).delay_ms, 60000);
  EXPECT_EQ(Decide(429, {{"Retry-After-Ms", "0.4"}}).delay_ms, 1);
}

TEST(DecideRetryTest, RetryAfterMsWinsOverRetryAfter) {
  EXPECT_EQ(Decide(429, {{"retry-after", "5"}, {"retry-after-ms", "250"}}).delay_ms, 250);
}

TEST(DecideRetryTest, UnreasonableRetryAfterMsFallsThrough) {
  for (const char* bad : {"0", "-5", "60001", "soon", "", "inf", "1e9"}) {
    EXPECT_EQ(Decide(429, {{"retry-after-ms", bad}, {"retry-after", "2"}}).delay_ms, 2000) << bad;
    EXPECT_EQ(Decide(429, {{"retry-after-ms", bad}}).delay_ms, 500) << bad;  // backoff
  }
}

TEST(DecideRetryTest, UsesRetryAfterSeconds) {
  EXPECT_EQ(Decide(503, {{"retry-after", "2"}}).delay_ms, 2000);
  EXPECT_EQ(Decide(503, {{"retry-after", "0.5"}}).delay_ms, 500);
  EXPECT_EQ(Decide(503, {{"retry-after", "60"}}).delay_ms, 60000);
  // Not reasonable: backoff instead.
  for (const char* bad : {"61", "0", "-1", "3600", "a while", "1s"}) {
    EXPECT_EQ(Decide(503, {{"retry-after", bad}}, 2).delay_ms, 1000) << bad;
  }
}

TEST(DecideRetryTest, UsesRetryAfterHttpDateInEachForm) {
  for (const char* date : {"Sat, 01 Jun 2024 12:01:00 GMT", "Saturday, 01-Jun-24 12:01:00 GMT",
                           "Sat Jun  1 12:01:00 2024"}) {
    const RetryDecision d = Decide(429, {{"retry-after", date}});
    EXPECT_TRUE(d.retry);
    EXPECT_EQ(d.delay_ms, 30'000) << date;
  }
  // In the past, now, or more than 60 s ahead: backoff.
  for (const char* date : {"Sat, 01 Jun 2024 12:00:00 GMT", "Sat, 01 Jun 2024 12:00:30 GMT",
                           "Sat, 01 Jun 2024 12:01:31 GMT"}) {
    EXPECT_EQ(Decide(429, {{"retry-after", date}}).delay_ms, 500) << date;
  }
  EXPECT_EQ(Decide(429, {{"retry-after", "Sat, 01 Jun 2024 12:01:30 GMT"}}).delay_ms, 60'000);
}

TEST(BackoffDelayMsTest, DoublesFromHalfASecondUpToEight) {
  EXPECT_EQ(BackoffDelayMs(1, 0.0), 500);
  EXPECT_EQ(BackoffDelayMs(2, 0.0), 1000);
  EXPECT_EQ(BackoffDelayMs(3, 0.0), 2000);
  EXPECT_EQ(BackoffDelayMs(4, 0.0), 4000);
  EXPECT_EQ(BackoffDelayMs(5, 0.0), 8000);
  EXPECT_EQ(BackoffDelayMs(6, 0.0), 8000);
  EXPECT_EQ(BackoffDelayMs(1'000'000, 0.0), 8000);
  EXPECT_EQ(BackoffDelayMs(0, 0.0), 500);
  EXPECT_EQ(BackoffDelayMs(-3, 0.0), 500);
}

TEST(BackoffDelayMsTest, JitterTakesOffUpToAQuarter) {
  EXPECT_EQ(BackoffDelayMs(1, 0.5), 438);  // 500 * 0.875 = 437.5, rounded
  EXPECT_EQ(BackoffDelayMs(5, 0.5), 7000);
  for (int attempt = 1; attempt <= 8; ++attempt) {
    const int64_t base = BackoffDelayMs(attempt, 0.0);
    for (double r = 0.0; r < 1.0; r += 0.001) {
      const int64_t d = BackoffDelayMs(attempt, r);
      EXPECT_LE(d, base);
      EXPECT_GE(d, base * 3 / 4);
    }
    // Out-of-range randomness is clamped rather than trusted.
    EXPECT_EQ(BackoffDelayMs(attempt, -1.0), base);
    EXPECT_EQ(BackoffDelayMs(attempt, 7.0), base * 3 / 4);
  }
}

TEST(DecideRetryTest, BackoffFollowsTheAttemptNumber) {
  RetryInput in = Failure(500, 2);
  in.max_attempts = 10;
  in.random = 0.999;
  const RetryDecision d = DecideRetry(in);
  EXPECT_TRUE(d.retry);
  EXPECT_EQ(d.delay_ms, BackoffDelayMs(2, 0.999));
  EXPECT_GE(d.delay_ms, 750);
  EXPECT_LT(d.delay_ms, 1000);
  EXPECT_TRUE(Contains(d.reason, "attempt 3 of 10")) << d.reason;
}

TEST(RequestedRetryDelayMsTest, HonoursTheUpperBound) {
  const std::vector<HttpHeader> headers = {{"retry-after", "3600"}};
  EXPECT_EQ(RequestedRetryDelayMs(headers, kNow), std::nullopt);
  EXPECT_EQ(RequestedRetryDelayMs(headers, kNow, 3'600'000), 3'600'000);
  EXPECT_EQ(RequestedRetryDelayMs({}, kNow), std::nullopt);
}

}  // namespace
}  // namespace troupe
