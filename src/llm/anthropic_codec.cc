#include "llm/anthropic_codec.h"

#include <algorithm>
#include <utility>

#include "llm/anthropic_replay.h"
#include "llm/json_fields.h"
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

constexpr std::string_view kProvider = "anthropic";

json EncodeToolChoice(const std::string& choice) {
  if (choice == "auto" || choice == "none") return json{{"type", choice}};
  if (choice == "required") return json{{"type", "any"}};
  return json{{"type", "tool"}, {"name", choice}};
}

// The `input` of a tool_use block for a call's arguments (see EncodeAnthropicRequest).
json ToolInput(const std::string& arguments_json) {
  if (arguments_json.empty()) return json::object();
  Result<json> parsed = json_fields::ParseJson(arguments_json);
  if (!parsed.ok() || !parsed->is_object()) return json::object();
  return std::move(parsed).value();
}

json CacheControl() { return json{{"type", "ephemeral"}}; }

// Builds the wire messages, merging consecutive blocks of the same role into one message.
class MessageList {
 public:
  void Add(const char* role, json block, bool tool_result = false) {
    if (messages_.empty() || messages_.back().role != role) messages_.push_back({role});
    Message& m = messages_.back();
    (tool_result ? m.tool_results : m.blocks).push_back(std::move(block));
  }

  // `breakpoints`: how many of the last user messages get a cache_control breakpoint on their
  // last block.
  json ToJson(int breakpoints) && {
    json out = json::array();
    for (Message& m : messages_) {
      json content = std::move(m.tool_results);
      for (json& block : m.blocks) content.push_back(std::move(block));
      out.push_back({{"role", m.role}, {"content", std::move(content)}});
    }
    for (auto it = out.rbegin(); it != out.rend() && breakpoints > 0; ++it) {
      if ((*it)["role"] != "user") continue;
      (*it)["content"].back()["cache_control"] = CacheControl();
      --breakpoints;
    }
    return out;
  }

 private:
  struct Message {
    std::string role;
    json tool_results = json::array();  // first: the API wants tool_result blocks before others
    json blocks = json::array();
  };
  std::vector<Message> messages_;
};

FinishReason MapStopReason(std::string_view reason) {
  if (reason == "end_turn" || reason == "stop_sequence") return FinishReason::kStop;
  if (reason == "tool_use") return FinishReason::kToolCalls;
  if (reason == "max_tokens" || reason == "model_context_window_exceeded") {
    return FinishReason::kLength;
  }
  if (reason == "refusal") return FinishReason::kRefusal;
  return FinishReason::kOther;
}

void Normalise(ChatResult* result) {
  result->finish = MapStopReason(result->raw_finish_reason);
  ChatMessage& m = result->message;
  m.stop_reason = result->raw_finish_reason;
  if (result->finish != FinishReason::kLength) {
    for (ToolCall& call : m.tool_calls) {
      if (call.arguments_json.empty()) call.arguments_json = "{}";
    }
  }
  if (result->finish == FinishReason::kRefusal) {
    m.refusal = "the model declined to continue (stop_reason \"refusal\")";
  }
}

// Overwrites the counts `usage` has; Anthropic sends some in message_start, the rest later.
Status ReadUsage(const json& usage, const std::string& path, Usage* out) {
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "input_tokens", path, &out->input_tokens));
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "output_tokens", path, &out->output_tokens));
  TROUPE_RETURN_IF_ERROR(ReadInt(usage, "cache_read_input_tokens", path, &out->cache_read_tokens));
  TROUPE_RETURN_IF_ERROR(
      ReadInt(usage, "cache_creation_input_tokens", path, &out->cache_write_tokens));
  if (out->input_tokens < 0 || out->output_tokens < 0 || out->cache_read_tokens < 0 ||
      out->cache_write_tokens < 0) {
    return Status::InvalidArgument(path + " has a negative token count");
  }
  return Status::Ok();
}

StatusCode CodeForErrorType(std::string_view type) {
  if (type == "invalid_request_error" || type == "request_too_large") {
    return StatusCode::kInvalidArgument;
  }
  if (type == "authentication_error" || type == "permission_error" || type == "billing_error") {
    return StatusCode::kFailedPrecondition;
  }
  if (type == "not_found_error") return StatusCode::kNotFound;
  return StatusCode::kUnavailable;  // overloaded_error, api_error, rate_limit_error, timeouts
}

// "anthropic: <type>: <message>" for the `error` object of an error event or body.
Status ErrorStatus(const json& root) {
  const json* error = Find(root, "error");
  if (error == nullptr) error = &root;
  std::string type;
  std::string message;
  // Best effort: this is already an error path, so fields of the wrong type are skipped.
  (void)ReadString(*error, "type", "", &type);
  (void)ReadString(*error, "message", "", &message);
  if (message.empty()) message = json_fields::Snippet(root.dump(), 500);
  std::string text(kProvider);
  if (!type.empty()) text += ": " + type;
  text += ": " + message;
  return Status(CodeForErrorType(type), std::move(text));
}

Status RequireObject(const json& value, const std::string& what) {
  if (value.is_object()) return Status::Ok();
  return Status::InvalidArgument(what + " is not an object (it is " + json_fields::TypeName(value) +
                                 ")");
}

Status RequireObjectMember(const json& object, const char* key, const std::string& path,
                           const json** out) {
  TROUPE_RETURN_IF_ERROR(ReadObject(object, key, path, out));
  if (*out == nullptr) return Status::InvalidArgument(Join(path, key) + " is missing");
  return Status::Ok();
}

bool IsKnownEventName(std::string_view name) {
  return name == "message" || name == "message_start" || name == "content_block_start" ||
         name == "content_block_delta" || name == "content_block_stop" || name == "message_delta" ||
         name == "message_stop" || name == "error";
}

}  // namespace

json EncodeAnthropicRequest(const ChatRequest& request) {
  const bool cached = request.caching.enabled;
  json out = EncodeAnthropicOptions(request);
  if (!request.system.empty()) {
    out["system"] = cached ? EncodeAnthropicCachedSystem(request.system) : json(request.system);
  }
  out["messages"] = EncodeAnthropicMessages(request);
  if (!request.tools.empty()) {
    json tools = json::array();
    for (const ToolSpec& t : request.tools) tools.push_back(EncodeAnthropicTool(t));
    if (cached) tools.back() = EncodeAnthropicCachedTool(request.tools.back());
    out["tools"] = std::move(tools);
  }
  return out;
}

json EncodeAnthropicTool(const ToolSpec& tool) {
  return {
      {"name", tool.name}, {"description", tool.description}, {"input_schema", tool.input_schema}};
}

json EncodeAnthropicCachedTool(const ToolSpec& tool) {
  json out = EncodeAnthropicTool(tool);
  out["cache_control"] = CacheControl();
  return out;
}

json EncodeAnthropicCachedSystem(const std::string& system) {
  return json::array({{{"type", "text"}, {"text", system}, {"cache_control", CacheControl()}}});
}

json EncodeAnthropicOptions(const ChatRequest& request) {
  const std::optional<int>& budget = request.reasoning.budget_tokens;
  int max_tokens = request.max_tokens;
  if (budget.has_value() && max_tokens <= *budget) max_tokens = *budget + request.max_tokens;
  json out{{"model", request.model}, {"max_tokens", max_tokens}};
  if (!request.tools.empty() && !request.tool_choice.empty()) {
    const bool forced = request.tool_choice != "auto" && request.tool_choice != "none";
    out["tool_choice"] = EncodeToolChoice(budget.has_value() && forced ? "auto" : request.tool_choice);
  }
  if (budget.has_value()) {
    out["thinking"] = {{"type", "enabled"}, {"budget_tokens", *budget}};
  } else if (request.temperature.has_value()) {
    out["temperature"] = *request.temperature;
  }
  out["stream"] = request.stream;
  return out;
}

json EncodeAnthropicMessages(const ChatRequest& request) {
  MessageList messages;
  for (const ChatMessage& m : request.messages) {
    switch (m.role) {
      case ChatRole::kUser:
        if (!m.text.empty()) messages.Add("user", {{"type", "text"}, {"text", m.text}});
        break;
      case ChatRole::kTool: {
        json block{{"type", "tool_result"}, {"tool_use_id", m.tool_call_id}};
        if (!m.text.empty()) block["content"] = m.text;
        if (m.is_error) block["is_error"] = true;
        messages.Add("user", std::move(block), /*tool_result=*/true);
        break;
      }
      case ChatRole::kAssistant: {
        const size_t calls = m.tool_calls.size();
        std::vector<std::vector<json>> kept = anthropic_replay::Groups(m, int(calls));
        auto add_kept = [&](size_t group) {
          for (json& block : kept[group]) messages.Add("assistant", std::move(block));
        };
        if (!kept.empty()) {
          add_kept(0);
        } else if (!m.reasoning.empty() && !m.reasoning_signature.empty()) {
          messages.Add("assistant", {{"type", "thinking"},
                                     {"thinking", m.reasoning},
                                     {"signature", m.reasoning_signature}});
        }
        if (!m.text.empty()) messages.Add("assistant", {{"type", "text"}, {"text", m.text}});
        for (size_t i = 0; i < calls; ++i) {
          if (i > 0 && !kept.empty()) add_kept(i);  // group 0 went before the text
          const ToolCall& c = m.tool_calls[i];
          messages.Add("assistant", {{"type", "tool_use"},
                                     {"id", c.id},
                                     {"name", c.name},
                                     {"input", ToolInput(c.arguments_json)}});
        }
        if (calls > 0 && !kept.empty()) add_kept(calls);
        break;
      }
    }
  }

  return std::move(messages).ToJson(request.caching.enabled ? 2 : 0);
}

Status AnthropicStreamDecoder::OnEvent(const SseEvent& event, std::vector<StreamDelta>* deltas) {
  if (!status_.ok() || done_) return status_;
  ++events_;
  if (!IsKnownEventName(event.event)) return status_;  // ping, and types added after this code
  const std::string where = "anthropic stream: event " + std::to_string(events_);
  Result<json> data = json_fields::ParseJson(event.data);
  if (!data.ok()) {
    status_ = data.status().WithContext(where + " (" + event.event + ")");
    return status_;
  }
  std::string type = event.event;
  if (Status s = ReadString(*data, "type", "", &type); !s.ok()) {
    status_ = s.WithContext(where + " (" + event.event + ")");
    return status_;
  }
  if (type == "error") {
    status_ = ErrorStatus(*data);
  } else {
    status_ = ProcessEvent(type, *data, deltas).WithContext(where + " (" + type + ")");
  }
  return status_;
}

Status AnthropicStreamDecoder::ProcessEvent(const std::string& type, const json& data,
                                            std::vector<StreamDelta>* deltas) {
  TROUPE_RETURN_IF_ERROR(RequireObject(data, "the event data"));
  if (type == "message_start") {
    const json* message = nullptr;
    TROUPE_RETURN_IF_ERROR(RequireObjectMember(data, "message", "", &message));
    TROUPE_RETURN_IF_ERROR(ReadString(*message, "id", "message", &result_.response_id));
    TROUPE_RETURN_IF_ERROR(ReadString(*message, "model", "message", &result_.model));
    const json* usage = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(*message, "usage", "message", &usage));
    if (usage != nullptr) {
      TROUPE_RETURN_IF_ERROR(ReadUsage(*usage, "message.usage", &result_.usage));
      deltas->push_back(stream_deltas::UsageSoFar(result_.usage));
    }
  } else if (type == "content_block_start") {
    return StartBlock(data, deltas);
  } else if (type == "content_block_delta") {
    return DeltaBlock(data, deltas);
  } else if (type == "content_block_stop") {
    return StopBlock(data);
  } else if (type == "message_delta") {
    const json* delta = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(data, "delta", "", &delta));
    if (delta != nullptr) {
      TROUPE_RETURN_IF_ERROR(
          ReadString(*delta, "stop_reason", "delta", &result_.raw_finish_reason));
    }
    const json* usage = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(data, "usage", "", &usage));
    if (usage != nullptr) {
      TROUPE_RETURN_IF_ERROR(ReadUsage(*usage, "usage", &result_.usage));
      deltas->push_back(stream_deltas::UsageSoFar(result_.usage));
    }
  } else if (type == "message_stop") {
    done_ = true;
  }
  return Status::Ok();  // ping, and unknown types
}

Status AnthropicStreamDecoder::FindBlock(const json& data, int64_t* index, Block** block) {
  bool found = false;
  TROUPE_RETURN_IF_ERROR(ReadInt(data, "index", "", index, &found));
  if (!found) return Status::InvalidArgument("index is missing");
  auto it = blocks_.find(*index);
  *block = it == blocks_.end() ? nullptr : &it->second;
  return Status::Ok();
}

Status AnthropicStreamDecoder::StartBlock(const json& data, std::vector<StreamDelta>* deltas) {
  int64_t index = 0;
  Block* existing = nullptr;
  TROUPE_RETURN_IF_ERROR(FindBlock(data, &index, &existing));
  if (existing != nullptr) {
    return Status::InvalidArgument("content block " + std::to_string(index) + " started twice");
  }
  const json* cb = nullptr;
  TROUPE_RETURN_IF_ERROR(RequireObjectMember(data, "content_block", "", &cb));
  std::string type;
  TROUPE_RETURN_IF_ERROR(ReadString(*cb, "type", "content_block", &type));
  Block block;
  block.tool_calls_before = int(tool_calls_.size());
  if (type == "text") {
    block.type = BlockType::kText;
    std::string text;
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "text", "content_block", &text));
    if (!text.empty()) {
      result_.message.text += text;
      deltas->push_back(stream_deltas::Text(std::move(text)));
    }
  } else if (type == "thinking") {
    block.type = BlockType::kThinking;
    std::string thinking;
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "thinking", "content_block", &thinking));
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "signature", "content_block", &block.signature));
    if (!block.signature.empty()) result_.message.reasoning_signature = block.signature;
    if (!thinking.empty()) {
      block.thinking = thinking;
      result_.message.reasoning += thinking;
      deltas->push_back(stream_deltas::Reasoning(std::move(thinking)));
    }
  } else if (type == "redacted_thinking") {
    block.type = BlockType::kRedactedThinking;
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "data", "content_block", &block.data));
  } else if (type == "tool_use") {
    block.type = BlockType::kToolUse;
    ToolCall call;
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "id", "content_block", &call.id));
    TROUPE_RETURN_IF_ERROR(ReadString(*cb, "name", "content_block", &call.name));
    const json* input = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(*cb, "input", "content_block", &input));
    if (input != nullptr && !input->empty()) block.start_input = input->dump();
    block.tool_position = int(tool_calls_.size());
    deltas->push_back(stream_deltas::ToolCallStart(block.tool_position, call.id, call.name));
    tool_calls_.push_back(std::move(call));
  }
  blocks_.emplace(index, std::move(block));
  return Status::Ok();
}

Status AnthropicStreamDecoder::DeltaBlock(const json& data, std::vector<StreamDelta>* deltas) {
  int64_t index = 0;
  Block* block = nullptr;
  TROUPE_RETURN_IF_ERROR(FindBlock(data, &index, &block));
  const std::string name = "content block " + std::to_string(index);
  if (block == nullptr) return Status::InvalidArgument("delta for " + name + ", never started");
  if (!block->open) return Status::InvalidArgument("delta for " + name + ", already stopped");
  if (block->type == BlockType::kIgnored) return Status::Ok();
  const json* delta = nullptr;
  TROUPE_RETURN_IF_ERROR(RequireObjectMember(data, "delta", "", &delta));
  std::string type;
  TROUPE_RETURN_IF_ERROR(ReadString(*delta, "type", "delta", &type));

  // Each known delta type: the block type it belongs to, and the field carrying the fragment.
  BlockType expected;
  const char* field;
  if (type == "text_delta") {
    expected = BlockType::kText;
    field = "text";
  } else if (type == "input_json_delta") {
    expected = BlockType::kToolUse;
    field = "partial_json";
  } else if (type == "thinking_delta") {
    expected = BlockType::kThinking;
    field = "thinking";
  } else if (type == "signature_delta") {
    expected = BlockType::kThinking;
    field = "signature";
  } else {
    return Status::Ok();  // citations_delta, and types added after this code
  }
  if (block->type != expected) {
    return Status::InvalidArgument(type + " for " + name + ", which is of another type");
  }
  std::string fragment;
  TROUPE_RETURN_IF_ERROR(ReadString(*delta, field, "delta", &fragment));
  if (type == "signature_delta") {
    block->signature += fragment;
    result_.message.reasoning_signature = block->signature;
    return Status::Ok();
  }
  if (fragment.empty()) return Status::Ok();
  if (type == "text_delta") {
    result_.message.text += fragment;
    deltas->push_back(stream_deltas::Text(std::move(fragment)));
  } else if (type == "thinking_delta") {
    block->thinking += fragment;
    result_.message.reasoning += fragment;
    deltas->push_back(stream_deltas::Reasoning(std::move(fragment)));
  } else {
    tool_calls_[block->tool_position].arguments_json += fragment;
    deltas->push_back(stream_deltas::ToolCallArguments(block->tool_position, std::move(fragment)));
  }
  return Status::Ok();
}

Status AnthropicStreamDecoder::StopBlock(const json& data) {
  int64_t index = 0;
  Block* block = nullptr;
  TROUPE_RETURN_IF_ERROR(FindBlock(data, &index, &block));
  const std::string name = "content block " + std::to_string(index);
  if (block == nullptr) return Status::InvalidArgument("stop for " + name + ", never started");
  if (!block->open) return Status::InvalidArgument("stop for " + name + ", already stopped");
  block->open = false;
  if (block->type == BlockType::kToolUse) {
    std::string& arguments = tool_calls_[block->tool_position].arguments_json;
    if (arguments.empty()) arguments = block->start_input.empty() ? "{}" : block->start_input;
  }
  return Status::Ok();
}

Result<ChatResult> AnthropicStreamDecoder::Finish() const {
  if (!status_.ok()) return status_;
  if (!done_) {
    return Status::Unavailable("anthropic stream: stream ended early after " +
                               std::to_string(events_) +
                               " events: the response was truncated (no message_stop)");
  }
  ChatResult result = result_;
  result.message.role = ChatRole::kAssistant;
  result.message.tool_calls = tool_calls_;
  for (const auto& [index, block] : blocks_) {  // in content order
    if (block.type == BlockType::kThinking && !block.signature.empty()) {
      anthropic_replay::KeepThinking(&result.message, block.thinking, block.signature,
                                     block.tool_calls_before);
    } else if (block.type == BlockType::kRedactedThinking) {
      anthropic_replay::KeepRedactedThinking(&result.message, block.data, block.tool_calls_before);
    }
  }
  Normalise(&result);
  return result;
}

Result<ChatResult> DecodeAnthropicResponse(std::string_view body) {
  const std::string where = "anthropic response";
  Result<json> parsed = json_fields::ParseJson(body);
  if (!parsed.ok()) return parsed.status().WithContext(where);
  const json& root = *parsed;
  if (Status s = RequireObject(root, "the body"); !s.ok()) return s.WithContext(where);
  std::string type;
  if (Status s = ReadString(root, "type", "", &type); !s.ok()) return s.WithContext(where);
  if (type == "error") return ErrorStatus(root);

  ChatResult result;
  result.message.role = ChatRole::kAssistant;
  Status s = [&]() -> Status {
    TROUPE_RETURN_IF_ERROR(ReadString(root, "id", "", &result.response_id));
    TROUPE_RETURN_IF_ERROR(ReadString(root, "model", "", &result.model));
    const json* content = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadArray(root, "content", "", &content));
    if (content == nullptr) return Status::InvalidArgument("content is missing");
    for (size_t i = 0; i < content->size(); ++i) {
      const std::string path = At("content", i);
      const json& block = (*content)[i];
      TROUPE_RETURN_IF_ERROR(RequireObject(block, path));
      std::string block_type;
      TROUPE_RETURN_IF_ERROR(ReadString(block, "type", path, &block_type));
      if (block_type == "text") {
        std::string text;
        TROUPE_RETURN_IF_ERROR(ReadString(block, "text", path, &text));
        result.message.text += text;
      } else if (block_type == "thinking") {
        std::string thinking;
        std::string signature;
        TROUPE_RETURN_IF_ERROR(ReadString(block, "thinking", path, &thinking));
        TROUPE_RETURN_IF_ERROR(ReadString(block, "signature", path, &signature));
        result.message.reasoning += thinking;
        if (!signature.empty()) {
          result.message.reasoning_signature = signature;
          anthropic_replay::KeepThinking(&result.message, thinking, signature,
                                         int(result.message.tool_calls.size()));
        }
      } else if (block_type == "redacted_thinking") {
        std::string data;
        TROUPE_RETURN_IF_ERROR(ReadString(block, "data", path, &data));
        anthropic_replay::KeepRedactedThinking(&result.message, data,
                                               int(result.message.tool_calls.size()));
      } else if (block_type == "tool_use") {
        ToolCall call;
        TROUPE_RETURN_IF_ERROR(ReadString(block, "id", path, &call.id));
        TROUPE_RETURN_IF_ERROR(ReadString(block, "name", path, &call.name));
        const json* input = nullptr;
        TROUPE_RETURN_IF_ERROR(ReadObject(block, "input", path, &input));
        call.arguments_json = input != nullptr ? input->dump() : "{}";
        result.message.tool_calls.push_back(std::move(call));
      }
    }
    TROUPE_RETURN_IF_ERROR(ReadString(root, "stop_reason", "", &result.raw_finish_reason));
    const json* usage = nullptr;
    TROUPE_RETURN_IF_ERROR(ReadObject(root, "usage", "", &usage));
    if (usage != nullptr) TROUPE_RETURN_IF_ERROR(ReadUsage(*usage, "usage", &result.usage));
    return Status::Ok();
  }();
  if (!s.ok()) return s.WithContext(where);
  Normalise(&result);
  return result;
}

Status DecodeAnthropicError(int http_status, std::string_view body) {
  Result<json> parsed = json_fields::ParseJson(body);
  if (parsed.ok()) {
    const json* error = Find(*parsed, "error");
    if (error != nullptr && error->is_object()) {
      std::string type;
      std::string message;
      (void)ReadString(*error, "type", "", &type);
      (void)ReadString(*error, "message", "", &message);
      if (!message.empty()) return ProviderHttpError(kProvider, http_status, type, message);
    }
  }
  return ProviderHttpError(kProvider, http_status, "", BodyForMessage(body));
}

}  // namespace troupe
