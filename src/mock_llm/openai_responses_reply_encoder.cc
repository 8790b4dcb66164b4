#include "mock_llm/openai_responses_reply_encoder.h"

#include <fmt/format.h>

#include <map>
#include <string>
#include <utility>

#include "mock_llm/reply_json.h"

namespace troupe {
namespace {

using json = nlohmann::json;

json UsageJson(const Usage& usage) {
  const int64_t input = UsageInputTotal(usage);
  json details{{"cached_tokens", usage.cache_read_tokens}};
  if (usage.cache_write_tokens != 0) details["cache_write_tokens"] = usage.cache_write_tokens;
  return {{"input_tokens", input},
          {"input_tokens_details", std::move(details)},
          {"output_tokens", usage.output_tokens},
          {"output_tokens_details", {{"reasoning_tokens", usage.reasoning_tokens}}},
          {"total_tokens", input + usage.output_tokens}};
}

json TextPart(const std::string& text) {
  return {{"type", "output_text"}, {"text", text}, {"annotations", json::array()}};
}

class OpenAiResponsesReplyEncoder : public ReplyEncoder {
 public:
  OpenAiResponsesReplyEncoder(ChatResult result, ReplyOptions options)
      : result_(std::move(result)), options_(options) {}

  std::string StreamStart() override {
    return Event("response.created", {{"response", Envelope("in_progress", json::array())}}) +
           Event("response.in_progress", {{"response", Envelope("in_progress", json::array())}});
  }

  std::string StreamDelta(const struct StreamDelta& d) override {
    std::string out;
    switch (d.kind) {
      case StreamDelta::Kind::kReasoning:
        if (open_ != Open::kReasoning) {
          out += CloseOpen();
          out += OpenItem(Open::kReasoning, ReasoningItem(""));
          out += Event("response.reasoning_summary_part.added",
                       ItemEvent({{"summary_index", 0},
                                  {"part", {{"type", "summary_text"}, {"text", ""}}}}));
        }
        open_text_ += d.text;
        return out + Event("response.reasoning_summary_text.delta",
                           ItemEvent({{"summary_index", 0}, {"delta", d.text}}));
      case StreamDelta::Kind::kText:
        if (open_ != Open::kMessage) {
          out += CloseOpen();
          out += OpenItem(Open::kMessage, MessageItem("in_progress", json::array()));
          out += Event("response.content_part.added",
                       ItemEvent({{"content_index", 0}, {"part", TextPart("")}}));
        }
        open_text_ += d.text;
        return out + Event("response.output_text.delta", ItemEvent({{"content_index", 0},
                                                                    {"delta", d.text},
                                                                    {"logprobs", json::array()}}));
      case StreamDelta::Kind::kToolCallStart: {
        out += CloseOpen();
        Call& call = calls_[d.index];
        call.id = d.id;
        call.name = d.name;
        open_call_ = d.index;
        out += OpenItem(Open::kCall, CallItem(call, "in_progress"));
        call.output_index = open_index_;
        return out;
      }
      case StreamDelta::Kind::kToolCallArguments: {
        Call& call = calls_[d.index];
        call.arguments += d.text;
        return Event("response.function_call_arguments.delta", {{"item_id", CallItemId(d.index)},
                                                                {"output_index", call.output_index},
                                                                {"delta", d.text}});
      }
      case StreamDelta::Kind::kUsage:
        break;
    }
    return "";
  }

  std::string StreamEnd() override {
    std::string out = CloseOpen();
    if (!result_.message.refusal.empty()) {
      const std::string& refusal = result_.message.refusal;
      out += OpenItem(Open::kMessage, MessageItem("in_progress", json::array()));
      out += Event(
          "response.content_part.added",
          ItemEvent({{"content_index", 0}, {"part", {{"type", "refusal"}, {"refusal", ""}}}}));
      out += Event("response.refusal.delta", ItemEvent({{"content_index", 0}, {"delta", refusal}}));
      out +=
          Event("response.refusal.done", ItemEvent({{"content_index", 0}, {"refusal", refusal}}));
      out += Done(
          MessageItem("completed", json::array({{{"type", "refusal"}, {"refusal", refusal}}})));
      open_ = Open::kNone;
    }
    const bool incomplete = !IncompleteReason().empty();
    return out + Event(incomplete ? "response.incomplete" : "response.completed",
                       {{"response", Final(output_)}});
  }

  std::string StreamError(std::string_view type, std::string_view message) override {
    return Event("error", {{"code", type}, {"message", message}, {"param", nullptr}});
  }

  std::string StreamMalformed() override {
    return reply_json::SseEvent("response.output_text.delta", "{not json");
  }

  std::string Response() override {
    const ChatMessage& m = result_.message;
    json output = json::array();
    if (!m.reasoning.empty()) output.push_back(ReasoningItem(m.reasoning));
    if (!m.text.empty() || !m.refusal.empty()) {
      json content = json::array();
      if (!m.text.empty()) content.push_back(TextPart(m.text));
      if (!m.refusal.empty()) content.push_back({{"type", "refusal"}, {"refusal", m.refusal}});
      output.push_back(MessageItem("completed", std::move(content)));
    }
    for (size_t i = 0; i < m.tool_calls.size(); ++i) {
      Call call{m.tool_calls[i].id, m.tool_calls[i].name, m.tool_calls[i].arguments_json, 0};
      output.push_back(CallItem(call, "completed"));
      output.back()["id"] = CallItemId(int(i));
    }
    for (size_t i = 0; i < output.size(); ++i) {
      if (output[i].at("type") == "reasoning") {
        output[i]["id"] = fmt::format("rs_{}_{}", result_.response_id, i);
        output[i]["encrypted_content"] =
            fmt::format("mock-encrypted:{}:{}", result_.response_id, i);
      } else if (output[i].at("type") == "message") {
        output[i]["id"] = fmt::format("msg_{}_{}", result_.response_id, i);
      }
    }
    return reply_json::Dump(Final(std::move(output)));
  }

 private:
  enum class Open { kNone, kReasoning, kMessage, kCall };
  struct Call {
    std::string id;
    std::string name;
    std::string arguments;
    int output_index = 0;
  };

  std::string IncompleteReason() const {
    if (result_.finish == FinishReason::kLength) return "max_output_tokens";
    if (result_.finish == FinishReason::kContentFilter) return "content_filter";
    return "";
  }

  json Envelope(const char* status, json output) const {
    return {{"id", result_.response_id},
            {"object", "response"},
            {"created_at", options_.created_s},
            {"status", status},
            {"error", nullptr},
            {"incomplete_details", nullptr},
            {"model", result_.model},
            {"output", std::move(output)},
            {"store", false},
            {"usage", nullptr}};
  }

  json Final(json output) const {
    const std::string reason = IncompleteReason();
    json response = Envelope(reason.empty() ? "completed" : "incomplete", std::move(output));
    if (!reason.empty()) response["incomplete_details"] = {{"reason", reason}};
    response["usage"] = UsageJson(result_.usage);
    return response;
  }

  std::string ItemId() const {
    switch (open_) {
      case Open::kReasoning:
        return fmt::format("rs_{}_{}", result_.response_id, open_index_);
      case Open::kMessage:
        return fmt::format("msg_{}_{}", result_.response_id, open_index_);
      case Open::kCall:
        return CallItemId(open_call_);
      case Open::kNone:
        break;
    }
    return "";
  }

  std::string CallItemId(int call) const {
    return fmt::format("fc_{}_{}", result_.response_id, call);
  }

  json ReasoningItem(const std::string& summary) const {
    json parts = json::array();
    if (!summary.empty()) parts.push_back({{"type", "summary_text"}, {"text", summary}});
    return {{"type", "reasoning"}, {"summary", std::move(parts)}};
  }

  json MessageItem(const char* status, json content) const {
    return {{"type", "message"}, {"status", status}, {"role", "assistant"}, {"content", content}};
  }

  json CallItem(const Call& call, const char* status) const {
    return {{"type", "function_call"},
            {"status", status},
            {"arguments", call.arguments},
            {"call_id", call.id},
            {"name", call.name}};
  }

  // The fields of an event about the open item, with `extra`.
  json ItemEvent(json extra) const {
    extra["item_id"] = ItemId();
    extra["output_index"] = open_index_;
    return extra;
  }

  std::string OpenItem(Open kind, json item) {
    open_ = kind;
    open_index_ = int(output_.size());  // the item before it, if any, was closed
    open_text_.clear();
    item["id"] = ItemId();
    return Event("response.output_item.added", {{"output_index", open_index_}, {"item", item}});
  }

  // output_item.done for `item` (the open item's final form), which joins the output.
  std::string Done(json item) {
    item["id"] = ItemId();
    output_.push_back(item);
    return Event("response.output_item.done",
                 {{"output_index", open_index_}, {"item", std::move(item)}});
  }

  // The events closing the open item, if any.
  std::string CloseOpen() {
    std::string out;
    switch (open_) {
      case Open::kNone:
        return "";
      case Open::kReasoning: {
        out += Event("response.reasoning_summary_text.done",
                     ItemEvent({{"summary_index", 0}, {"text", open_text_}}));
        json item = ReasoningItem(open_text_);
        item["encrypted_content"] =
            fmt::format("mock-encrypted:{}:{}", result_.response_id, open_index_);
        out += Done(std::move(item));
        break;
      }
      case Open::kMessage:
        out += Event(
            "response.output_text.done",
            ItemEvent({{"content_index", 0}, {"text", open_text_}, {"logprobs", json::array()}}));
        out += Done(MessageItem("completed", json::array({TextPart(open_text_)})));
        break;
      case Open::kCall: {
        const Call& call = calls_[open_call_];
        out += Event("response.function_call_arguments.done",
                     ItemEvent({{"arguments", call.arguments}}));
        out += Done(CallItem(call, "completed"));
        break;
      }
    }
    open_ = Open::kNone;
    return out;
  }

  std::string Event(const char* type, json data) {
    data["type"] = type;
    data["sequence_number"] = sequence_++;
    return reply_json::SseEvent(type, reply_json::Dump(data));
  }

  ChatResult result_;
  ReplyOptions options_;
  int64_t sequence_ = 0;
  json output_ = json::array();  // the items closed so far, in their final form
  Open open_ = Open::kNone;
  int open_index_ = 0;
  int open_call_ = 0;
  std::string open_text_;
  std::map<int, Call> calls_;  // by StreamDelta::index
};

}  // namespace

std::unique_ptr<ReplyEncoder> MakeOpenAiResponsesReplyEncoder(ChatResult result,
                                                              ReplyOptions options) {
  return std::make_unique<OpenAiResponsesReplyEncoder>(std::move(result), options);
}

}  // namespace troupe
