// Type-checked reads of untrusted JSON for the wire codecs. Every read names the field it looked
// at ("choices[0].delta.content is not a string (it is a number)"), so a provider sending the
// wrong shape gives an error that says where, never a crash or an exception.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe::json_fields {

// Deepest nesting ParseJson accepts. nlohmann's dump() and copies recurse, so a deeply nested
// value from a hostile server could overflow the stack; no real payload comes near this.
inline constexpr int kMaxJsonDepth = 256;

// Parses `text` without throwing. Errors (InvalidArgument) say "is not valid JSON" or "nests
// deeper than 256 levels", followed by the start of the text, for the caller to prefix with what
// the text was ("chunk 3").
Result<nlohmann::json> ParseJson(std::string_view text);

// `path` + "." + `key`, or `key` alone when `path` is empty.
std::string Join(std::string_view path, std::string_view key);
// `path` + "[" + `i` + "]".
std::string At(std::string_view path, size_t i);

// "a string", "an object", "null", ... for error messages.
const char* TypeName(const nlohmann::json& value);

// The member `key` of `object`, or nullptr when `object` is not an object, lacks the member, or
// the member is null. Providers send null for "absent" as often as they leave fields out.
const nlohmann::json* Find(const nlohmann::json& object, const char* key);

// Optional members: OK with `*out` unchanged when the member is absent or null; an
// InvalidArgument naming `path.key` when it has another type. `*found` (if given) tells whether
// the member was read.
Status ReadString(const nlohmann::json& object, const char* key, std::string_view path,
                  std::string* out, bool* found = nullptr);
// Accepts integral numbers only (not 1.0) that fit an int64_t.
Status ReadInt(const nlohmann::json& object, const char* key, std::string_view path, int64_t* out,
               bool* found = nullptr);
// `*out` is the member, or nullptr when absent or null.
Status ReadObject(const nlohmann::json& object, const char* key, std::string_view path,
                  const nlohmann::json** out);
Status ReadArray(const nlohmann::json& object, const char* key, std::string_view path,
                 const nlohmann::json** out);

// At most `max_bytes` of `text`, cut at a UTF-8 character boundary, with "…" appended when cut.
std::string Snippet(std::string_view text, size_t max_bytes);

}  // namespace troupe::json_fields
