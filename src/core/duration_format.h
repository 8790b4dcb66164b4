// Durations for people: "850ms", "12s", "2m 15s", "1h 5m".
#pragma once

#include <cstdint>
#include <string>

namespace troupe {

// Milliseconds as the reference shows durations: below a second in ms, below a minute in whole
// seconds (one decimal under 10 s), then minutes and seconds, then hours and minutes.
std::string FormatDuration(int64_t ms);

}  // namespace troupe
