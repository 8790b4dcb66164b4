#include "mock_llm/anthropic_reply_encoder.h"

#include <utility>

#include "llm/json_fields.h"
#include "mock_llm/reply_json.h"

namespace troupe {
namespace {

using json = nlohmann::json;

json ErrorJson(std::string_view type, std::string_view message) {
  return {{"type", "error"}, {"error", {{"type", type}, {"message", message}}}};
}

// `input` of a tool_use block: the arguments when they are a JSON object, else {}.
json ToolInput(const std::string& arguments_json) {
  Result<json> parsed = json_fields::ParseJson(arguments_json);
  if (!parsed.ok() || !parsed->is_object()) return json::object();
  return std::move(parsed).value();
}

std::string Event(const char* name, const json& data) {
  return reply_json::SseEvent(name, reply_json::Dump(data));
}

class AnthropicReplyEncoder : public ReplyEncoder {
 public:
  explicit AnthropicReplyEncoder(ChatResult result) : result_(std::move(result)) {}

  std::string StreamStart() override {
    const Usage& u = result_.usage;
    json message{{"id", result_.response_id},
                 {"type", "message"},
                 {"role", "assistant"},
                 {"model", result_.model},
                 {"content", json::array()},
                 {"stop_reason", nullptr},
                 {"stop_sequence", nullptr},
                 {"usage",
                  {{"input_tokens", u.input_tokens},
                   {"cache_creation_input_tokens", u.cache_write_tokens},
                   {"cache_read_input_tokens", u.cache_read_tokens},
                   {"output_tokens", 1}}}};
    return Event("message_start", {{"type", "message_start"}, {"message", std::move(message)}}) +
           Event("ping", {{"type", "ping"}});
  }

  std::string StreamDelta(const struct StreamDelta& d) override {
    std::string out;
    switch (d.kind) {
      case StreamDelta::Kind::kText:
        if (open_ != Block::kText) {
          out += StopBlock();
          out += StartBlock(Block::kText, {{"type", "text"}, {"text", ""}});
        }
        out += Delta({{"type", "text_delta"}, {"text", d.text}});
        break;
      case StreamDelta::Kind::kReasoning:
        if (open_ != Block::kThinking) {
          out += StopBlock();
          out += StartBlock(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}});
        }
        out += Delta({{"type", "thinking_delta"}, {"thinking", d.text}});
        break;
      case StreamDelta::Kind::kToolCallStart:
        out += StopBlock();
        out += StartBlock(
            Block::kToolUse,
            {{"type", "tool_use"}, {"id", d.id}, {"name", d.name}, {"input", json::object()}});
        tool_position_ = d.index;
        break;
      case StreamDelta::Kind::kToolCallArguments:
        if (open_ == Block::kToolUse && tool_position_ == d.index) {
          out += Delta({{"type", "input_json_delta"}, {"partial_json", d.text}});
        }
        break;
      case StreamDelta::Kind::kUsage:
        break;
    }
    return out;
  }

  std::string StreamEnd() override {
    std::string out = StopBlock();
    out += Event(
        "message_delta",
        {{"type", "message_delta"},
         {"delta", {{"stop_reason", AnthropicStopReason(result_)}, {"stop_sequence", nullptr}}},
         {"usage", {{"output_tokens", result_.usage.output_tokens}}}});
    out += Event("message_stop", {{"type", "message_stop"}});
    return out;
  }

  std::string StreamError(std::string_view type, std::string_view message) override {
    return Event("error", ErrorJson(type, message));
  }

  std::string StreamMalformed() override {
    return reply_json::SseEvent("content_block_delta", "{not json");
  }

  std::string Response() override {
    const ChatMessage& m = result_.message;
    json content = json::array();
    if (!m.reasoning.empty()) {
      content.push_back(
          {{"type", "thinking"}, {"thinking", m.reasoning}, {"signature", m.reasoning_signature}});
    }
    if (!m.text.empty()) content.push_back({{"type", "text"}, {"text", m.text}});
    for (const ToolCall& c : m.tool_calls) {
      content.push_back({{"type", "tool_use"},
                         {"id", c.id},
                         {"name", c.name},
                         {"input", ToolInput(c.arguments_json)}});
    }
    const Usage& u = result_.usage;
    json body{{"id", result_.response_id},
              {"type", "message"},
              {"role", "assistant"},
              {"model", result_.model},
              {"content", std::move(content)},
              {"stop_reason", AnthropicStopReason(result_)},
              {"stop_sequence", nullptr},
              {"usage",
               {{"input_tokens", u.input_tokens},
                {"cache_creation_input_tokens", u.cache_write_tokens},
                {"cache_read_input_tokens", u.cache_read_tokens},
                {"output_tokens", u.output_tokens}}}};
    return reply_json::Dump(body);
  }

 private:
  enum class Block { kNone, kText, kThinking, kToolUse };

  std::string StartBlock(Block type, json content_block) {
    open_ = type;
    index_ = next_index_++;
    return Event("content_block_start", {{"type", "content_block_start"},
                                         {"index", index_},
                                         {"content_block", std::move(content_block)}});
  }

  std::string Delta(json delta) const {
    return Event("content_block_delta",
                 {{"type", "content_block_delta"}, {"index", index_}, {"delta", std::move(delta)}});
  }

  // Stops the open block, if any; a thinking block gets its signature first.
  std::string StopBlock() {
    if (open_ == Block::kNone) return "";
    std::string out;
    if (open_ == Block::kThinking) {
      out +=
          Delta({{"type", "signature_delta"}, {"signature", result_.message.reasoning_signature}});
    }
    out += Event("content_block_stop", {{"type", "content_block_stop"}, {"index", index_}});
    open_ = Block::kNone;
    return out;
  }

  ChatResult result_;
  Block open_ = Block::kNone;
  int index_ = 0;           // the open block's index
  int next_index_ = 0;      // the next block's index
  int tool_position_ = -1;  // the open tool_use block's call position
};

}  // namespace

std::unique_ptr<ReplyEncoder> MakeAnthropicReplyEncoder(ChatResult result) {
  return std::make_unique<AnthropicReplyEncoder>(std::move(result));
}

std::string AnthropicStopReason(const ChatResult& result) {
  switch (result.finish) {
    case FinishReason::kStop:
      return "end_turn";
    case FinishReason::kToolCalls:
      return "tool_use";
    case FinishReason::kLength:
      return "max_tokens";
    case FinishReason::kContentFilter:
      return "refusal";
    case FinishReason::kRefusal:
      return "refusal";
    case FinishReason::kOther:
      break;
  }
  return result.raw_finish_reason.empty() ? "end_turn" : result.raw_finish_reason;
}

std::string AnthropicErrorBody(std::string_view type, std::string_view message) {
  return reply_json::Dump(ErrorJson(type, message));
}

}  // namespace troupe
