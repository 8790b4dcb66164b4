#include "mock_llm/request_fields.h"

#include <limits>
#include <map>

#include "llm/json_fields.h"

namespace troupe::request_fields {
namespace {

using json = nlohmann::json;
using json_fields::Find;
using json_fields::Join;
using json_fields::TypeName;

Status Missing(std::string_view path, const char* key) {
  return Status::InvalidArgument(Join(path, key) + " is missing");
}

Status WrongType(std::string_view path, const char* key, const char* expected, const json& value) {
  return Status::InvalidArgument(Join(path, key) + " is not " + expected + " (it is " +
                                 TypeName(value) + ")");
}

}  // namespace

Status RequireObject(const json& value, std::string_view what) {
  if (value.is_object()) return Status::Ok();
  return Status::InvalidArgument(std::string(what) + " is not an object (it is " + TypeName(value) +
                                 ")");
}

Status RequireString(const json& object, const char* key, std::string_view path, std::string* out) {
  const json* v = Find(object, key);
  if (v == nullptr) return Missing(path, key);
  if (!v->is_string()) return WrongType(path, key, "a string", *v);
  *out = v->get_ref<const std::string&>();
  return Status::Ok();
}

Status RequireArray(const json& object, const char* key, std::string_view path, const json** out) {
  const json* v = Find(object, key);
  if (v == nullptr) return Missing(path, key);
  if (!v->is_array()) return WrongType(path, key, "an array", *v);
  *out = v;
  return Status::Ok();
}

Status ReadBool(const json& object, const char* key, std::string_view path, bool* out) {
  const json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_boolean()) return WrongType(path, key, "a boolean", *v);
  *out = v->get<bool>();
  return Status::Ok();
}

Status ReadNumber(const json& object, const char* key, std::string_view path,
                  std::optional<double>* out) {
  const json* v = Find(object, key);
  if (v == nullptr) return Status::Ok();
  if (!v->is_number()) return WrongType(path, key, "a number", *v);
  *out = v->get<double>();
  return Status::Ok();
}

Status ReadPositiveInt(const json& object, const char* key, std::string_view path, int* out,
                       bool* found) {
  *found = false;
  int64_t value = 0;
  bool read = false;
  TROUPE_RETURN_IF_ERROR(json_fields::ReadInt(object, key, path, &value, &read));
  if (!read) return Status::Ok();
  if (value < 1 || value > std::numeric_limits<int>::max()) {
    return Status::InvalidArgument(Join(path, key) + " must be an integer from 1 to " +
                                   std::to_string(std::numeric_limits<int>::max()) + " (it is " +
                                   std::to_string(value) + ")");
  }
  *out = int(value);
  *found = true;
  return Status::Ok();
}

Status ReadTextParts(const json& object, const char* key, std::string_view path, std::string* out,
                     std::string* refusal) {
  const json* content = Find(object, key);
  if (content == nullptr) return Status::Ok();
  if (content->is_string()) {
    *out = content->get<std::string>();
    return Status::Ok();
  }
  const std::string content_path = Join(path, key);
  if (!content->is_array()) {
    return Status::InvalidArgument(content_path + " is neither a string nor an array (it is " +
                                   TypeName(*content) + ")");
  }
  bool first = true;
  for (size_t i = 0; i < content->size(); ++i) {
    const json& part = (*content)[i];
    const std::string part_path = json_fields::At(content_path, i);
    TROUPE_RETURN_IF_ERROR(RequireObject(part, part_path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(RequireString(part, "type", part_path, &type));
    if (type == "refusal" && refusal != nullptr) {
      TROUPE_RETURN_IF_ERROR(RequireString(part, "refusal", part_path, refusal));
      continue;
    }
    if (type != "text" && type != "input_text" && type != "output_text") continue;
    std::string text;
    TROUPE_RETURN_IF_ERROR(RequireString(part, "text", part_path, &text));
    if (!first) *out += '\n';
    *out += text;
    first = false;
  }
  return Status::Ok();
}

Status ReadToolChoice(const json& root, std::string* out,
                      Status (*read_named)(const json& choice, std::string* name)) {
  const json* choice = json_fields::Find(root, "tool_choice");
  if (choice == nullptr) return Status::Ok();
  if (choice->is_string()) {
    const std::string& value = choice->get_ref<const std::string&>();
    if (value != "auto" && value != "none" && value != "required") {
      return Status::InvalidArgument("tool_choice \"" + json_fields::Snippet(value, 40) +
                                     "\" is not one of auto, none, required");
    }
    *out = value;
    return Status::Ok();
  }
  if (!choice->is_object()) {
    return Status::InvalidArgument("tool_choice is neither a string nor an object (it is " +
                                   std::string(json_fields::TypeName(*choice)) + ")");
  }
  return read_named(*choice, out);
}

void ResolveToolNames(std::vector<ChatMessage>* messages) {
  std::map<std::string, std::string> names;  // call id -> tool name
  for (ChatMessage& m : *messages) {
    if (m.role == ChatRole::kAssistant) {
      for (const ToolCall& c : m.tool_calls) names[c.id] = c.name;
    } else if (m.role == ChatRole::kTool && m.tool_name.empty()) {
      auto it = names.find(m.tool_call_id);
      if (it != names.end()) m.tool_name = it->second;
    }
  }
}

}  // namespace troupe::request_fields
