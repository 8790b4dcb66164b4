#include "llm/openai_codec.h"

#include <algorithm>
#include <initializer_list>
#include <optional>
#include <utility>

#include "llm/json_fields.h"
#include "llm/openai_replay.h"
#include "llm/provider_error.h"
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

constexpr std::string_view kProvider = "openai";

json EncodeToolChoice(const std::string& choice) {
  if (choice == "auto" || choice == "none" || choice == "required") return choice;
  return json{{"type", "function"}, {"function", {{"name", choice}}}};
}

json EncodeMessage(const ChatMessage& m) {
  switch (m.role) {
    case ChatRole::kUser:
      return json{{"role", "user"}, {"content", m.text}};
    case ChatRole::kTool:
      return json{{"role", "tool"}, {"tool_call_id", m.tool_call_id}, {"content", m.text}};
    case ChatRole::kAssistant:
      break;
  }
  json out{{"role", "assistant"}};
  if (m.text.empty() && !m.tool_calls.empty()) {
    out["content"] = nullptr;
  } else {
    out["content"] = m.text;
  }
  if (!m.refusal.empty()) out["refusal"] = m.refusal;
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (const ToolCall& c : m.tool_calls) {
      calls.push_back({{"id", c.id},
                       {"type", "function"},
                       {"function",
                        {{"name", c.name},
                         {"arguments", c.arguments_json.empty() ? "{}" : c.arguments_json}}}});
    }
    out["tool_calls"] = std::move(calls);
  }
  openai_replay::AddReplay(m, &out);
  return out;
}

// The model id without a router's "vendor/" prefix ("openai/o3-mini" on OpenRouter).
std::string_view BareModel(std::string_view model) {
  if (size_t slash = model.rfind('/'); slash != std::string_view::npos) {
    model.remove_prefix(slash + 1);
  }
  return model;
}

bool StartsWithAny(std::string_view text, std::initializer_list<std::string_view> prefixes) {
  return std::any_of(prefixes.begin(), prefixes.end(),
                     [&](std::string_view p) { return text.starts_with(p); });
}

// OpenAI's own models, which take OpenAI-only fields (prompt_cache_key).
bool IsOpenAiModel(std::string_view model) {
  return StartsWithAny(BareModel(model), {"gpt-", "chatgpt-", "codex-", "o1", "o3", "o4"});
}

FinishReason MapFinishReason(std::string_view reason) {
  if (reason == "stop") return FinishReason::kStop;
  if (reason == "tool_calls" || reason == "function_call") return FinishReason::kToolCalls;
  if (reason == "length") return FinishReason::kLength;
  if (reason == "content_filter") return FinishReason::kContentFilter;
  return FinishReason::kOther;
}

// Applies the normalisations promised in openai_codec.h to an assembled reply.
void Normalise(ChatResult* result) {
  std::vector<ToolCall>& calls = result->message.tool_calls;
  result->finish = MapFinishReason(result->raw_finish_reason);
  for (size_t i = 0; i < calls.size(); ++i) {
    if (calls[i].id.empty()) calls[i].id = "call_" + std::to_string(i);
    // A call cut by the output limit keeps what arrived, so that it reads as incomplete.
    if (calls[i].arguments_json.empty() && result->finish != FinishReason::kLength) {
      calls[i].arguments_json = "{}";
    }
  }
  if (result->finish == FinishReason::kStop && !calls.empty()) {
    result->finish = FinishReason::kToolCalls;
  }
  if (!result->message.refusal.empty()) result->finish = FinishReason::kRefusal;
  result->message.stop_reason = result->raw_finish_reason;
}

Status ParseUsage(const json& usage, const std::string& path, Usage* out) {
  int64_t prompt = 0;
  int64_t completion = 0;
  int64_t cached = 0;
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "prompt_tokens", path, &prompt));
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "completion_tokens", path, &completion));
  const json* details = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(usage, "prompt_tokens_details", path, &details));
  bool found_cached = false;
  if (details != nullptr) {
    TROUPE_RETURN_IF_ERROR(ReadInt(*details, "cached_tokens", Join(path, "prompt_tokens_details"),
                                   &cached, &found_cached));
  }
  if (!found_cached) {
    TROUPE_RETURN_IF_ERROR(ReadInt(usage, "prompt_cache_hit_tokens", path, &cached));
  }
  int64_t reasoning = 0;
  const json* completion_details = nullptr;
  TROUPE_RETURN_IF_ERROR(
      ReadObject(usage, "completion_tokens_details", path, &completion_details));
  if (completion_details != nullptr) {
    TROUPE_RETURN_IF_ERROR(ReadInt(*completion_details, "reasoning_tokens",
                                   Join(path, "completion_tokens_details"), &reasoning));
  }
  if (prompt < 0 || completion < 0 || cached < 0 || reasoning < 0) {
    return Status::InvalidArgument(path + " has a negative token count");
  }
  out->input_tokens = std::max<int64_t>(0, prompt - cached);
  out->reasoning_tokens = reasoning;
  out->cache_read_tokens = cached;
  out->cache_write_tokens = 0;
  out->output_tokens = completion;
  return Status::Ok();
}

// The Status for an error object (or string) the server put in a response or chunk, for the
// caller to prefix with where it was.
Status ServerError(const json& error) {
  std::string kind;
  std::string message;
  int64_t http_code = 0;
  if (error.is_string()) {
    message = error.get<std::string>();
  } else if (error.is_object()) {
    // Best effort: this is already an error path, so fields of the wrong type are skipped.
    (void)ReadString(error, "message", "", &message);
    if (!ReadString(error, "code", "", &kind).ok() || kind.empty()) {
      (void)ReadString(error, "type", "", &kind);
    }
    (void)ReadInt(error, "code", "", &http_code);
  }
  if (message.empty()) message = json_fields::Snippet(error.dump(), 500);
  StatusCode code = StatusCode::kUnavailable;  // the request was accepted: the server failed
  if (http_code >= 400 && http_code <= 599) code = StatusCodeForHttpStatus(int(http_code));
  std::string text = "the server sent an error";
  if (!kind.empty()) text += " " + kind;
  text += ": " + message;
  return Status(code, std::move(text));
}

// Reads `function.arguments`: a string, or an object some servers send in its place.
Status ReadArguments(const json& function, const std::string& path, std::string* out) {
  const json* args = Find(function, "arguments");
  if (args == nullptr) return Status::Ok();
  if (args->is_string()) {
    *out = args->get<std::string>();
  } else if (args->is_object()) {
    *out = args->dump();
  } else {
    return Status::InvalidArgument(Join(path, "arguments") + " is not a string (it is " +
                                   json_fields::TypeName(*args) + ")");
  }
  return Status::Ok();
}

// Reads the reasoning text of a delta or message (see OpenAiStreamDecoder for the precedence).
// `*from_reasoning_content` tells whether it came in `reasoning_content` (DeepSeek's field,
// which must go back: openai_replay.h).
Status ReadReasoning(const json& object, const std::string& path, std::string* out,
                     bool* from_reasoning_content) {
  bool found = false;
  std::string text;
  TROUPE_RETURN_IF_ERROR(ReadString(object, "reasoning_content", path, &text, &found));
  if (found) *from_reasoning_content = true;
  if (!found) TROUPE_RETURN_IF_ERROR(ReadString(object, "reasoning", path, &text));
  *out += text;
  return Status::Ok();
}

// Appends the text of a content part list (Mistral's reasoning models) to `*text` and its
// thinking to `*reasoning`: {"type":"text","text":…} parts are text, {"type":"thinking",
// "thinking":[{"type":"text","text":…}, …]} parts are reasoning; parts of other types
// (references, images) carry neither and are skipped.
Status ReadContentParts(const json& parts, const std::string& path, std::string* text,
                        std::string* reasoning) {
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string part_path = At(path, i);
    const json& part = parts[i];
    if (!part.is_object()) {
      return Status::InvalidArgument(part_path + " is not an object (it is " +
                                     json_fields::TypeName(part) + ")");
    }
    std::string type;
    TROUPE_RETURN_IF_ERROR(ReadString(part, "type", part_path, &type));
    if (type == "text") {
      std::string fragment;
      TROUPE_RETURN_IF_ERROR(ReadString(part, "text", part_path, &fragment));
      *text += fragment;
    } else if (type == "thinking") {
      const json* thinking = nullptr;
      TROUPE_RETURN_IF_ERROR(ReadArray(part, "thinking", part_path, &thinking));
      if (thinking != nullptr) {
        std::string ignored;
        TROUPE_RETURN_IF_ERROR(
            ReadContentParts(*thinking, Join(part_path, "thinking"), reasoning, &ignored));
      }
    }
  }
  return Status::Ok();
}

// Reads `content`: a string, or a list of parts (ReadContentParts); appends to `*text` and
// `*reasoning`.
Status ReadContent(const json& object, const std::string& path, std::string* text,
                   std::string* reasoning) {
  const json* content = Find(object, "content");
  if (content != nullptr && content->is_array()) {
    return ReadContentParts(*content, Join(path, "content"), text, reasoning);
  }
  std::string fragment;  // a string, or the error naming the wrong type
  TROUPE_RETURN_IF_ERROR(ReadString(object, "content", path, &fragment));
  *text += fragment;
  return Status::Ok();
}

Status RequireObject(const json& value, const std::string& what) {
  if (value.is_object()) return Status::Ok();
  return Status::InvalidArgument(what + " is not an object (it is " + json_fields::TypeName(value) +
                                 ")");
}

}  // namespace

json EncodeOpenAiRequest(const ChatRequest& request) {
  json messages = json::array();
  if (!request.system.empty()) messages.push_back(EncodeOpenAiSystemMessage(request.system));
  for (json& m : EncodeOpenAiMessages(request)) messages.push_back(std::move(m));
  json out = EncodeOpenAiOptions(request);
  out["messages"] = std::move(messages);
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const ToolSpec& t : request.tools) tools.push_back(EncodeOpenAiTool(t));
    out["tools"] = std::move(tools);
  }
  return out;
}

json EncodeOpenAiSystemMessage(const std::string& system) {
  return {{"role", "system"}, {"content", system}};
}

json EncodeOpenAiMessages(const ChatRequest& request) {
  json messages = json::array();
  for (const ChatMessage& m : request.messages) messages.push_back(EncodeMessage(m));
  return messages;
}

json EncodeOpenAiTool(const ToolSpec& tool) {
  return {{"type", "function"},
          {"function",
           {{"name", tool.name},
            {"description", tool.description},
            {"parameters", tool.input_schema}}}};
}

bool IsOpenAiReasoningModel(std::string_view model) {
  model = BareModel(model);
  return StartsWithAny(model, {"o1", "o3", "o4", "gpt-5"}) && !model.starts_with("gpt-5-chat");
}

json EncodeOpenAiOptions(const ChatRequest& request) {
  json out{{"model", request.model}};
  if (!request.tools.empty() && !request.tool_choice.empty()) {
    out["tool_choice"] = EncodeToolChoice(request.tool_choice);
  }
  const bool reasoning_model = IsOpenAiReasoningModel(request.model);
  if (request.temperature.has_value() && !reasoning_model) {
    out["temperature"] = *request.temperature;
  }
  if (request.max_tokens > 0) {
    out[reasoning_model ? "max_completion_tokens" : "max_tokens"] = request.max_tokens;
  }
  if (!request.reasoning.effort.empty()) out["reasoning_effort"] = request.reasoning.effort;
  if (request.caching.enabled && !request.caching.key.empty() && IsOpenAiModel(request.model)) {
    out["prompt_cache_key"] = request.caching.key;
  }
  out["stream"] = request.stream;
  if (request.stream) out["stream_options"] = {{"include_usage", true}};
  return out;
}

Status OpenAiStreamDecoder::OnEvent(const SseEvent& event, std::vector<StreamDelta>* deltas) {
  if (!status_.ok() || done_) return status_;
  std::string_view data = event.data;
  const size_t begin = data.find_first_not_of(" \t\r\n");
  if (begin == std::string_view::npos) return status_;  // an empty keep-alive
  data = data.substr(begin, data.find_last_not_of(" \t\r\n") - begin + 1);
  if (data == "[DONE]") {
    done_ = true;
    return status_;
  }
  ++chunks_;
  const std::string where = "openai stream: chunk " + std::to_string(chunks_);
  Result<json> chunk = json_fields::ParseJson(data);
  if (!chunk.ok()) {
    status_ = chunk.status().WithContext(where);
  } else if (event.event == "error") {
    const json* error = Find(*chunk, "error");
    status_ = ServerError(error != nullptr ? *error : *chunk).WithContext(where);
  } else {
    status_ = ProcessChunk(*chunk, deltas).WithContext(where);
  }
  return status_;
}

Status OpenAiStreamDecoder::ProcessChunk(const json& chunk, std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(RequireObject(chunk, "the chunk"));
  if (const json* error = Find(chunk, "error")) {
    return ServerError(*error);
  }
  if (result_.response_id.empty()) {
    TROUPE_RETURN_IF_ERROR(ReadString(chunk, "id", "", &result_.response_id));
  }
  if (result_.model.empty()) TROUPE_RETURN_IF_ERROR(ReadString(chunk, "model", "", &result_.model));

  const json* choices = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadArray(chunk, "choices", "", &choices));
  if (choices != nullptr && !choices->empty()) {
    const json& choice = (*choices)[0];
    TROUPE_RETURN_IF_ERROR(RequireObject(choice, "choices[0]"));
    const json* delta = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(choice, "delta", "choices[0]", &delta));
    if (delta != nullptr) {
      const std::string path = "choices[0].delta";
      std::string text;
      std::string reasoning;
      TROUPE_RETURN_IF_ERROR(ReadContent(*delta, path, &text, &reasoning));
      TROUPE_RETURN_IF_ERROR(ReadReasoning(*delta, path, &reasoning, &reasoning_content_));
      if (!reasoning.empty()) {
        result_.message.reasoning += reasoning;
        deltas->push_back(stream_deltas::Reasoning(std::move(reasoning)));
      }
      if (!text.empty()) {
        result_.message.text += text;
        deltas->push_back(stream_deltas::Text(std::move(text)));
      }
      std::string refusal;
      TROUPE_RETURN_IF_ERROR(ReadString(*delta, "refusal", path, &refusal));
      result_.message.refusal += refusal;
      TROUPE_RETURN_IF_ERROR(
          openai_replay::AppendReasoningDetails(*delta, path, &reasoning_details_));
      const json* tool_calls = nullptr;
      TROUPE_RETURN_IF_ERROR(ReadArray(*delta, "tool_calls", path, &tool_calls));
      if (tool_calls != nullptr) {
        for (size_t i = 0; i < tool_calls->size(); ++i) {
          TROUPE_RETURN_IF_ERROR(
              ProcessToolCallDelta((*tool_calls)[i], At(Join(path, "tool_calls"), i), deltas));
        }
      }
      // The legacy function-calling stream: one call, streamed like a tool call at index 0.
      const json* function_call = nullptr;
      TROUPE_RETURN_IF_ERROR(ReadObject(*delta, "function_call", path, &function_call));
      if (function_call != nullptr) {
        TROUPE_RETURN_IF_ERROR(ProcessToolCallDelta(
            json{{"index", 0}, {"function", *function_call}}, Join(path, "function_call"), deltas));
      }
    }
    bool found = false;
    TROUPE_RETURN_IF_ERROR(
        ReadString(choice, "finish_reason", "choices[0]", &result_.raw_finish_reason, &found));
    if (found) saw_finish_reason_ = true;
  }

  const json* usage = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(chunk, "usage", "", &usage));
  if (usage != nullptr) {
    TROUPE_RETURN_IF_ERROR(ParseUsage(*usage, "usage", &result_.usage));
    deltas->push_back(stream_deltas::UsageSoFar(result_.usage));
  }
  return Status::Ok();
}

Status OpenAiStreamDecoder::ProcessToolCallDelta(const json& delta, const std::string& path,
                                                 std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(RequireObject(delta, path));
  int64_t index = 0;
  bool has_index = false;
  TROUPE_RETURN_IF_ERROR(ReadInt(delta, "index", path, &index, &has_index));
  if (index < 0) return Status::InvalidArgument(Join(path, "index") + " is negative");
  std::string id;
  TROUPE_RETURN_IF_ERROR(ReadString(delta, "id", path, &id));
  const json* function = nullptr;
  TROUPE_RETURN_IF_ERROR(ReadObject(delta, "function", path, &function));
  std::string name;
  std::string arguments;
  if (function != nullptr) {
    const std::string function_path = Join(path, "function");
    TROUPE_RETURN_IF_ERROR(ReadString(*function, "name", function_path, &name));
    TROUPE_RETURN_IF_ERROR(ReadArguments(*function, function_path, &arguments));
  }
  json extra;
  TROUPE_RETURN_IF_ERROR(openai_replay::ReadToolCallExtra(delta, path, &extra));

  // The latest call at this wire index (any index when the delta has none).
  std::optional<size_t> latest;
  for (size_t i = calls_.size(); i-- > 0;) {
    if (!has_index || calls_[i].wire_index == index) {
      latest = i;
      break;
    }
  }
  std::optional<size_t> target;
  if (!id.empty()) {
    for (size_t i = 0; i < calls_.size(); ++i) {
      if (calls_[i].call.id == id) target = i;
    }
    if (!target && latest && calls_[*latest].call.id.empty()) {
      target = latest;  // the id came after the call's first delta
      calls_[*latest].call.id = id;
    }
  } else {
    target = latest;
  }

  if (!target) {
    Call call;
    call.wire_index = has_index ? index : int64_t(calls_.size());
    call.call.id = id;
    call.call.name = name;
    target = calls_.size();
    calls_.push_back(std::move(call));
    deltas->push_back(stream_deltas::ToolCallStart(int(*target), std::move(id), std::move(name)));
  } else if (!name.empty() && name != calls_[*target].call.name) {
    calls_[*target].call.name += name;
  }
  if (!extra.is_null()) calls_[*target].call.provider_extra = std::move(extra);
  if (!arguments.empty()) {
    calls_[*target].call.arguments_json += arguments;
    deltas->push_back(stream_deltas::ToolCallArguments(int(*target), std::move(arguments)));
  }
  return Status::Ok();
}

Result<ChatResult> OpenAiStreamDecoder::Finish() const {
  if (!status_.ok()) return status_;
  if (!done_ && !saw_finish_reason_) {
    return Status::Unavailable("openai stream: stream ended early after " +
                               std::to_string(chunks_) +
                               " chunks: the response was truncated (no finish_reason, no [DONE])");
  }
  ChatResult result = result_;
  result.message.role = ChatRole::kAssistant;
  for (const Call& c : calls_) result.message.tool_calls.push_back(c.call);
  result.message.provider_replay = openai_replay::MakeReplay(
      reasoning_content_ ? result.message.reasoning : std::string(), reasoning_details_);
  Normalise(&result);
  return result;
}

Result<ChatResult> DecodeOpenAiResponse(std::string_view body) {
  constexpr std::string_view kWhere = "openai response";
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext(std::string(kWhere));
  const json& root = *parsed;
  Status s = RequireObject(root, "the body");
  if (!s.ok()) return s.WithContext(std::string(kWhere));
  if (const json* error = Find(root, "error")) {
    return ServerError(*error).WithContext(std::string(kWhere));
  }

  ChatResult result;
  result.message.role = ChatRole::kAssistant;
  s = [&]() -> Status {
    TROUPE_RETURN_IF_ERROR(ReadString(root, "id", "", &result.response_id));
    TROUPE_RETURN_IF_ERROR(ReadString(root, "model", "", &result.model));
    const json* choices = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadArray(root, "choices", "", &choices));
    if (choices == nullptr || choices->empty()) {
      return Status::InvalidArgument("choices is missing or empty");
    }
    const json& choice = (*choices)[0];
    TROUPE_RETURN_IF_ERROR(RequireObject(choice, "choices[0]"));
    const json* message = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(choice, "message", "choices[0]", &message));
    if (message == nullptr) return Status::InvalidArgument("choices[0].message is missing");
    const std::string path = "choices[0].message";
    TROUPE_RETURN_IF_ERROR(
        ReadContent(*message, path, &result.message.text, &result.message.reasoning));
    bool reasoning_content = false;
    TROUPE_RETURN_IF_ERROR(
        ReadReasoning(*message, path, &result.message.reasoning, &reasoning_content));
    TROUPE_RETURN_IF_ERROR(ReadString(*message, "refusal", path, &result.message.refusal));
    json details;
    TROUPE_RETURN_IF_ERROR(openai_replay::AppendReasoningDetails(*message, path, &details));
    result.message.provider_replay = openai_replay::MakeReplay(
        reasoning_content ? result.message.reasoning : std::string(), details);
    const json* calls = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadArray(*message, "tool_calls", path, &calls));
    if (calls != nullptr) {
      for (size_t i = 0; i < calls->size(); ++i) {
        const std::string call_path = At(Join(path, "tool_calls"), i);
        const json& call = (*calls)[i];
        TROUPE_RETURN_IF_ERROR(RequireObject(call, call_path));
        ToolCall out;
        TROUPE_RETURN_IF_ERROR(ReadString(call, "id", call_path, &out.id));
        const json* function = nullptr;
        TROUPE_RETURN_IF_ERROR(ReadObject(call, "function", call_path, &function));
        if (function == nullptr) {
          return Status::InvalidArgument(Join(call_path, "function") + " is missing");
        }
        const std::string function_path = Join(call_path, "function");
        TROUPE_RETURN_IF_ERROR(ReadString(*function, "name", function_path, &out.name));
        TROUPE_RETURN_IF_ERROR(ReadArguments(*function, function_path, &out.arguments_json));
        TROUPE_RETURN_IF_ERROR(openai_replay::ReadToolCallExtra(call, call_path, &out.provider_extra));
        result.message.tool_calls.push_back(std::move(out));
      }
    }
    const json* function_call = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(*message, "function_call", path, &function_call));
    if (function_call != nullptr) {
      ToolCall out;
      const std::string function_path = Join(path, "function_call");
      TROUPE_RETURN_IF_ERROR(ReadString(*function_call, "name", function_path, &out.name));
      TROUPE_RETURN_IF_ERROR(ReadArguments(*function_call, function_path, &out.arguments_json));
      result.message.tool_calls.push_back(std::move(out));
    }
    TROUPE_RETURN_IF_ERROR(
        ReadString(choice, "finish_reason", "choices[0]", &result.raw_finish_reason));
    const json* usage = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(root, "usage", "", &usage));
    if (usage != nullptr) TROUPE_RETURN_IF_ERROR(ParseUsage(*usage, "usage", &result.usage));
    return Status::Ok();
  }();
  if (!s.ok()) return s.WithContext(std::string(kWhere));
  Normalise(&result);
  return result;
}

Status DecodeOpenAiError(int http_status, std::string_view body) {
  Result<json> parsed = json_fields::ParseJson(body);
  if (parsed.ok()) {
    const json* root = &*parsed;
    if (root->is_array() && !root->empty()) root = &(*root)[0];  // Gemini wraps it in a list
    const json* error = Find(*root, "error");
    if (error == nullptr && Find(*root, "message") != nullptr) error = root;  // vLLM
    if (error != nullptr && error->is_string()) {
      return ProviderHttpError(kProvider, http_status, "", error->get<std::string>());
    }
    if (error != nullptr && error->is_object()) {
      std::string message;
      std::string kind;
      (void)ReadString(*error, "message", "", &message);
      if (!ReadString(*error, "code", "", &kind).ok() || kind.empty()) {
        (void)ReadString(*error, "type", "", &kind);
      }
      if (!message.empty()) return ProviderHttpError(kProvider, http_status, kind, message);
    }
  }
  return ProviderHttpError(kProvider, http_status, "", BodyForMessage(body));
}

}  // namespace troupe
