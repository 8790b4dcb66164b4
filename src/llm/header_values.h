// Reading the values of provider response headers: case-insensitive lookup, and the number, date
// and duration syntaxes that retry and rate-limit headers use. Pure functions; every parser
// returns nullopt for a value it does not fully accept, so that a malformed header is ignored
// rather than misread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/http_message.h"

namespace troupe {

// The first value of header `name` (compared case-insensitively, as HTTP field names are), with
// surrounding spaces and tabs removed; nullopt when absent. The view points into `headers`.
std::optional<std::string_view> FindHeaderValue(std::span<const HttpHeader> headers,
                                                std::string_view name);

// A finite decimal number as the SDKs accept in `retry-after-ms` and `retry-after`: "1.5",
// "20", ".5", "1e3", with an optional sign. No surrounding text, no "inf" or "nan".
std::optional<double> ParseDecimal(std::string_view text);

// A non-negative integer of ASCII digits ("1000"), as in `x-ratelimit-limit-requests`.
std::optional<int64_t> ParseCount(std::string_view text);

// An HTTP-date (RFC 9110 section 5.6.7, formerly RFC 7231 7.1.1.1) as milliseconds since the Unix
// epoch. All three forms recipients must accept:
//   IMF-fixdate   "Sun, 06 Nov 1994 08:49:37 GMT"
//   RFC 850       "Sunday, 06-Nov-94 08:49:37 GMT"
//   asctime       "Sun Nov  6 08:49:37 1994"
// Day and month names are matched case-insensitively; the weekday is not checked against the
// date. An RFC 850 two-digit year is taken, as the RFC says, as the most recent year with those
// digits that is not more than 50 years after `now_ms`.
std::optional<int64_t> ParseHttpDate(std::string_view text, int64_t now_ms);

// An RFC 3339 date-time ("2024-06-01T12:00:30Z", "2024-06-01T14:00:30.25+02:00") as milliseconds
// since the Unix epoch; fractions of a millisecond are rounded up. 'T' may be 't' or a space,
// 'Z' may be 'z'. A leap second (":60") counts as the next second.
std::optional<int64_t> ParseRfc3339(std::string_view text);

// A Go time.Duration string, as OpenAI's `x-ratelimit-reset-*` headers carry: "20ms", "1s",
// "6m0s", "1h2m3.5s", "0.5s", "0". Units ns, us (or µs, μs), ms, s, m, h. Milliseconds, rounded
// up so that a wait derived from it is never too short. Negative durations are rejected.
std::optional<int64_t> ParseGoDurationMs(std::string_view text);

}  // namespace troupe
