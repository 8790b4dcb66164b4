#include "mock_llm/openai_reply_encoder.h"

#include <utility>

#include "mock_llm/reply_json.h"

namespace troupe {
namespace {

using json = nlohmann::json;

json UsageJson(const Usage& usage) {
  const int64_t prompt = usage.input_tokens + usage.cache_read_tokens;
  return {{"prompt_tokens", prompt},
          {"completion_tokens", usage.output_tokens},
          {"total_tokens", prompt + usage.output_tokens},
          {"prompt_tokens_details", {{"cached_tokens", usage.cache_read_tokens}}},
          {"completion_tokens_details", {{"reasoning_tokens", usage.reasoning_tokens}}}};
}

json TextParts(const std::string& text) {
  return json::array({{{"type", "text"}, {"text", text}}});
}

json ErrorJson(std::string_view type, std::string_view message) {
  return {{"error", {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}}}};
}

class OpenAiReplyEncoder : public ReplyEncoder {
 public:
  OpenAiReplyEncoder(ChatResult result, ReplyOptions options)
      : result_(std::move(result)), options_(options) {}

  std::string StreamStart() override {
    return Event(Chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  }

  std::string StreamDelta(const struct StreamDelta& d) override {
    switch (d.kind) {
      case StreamDelta::Kind::kText:
        if (options_.content_parts) return Event(Chunk({{"content", TextParts(d.text)}}, nullptr));
        return Event(Chunk({{"content", d.text}}, nullptr));
      case StreamDelta::Kind::kReasoning:
        if (options_.content_parts)
          return Event(Chunk({{"content", ThinkingParts(d.text)}}, nullptr));
        return Event(Chunk({{"reasoning_content", d.text}}, nullptr));
      case StreamDelta::Kind::kToolCallStart:
        return Event(Chunk(
            {{"tool_calls", json::array({{{"index", d.index},
                                          {"id", d.id},
                                          {"type", "function"},
                                          {"function", {{"name", d.name}, {"arguments", ""}}}}})}},
            nullptr));
      case StreamDelta::Kind::kToolCallArguments:
        return Event(Chunk({{"tool_calls", json::array({{{"index", d.index},
                                                         {"function", {{"arguments", d.text}}}}})}},
                           nullptr));
      case StreamDelta::Kind::kUsage:
        break;
    }
    return "";
  }

  std::string StreamEnd() override {
    std::string out;
    if (!result_.message.refusal.empty()) {  // OpenAI streams it in `refusal` deltas
      out += Event(Chunk({{"refusal", result_.message.refusal}}, nullptr));
    }
    out += Event(Chunk(json::object(), OpenAiFinishReason(result_)));
    if (options_.include_usage) {
      json usage = Header("chat.completion.chunk");
      usage["choices"] = json::array();
      usage["usage"] = UsageJson(result_.usage);
      out += Event(usage);
    }
    out += reply_json::SseEvent("", "[DONE]");
    return out;
  }

  std::string StreamError(std::string_view type, std::string_view message) override {
    return Event(ErrorJson(type, message));
  }

  std::string StreamMalformed() override { return reply_json::SseEvent("", "{not json"); }

  std::string Response() override {
    const ChatMessage& m = result_.message;
    json message{{"role", "assistant"}};
    if (m.text.empty() && !m.tool_calls.empty()) {
      message["content"] = nullptr;
    } else {
      message["content"] = m.text;
    }
    if (options_.content_parts) {
      json parts = json::array();
      if (!m.reasoning.empty()) parts.push_back(ThinkingParts(m.reasoning)[0]);
      if (!m.text.empty()) parts.push_back(TextParts(m.text)[0]);
      message["content"] = std::move(parts);
    } else if (!m.reasoning.empty()) {
      message["reasoning_content"] = m.reasoning;
    }
    if (!m.refusal.empty()) {
      message["content"] = nullptr;
      message["refusal"] = m.refusal;
    }
    if (!m.tool_calls.empty()) {
      json calls = json::array();
      for (const ToolCall& c : m.tool_calls) {
        calls.push_back({{"id", c.id},
                         {"type", "function"},
                         {"function", {{"name", c.name}, {"arguments", c.arguments_json}}}});
      }
      message["tool_calls"] = std::move(calls);
    }
    json body = Header("chat.completion");
    body["choices"] = json::array({{{"index", 0},
                                    {"message", std::move(message)},
                                    {"logprobs", nullptr},
                                    {"finish_reason", OpenAiFinishReason(result_)}}});
    body["usage"] = UsageJson(result_.usage);
    return reply_json::Dump(body);
  }

 private:
  json Header(const char* object) const {
    return {{"id", result_.response_id},
            {"object", object},
            {"created", options_.created_s},
            {"model", result_.model}};
  }

  json Chunk(json delta, json finish_reason) const {
    json chunk = Header("chat.completion.chunk");
    chunk["choices"] = json::array({{{"index", 0},
                                     {"delta", std::move(delta)},
                                     {"logprobs", nullptr},
                                     {"finish_reason", std::move(finish_reason)}}});
    return chunk;
  }

  static json ThinkingParts(const std::string& text) {
    return json::array({{{"type", "thinking"}, {"thinking", TextParts(text)}}});
  }

  static std::string Event(const json& data) {
    return reply_json::SseEvent("", reply_json::Dump(data));
  }

  ChatResult result_;
  ReplyOptions options_;
};

}  // namespace

std::unique_ptr<ReplyEncoder> MakeOpenAiReplyEncoder(ChatResult result, ReplyOptions options) {
  return std::make_unique<OpenAiReplyEncoder>(std::move(result), options);
}

std::string OpenAiFinishReason(const ChatResult& result) {
  switch (result.finish) {
    case FinishReason::kStop:
      return "stop";
    case FinishReason::kToolCalls:
      return "tool_calls";
    case FinishReason::kLength:
      return "length";
    case FinishReason::kContentFilter:
      return "content_filter";
    case FinishReason::kRefusal:
      return "stop";
    case FinishReason::kOther:
      break;
  }
  return result.raw_finish_reason.empty() ? "stop" : result.raw_finish_reason;
}

std::string OpenAiErrorBody(std::string_view type, std::string_view message) {
  return reply_json::Dump(ErrorJson(type, message));
}

}  // namespace troupe
