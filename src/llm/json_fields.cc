#include "llm/json_fields.h"

#include <limits>

#include "core/json_depth.h"

namespace troupe::json_fields {
namespace {

Status WrongType(std::string_view path, const char* key, const char* expected,
                 const nlohmann::json& value) {
  return Status::InvalidArgument(Join(path, key) + " is not " + expected + " (it is " +
                                 TypeName(value) + ")");
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text) {
  if (JsonNestingDepth(text, kMaxJsonDepth) > kMaxJsonDepth) {
    return Status::InvalidArgument("nests deeper than " + std::to_string(kMaxJsonDepth) +
                                   " levels: " + Snippet(text, 120));
  }
  nlohmann::json value = nlohmann::json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                                               /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    return Status::InvalidArgument("is not valid JSON: " + Snippet(text, 120));
  }
  return value;
}

std::string Join(std::string_view path, std::string_view key) {
  if (path.empty()) return std::string(key);
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string At(std::string_view path, size_t i) {
  return std::string(path) + "[" + std::to_string(i) + "]";
}

const char* TypeName(const nlohmann::json& value) {
  switch (value.type()) {
    case nlohmann::json::value_t::null:
      return "null";
    case nlohmann::json::value_t::object:
      return "an object";
    case nlohmann::json::value_t::array:
      return "an array";
    case nlohmann::json::value_t::string:
      return "a string";
    case nlohmann::json::value_t::boolean:
      return "a boolean";
    case nlohmann::json::value_t::number_integer:
    case nlohmann::json::value_t::number_unsigned:
      return "an integer";
    case nlohmann::json::value_t::number_float:
      return "a number";
    case nlohmann::json::value_t::binary:
      return "binary";
    case nlohmann::json::value_t::discarded:
      return "invalid";
  }
  return "unknown";
}

const nlohmann::json* Find(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return nullptr;
  return &*it;
}

Status ReadString(const nlohmann::json& object, const char* key, std::string_view path,
                  std::string* out, bool* found) {
  if (found != nullptr) *found = false;
  const nlohmann::json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_string()) return WrongType(path, key, "a string", *v);
  *out = v->get_ref<const std::string&>();
  if (found != nullptr) *found = true;
  return Status::Ok();
}

Status ReadInt(const nlohmann::json& object, const char* key, std::string_view path, int64_t* out,
               bool* found) {
  if (found != nullptr) *found = false;
  const nlohmann::json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  if (v->is_number_unsigned()) {
    const uint64_t u = v->get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Status::InvalidArgument(Join(path, key) + " is out of range");
    }
    *out = static_cast<int64_t>(u);
  } else if (v->is_number_integer()) {
    *out = v->get<int64_t>();
  } else {
    return WrongType(path, key, "an integer", *v);
  }
  if (found != nullptr) *found = true;
  return Status::Ok();
}

Status ReadObject(const nlohmann::json& object, const char* key, std::string_view path,
                  const nlohmann::json** out) {
  *out = Find(object, key);
  if (*out != nullptr && !(*out)->is_object()) {
    const nlohmann::json& v = **out;
    *out = nullptr;
    return WrongType(path, key, "an object", v);
  }
  return Status::Ok();
}

Status ReadArray(const nlohmann::json& object, const char* key, std::string_view path,
                 const nlohmann::json** out) {
  *out = Find(object, key);
  if (*out != nullptr && !(*out)->is_array()) {
    const nlohmann::json& v = **out;
    *out = nullptr;
    return WrongType(path, key, "an array", v);
  }
  return Status::Ok();
}

std::string Snippet(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return std::string(text);
  size_t end = max_bytes;
  // Back up over UTF-8 continuation bytes so the cut does not split a character.
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return std::string(text.substr(0, end)) + "…";
}

}  // namespace troupe::json_fields
