// User-written text quoted in diagnostics: bounded in length and safe to print on one line,
// whatever bytes the file held.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace troupe {

// `s` made safe to quote in a one-line message: at most `max_chars` characters (then "..."),
// control bytes (and every non-ASCII byte when `s` is not valid UTF-8) written as \xHH.
std::string Snippet(std::string_view s, size_t max_chars = 40);

// A value as a message shows it: -2, "five", 2.5, true, null, an object, an array. Long strings
// are cut.
std::string DescribeJsonValue(const nlohmann::json& v);

// Only the kind of a value (a string, a number, a boolean, an object, ...): for settings that
// may hold secrets, whose values must not be repeated.
std::string DescribeJsonType(const nlohmann::json& v);

}  // namespace troupe
