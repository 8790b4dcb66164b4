#include "llm/header_values.h"

#include <gtest/gtest.h>

#include <vector>

namespace troupe {
namespace {

constexpr int64_t kSec = 1000;
constexpr int64_t k1994 = 784111777 * kSec;      // 1994-11-06T08:49:37Z
constexpr int64_t kNow2024 = 1717243230 * kSec;  // 2024-06-01T12:00:30Z

TEST(FindHeaderValueTest, MatchesNamesCaseInsensitivelyAndTrims) {
  const std::vector<HttpHeader> headers = {
      {"Retry-After", " 5\t"}, {"x-a", "first"}, {"X-A", "second"}, {"x-empty", ""}};
  EXPECT_EQ(FindHeaderValue(headers, "retry-after"), "5");
  EXPECT_EQ(FindHeaderValue(headers, "RETRY-AFTER"), "5");
  EXPECT_EQ(FindHeaderValue(headers, "x-a"), "first");
  EXPECT_EQ(FindHeaderValue(headers, "x-empty"), "");
  EXPECT_EQ(FindHeaderValue(headers, "x-missing"), std::nullopt);
  EXPECT_EQ(FindHeaderValue({}, "x-a"), std::nullopt);
}

TEST(ParseDecimalTest, AcceptsWhatTheSdksParse) {
  EXPECT_EQ(ParseDecimal("20"), 20.0);
  EXPECT_EQ(ParseDecimal("1.5"), 1.5);
  EXPECT_EQ(ParseDecimal(".5"), 0.5);
  EXPECT_EQ(ParseDecimal("1e3"), 1000.0);
  EXPECT_EQ(ParseDecimal("-1"), -1.0);
  EXPECT_EQ(ParseDecimal("+2"), 2.0);
  for (const char* bad : {"", "+", "+-1", "1s", " 1", "1 ", "1,5", "inf", "nan", "0x10", "abc"}) {
    EXPECT_EQ(ParseDecimal(bad), std::nullopt) << bad;
  }
}

TEST(ParseCountTest, AcceptsOnlyDigits) {
  EXPECT_EQ(ParseCount("0"), 0);
  EXPECT_EQ(ParseCount("30000000"), 30000000);
  for (const char* bad : {"", "-1", "+1", "1.5", "1e3", "12a", "99999999999999999999"}) {
    EXPECT_EQ(ParseCount(bad), std::nullopt) << bad;
  }
}

TEST(ParseHttpDateTest, ReadsImfFixdate) {
  EXPECT_EQ(ParseHttpDate("Sun, 06 Nov 1994 08:49:37 GMT", kNow2024), k1994);
  EXPECT_EQ(ParseHttpDate("sun, 06 NOV 1994 08:49:37 gmt", kNow2024), k1994);
  EXPECT_EQ(ParseHttpDate("Sat, 01 Jun 2024 12:00:30 GMT", 0), kNow2024);
  EXPECT_EQ(ParseHttpDate("Thu, 01 Jan 1970 00:00:00 GMT", kNow2024), 0);
  EXPECT_EQ(ParseHttpDate("Sat, 31 Dec 2016 23:59:60 GMT", 0), 1483228800 * kSec);  // leap second
}

TEST(ParseHttpDateTest, ReadsRfc850WithTwoDigitYears) {
  EXPECT_EQ(ParseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", kNow2024), k1994);
  // "94" seen from 2080 is 2094: not more than 50 years ahead.
  const int64_t now_2080 = kNow2024 + int64_t{56} * 365 * 86400 * kSec;
  EXPECT_EQ(ParseHttpDate("Saturday, 06-Nov-94 08:49:37 GMT", now_2080), 3939871777 * kSec);
  // "25" seen from 2024 is 2025.
  EXPECT_EQ(ParseHttpDate("Wednesday, 15-Jan-25 09:30:00 GMT", kNow2024), 1736933400 * kSec);
}

TEST(ParseHttpDateTest, ReadsAsctime) {
  EXPECT_EQ(ParseHttpDate("Sun Nov  6 08:49:37 1994", kNow2024), k1994);
  EXPECT_EQ(ParseHttpDate("Sun Nov 06 08:49:37 1994", kNow2024), k1994);
  EXPECT_EQ(ParseHttpDate("Sat Jun  1 12:00:30 2024", 0), kNow2024);
}

TEST(ParseHttpDateTest, RejectsMalformedDates) {
  for (const char* bad : {
           "", "5", "tomorrow",
           "Sun, 06 Nov 1994 08:49:37",         // no zone
           "Sun, 06 Nov 1994 08:49:37 PST",     // not GMT
           "Sun, 06 Nov 1994 08:49:37 GMT x",   // trailing text
           "Sun, 31 Feb 1994 08:49:37 GMT",     // no such day
           "Sun, 06 Foo 1994 08:49:37 GMT",     // no such month
           "Xyz, 06 Nov 1994 08:49:37 GMT",     // no such weekday
           "Sun, 06 Nov 1994 24:00:00 GMT",     // hour out of range
           "Sun, 06 Nov 1994 08:60:00 GMT",     // minute out of range
           "Sun, 06 Nov 94 08:49:37 GMT",       // IMF needs four digits
           "Sunday, 06-Nov-1994 08:49:37 GMT",  // RFC 850 needs two
           "Sun, 06 Nov 1994 8:49:37 GMT",      // two-digit hour
           "Sun Nov  6 08:49:37",               // asctime without year
           "2024-06-01T12:00:30Z",              // RFC 3339 is not an HTTP-date
       }) {
    EXPECT_EQ(ParseHttpDate(bad, kNow2024), std::nullopt) << bad;
  }
}

TEST(ParseRfc3339Test, ReadsUtcAndOffsets) {
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30Z"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01t12:00:30z"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01 12:00:30Z"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01T14:00:30+02:00"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01T06:30:30-05:30"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30+00:00"), kNow2024);
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30-00:00"), kNow2024);
  EXPECT_EQ(ParseRfc3339("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseRfc3339("1969-12-31T23:59:59Z"), -1000);
  EXPECT_EQ(ParseRfc3339("2016-12-31T23:59:60Z"), 1483228800 * kSec);
}

TEST(ParseRfc3339Test, RoundsFractionsUp) {
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30.5Z"), kNow2024 + 500);
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30.123Z"), kNow2024 + 123);
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30.123000000Z"), kNow2024 + 123);
  EXPECT_EQ(ParseRfc3339("2024-06-01T12:00:30.123001Z"), kNow2024 + 124);
  EXPECT_EQ(ParseRfc3339("2024-06-01T14:00:30.25+02:00"), kNow2024 + 250);
}

TEST(ParseRfc3339Test, RejectsMalformedTimestamps) {
  for (const char* bad : {
           "",
           "2024-06-01",
           "2024-06-01T12:00:30",        // no offset
           "2024-06-01T12:00Z",          // no seconds
           "2024-06-01T12:00:30.Z",      // empty fraction
           "2024-13-01T12:00:30Z",       // month
           "2024-02-30T12:00:30Z",       // day
           "2024-06-01T24:00:00Z",       // hour
           "2024-06-01T12:00:30+2:00",   // offset digits
           "2024-06-01T12:00:30+0200",   // offset colon
           "2024-06-01T12:00:30+24:00",  // offset range
           "2024-06-01T12:00:30Z ",      // trailing text
           "24-06-01T12:00:30Z",         // two-digit year
           "Sat, 01 Jun 2024 12:00:30 GMT",
       }) {
    EXPECT_EQ(ParseRfc3339(bad), std::nullopt) << bad;
  }
}

TEST(ParseGoDurationMsTest, ReadsOpenAiResetValues) {
  EXPECT_EQ(ParseGoDurationMs("1s"), 1000);
  EXPECT_EQ(ParseGoDurationMs("6m0s"), 360'000);
  EXPECT_EQ(ParseGoDurationMs("20ms"), 20);
  EXPECT_EQ(ParseGoDurationMs("0.5s"), 500);
  EXPECT_EQ(ParseGoDurationMs("1h2m3.5s"), 3'723'500);
  EXPECT_EQ(ParseGoDurationMs("7.66s"), 7660);
  EXPECT_EQ(ParseGoDurationMs("2h"), 7'200'000);
  EXPECT_EQ(ParseGoDurationMs(".5m"), 30'000);
  EXPECT_EQ(ParseGoDurationMs("1.s"), 1000);
  EXPECT_EQ(ParseGoDurationMs("0"), 0);
  EXPECT_EQ(ParseGoDurationMs("0s"), 0);
  EXPECT_EQ(ParseGoDurationMs("+1s"), 1000);
}

TEST(ParseGoDurationMsTest, RoundsSubMillisecondUp) {
  EXPECT_EQ(ParseGoDurationMs("1ns"), 1);
  EXPECT_EQ(ParseGoDurationMs("1000000ns"), 1);
  EXPECT_EQ(ParseGoDurationMs("1000001ns"), 2);
  EXPECT_EQ(ParseGoDurationMs("1500us"), 2);
  EXPECT_EQ(ParseGoDurationMs("2000\xC2\xB5s"), 2);  // micro sign
  EXPECT_EQ(ParseGoDurationMs("2000\xCE\xBCs"), 2);  // Greek mu
  EXPECT_EQ(ParseGoDurationMs("0.0001ms"), 1);
}

TEST(ParseGoDurationMsTest, RejectsGarbage) {
  for (const char* bad : {"", "s", "1", "10", "1x", "-1s", "1h 2m", " 1s", "1s ", ".s", "1..5s",
                          "abc", "1S", "1sec", "9999999999999999999h", "3000000h"}) {
    EXPECT_EQ(ParseGoDurationMs(bad), std::nullopt) << bad;
  }
}

}  // namespace
}  // namespace troupe
