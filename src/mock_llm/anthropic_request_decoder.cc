#include "mock_llm/anthropic_request_decoder.h"

#include <utility>

#include "llm/anthropic_replay.h"
#include "llm/json_fields.h"
#include "mock_llm/request_fields.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using json_fields::At;
using json_fields::Find;
using json_fields::Join;
using json_fields::ReadArray;
using json_fields::ReadObject;
using json_fields::ReadString;
using json_fields::TypeName;
using request_fields::RequireArray;
using request_fields::RequireObject;
using request_fields::RequireString;

Status NeitherStringNorArray(const std::string& path, const json& value) {
  return Status::InvalidArgument(path + " is neither a string nor an array (it is " +
                                 TypeName(value) + ")");
}

// Text from a string or an array of blocks (`system`, a tool result's `content`): the text
// blocks joined with "\n"; other blocks skipped. Absent or null: "".
Status ReadTextOrBlocks(const json& object, const char* key, std::string_view path,
                        std::string* out) {
  const json* value = Find(object, key);
  if (value == nullptr) return Status::Ok();
  const std::string value_path = Join(path, key);
  if (value->is_string()) {
    *out = value->get<std::string>();
    return Status::Ok();
  }
  if (!value->is_array()) return NeitherStringNorArray(value_path, *value);
  bool first = true;
  for (size_t i = 0; i < value->size(); ++i) {
    const std::string block_path = At(value_path, i);
    const json& block = (*value)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(block, block_path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(RequireString(block, "type", block_path, &type));
    if (type != "text") continue;
    std::string text;
    TROUPE_RETURN_IF_ERROR(RequireString(block, "text", block_path, &text));
    if (!first) *out += '\n';
    *out += text;
    first = false;
  }
  return Status::Ok();
}

// Appends the ChatMessages of one user wire message to `out`.
Status ReadUserContent(const json& content, const std::string& path,
                       std::vector<ChatMessage>* out) {
  // Index in `out` of the user message collecting this wire message's current run of text.
  constexpr size_t kNone = ~size_t{0};
  size_t text_message = kNone;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = At(path, i);
    const json& block = content[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(block, block_path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(RequireString(block, "type", block_path, &type));
    if (type == "text") {
      std::string text;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "text", block_path, &text));
      if (text_message != kNone) {
        (*out)[text_message].text += '\n' + text;
      } else {
        ChatMessage m;
        m.role = ChatRole::kUser;
        m.text = std::move(text);
        text_message = out->size();
        out->push_back(std::move(m));
      }
    } else if (type == "tool_result") {
      ChatMessage m;
      m.role = ChatRole::kTool;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "tool_use_id", block_path, &m.tool_call_id));
      TROUPE_RETURN_IF_ERROR(ReadTextOrBlocks(block, "content", block_path, &m.text));
      TROUPE_RETURN_IF_ERROR(request_fields::ReadBool(block, "is_error", block_path, &m.is_error));
      out->push_back(std::move(m));
      text_message = kNone;
    }
  }
  return Status::Ok();
}

Status ReadAssistantContent(const json& content, const std::string& path, ChatMessage* m) {
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string block_path = At(path, i);
    const json& block = content[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(block, block_path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(RequireString(block, "type", block_path, &type));
    if (type == "text") {
      std::string text;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "text", block_path, &text));
      m->text += text;
    } else if (type == "thinking") {
      std::string thinking;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "thinking", block_path, &thinking));
      m->reasoning += thinking;
      TROUPE_RETURN_IF_ERROR(ReadString(block, "signature", block_path, &m->reasoning_signature));
      anthropic_replay::Keep(m, block, int(m->tool_calls.size()));
    } else if (type == "redacted_thinking") {
      std::string data;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "data", block_path, &data));
      anthropic_replay::Keep(m, block, int(m->tool_calls.size()));
    } else if (type == "tool_use") {
      ToolCall call;
      TROUPE_RETURN_IF_ERROR(RequireString(block, "id", block_path, &call.id));
      TROUPE_RETURN_IF_ERROR(RequireString(block, "name", block_path, &call.name));
      const json* input = nullptr;
      TROUPE_RETURN_IF_ERROR(ReadObject(block, "input", block_path, &input));
      call.arguments_json = input != nullptr ? input->dump() : "{}";
      m->tool_calls.push_back(std::move(call));
    }
  }
  return Status::Ok();
}

Status ReadMessages(const json& root, ChatRequest* request) {
  const json* messages = nullptr;
  TROUPE_RETURN_IF_ERROR(RequireArray(root, "messages", "", &messages));
  if (messages->empty()) return Status::InvalidArgument("messages is empty");
  for (size_t i = 0; i < messages->size(); ++i) {
    const std::string path = At("messages", i);
    const json& wire = (*messages)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(wire, path));
    std::string role;
    TROUPE_RETURN_IF_ERROR(RequireString(wire, "role", path, &role));
    if (role != "user" && role != "assistant" && role != "system") {
      return Status::InvalidArgument(Join(path, "role") + " \"" + json_fields::Snippet(role, 40) +
                                     "\" is not one of user, assistant, system");
    }
    const json* content = Find(wire, "content");
    const std::string content_path = Join(path, "content");
    if (content == nullptr) return Status::InvalidArgument(content_path + " is missing");
    if (role == "system") {
      // A mid-conversation system message (Claude Code sends them): more system prompt.
      std::string text;
      TROUPE_RETURN_IF_ERROR(ReadTextOrBlocks(wire, "content", path, &text));
      if (!request->system.empty() && !text.empty()) request->system += '\n';
      request->system += text;
      continue;
    }
    if (content->is_string()) {
      ChatMessage m;
      m.role = role == "user" ? ChatRole::kUser : ChatRole::kAssistant;
      m.text = content->get<std::string>();
      request->messages.push_back(std::move(m));
      continue;
    }
    if (!content->is_array()) return NeitherStringNorArray(content_path, *content);
    if (role == "user") {
      TROUPE_RETURN_IF_ERROR(ReadUserContent(*content, content_path, &request->messages));
    } else {
      ChatMessage m;
      m.role = ChatRole::kAssistant;
      TROUPE_RETURN_IF_ERROR(ReadAssistantContent(*content, content_path, &m));
      request->messages.push_back(std::move(m));
    }
  }
  request_fields::ResolveToolNames(&request->messages);
  return Status::Ok();
}

Status ReadTools(const json& root, ChatRequest* request) {
  const json* tools = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(root, "tools", "", &tools));
  if (tools == nullptr) return Status::Ok();
  for (size_t i = 0; i < tools->size(); ++i) {
    const std::string path = At("tools", i);
    const json& tool = (*tools)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(tool, path));
    std::string type = "custom";
    TROUPE_RETURN_IF_ERROR(ReadString(tool, "type", path, &type));
    if (type != "custom") continue;  // server tools (web_search_…, bash_…): run by Anthropic
    ToolSpec spec;
    TROUPE_RETURN_IF_ERROR(RequireString(tool, "name", path, &spec.name));
    TROUPE_RETURN_IF_ERROR(ReadString(tool, "description", path, &spec.description));
    const json* schema = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(tool, "input_schema", path, &schema));
    if (schema == nullptr)
      return Status::InvalidArgument(Join(path, "input_schema") + " is missing");
    spec.input_schema = *schema;
    request->tools.push_back(std::move(spec));
  }
  return Status::Ok();
}

Status ReadToolChoice(const json& root, ChatRequest* request) {
  const json* choice = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(root, "tool_choice", "", &choice));
  if (choice == nullptr) return Status::Ok();
  std::string type;
  TROUPE_RETURN_IF_ERROR(RequireString(*choice, "type", "tool_choice", &type));
  if (type == "auto" || type == "none") {
    request->tool_choice = type;
  } else if (type == "any") {
    request->tool_choice = "required";
  } else if (type == "tool") {
    TROUPE_RETURN_IF_ERROR(RequireString(*choice, "name", "tool_choice", &request->tool_choice));
  } else {
    return Status::InvalidArgument("tool_choice.type \"" + json_fields::Snippet(type, 40) +
                                   "\" is not one of auto, any, tool, none");
  }
  return Status::Ok();
}

Status Decode(const json& root, ChatRequest* request) {
  TROUPE_RETURN_IF_ERROR(RequireObject(root, "the body"));
  TROUPE_RETURN_IF_ERROR(RequireString(root, "model", "", &request->model));
  bool found = false;
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadPositiveInt(root, "max_tokens", "", &request->max_tokens, &found));
  if (!found) return Status::InvalidArgument("max_tokens is missing");
  TROUPE_RETURN_IF_ERROR(ReadTextOrBlocks(root, "system", "", &request->system));
  TROUPE_RETURN_IF_ERROR(ReadMessages(root, request));
  TROUPE_RETURN_IF_ERROR(ReadTools(root, request));
  TROUPE_RETURN_IF_ERROR(ReadToolChoice(root, request));
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadNumber(root, "temperature", "", &request->temperature));
  request->stream = false;
  return request_fields::ReadBool(root, "stream", "", &request->stream);
}

}  // namespace

Result<ChatRequest> DecodeAnthropicRequest(std::string_view body) {
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext("the request body");
  ChatRequest request;
  TROUPE_RETURN_IF_ERROR(Decode(*parsed, &request));
  return request;
}

}  // namespace troupe
