#include "mock_llm/anthropic_reply_encoder.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "llm/anthropic_replay.h"
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
  explicit AnthropicReplyEncoder(ChatResult result)
      : result_(std::move(result)),
        kept_(anthropic_replay::Groups(result_.message, int(result_.message.tool_calls.size()))) {}

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
        out += KeptUpTo(0);
        if (open_ != Block::kText) {
          out += StopBlock();
          out += StartBlock(Block::kText, {{"type", "text"}, {"text", ""}});
        }
        out += Delta({{"type", "text_delta"}, {"text", d.text}});
        break;
      case StreamDelta::Kind::kReasoning:
        out += KeptUpTo(0);
        if (open_ != Block::kThinking) {
          out += StopBlock();
          out += StartBlock(Block::kThinking, {{"type", "thinking"}, {"thinking", ""}});
        }
        out += Delta({{"type", "thinking_delta"}, {"thinking", d.text}});
        break;
      case StreamDelta::Kind::kToolCallStart:
        out += KeptUpTo(size_t(std::max(d.index, 0)));
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
    if (!kept_.empty()) out += KeptUpTo(kept_.size() - 1);
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
    auto add_kept = [&](size_t group) {
      if (group >= kept_.size()) return;
      for (const json& block : kept_[group]) content.push_back(block);
    };
    if (!kept_.empty()) {
      add_kept(0);
    } else if (!m.reasoning.empty()) {
      content.push_back(
          {{"type", "thinking"}, {"thinking", m.reasoning}, {"signature", m.reasoning_signature}});
    }
    if (!m.text.empty()) content.push_back({{"type", "text"}, {"text", m.text}});
    for (size_t i = 0; i < m.tool_calls.size(); ++i) {
      const ToolCall& c = m.tool_calls[i];
      if (i > 0) add_kept(i);
      content.push_back({{"type", "tool_use"},
                         {"id", c.id},
                         {"name", c.name},
                         {"input", ToolInput(c.arguments_json)}});
    }
    if (!m.tool_calls.empty()) add_kept(m.tool_calls.size());
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
  enum class Block { kNone, kText, kThinking, kToolUse, kKept };

  // The kept thinking and redacted_thinking blocks of groups up to `group` not sent yet, each
  // whole: a thinking block as its text and signature deltas, a redacted one in its start.
  std::string KeptUpTo(size_t group) {
    std::string out;
    for (; next_group_ <= group && next_group_ < kept_.size(); ++next_group_) {
      for (const json& block : kept_[next_group_]) {
        out += StopBlock();
        if (block.value("type", "") == "thinking") {
          out += StartBlock(Block::kKept, {{"type", "thinking"}, {"thinking", ""}});
          out += Delta({{"type", "thinking_delta"}, {"thinking", block.value("thinking", "")}});
          out += Delta({{"type", "signature_delta"}, {"signature", block.value("signature", "")}});
        } else {
          out += StartBlock(Block::kKept, block);
        }
        out += StopBlock();
      }
    }
    return out;
  }

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
  std::vector<std::vector<json>> kept_;  // provider_replay["anthropic"], grouped by position
  size_t next_group_ = 0;                // the first group of kept_ not sent yet
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
