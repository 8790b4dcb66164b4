// Helpers shared by the mock-llm tests: requests and results rendered as JSON text (so two
// compare with one EXPECT_EQ and print readably), plans made from a reply, and replaying an SSE
// byte stream through the client-side decoders.
#pragma once

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/chat_types.h"
#include "llm/codec_test_support.h"
#include "llm/mock_plan.h"
#include "llm/stream_deltas.h"
#include "wire/sse_parser.h"

namespace troupe::mock_llm_test {

inline nlohmann::json ToJson(const ChatRequest& r) {
  nlohmann::json messages = nlohmann::json::array();
  for (const ChatMessage& m : r.messages) {
    nlohmann::json j = codec_test::ToJson(m);
    j["tool_call_id"] = m.tool_call_id;
    j["tool_name"] = m.tool_name;
    j["is_error"] = m.is_error;
    messages.push_back(std::move(j));
  }
  nlohmann::json tools = nlohmann::json::array();
  for (const ToolSpec& t : r.tools) {
    tools.push_back({{"name", t.name}, {"description", t.description}, {"schema", t.input_schema}});
  }
  return {{"model", r.model},
          {"system", r.system},
          {"messages", std::move(messages)},
          {"tools", std::move(tools)},
          {"tool_choice", r.tool_choice},
          {"temperature", r.temperature.has_value() ? nlohmann::json(*r.temperature) : nullptr},
          {"max_tokens", r.max_tokens},
          {"stream", r.stream}};
}

inline std::string Text(const ChatRequest& r) { return ToJson(r).dump(2); }
inline std::string Text(const ChatResult& r) { return codec_test::ToJson(r).dump(2); }

inline ToolCall Call(std::string id, std::string name, std::string arguments) {
  return ToolCall{std::move(id), std::move(name), std::move(arguments), {}};
}

// Splits `text` into pieces of at most `size` bytes (more when a UTF-8 character is longer), never
// inside a character: JSON cannot carry half a character.
inline std::vector<std::string> Pieces(std::string_view text, size_t size) {
  std::vector<std::string> out;
  size_t begin = 0;
  while (begin < text.size()) {
    size_t end = std::min(text.size(), begin + size);
    while (end < text.size() && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) ++end;
    out.emplace_back(text.substr(begin, end - begin));
    begin = end;
  }
  return out;
}

// A plan streaming `result`: its reasoning, then its text, then each tool call, in pieces of
// `piece` bytes, as a model would.
inline MockPlan PlanFor(ChatResult result, size_t piece = 4) {
  MockPlan plan;
  result.message.role = ChatRole::kAssistant;
  for (std::string& p : Pieces(result.message.reasoning, piece)) {
    plan.deltas.push_back(stream_deltas::Reasoning(std::move(p)));
  }
  for (std::string& p : Pieces(result.message.text, piece)) {
    plan.deltas.push_back(stream_deltas::Text(std::move(p)));
  }
  for (size_t i = 0; i < result.message.tool_calls.size(); ++i) {
    const ToolCall& c = result.message.tool_calls[i];
    plan.deltas.push_back(stream_deltas::ToolCallStart(int(i), c.id, c.name));
    for (std::string& p : Pieces(c.arguments_json, piece)) {
      plan.deltas.push_back(stream_deltas::ToolCallArguments(int(i), std::move(p)));
    }
  }
  plan.result = std::move(result);
  return plan;
}

inline ChatResult Reply(std::string text, std::vector<ToolCall> calls = {},
                        FinishReason finish = FinishReason::kStop) {
  ChatResult r;
  r.message.role = ChatRole::kAssistant;
  r.message.text = std::move(text);
  r.message.tool_calls = std::move(calls);
  r.finish = finish;
  r.usage.input_tokens = 120;
  r.usage.output_tokens = 17;
  return r;
}

// What a client decoder made of a stream.
struct DecodedStream {
  Result<ChatResult> result = Status::Internal("not decoded");
  std::vector<StreamDelta> deltas;  // kUsage deltas left out
  std::vector<SseEvent> events;
};

template <typename Decoder>
DecodedStream DecodeSse(std::string_view bytes) {
  DecodedStream out;
  SseParser parser;
  parser.Feed(bytes, &out.events);
  parser.Finish(&out.events);
  Decoder decoder;
  std::vector<StreamDelta> deltas;
  for (const SseEvent& e : out.events) {
    if (!decoder.OnEvent(e, &deltas).ok()) break;
  }
  for (StreamDelta& d : deltas) {
    if (d.kind != StreamDelta::Kind::kUsage) out.deltas.push_back(std::move(d));
  }
  out.result = decoder.Finish();
  return out;
}

inline std::string Text(const std::vector<StreamDelta>& deltas) {
  std::vector<StreamDelta> kept;
  std::copy_if(deltas.begin(), deltas.end(), std::back_inserter(kept),
               [](const StreamDelta& d) { return d.kind != StreamDelta::Kind::kUsage; });
  return codec_test::ToJson(kept).dump(2);
}

}  // namespace troupe::mock_llm_test
