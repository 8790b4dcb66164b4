// Helpers shared by the codec tests and the stream fuzz target: run a byte stream through
// SseParser into a stream decoder, and render results as JSON text so that two runs compare with
// one EXPECT_EQ and print readably when they differ.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/chat_types.h"
#include "wire/sse_parser.h"

namespace troupe::codec_test {

inline nlohmann::json ToJson(const Usage& u) {
  return {{"input", u.input_tokens},
          {"output", u.output_tokens},
          {"cache_read", u.cache_read_tokens},
          {"cache_write", u.cache_write_tokens}};
}

inline nlohmann::json ToJson(const ChatMessage& m) {
  nlohmann::json calls = nlohmann::json::array();
  for (const ToolCall& c : m.tool_calls) {
    calls.push_back({{"id", c.id}, {"name", c.name}, {"arguments", c.arguments_json}});
  }
  return {{"role", int(m.role)},
          {"text", m.text},
          {"reasoning", m.reasoning},
          {"signature", m.reasoning_signature},
          {"tool_calls", std::move(calls)}};
}

inline nlohmann::json ToJson(const ChatResult& r) {
  return {{"message", ToJson(r.message)},
          {"finish", int(r.finish)},
          {"raw_finish", r.raw_finish_reason},
          {"usage", ToJson(r.usage)},
          {"id", r.response_id},
          {"model", r.model}};
}

inline nlohmann::json ToJson(const std::vector<StreamDelta>& deltas) {
  nlohmann::json out = nlohmann::json::array();
  for (const StreamDelta& d : deltas) {
    out.push_back({{"kind", int(d.kind)},
                   {"text", d.text},
                   {"index", d.index},
                   {"id", d.id},
                   {"name", d.name},
                   {"usage", ToJson(d.usage)}});
  }
  return out;
}

inline ChatMessage Assistant(std::string text, std::vector<ToolCall> calls = {},
                             std::string reasoning = "", std::string signature = "") {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.text = std::move(text);
  m.tool_calls = std::move(calls);
  m.reasoning = std::move(reasoning);
  m.reasoning_signature = std::move(signature);
  return m;
}

// What decoding a stream gave: the result (or error) and every delta, as JSON text.
struct Decoded {
  std::string result;  // ToJson(ChatResult).dump(), or "error: " + Status::ToString()
  std::string deltas;
  bool ok = false;
  bool operator==(const Decoded&) const = default;
};

// Feeds `chunks` to an SseParser and its events to a fresh `Decoder`, stopping at the first
// decoder error, then calls Finish. Invalid UTF-8 is replaced when rendering to text.
template <typename Decoder>
Decoded DecodeChunks(const std::vector<std::string_view>& chunks) {
  SseParser parser;
  Decoder decoder;
  std::vector<SseEvent> events;
  std::vector<StreamDelta> deltas;
  for (std::string_view chunk : chunks) parser.Feed(chunk, &events);
  parser.Finish(&events);
  for (const SseEvent& e : events) {
    if (!decoder.OnEvent(e, &deltas).ok()) break;
  }
  Result<ChatResult> result = decoder.Finish();
  const auto dump = [](const nlohmann::json& j) {
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  };
  Decoded out;
  out.ok = result.ok();
  out.result = result.ok() ? dump(ToJson(*result)) : "error: " + result.status().ToString();
  out.deltas = dump(ToJson(deltas));
  return out;
}

template <typename Decoder>
Decoded Decode(std::string_view stream) {
  return DecodeChunks<Decoder>({stream});
}

// Decodes `stream` whole, then split in two at every byte, and expects the same outcome each time.
template <typename Decoder>
Decoded DecodeAtEverySplit(std::string_view stream) {
  const Decoded whole = Decode<Decoder>(stream);
  for (size_t i = 0; i <= stream.size(); ++i) {
    const Decoded split = DecodeChunks<Decoder>({stream.substr(0, i), stream.substr(i)});
    EXPECT_EQ(split, whole) << "split at byte " << i;
    if (split != whole) break;
  }
  return whole;
}

// The result of decoding `stream` in one piece.
template <typename Decoder>
Result<ChatResult> DecodeStream(std::string_view stream) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.Feed(stream, &events);
  parser.Finish(&events);
  Decoder decoder;
  std::vector<StreamDelta> deltas;
  for (const SseEvent& e : events) {
    if (!decoder.OnEvent(e, &deltas).ok()) break;
  }
  return decoder.Finish();
}

// An OpenAI-style SSE stream: each of `chunks` (JSON texts) as a `data:` event, then
// `data: [DONE]`.
inline std::string DataEvents(std::initializer_list<std::string_view> chunks) {
  std::string out;
  for (std::string_view c : chunks) out += "data: " + std::string(c) + "\n\n";
  return out + "data: [DONE]\n\n";
}

// DecodeStream, after checking that `stream` decodes successfully and alike at every split.
template <typename Decoder>
Result<ChatResult> DecodeStreamAtEverySplit(const std::string& stream) {
  const Decoded whole = DecodeAtEverySplit<Decoder>(stream);
  EXPECT_TRUE(whole.ok) << whole.result;
  return DecodeStream<Decoder>(stream);
}

}  // namespace troupe::codec_test
