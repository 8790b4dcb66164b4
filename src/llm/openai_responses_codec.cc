#include "llm/openai_responses_codec.h"

#include <algorithm>
#include <utility>

#include "llm/json_fields.h"
#include "llm/openai_codec.h"
#include "llm/stream_deltas.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using json_fields::At;
using json_fields::Find;
using json_fields::Join;
using json_fields::ReadArray;
using json_fields::ReadInt;
using json_fields::ReadObject;
using json_fields::ReadString;

constexpr std::string_view kWhere = "openai-responses";

json EncodeToolChoice(const std::string& choice) {
  if (choice == "auto" || choice == "none" || choice == "required") return choice;
  return json{{"type", "function"}, {"name", choice}};
}

// The reasoning items kept for `m` (see the header), or null.
const json* ReplayedReasoningItems(const ChatMessage& m) {
  if (!m.provider_replay.is_object()) return nullptr;
  const json* replay = Find(m.provider_replay, kOpenAiResponsesReplayKey);
  if (replay == nullptr) return nullptr;
  const json* items = Find(*replay, "reasoning_items");
  return items != nullptr && items->is_array() ? items : nullptr;
}

void EncodeAssistant(const ChatMessage& m, json* input) {
  if (const json* items = ReplayedReasoningItems(m)) {
    for (const json& item : *items) input->push_back(item);
  }
  // A refusal has no input shape of its own in EasyInputMessage: its words stand as the text.
  const std::string& text = m.text.empty() ? m.refusal : m.text;
  if (!text.empty()) input->push_back({{"role", "assistant"}, {"content", text}});
  for (const ToolCall& c : m.tool_calls) {
    input->push_back({{"type", "function_call"},
                      {"call_id", c.id},
                      {"name", c.name},
                      {"arguments", c.arguments_json.empty() ? "{}" : c.arguments_json}});
  }
}

Status RequireObject(const json& value, const std::string& what) {
  if (value.is_object()) return Status::Ok();
  return Status::InvalidArgument(what + " is not an object (it is " + json_fields::TypeName(value) +
                                 ")");
}

// The Status for an error the server reported inside a 200 response (`response.failed`'s
// response.error, or an `error` event), for the caller to prefix with where it was.
Status ServerError(const json& error) {
  std::string code;
  std::string message;
  if (error.is_object()) {
    // Best effort: this is already an error path, so fields of the wrong type are skipped.
    (void)ReadString(error, "code", "", &code);
    (void)ReadString(error, "message", "", &message);
  }
  if (message.empty()) message = json_fields::Snippet(error.dump(), 500);
  // The request's own faults fail again when retried; anything else may pass later.
  const bool request_fault = code.starts_with("invalid_") || code.starts_with("image_") ||
                             code.ends_with("_policy") || code.ends_with("_policy_violation") ||
                             code == "empty_image_file" || code == "unsupported_image_media_type";
  std::string text = "the server sent an error";
  if (!code.empty()) text += " " + code;
  text += ": " + message;
  return Status(request_fault ? StatusCode::kInvalidArgument : StatusCode::kUnavailable,
                std::move(text));
}

Status ParseUsage(const json& usage, const std::string& path, Usage* out) {
  int64_t input = 0;
  int64_t output = 0;
  int64_t cached = 0;
  int64_t written = 0;
  int64_t reasoning = 0;
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "input_tokens", path, &input));
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "output_tokens", path, &output));
  const json* input_details = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(usage, "input_tokens_details", path, &input_details));
  if (input_details != nullptr) {
    const std::string details_path = Join(path, "input_tokens_details");
    TROUPE_RETURN_IF_ERROR(ReadInt(*input_details, "cached_tokens", details_path, &cached));
    TROUPE_RETURN_IF_ERROR(ReadInt(*input_details, "cache_write_tokens", details_path, &written));
  }
  const json* output_details = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(usage, "output_tokens_details", path, &output_details));
  if (output_details != nullptr) {
    TROUPE_RETURN_IF_ERROR(ReadInt(*output_details, "reasoning_tokens",
                                   Join(path, "output_tokens_details"), &reasoning));
  }
  if (input < 0 || output < 0 || cached < 0 || written < 0 || reasoning < 0) {
    return Status::InvalidArgument(path + " has a negative token count");
  }
  out->input_tokens = std::max<int64_t>(0, input - cached - written);
  out->cache_read_tokens = cached;
  out->cache_write_tokens = written;
  out->output_tokens = output;
  out->reasoning_tokens = reasoning;
  return Status::Ok();
}

// Reads a required integer member (output_index, summary_index).
Status RequireInt(const json& object, const char* key, const std::string& path, int64_t* out) {
  bool found = false;
  TROUPE_RETURN_IF_ERROR(ReadInt(object, key, path, out, &found));
  if (!found) return Status::InvalidArgument(Join(path, key) + " is missing");
  if (*out < 0) return Status::InvalidArgument(Join(path, key) + " is negative");
  return Status::Ok();
}

}  // namespace

json EncodeOpenAiResponsesRequest(const ChatRequest& request) {
  json out = EncodeOpenAiResponsesOptions(request);
  if (!request.system.empty()) out["instructions"] = request.system;
  out["input"] = EncodeOpenAiResponsesInput(request);
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const ToolSpec& t : request.tools) tools.push_back(EncodeOpenAiResponsesTool(t));
    out["tools"] = std::move(tools);
  }
  return out;
}

json EncodeOpenAiResponsesInput(const ChatRequest& request) {
  json input = json::array();
  for (const ChatMessage& m : request.messages) {
    switch (m.role) {
      case ChatRole::kUser:
        input.push_back({{"role", "user"}, {"content", m.text}});
        break;
      case ChatRole::kTool:
        input.push_back(
            {{"type", "function_call_output"}, {"call_id", m.tool_call_id}, {"output", m.text}});
        break;
      case ChatRole::kAssistant:
        EncodeAssistant(m, &input);
        break;
    }
  }
  return input;
}

json EncodeOpenAiResponsesTool(const ToolSpec& tool) {
  return {{"type", "function"},
          {"name", tool.name},
          {"description", tool.description},
          {"parameters", tool.input_schema},
          {"strict", false}};
}

json EncodeOpenAiResponsesOptions(const ChatRequest& request) {
  json out{{"model", request.model}};
  if (!request.tools.empty() && !request.tool_choice.empty()) {
    out["tool_choice"] = EncodeToolChoice(request.tool_choice);
  }
  const bool reasoning_model = IsOpenAiReasoningModel(request.model);
  if (request.temperature.has_value() && !reasoning_model) {
    out["temperature"] = *request.temperature;
  }
  if (request.max_tokens > 0) out["max_output_tokens"] = request.max_tokens;
  if (reasoning_model || !request.reasoning.effort.empty()) {
    json reasoning{{"summary", "auto"}};
    if (!request.reasoning.effort.empty()) reasoning["effort"] = request.reasoning.effort;
    out["reasoning"] = std::move(reasoning);
    out["include"] = json::array({"reasoning.encrypted_content"});
  }
  out["store"] = false;
  if (request.caching.enabled && !request.caching.key.empty()) {
    out["prompt_cache_key"] = request.caching.key;
  }
  out["stream"] = request.stream;
  return out;
}

Status OpenAiResponsesStreamDecoder::OnEvent(const SseEvent& event,
                                             std::vector<StreamDelta>* deltas) {
  if (!status_.ok() || done_) return status_;
  std::string_view data = event.data;
  const size_t begin = data.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return status_;  // an empty keep-alive
  data = data.substr(begin, data.find_last_not_of(" \t\r\n") - begin + 1);
  if (data == "[DONE]") return status_;  // some compatible servers end with it too
  ++events_;
  std::string where = std::string(kWhere) + " stream: event " + std::to_string(events_);
  Result<json> parsed = json_fields::ParseJson(data);
  if (!parsed.ok()) {
    status_ = parsed.status().WithContext(where);
    return status_;
  }
  std::string type = event.event;
  Status s = RequireObject(*parsed, "the event");
  if (s.ok()) s = ReadString(*parsed, "type", "", &type);
  if (s.ok()) {
    where += " (" + type + ")";
    s = ProcessEvent(type, *parsed, deltas);
  }
  status_ = s.WithContext(where);
  return status_;
}

Status OpenAiResponsesStreamDecoder::ProcessEvent(const std::string& type, const json& event,
                                                  std::vector<StreamDelta>* deltas) {
  if (type == "error") return ServerError(event);
  if (type == "response.created" || type == "response.in_progress" || type == "response.queued") {
    const json* response = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(event, "response", "", &response));
    if (response != nullptr) {
      if (result_.response_id.empty()) {
        TROUPE_RETURN_IF_ERROR(ReadString(*response, "id", "response", &result_.response_id));
      }
      if (result_.model.empty()) {
        TROUPE_RETURN_IF_ERROR(ReadString(*response, "model", "response", &result_.model));
      }
    }
    return Status::Ok();
  }
  if (type == "response.completed" || type == "response.incomplete" || type == "response.failed") {
    const json* response = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(event, "response", "", &response));
    if (response == nullptr) return Status::InvalidArgument("response is missing");
    TROUPE_RETURN_IF_ERROR(ApplyResponse(*response, "response", deltas));
    if (type == "response.failed" && status_text_ != "failed") {
      return Status::Unavailable("the response failed without an error");
    }
    return Status::Ok();
  }
  if (type == "response.output_item.added" || type == "response.output_item.done") {
    int64_t output_index = 0;
    TROUPE_RETURN_IF_ERROR(RequireInt(event, "output_index", "", &output_index));
    const json* item = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(event, "item", "", &item));
    if (item == nullptr) return Status::InvalidArgument("item is missing");
    return type == "response.output_item.added" ? AddItem(output_index, *item, "item", deltas)
                                                : FinishItem(output_index, *item, "item", deltas);
  }
  const bool text = type == "response.output_text.delta";
  const bool refusal = type == "response.refusal.delta";
  const bool summary = type == "response.reasoning_summary_text.delta";
  const bool raw_reasoning = type == "response.reasoning_text.delta";
  const bool arguments = type == "response.function_call_arguments.delta";
  const bool arguments_done = type == "response.function_call_arguments.done";
  if (!text && !refusal && !summary && !raw_reasoning && !arguments && !arguments_done) {
    return Status::Ok();  // an event troupe has no use for
  }
  Item* item = nullptr;
  TROUPE_RETURN_IF_ERROR(ItemOf(event, &item));
  std::string fragment;
  TROUPE_RETURN_IF_ERROR(ReadString(event, arguments_done ? "arguments" : "delta", "", &fragment));
  if (text || refusal) {
    item->got_text = true;
    if (refusal) {
      result_.message.refusal += fragment;
    } else if (!fragment.empty()) {
      result_.message.text += fragment;
      deltas->push_back(stream_deltas::Text(std::move(fragment)));
    }
    return Status::Ok();
  }
  if (summary || raw_reasoning) {
    int64_t part = 0;
    if (summary) TROUPE_RETURN_IF_ERROR(RequireInt(event, "summary_index", "", &part));
    AppendReasoning(item, part, std::move(fragment), deltas);
    return Status::Ok();
  }
  if (item->call < 0) {
    return Status::InvalidArgument(
        "function call arguments for an output item that is not a "
        "function_call (it is " +
        (item->type.empty() ? std::string("unknown") : item->type) + ")");
  }
  if (arguments) return AppendArguments(item->call, std::move(fragment), deltas);
  // .done carries the whole arguments: keep what the deltas missed, if anything.
  const std::string& so_far = result_.message.tool_calls[size_t(item->call)].arguments_json;
  if (fragment.starts_with(so_far)) {
    return AppendArguments(item->call, fragment.substr(so_far.size()), deltas);
  }
  result_.message.tool_calls[size_t(item->call)].arguments_json = std::move(fragment);
  return Status::Ok();
}

Status OpenAiResponsesStreamDecoder::ItemOf(const json& event, Item** item) {
  int64_t output_index = 0;
  TROUPE_RETURN_IF_ERROR(RequireInt(event, "output_index", "", &output_index));
  *item = &items_[output_index];
  return Status::Ok();
}

Status OpenAiResponsesStreamDecoder::AddItem(int64_t output_index, const json& item,
                                             const std::string& path,
                                             std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(RequireObject(item, path));
  Item& state = items_[output_index];
  TROUPE_RETURN_IF_ERROR(ReadString(item, "type", path, &state.type));
  if (state.type != "function_call" || state.call >= 0) return Status::Ok();
  ToolCall call;
  TROUPE_RETURN_IF_ERROR(ReadString(item, "call_id", path, &call.id));
  TROUPE_RETURN_IF_ERROR(ReadString(item, "name", path, &call.name));
  std::string arguments;
  TROUPE_RETURN_IF_ERROR(ReadString(item, "arguments", path, &arguments));
  state.call = int(result_.message.tool_calls.size());
  deltas->push_back(stream_deltas::ToolCallStart(state.call, call.id, call.name));
  result_.message.tool_calls.push_back(std::move(call));
  return AppendArguments(state.call, std::move(arguments), deltas);
}

Status OpenAiResponsesStreamDecoder::FinishItem(int64_t output_index, const json& item,
                                                const std::string& path,
                                                std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(AddItem(output_index, item, path, deltas));
  Item& state = items_[output_index];
  if (state.done) return Status::Ok();
  state.done = true;
  if (state.type == "function_call") {
    std::string arguments;
    TROUPE_RETURN_IF_ERROR(ReadString(item, "arguments", path, &arguments));
    ToolCall& call = result_.message.tool_calls[size_t(state.call)];
    if (arguments.starts_with(call.arguments_json)) {
      TROUPE_RETURN_IF_ERROR(
          AppendArguments(state.call, arguments.substr(call.arguments_json.size()), deltas));
    } else if (!arguments.empty()) {
      call.arguments_json = std::move(arguments);
    }
    return Status::Ok();
  }
  if (state.type == "reasoning") {
    const json* encrypted = Find(item, "encrypted_content");
    if (encrypted != nullptr && !encrypted->is_string()) {
      return Status::InvalidArgument(Join(path, "encrypted_content") + " is not a string (it is " +
                                     json_fields::TypeName(*encrypted) + ")");
    }
    if (encrypted != nullptr) reasoning_items_.push_back(item);
    if (state.got_reasoning) return Status::Ok();
    // Not streamed: the summary parts the item holds.
    const json* parts = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadArray(item, "summary", path, &parts));
    for (size_t i = 0; parts != nullptr && i < parts->size(); ++i) {
      const std::string part_path = At(Join(path, "summary"), i);
      TROUPE_RETURN_IF_ERROR(RequireObject((*parts)[i], part_path));
      std::string text;
      TROUPE_RETURN_IF_ERROR(ReadString((*parts)[i], "text", part_path, &text));
      AppendReasoning(&state, int64_t(i), std::move(text), deltas);
    }
    return Status::Ok();
  }
  if (state.type != "message" || state.got_text) return Status::Ok();
  // Not streamed: the text and refusal parts the message holds.
  const json* content = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(item, "content", path, &content));
  for (size_t i = 0; content != nullptr && i < content->size(); ++i) {
    const std::string part_path = At(Join(path, "content"), i);
    const json& part = (*content)[i];
    TROUPE_RETURN_IF_ERROR(RequireObject(part, part_path));
    std::string type;
    TROUPE_RETURN_IF_ERROR(ReadString(part, "type", part_path, &type));
    if (type == "refusal") {
      TROUPE_RETURN_IF_ERROR(ReadString(part, "refusal", part_path, &result_.message.refusal));
    } else if (type == "output_text") {
      std::string text;
      TROUPE_RETURN_IF_ERROR(ReadString(part, "text", part_path, &text));
      if (!text.empty()) {
        result_.message.text += text;
        deltas->push_back(stream_deltas::Text(std::move(text)));
      }
    }
  }
  return Status::Ok();
}

Status OpenAiResponsesStreamDecoder::AppendArguments(int call, std::string fragment,
                                                     std::vector<StreamDelta>* deltas) {
  if (fragment.empty()) return Status::Ok();
  result_.message.tool_calls[size_t(call)].arguments_json += fragment;
  deltas->push_back(stream_deltas::ToolCallArguments(call, std::move(fragment)));
  return Status::Ok();
}

void OpenAiResponsesStreamDecoder::AppendReasoning(Item* item, int64_t summary_index,
                                                   std::string fragment,
                                                   std::vector<StreamDelta>* deltas) {
  item->got_reasoning = true;
  if (fragment.empty()) return;
  if (summary_index != item->summary_index) {
    // A new summary part (or item): a blank line from the reasoning before it.
    if (!result_.message.reasoning.empty()) fragment.insert(0, "\n\n");
    item->summary_index = summary_index;
  }
  result_.message.reasoning += fragment;
  deltas->push_back(stream_deltas::Reasoning(std::move(fragment)));
}

Status OpenAiResponsesStreamDecoder::ApplyResponse(const json& response, const std::string& path,
                                                   std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(RequireObject(response, path));
  if (result_.response_id.empty()) {
    TROUPE_RETURN_IF_ERROR(ReadString(response, "id", path, &result_.response_id));
  }
  if (result_.model.empty())
    TROUPE_RETURN_IF_ERROR(ReadString(response, "model", path, &result_.model));
  TROUPE_RETURN_IF_ERROR(ReadString(response, "status", path, &status_text_));
  if (status_text_ == "failed") {
    const json* error = Find(response, "error");
    return ServerError(error != nullptr ? *error : json(nullptr));
  }
  const json* output = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(response, "output", path, &output));
  for (size_t i = 0; output != nullptr && i < output->size(); ++i) {
    TROUPE_RETURN_IF_ERROR(
        FinishItem(int64_t(i), (*output)[i], At(Join(path, "output"), i), deltas));
  }
  const json* details = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(response, "incomplete_details", path, &details));
  if (details != nullptr) {
    TROUPE_RETURN_IF_ERROR(
        ReadString(*details, "reason", Join(path, "incomplete_details"), &incomplete_reason_));
  }
  const json* usage = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(response, "usage", path, &usage));
  if (usage != nullptr) {
    TROUPE_RETURN_IF_ERROR(ParseUsage(*usage, Join(path, "usage"), &result_.usage));
    deltas->push_back(stream_deltas::UsageSoFar(result_.usage));
  }
  if (status_text_ == "completed" || status_text_ == "incomplete") done_ = true;
  return Status::Ok();
}

Result<ChatResult> OpenAiResponsesStreamDecoder::Finish() const {
  if (!status_.ok()) return status_;
  if (!done_) {
    return Status::Unavailable(std::string(kWhere) + " stream: stream ended early after " +
                               std::to_string(events_) +
                               " events: the response was truncated (no response.completed)");
  }
  ChatResult result = result_;
  result.message.role = ChatRole::kAssistant;
  result.raw_finish_reason = incomplete_reason_.empty() ? status_text_ : incomplete_reason_;
  if (incomplete_reason_ == "max_output_tokens") {
    result.finish = FinishReason::kLength;
  } else if (incomplete_reason_ == "content_filter") {
    result.finish = FinishReason::kContentFilter;
  } else if (status_text_ == "incomplete") {
    result.finish = FinishReason::kOther;
  } else {
    result.finish =
        result.message.tool_calls.empty() ? FinishReason::kStop : FinishReason::kToolCalls;
  }
  for (ToolCall& call : result.message.tool_calls) {
    if (call.arguments_json.empty() && result.finish != FinishReason::kLength) {
      call.arguments_json = "{}";
    }
  }
  if (!result.message.refusal.empty()) result.finish = FinishReason::kRefusal;
  result.message.stop_reason = result.raw_finish_reason;
  if (!reasoning_items_.empty()) {
    result.message.provider_replay = {
        {kOpenAiResponsesReplayKey, {{"reasoning_items", reasoning_items_}}}};
  }
  return result;
}

Result<ChatResult> DecodeOpenAiResponsesResponse(std::string_view body) {
  const std::string where = std::string(kWhere) + " response";
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext(where);
  Status s = RequireObject(*parsed, "the body");
  if (s.ok()) {
    if (const json* error = Find(*parsed, "error")) s = ServerError(*error);
  }
  OpenAiResponsesStreamDecoder decoder;
  std::vector<StreamDelta> deltas;
  if (s.ok()) s = decoder.ApplyResponse(*parsed, "", &deltas);
  if (!s.ok()) return s.WithContext(where);
  if (!decoder.done()) {
    return Status::InvalidArgument(where + ": status is neither \"completed\" nor \"incomplete\"");
  }
  return decoder.Finish();
}

}  // namespace troupe
