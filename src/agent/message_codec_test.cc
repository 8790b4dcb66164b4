#include "agent/message_codec.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace troupe {
namespace {

using json = nlohmann::json;

// What a provider needs back on later turns survives storage, so that a session continued after
// a restart still satisfies DeepSeek, OpenRouter and Gemini.
TEST(MessageCodecTest, KeepsProviderReplayStopReasonAndRefusal) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.tool_calls = {{"function-call-1", "get_weather", R"({"city":"Par)",
                   json::parse(R"({"extra_content":{"google":{"thought_signature":"CiQB"}}})")},
                  {"call_2", "ls", "{}", nullptr}};
  m.provider_replay = json::parse(
      R"({"openai":{"reasoning_content":"think","reasoning_details":[{"type":"reasoning.encrypted","data":"gAAA","index":0}]}})");
  m.stop_reason = "length";
  m.refusal = "I can't help with that.";

  Result<ChatMessage> back = DecodeStoredMessage(EncodeStoredMessage(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->provider_replay, m.provider_replay);
  EXPECT_EQ(back->stop_reason, "length");
  EXPECT_EQ(back->refusal, "I can't help with that.");
  ASSERT_EQ(back->tool_calls.size(), 2u);
  EXPECT_EQ(back->tool_calls[0].provider_extra, m.tool_calls[0].provider_extra);
  EXPECT_EQ(back->tool_calls[0].arguments_json, R"({"city":"Par)");  // cut input kept as cut
  EXPECT_TRUE(back->tool_calls[1].provider_extra.is_null());

  // Absent fields stay empty; nothing is written for them.
  const std::string plain = EncodeStoredMessage(UserMessage("hi"));
  EXPECT_EQ(json::parse(plain), json::parse(R"({"role":"user","content":"hi"})"));
}

TEST(MessageCodecTest, WrongTypesOfTheNewFieldsAreCorruptionNamingThem) {
  Result<ChatMessage> m =
      DecodeStoredMessage(R"({"role":"assistant","content":"","provider_replay":"x"})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption);
  EXPECT_EQ(m.status().message(), "stored message: provider_replay is not an object");
  m = DecodeStoredMessage(
      R"({"role":"assistant","tool_calls":[{"id":"a","name":"b","provider_extra":[1]}]})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "tool_calls[0]: stored message: provider_extra is not an object");
  m = DecodeStoredMessage(R"({"role":"assistant","stop_reason":3})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().message(), "stored message: stop_reason is not a string");
}

}  // namespace
}  // namespace troupe
