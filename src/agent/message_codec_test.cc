#include "agent/message_codec.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(MessageCodecTest, AssistantKeepsWhatProvidersNeedBack) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.text = "Reading it.";
  m.reasoning = "Need the file.";
  m.reasoning_signature = "sig";
  m.stop_reason = "tool_use";
  m.provider_replay = {{"anthropic",
                        {{{"block", {{"type", "redacted_thinking"}, {"data", "EuYBCkQ"}}},
                          {"tool_calls_before", 0}}}}};
  ToolCall call{"call_1", "read", R"({"path":"a.cc"})",
                {{"google", {{"thought_signature", "c2ln"}}}}};
  m.tool_calls.push_back(call);

  Result<ChatMessage> back = DecodeStoredMessage(EncodeStoredMessage(m));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->text, "Reading it.");
  EXPECT_EQ(back->reasoning_signature, "sig");
  EXPECT_EQ(back->stop_reason, "tool_use");
  EXPECT_EQ(back->provider_replay, m.provider_replay);
  ASSERT_EQ(back->tool_calls.size(), 1u);
  EXPECT_EQ(back->tool_calls[0].arguments_json, R"({"path":"a.cc"})");
  EXPECT_EQ(back->tool_calls[0].provider_extra, call.provider_extra);
}

TEST(MessageCodecTest, RefusalRoundTrips) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.refusal = "I can't help with that.";
  m.stop_reason = "refusal";
  Result<ChatMessage> back = DecodeStoredMessage(EncodeStoredMessage(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->refusal, "I can't help with that.");
  EXPECT_TRUE(back->provider_replay.is_null());
}

TEST(MessageCodecTest, OlderRecordsWithoutTheNewFieldsStillRead) {
  Result<ChatMessage> m = DecodeStoredMessage(
      R"({"role":"assistant","content":"hi","tool_calls":[{"id":"1","name":"x","arguments":"{}"}]})");
  ASSERT_TRUE(m.ok());
  EXPECT_TRUE(m->provider_replay.is_null());
  EXPECT_TRUE(m->tool_calls[0].provider_extra.is_null());
  EXPECT_EQ(m->stop_reason, "");
}

TEST(MessageCodecTest, ReplayOfTheWrongTypeIsCorruptionNamingTheField) {
  Result<ChatMessage> m =
      DecodeStoredMessage(R"({"role":"assistant","content":"","provider_replay":[1]})");
  ASSERT_FALSE(m.ok());
  EXPECT_EQ(m.status().code(), StatusCode::kCorruption);
  EXPECT_NE(m.status().message().find("provider_replay is not an object"), std::string::npos);
  Result<ChatMessage> c = DecodeStoredMessage(
      R"({"role":"assistant","tool_calls":[{"id":"1","name":"x","provider_extra":"s"}]})");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tool_calls[0]"), std::string::npos);
}

}  // namespace
}  // namespace troupe
