#include "mock_llm/openai_responses_request_decoder.h"

#include <utility>

#include "llm/json_fields.h"
#include "llm/openai_responses_codec.h"
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
using request_fields::RequireArray;
using request_fields::RequireObject;
using request_fields::RequireString;

// The assistant message an item of `kind` joins (see the header), made when needed.
enum class Part { kReasoning, kText, kCall };
ChatMessage* AssistantFor(Part kind, std::vector<ChatMessage>* messages) {
  ChatMessage* last = messages->empty() ? nullptr : &messages->back();
  const bool joins = last != nullptr && last->role == ChatRole::kAssistant &&
                     (kind == Part::kCall ||
                      (last->text.empty() && last->refusal.empty() && last->tool_calls.empty()));
  if (!joins) {
    ChatMessage m;
    m.role = ChatRole::kAssistant;
    messages->push_back(std::move(m));
  }
  return &messages->back();
}

Status ReadMessageItem(const json& item, const std::string& path, ChatRequest* request) {
  std::string role;
  TROUPE_RETURN_IF_ERROR(RequireString(item, "role", path, &role));
  std::string text;
  std::string refusal;
  TROUPE_RETURN_IF_ERROR(request_fields::ReadTextParts(item, "content", path, &text, &refusal));
  if (role == "system" || role == "developer") {
    if (!request->system.empty()) request->system += '\n';
    request->system += text;
  } else if (role == "user") {
    request->messages.push_back(UserMessage(std::move(text)));
  } else if (role == "assistant") {
    ChatMessage* m = AssistantFor(Part::kText, &request->messages);
    m->text = std::move(text);
    m->refusal = std::move(refusal);
  } else {
    return Status::InvalidArgument(Join(path, "role") + " \"" + json_fields::Snippet(role, 40) +
                                   "\" is not one of user, assistant, system, developer");
  }
  return Status::Ok();
}

Status ReadReasoningItem(const json& item, const std::string& path, ChatRequest* request) {
  ChatMessage* m = AssistantFor(Part::kReasoning, &request->messages);
  const json* summary = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(item, "summary", path, &summary));
  for (size_t i = 0; summary != nullptr && i < summary->size(); ++i) {
    const std::string part_path = At(Join(path, "summary"), i);
    TROUPE_RETURN_IF_ERROR(RequireObject((*summary)[i], part_path));
    std::string text;
    TROUPE_RETURN_IF_ERROR(RequireString((*summary)[i], "text", part_path, &text));
    if (!m->reasoning.empty()) m->reasoning += "\n\n";
    m->reasoning += text;
  }
  json& items = m->provider_replay[kOpenAiResponsesReplayKey]["reasoning_items"];
  if (!items.is_array()) items = json::array();
  items.push_back(item);
  return Status::Ok();
}

Status ReadInput(const json& root, ChatRequest* request) {
  const json* input = Find(root, "input");
  if (input != nullptr && input->is_string()) {
    request->messages.push_back(UserMessage(input->get<std::string>()));
    return Status::Ok();
  }
  TROUPE_RETURN_IF_ERROR(RequireArray(root, "input", "", &input));
  if (input->empty()) return Status::InvalidArgument("input is empty");
  for (size_t i = 0; i < input->size(); ++i) {
    const std::string path = At("input", i);
    const json& item = (*input)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(item, path));
    std::string type = "message";
    TROUPE_RETURN_IF_ERROR(ReadString(item, "type", path, &type));
    if (type == "message") {
      TROUPE_RETURN_IF_ERROR(ReadMessageItem(item, path, request));
    } else if (type == "function_call") {
      ToolCall call;
      TROUPE_RETURN_IF_ERROR(RequireString(item, "call_id", path, &call.id));
      TROUPE_RETURN_IF_ERROR(RequireString(item, "name", path, &call.name));
      TROUPE_RETURN_IF_ERROR(ReadString(item, "arguments", path, &call.arguments_json));
      AssistantFor(Part::kCall, &request->messages)->tool_calls.push_back(std::move(call));
    } else if (type == "function_call_output") {
      ChatMessage m;
      m.role = ChatRole::kTool;
      TROUPE_RETURN_IF_ERROR(RequireString(item, "call_id", path, &m.tool_call_id));
      TROUPE_RETURN_IF_ERROR(request_fields::ReadTextParts(item, "output", path, &m.text));
      request->messages.push_back(std::move(m));
    } else if (type == "reasoning") {
      TROUPE_RETURN_IF_ERROR(ReadReasoningItem(item, path, request));
    } else {
      return Status::InvalidArgument(Join(path, "type") + " \"" + json_fields::Snippet(type, 40) +
                                     "\" is not one of message, function_call, "
                                     "function_call_output, reasoning");
    }
  }
  request_fields::ResolveToolNames(&request->messages);
  return Status::Ok();
}

Status ReadTools(const json& root, ChatRequest* request) {
  const json* tools = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(root, "tools", "", &tools));
  for (size_t i = 0; tools != nullptr && i < tools->size(); ++i) {
    const std::string path = At("tools", i);
    const json& tool = (*tools)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(tool, path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(RequireString(tool, "type", path, &type));
    if (type != "function") continue;  // web search, file search…: nothing the mock calls
    ToolSpec spec;
    TROUPE_RETURN_IF_ERROR(RequireString(tool, "name", path, &spec.name));
    TROUPE_RETURN_IF_ERROR(ReadString(tool, "description", path, &spec.description));
    const json* parameters = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(tool, "parameters", path, &parameters));
    if (parameters != nullptr) spec.input_schema = *parameters;
    request->tools.push_back(std::move(spec));
  }
  return Status::Ok();
}

// {"type":"function","name":…}
Status ReadNamedToolChoice(const json& choice, std::string* name) {
  return RequireString(choice, "name", "tool_choice", name);
}

Status Decode(const json& root, ChatRequest* request) {
  TROUPE_RETURN_IF_ERROR(RequireObject(root, "the body"));
  TROUPE_RETURN_IF_ERROR(RequireString(root, "model", "", &request->model));
  TROUPE_RETURN_IF_ERROR(ReadString(root, "instructions", "", &request->system));
  TROUPE_RETURN_IF_ERROR(ReadInput(root, request));
  TROUPE_RETURN_IF_ERROR(ReadTools(root, request));
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadToolChoice(root, &request->tool_choice, ReadNamedToolChoice));
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadNumber(root, "temperature", "", &request->temperature));
  bool found = false;
  TROUPE_RETURN_IF_ERROR(
      request_fields::ReadPositiveInt(root, "max_output_tokens", "", &request->max_tokens, &found));
  const json* reasoning = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(root, "reasoning", "", &reasoning));
  if (reasoning != nullptr) {
    TROUPE_RETURN_IF_ERROR(
        ReadString(*reasoning, "effort", "reasoning", &request->reasoning.effort));
  }
  TROUPE_RETURN_IF_ERROR(ReadString(root, "prompt_cache_key", "", &request->caching.key));
  request->caching.enabled = !request->caching.key.empty();
  request->stream = false;
  return request_fields::ReadBool(root, "stream", "", &request->stream);
}

}  // namespace

Result<ChatRequest> DecodeOpenAiResponsesRequest(std::string_view body) {
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext("the request body");
  ChatRequest out;
  TROUPE_RETURN_IF_ERROR(Decode(*parsed, &out));
  return out;
}

}  // namespace troupe
