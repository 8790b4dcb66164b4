#include "agent/tool_args.h"

#include <cmath>

#include "core/utf8.h"

namespace troupe {
namespace {

constexpr size_t kShownValueBytes = 60;

std::string Quoted(std::string_view key) { return "`" + std::string(key) + "`"; }

}  // namespace

std::string DescribeArgumentValue(const nlohmann::json& value) {
  using Type = nlohmann::json::value_t;
  switch (value.type()) {
    case Type::null:
      return "null";
    case Type::object:
      return "an object";
    case Type::array:
      return "an array";
    case Type::string: {
      const std::string& s = value.get_ref<const std::string&>();
      std::string shown(Utf8Prefix(s, kShownValueBytes));
      if (shown.size() < s.size()) shown += "…";
      return "a string (\"" + ToValidUtf8(shown) + "\")";
    }
    case Type::boolean:
      return std::string("a boolean (") + (value.get<bool>() ? "true" : "false") + ")";
    case Type::number_integer:
    case Type::number_unsigned:
    case Type::number_float:
      return "a number (" + value.dump() + ")";
    default:
      return "an unsupported value";
  }
}

Status ToolArgs::Error(std::string_view message) const {
  const std::string place = where_.empty() ? "" : Quoted(where_) + ": ";
  return Status::InvalidArgument(tool_ + ": " + place + std::string(message));
}

Status ToolArgs::CheckObject(std::initializer_list<std::string_view> known) const {
  std::string accepted;
  for (std::string_view k : known) {
    if (!accepted.empty()) accepted += ", ";
    accepted += k;
  }
  if (accepted.empty()) accepted = "none";
  if (args_.is_null()) return Status::Ok();
  if (!args_.is_object()) {
    return Error("the arguments must be a JSON object (got " + DescribeArgumentValue(args_) +
                 "); accepted arguments: " + accepted);
  }
  for (const auto& [key, value] : args_.items()) {
    bool found = false;
    for (std::string_view k : known) found = found || k == key;
    if (!found) {
      return Error("unknown argument " + Quoted(ToValidUtf8(key)) +
                   "; accepted arguments: " + accepted);
    }
  }
  return Status::Ok();
}

const nlohmann::json* ToolArgs::Find(std::string_view key) const {
  if (!args_.is_object()) return nullptr;
  auto it = args_.find(key);
  if (it == args_.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::string> ToolArgs::RequiredString(std::string_view key, std::string_view what,
                                             bool allow_empty) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) {
    return Error(Quoted(key) + " is required (" + std::string(what) + ")");
  }
  if (!value->is_string()) {
    return Error(Quoted(key) + " must be " + std::string(what) + " (got " +
                 DescribeArgumentValue(*value) + ")");
  }
  const std::string& s = value->get_ref<const std::string&>();
  if (s.empty() && !allow_empty) {
    return Error(Quoted(key) + " must not be empty (" + std::string(what) + ")");
  }
  return s;
}

Result<std::optional<std::string>> ToolArgs::OptionalString(std::string_view key,
                                                            std::string_view what) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return std::optional<std::string>();
  if (!value->is_string()) {
    return Error(Quoted(key) + " must be " + std::string(what) + " (got " +
                 DescribeArgumentValue(*value) + ")");
  }
  return std::optional<std::string>(value->get<std::string>());
}

Result<std::string> ToolArgs::OptionalText(std::string_view key, std::string_view what) const {
  Result<std::optional<std::string>> value = OptionalString(key, what);
  if (!value.ok()) return value.status();
  return value->value_or("");
}

Result<int64_t> ToolArgs::OptionalInt(std::string_view key, int64_t fallback, int64_t min,
                                      int64_t max) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return fallback;
  const std::string expected =
      "an integer from " + std::to_string(min) + " to " + std::to_string(max);
  std::optional<int64_t> n;
  if (value->is_number_integer()) {
    n = value->get<int64_t>();
  } else if (value->is_number_unsigned()) {
    uint64_t u = value->get<uint64_t>();
    if (u <= static_cast<uint64_t>(INT64_MAX)) n = static_cast<int64_t>(u);
  } else if (value->is_number_float()) {
    double d = value->get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15) {
      n = static_cast<int64_t>(d);
    }
  }
  if (!n || *n < min || *n > max) {
    return Error(Quoted(key) + " must be " + expected + " (got " + DescribeArgumentValue(*value) +
                 ")");
  }
  return *n;
}

Result<bool> ToolArgs::OptionalBool(std::string_view key, bool fallback) const {
  const nlohmann::json* value = Find(key);
  if (value == nullptr) return fallback;
  if (!value->is_boolean()) {
    return Error(Quoted(key) + " must be true or false (got " + DescribeArgumentValue(*value) +
                 ")");
  }
  return value->get<bool>();
}

}  // namespace troupe
