// Shaping what tools print for a model: valid UTF-8, cuts at character boundaries, counts with
// thousands separators, and one form of truncation marker so a model learns to read it:
//   … [truncated: 1,234 more lines; use offset=2001 to read on]
// Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace troupe {

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD, so
// file contents and process output can go into JSON.
std::string ToValidUtf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8 sequence.
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);
// The longest suffix of `text` of at most `max_bytes` that does not start inside a sequence.
std::string_view Utf8Suffix(std::string_view text, size_t max_bytes);

// 1234567 -> "1,234,567".
std::string FormatCount(uint64_t n);
// "1 line", "2 lines": `n` (formatted) and `noun`, with `plural` when n != 1.
std::string CountOf(uint64_t n, std::string_view noun, std::string_view plural);
// 512 -> "512 bytes", 51200 -> "50 KiB", 3 MiB -> "3 MiB" (whole units, rounded down).
std::string FormatBytes(uint64_t n);

// "… [truncated: <what>]" — the marker every tool appends where it left something out.
std::string TruncationMarker(std::string_view what);

}  // namespace troupe
