// Reading a tool's arguments as a model wrote them. Every read checks the type and range and
// answers a bad value with an error that names the tool, the argument and what was expected:
//   grep: `pattern` is required (a regular expression)
//   read: `offset` must be an integer from 1 to 1000000000 (got a string ("ten"))
// A null member counts as absent (models send null for "not given"). Nothing here throws.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

class ToolArgs {
 public:
  // `arguments` must outlive the ToolArgs. `where` is their place inside the tool's arguments
  // when they are a part of them (e.g. "todos[2]" for one item of a list), named in every error.
  ToolArgs(std::string_view tool, const nlohmann::json& arguments, std::string_view where = {})
      : tool_(tool), where_(where), args_(arguments) {}

  // OK when the arguments are an object (or null, read as {}) whose members are all among
  // `known`; else an error listing the accepted names.
  Status CheckObject(std::initializer_list<std::string_view> known) const;

  // A required string; `what` describes it for the error ("a regular expression"). Empty strings
  // are refused unless `allow_empty`.
  Result<std::string> RequiredString(std::string_view key, std::string_view what,
                                     bool allow_empty = false) const;
  // An optional string, nullopt when absent.
  Result<std::optional<std::string>> OptionalString(std::string_view key,
                                                    std::string_view what) const;
  // An optional string where "" counts as absent too (models send "" for "not given"): "" then.
  Result<std::string> OptionalText(std::string_view key, std::string_view what) const;
  // An optional integer within [min, max]; `fallback` when absent. Integral floats (10.0) pass.
  Result<int64_t> OptionalInt(std::string_view key, int64_t fallback, int64_t min,
                              int64_t max) const;
  Result<bool> OptionalBool(std::string_view key, bool fallback) const;
  // The member when present (non-null), else nullptr; no type check.
  const nlohmann::json* Find(std::string_view key) const;

  // "<tool>: <message>" (or "<tool>: `<where>`: <message>"), for errors about these arguments
  // found by the tool itself.
  Status Error(std::string_view message) const;

 private:
  std::string tool_;
  std::string where_;
  const nlohmann::json& args_;
};

// "a string (\"abc\")", "a number (12.5)", "an object", … — what a model actually sent, short.
std::string DescribeArgumentValue(const nlohmann::json& value);

}  // namespace troupe
