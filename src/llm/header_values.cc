#include "llm/header_values.h"

#include <charconv>
#include <chrono>
#include <cmath>
#include <limits>
#include <system_error>

#include "core/text_case.h"
#include "core/text_trim.h"

namespace troupe {

namespace {

constexpr int64_t kMsPerDay = 86'400'000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

// Reads a date or time left to right; every method consumes only on success.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : s_(text) {}

  bool done() const { return s_.empty(); }
  char peek() const { return s_.empty() ? '\0' : s_.front(); }

  bool Consume(char c) {
    if (s_.empty() || s_.front() != c) return false;
    s_.remove_prefix(1);
    return true;
  }

  // One or more spaces.
  bool Spaces() {
    if (!Consume(' ')) return false;
    while (Consume(' ')) {
    }
    return true;
  }

  // Between `min` and `max` ASCII digits as a number.
  std::optional<int> Digits(size_t min, size_t max) {
    size_t n = 0;
    int value = 0;
    while (n < max && n < s_.size() && IsDigit(s_[n])) value = value * 10 + (s_[n++] - '0');
    if (n < min) return std::nullopt;
    s_.remove_prefix(n);
    return value;
  }

  // A run of ASCII letters (possibly empty).
  std::string_view Letters() {
    size_t n = 0;
    while (n < s_.size() && IsAlpha(s_[n])) ++n;
    std::string_view word = s_.substr(0, n);
    s_.remove_prefix(n);
    return word;
  }

  // A run of ASCII digits (possibly empty).
  std::string_view DigitRun() {
    size_t n = 0;
    while (n < s_.size() && IsDigit(s_[n])) ++n;
    std::string_view run = s_.substr(0, n);
    s_.remove_prefix(n);
    return run;
  }

 private:
  std::string_view s_;
};

// 1..12 for "Jan".."Dec" in any case, else nullopt.
std::optional<int> MonthNumber(std::string_view name) {
  static constexpr std::string_view kMonths[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                                 "jul", "aug", "sep", "oct", "nov", "dec"};
  for (int i = 0; i < 12; ++i) {
    if (EqualsIgnoringAsciiCase(name, kMonths[i])) return i + 1;
  }
  return std::nullopt;
}

bool IsWeekdayName(std::string_view name) {
  static constexpr std::string_view kDays[] = {"monday", "tuesday",  "wednesday", "thursday",
                                               "friday", "saturday", "sunday"};
  for (std::string_view day : kDays) {
    if (EqualsIgnoringAsciiCase(name, day.substr(0, 3)) || EqualsIgnoringAsciiCase(name, day))
      return true;
  }
  return false;
}

// Days since 1970-01-01 of a calendar date, or nullopt when the date does not exist.
std::optional<int64_t> DaysSinceEpoch(int year, int month, int day) {
  const std::chrono::year_month_day ymd{std::chrono::year{year},
                                        std::chrono::month{static_cast<unsigned>(month)},
                                        std::chrono::day{static_cast<unsigned>(day)}};
  if (!ymd.ok()) return std::nullopt;
  return std::chrono::sys_days{ymd}.time_since_epoch().count();
}

int YearOf(int64_t epoch_ms) {
  const int64_t days = epoch_ms >= 0 ? epoch_ms / kMsPerDay : -((-epoch_ms - 1) / kMsPerDay) - 1;
  const std::chrono::year_month_day ymd{std::chrono::sys_days{std::chrono::days{days}}};
  return static_cast<int>(ymd.year());
}

struct TimeOfDay {
  int hour = 0, minute = 0, second = 0;
};

// "HH:MM:SS"; a leap second (60) is allowed.
std::optional<TimeOfDay> ReadTimeOfDay(Scanner& s) {
  std::optional<int> h = s.Digits(2, 2);
  if (!h || !s.Consume(':')) return std::nullopt;
  std::optional<int> m = s.Digits(2, 2);
  if (!m || !s.Consume(':')) return std::nullopt;
  std::optional<int> sec = s.Digits(2, 2);
  if (!sec || *h > 23 || *m > 59 || *sec > 60) return std::nullopt;
  return TimeOfDay{*h, *m, *sec};
}

std::optional<int64_t> EpochMs(int year, int month, int day, const TimeOfDay& t) {
  std::optional<int64_t> days = DaysSinceEpoch(year, month, day);
  if (!days) return std::nullopt;
  return *days * kMsPerDay + ((t.hour * 60 + t.minute) * 60 + t.second) * int64_t{1000};
}

}  // namespace

std::optional<std::string_view> FindHeaderValue(std::span<const HttpHeader> headers,
                                                std::string_view name) {
  for (const HttpHeader& h : headers) {
    if (EqualsIgnoringAsciiCase(h.name, name)) return TrimBlanks(h.value);
  }
  return std::nullopt;
}

std::optional<double> ParseDecimal(std::string_view text) {
  if (!text.empty() && text.front() == '+') {  // as Python's float() allows; from_chars does not
    text.remove_prefix(1);
    if (!text.empty() && text.front() == '-') return std::nullopt;
  }
  if (text.empty()) return std::nullopt;
  double value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> ParseCount(std::string_view text) {
  if (text.empty()) return std::nullopt;
  int64_t value = 0;
  for (char c : text) {
    if (!IsDigit(c) || __builtin_mul_overflow(value, 10, &value) ||
        __builtin_add_overflow(value, c - '0', &value)) {
      return std::nullopt;
    }
  }
  return value;
}

std::optional<int64_t> ParseHttpDate(std::string_view text, int64_t now_ms) {
  Scanner s(text);
  if (!IsWeekdayName(s.Letters())) return std::nullopt;
  int year = 0, month = 0, day = 0;
  std::optional<TimeOfDay> time;
  if (s.Consume(',')) {
    if (!s.Spaces()) return std::nullopt;
    std::optional<int> d = s.Digits(1, 2);
    if (!d) return std::nullopt;
    day = *d;
    if (s.Consume('-')) {  // RFC 850: "06-Nov-94"
      std::optional<int> m = MonthNumber(s.Letters());
      if (!m || !s.Consume('-')) return std::nullopt;
      std::optional<int> yy = s.Digits(2, 2);
      if (!yy) return std::nullopt;
      const int now_year = YearOf(now_ms);
      year = now_year / 100 * 100 + *yy;
      if (year > now_year + 50) year -= 100;
      if (year <= now_year - 50) year += 100;
      month = *m;
    } else {  // IMF-fixdate: "06 Nov 1994"
      if (!s.Spaces()) return std::nullopt;
      std::optional<int> m = MonthNumber(s.Letters());
      if (!m || !s.Spaces()) return std::nullopt;
      std::optional<int> y = s.Digits(4, 4);
      if (!y) return std::nullopt;
      month = *m;
      year = *y;
    }
    if (!s.Spaces() || !(time = ReadTimeOfDay(s)) || !s.Spaces()) return std::nullopt;
    const std::string_view zone = s.Letters();
    if (!EqualsIgnoringAsciiCase(zone, "GMT") && !EqualsIgnoringAsciiCase(zone, "UTC"))
      return std::nullopt;
  } else {  // asctime: "Nov  6 08:49:37 1994"
    if (!s.Spaces()) return std::nullopt;
    std::optional<int> m = MonthNumber(s.Letters());
    if (!m || !s.Spaces()) return std::nullopt;
    std::optional<int> d = s.Digits(1, 2);
    if (!d || !s.Spaces() || !(time = ReadTimeOfDay(s)) || !s.Spaces()) return std::nullopt;
    std::optional<int> y = s.Digits(4, 4);
    if (!y) return std::nullopt;
    month = *m;
    day = *d;
    year = *y;
  }
  if (!s.done()) return std::nullopt;
  return EpochMs(year, month, day, *time);
}

std::optional<int64_t> ParseRfc3339(std::string_view text) {
  Scanner s(text);
  std::optional<int> year = s.Digits(4, 4);
  if (!year || !s.Consume('-')) return std::nullopt;
  std::optional<int> month = s.Digits(2, 2);
  if (!month || !s.Consume('-')) return std::nullopt;
  std::optional<int> day = s.Digits(2, 2);
  if (!day || !(s.Consume('T') || s.Consume('t') || s.Consume(' '))) return std::nullopt;
  std::optional<TimeOfDay> time = ReadTimeOfDay(s);
  if (!time) return std::nullopt;

  int64_t frac_ms = 0;
  if (s.Consume('.')) {
    const std::string_view digits = s.DigitRun();
    if (digits.empty()) return std::nullopt;
    for (size_t i = 0; i < 3; ++i)
      frac_ms = frac_ms * 10 + (i < digits.size() ? digits[i] - '0' : 0);
    if (digits.size() > 3 && digits.substr(3).find_first_not_of('0') != std::string_view::npos) {
      ++frac_ms;  // round up
    }
  }

  int64_t offset_minutes = 0;
  if (!(s.Consume('Z') || s.Consume('z'))) {
    const char sign = s.peek();
    if (!s.Consume('+') && !s.Consume('-')) return std::nullopt;
    std::optional<int> oh = s.Digits(2, 2);
    if (!oh || !s.Consume(':')) return std::nullopt;
    std::optional<int> om = s.Digits(2, 2);
    if (!om || *oh > 23 || *om > 59) return std::nullopt;
    offset_minutes = (sign == '-' ? -1 : 1) * (*oh * 60 + *om);
  }
  if (!s.done()) return std::nullopt;
  std::optional<int64_t> local = EpochMs(*year, *month, *day, *time);
  if (!local) return std::nullopt;
  return *local + frac_ms - offset_minutes * 60'000;
}

std::optional<int64_t> ParseGoDurationMs(std::string_view text) {
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text == "0") return 0;
  if (text.empty()) return std::nullopt;

  constexpr int64_t kNs = 1, kUs = 1'000, kMs = 1'000'000, kSec = 1'000'000'000;
  struct Unit {
    std::string_view name;
    int64_t ns;
  };
  static constexpr Unit kUnits[] = {
      {"ns", kNs}, {"us", kUs}, {"\xC2\xB5s", kUs}, {"\xCE\xBCs", kUs},
      {"ms", kMs}, {"s", kSec}, {"m", 60 * kSec},   {"h", 3600 * kSec},
  };

  __int128 total_ns = 0;
  while (!text.empty()) {
    // [digits][.digits] then a unit; at least one digit.
    size_t i = 0;
    __int128 whole = 0;
    bool any_digit = false;
    for (; i < text.size() && IsDigit(text[i]); ++i) {
      whole = whole * 10 + (text[i] - '0');
      if (whole > std::numeric_limits<int64_t>::max()) return std::nullopt;
      any_digit = true;
    }
    __int128 frac = 0, scale = 1;
    if (i < text.size() && text[i] == '.') {
      for (++i; i < text.size() && IsDigit(text[i]); ++i) {
        any_digit = true;
        if (scale < 1'000'000'000'000'000'000) {  // digits beyond 1e-18 of a unit do not matter
          frac = frac * 10 + (text[i] - '0');
          scale *= 10;
        }
      }
    }
    if (!any_digit) return std::nullopt;
    const size_t unit_begin = i;
    while (i < text.size() && !IsDigit(text[i]) && text[i] != '.') ++i;
    const std::string_view unit_name = text.substr(unit_begin, i - unit_begin);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) return std::nullopt;
    total_ns += whole * unit->ns + frac * unit->ns / scale;
    if (total_ns > std::numeric_limits<int64_t>::max()) return std::nullopt;
    text.remove_prefix(i);
  }
  return static_cast<int64_t>((total_ns + kMs - 1) / kMs);
}

}  // namespace troupe
