#include "mock_llm/openai_request_decoder.h"

#include <utility>

#include "llm/json_fields.h"
#include "llm/openai_replay.h"
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

Status ReadToolCalls(const json& message, const std::string& path, std::vector<ToolCall>* out) {
  const json* calls = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(message, "tool_calls", path, &calls));
  if (calls == nullptr) return Status::Ok();
  for (size_t i = 0; i < calls->size(); ++i) {
    const std::string call_path = At(Join(path, "tool_calls"), i);
    const json& call = (*calls)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(call, call_path));
    ToolCall tool_call;
    TROUPE_RETURN_IF_ERROR(RequireString(call, "id", call_path, &tool_call.id));
    const json* function = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(call, "function", call_path, &function));
    const std::string function_path = Join(call_path, "function");
    if (function == nullptr) return Status::InvalidArgument(function_path + " is missing");
    TROUPE_RETURN_IF_ERROR(RequireString(*function, "name", function_path, &tool_call.name));
    if (const json* args = Find(*function, "arguments")) {
      if (args->is_string()) {
        tool_call.arguments_json = args->get<std::string>();
      } else if (args->is_object()) {
        tool_call.arguments_json = args->dump();
      } else {
        return Status::InvalidArgument(Join(function_path, "arguments") +
                                       " is not a string (it is " + TypeName(*args) + ")");
      }
    }
    TROUPE_RETURN_IF_ERROR(
        openai_replay::ReadToolCallExtra(call, call_path, &tool_call.provider_extra));
    out->push_back(std::move(tool_call));
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
    ChatMessage m;
    TROUPE_RETURN_IF_ERROR(request_fields::ReadTextParts(wire, "content", path, &m.text));
    if (role == "system" || role == "developer") {
      if (!request->system.empty()) request->system += '\n';
      request->system += m.text;
      continue;
    }
    if (role == "user") {
      m.role = ChatRole::kUser;
    } else if (role == "assistant") {
      m.role = ChatRole::kAssistant;
      TROUPE_RETURN_IF_ERROR(ReadString(wire, "reasoning_content", path, &m.reasoning));
      TROUPE_RETURN_IF_ERROR(ReadString(wire, "refusal", path, &m.refusal));
      TROUPE_RETURN_IF_ERROR(ReadToolCalls(wire, path, &m.tool_calls));
      json details;
      TROUPE_RETURN_IF_ERROR(openai_replay::AppendReasoningDetails(wire, path, &details));
      m.provider_replay = openai_replay::MakeReplay(m.reasoning, details);
    } else if (role == "tool") {
      m.role = ChatRole::kTool;
      TROUPE_RETURN_IF_ERROR(RequireString(wire, "tool_call_id", path, &m.tool_call_id));
    } else {
      return Status::InvalidArgument(Join(path, "role") + " \"" + json_fields::Snippet(role, 40) +
                                     "\" is not one of system, developer, user, assistant, tool");
    }
    request->messages.push_back(std::move(m));
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
    std::string type = "function";
    TROUPE_RETURN_IF_ERROR(ReadString(tool, "type", path, &type));
    if (type != "function") continue;  // custom and built-in tools: nothing the mock calls
    const json* function = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(tool, "function", path, &function));
    const std::string function_path = Join(path, "function");
    if (function == nullptr) return Status::InvalidArgument(function_path + " is missing");
    ToolSpec spec;
    TROUPE_RETURN_IF_ERROR(RequireString(*function, "name", function_path, &spec.name));
    TROUPE_RETURN_IF_ERROR(ReadString(*function, "description", function_path, &spec.description));
    const json* parameters = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(*function, "parameters", function_path, &parameters));
    if (parameters != nullptr) spec.input_schema = *parameters;
    request->tools.push_back(std::move(spec));
  }
  return Status::Ok();
}

// {"type":"function","function":{"name":…}}
Status ReadNamedToolChoice(const json& choice, std::string* name) {
  const json* function = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(choice, "function", "tool_choice", &function));
  if (function == nullptr) return Status::InvalidArgument("tool_choice.function is missing");
  return RequireString(*function, "name", "tool_choice.function", name);
}

Status Decode(const json& root, OpenAiChatRequest* out) {
  TROUPE_RETURN_IF_ERROR(RequireObject(root, "the body"));
  ChatRequest& request = out->chat;
  TROUPE_RETURN_IF_ERROR(RequireString(root, "model", "", &request.model));
  TROUPE_RETURN_IF_ERROR(ReadMessages(root, &request));
  TROUPE_RETURN_IF_ERROR(ReadTools(root, &request));
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadToolChoice(root, &request.tool_choice, ReadNamedToolChoice));
  TROUPE_RETURN_IF_ERROR(request_fields::ReadNumber(root, "temperature", "", &request.temperature));
  bool found = false;
  TROUPE_RETURN_IF_ERROR(request_fields::ReadPositiveInt(root, "max_completion_tokens", "",
                                                         &request.max_tokens, &found));
  if (!found) {
    TROUPE_RETURN_IF_ERROR(
        request_fields::ReadPositiveInt(root, "max_tokens", "", &request.max_tokens, &found));
  }
  request.stream = false;
  TROUPE_RETURN_IF_ERROR(request_fields::ReadBool(root, "stream", "", &request.stream));
  const json* stream_options = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(root, "stream_options", "", &stream_options));
  if (stream_options != nullptr) {
    TROUPE_RETURN_IF_ERROR(request_fields::ReadBool(*stream_options, "include_usage",
                                                    "stream_options", &out->include_usage));
  }
  return Status::Ok();
}

}  // namespace

Result<OpenAiChatRequest> DecodeOpenAiRequest(std::string_view body) {
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext("the request body");
  OpenAiChatRequest out;
  TROUPE_RETURN_IF_ERROR(Decode(*parsed, &out));
  return out;
}

}  // namespace troupe
