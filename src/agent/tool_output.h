// Shaping what tools print for a model (with core/utf8.h: valid UTF-8, cuts at character
// boundaries): counts with thousands separators, and one form of truncation marker so a model
// learns to read it:
//   … [truncated: 1,234 more lines; use offset=2001 to read on]
// Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/utf8.h"  // what tools print is made valid and cut with it

namespace troupe {

// 1234567 -> "1,234,567".
std::string FormatCount(uint64_t n);
// "1 line", "2 lines": `n` (formatted) and `noun`, with `plural` when n != 1.
std::string CountOf(uint64_t n, std::string_view noun, std::string_view plural);
// 512 -> "512 bytes", 51200 -> "50 KiB", 3 MiB -> "3 MiB" (whole units, rounded down).
std::string FormatBytes(uint64_t n);

// "… [truncated: <what>]" — the marker every tool appends where it left something out.
std::string TruncationMarker(std::string_view what);

// `text` made valid UTF-8 and cut to at most `max_bytes` (plus the marker): its start, then
// "… [truncated: 12 KiB more of <what>]" when something was left out. For tools whose output
// has no lines to page through (webfetch, MCP tools).
std::string CapToolText(std::string_view text, size_t max_bytes, std::string_view what);

}  // namespace troupe
