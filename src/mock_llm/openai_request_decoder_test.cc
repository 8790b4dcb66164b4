#include "mock_llm/openai_request_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llm/openai_codec.h"
#include "mock_llm/mock_llm_test_support.h"

namespace troupe {
namespace {

using codec_test::Assistant;
using mock_llm_test::Call;
using mock_llm_test::Text;
using ::testing::HasSubstr;
using json = nlohmann::json;

ChatRequest EveryKindOfMessage() {
  ChatRequest r;
  r.model = "gpt-4o";
  r.system = "Be brief.\nAnd precise.";
  r.messages.push_back(UserMessage("Read a.cc and b.cc"));
  r.messages.push_back(Assistant("Reading both.", {Call("call_1", "read", R"({"path":"a.cc"})"),
                                                   Call("call_2", "read", R"({"path": "b.cc"})")}));
  ChatMessage first = ToolResultMessage("call_1", "", "int main() {}");
  first.tool_name = "read";  // resolved from the assistant turn
  ChatMessage second = ToolResultMessage("call_2", "", "");
  second.tool_name = "read";
  r.messages.push_back(first);
  r.messages.push_back(second);
  r.messages.push_back(Assistant("", {Call("call_3", "grep", R"({"q":"x"})")}));
  ChatMessage unknown = ToolResultMessage("call_9", "", "no such call");  // keeps an empty name
  r.messages.push_back(unknown);
  r.messages.push_back(Assistant("Done: a.cc is empty."));
  r.messages.push_back(UserMessage("Thanks\nbye"));
  r.tools.push_back({"read", "Reads a file", json::parse(R"({"type":"object","properties":{}})")});
  r.tools.push_back({"grep", "", json::object()});
  r.tool_choice = "required";
  r.temperature = 0.25;
  r.max_tokens = 1234;
  r.stream = true;
  return r;
}

TEST(OpenAiRequestDecoderTest, RoundTripsWhatTheEncoderWrites) {
  const ChatRequest original = EveryKindOfMessage();
  Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(EncodeOpenAiRequest(original).dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Text(decoded->chat), Text(original));
  EXPECT_TRUE(decoded->include_usage);
}

// What a client sends back for DeepSeek, OpenRouter, Gemini and a refusal reaches the mock
// server as the client had it.
TEST(OpenAiRequestDecoderTest, RoundTripsReplayDataAndRefusals) {
  ChatRequest r;
  r.model = "deepseek-reasoner";
  r.messages.push_back(UserMessage("Weather?"));
  ChatMessage call = Assistant("", {Call("call_00_k3P", "get_weather", R"({"city":"Paris"})")},
                               "I need the tool.");
  call.tool_calls[0].provider_extra =
      json::parse(R"({"extra_content":{"google":{"thought_signature":"CiQB"}}})");
  call.provider_replay = json::parse(R"({"openai":{"reasoning_content":"I need the tool.",
      "reasoning_details":[{"type":"reasoning.encrypted","data":"gAAA","index":0}]}})");
  r.messages.push_back(call);
  r.messages.push_back(ToolResultMessage("call_00_k3P", "get_weather", "18C"));
  ChatMessage refusal = Assistant("");
  refusal.refusal = "I can't help with that.";
  r.messages.push_back(refusal);
  r.messages.push_back(UserMessage("Why?"));

  Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(EncodeOpenAiRequest(r).dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const std::vector<ChatMessage>& m = decoded->chat.messages;
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[1].reasoning, "I need the tool.");
  EXPECT_EQ(m[1].provider_replay, call.provider_replay);
  EXPECT_EQ(m[1].tool_calls[0].provider_extra, call.tool_calls[0].provider_extra);
  EXPECT_EQ(m[3].refusal, "I can't help with that.");
}

TEST(OpenAiRequestDecoderTest, RoundTripsEveryToolChoiceAndNoStream) {
  for (const char* choice : {"auto", "none", "required", "grep"}) {
    ChatRequest original = EveryKindOfMessage();
    original.tool_choice = choice;
    original.stream = false;
    original.temperature.reset();
    Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(EncodeOpenAiRequest(original).dump());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(Text(decoded->chat), Text(original)) << choice;
    EXPECT_FALSE(decoded->include_usage);
  }
}

TEST(OpenAiRequestDecoderTest, AcceptsWhatOtherClientsSend) {
  Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(R"({
    "model": "m",
    "messages": [
      {"role": "developer", "content": "one"},
      {"role": "system", "content": [{"type": "text", "text": "two"}]},
      {"role": "user", "content": [{"type": "text", "text": "look"},
                                   {"type": "image_url", "image_url": {"url": "data:x"}},
                                   {"type": "text", "text": "here"}]},
      {"role": "assistant", "content": null, "reasoning_content": "hmm",
       "tool_calls": [{"id": "c1", "type": "function",
                       "function": {"name": "f", "arguments": {"a": 1}}}]},
      {"role": "tool", "tool_call_id": "c1", "content": [{"type": "text", "text": "r"}]}
    ],
    "tools": [{"type": "custom", "custom": {"name": "x"}},
              {"type": "function", "function": {"name": "f"}}],
    "tool_choice": {"type": "function", "function": {"name": "f"}},
    "max_tokens": 10, "max_completion_tokens": 20,
    "stream": true, "stream_options": {"include_usage": false},
    "n": 1, "user": "someone"
  })");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const ChatRequest& r = decoded->chat;
  EXPECT_EQ(r.system, "one\ntwo");
  ASSERT_EQ(r.messages.size(), 3u);
  EXPECT_EQ(r.messages[0].text, "look\nhere");
  EXPECT_EQ(r.messages[1].text, "");
  EXPECT_EQ(r.messages[1].reasoning, "hmm");
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].arguments_json, R"({"a":1})");
  EXPECT_EQ(r.messages[2].role, ChatRole::kTool);
  EXPECT_EQ(r.messages[2].tool_name, "f");
  EXPECT_EQ(r.messages[2].text, "r");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "f");
  EXPECT_EQ(r.tools[0].input_schema, json::object());
  EXPECT_EQ(r.tool_choice, "f");
  EXPECT_EQ(r.max_tokens, 20);
  EXPECT_TRUE(r.stream);
  EXPECT_FALSE(decoded->include_usage);
}

TEST(OpenAiRequestDecoderTest, DefaultsWhenOptionalFieldsAreAbsent) {
  Result<OpenAiChatRequest> decoded =
      DecodeOpenAiRequest(R"({"model":"m","messages":[{"role":"user","content":"hi"}]})");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_FALSE(decoded->chat.stream);  // the API's default, not ChatRequest's
  EXPECT_EQ(decoded->chat.tool_choice, "auto");
  EXPECT_EQ(decoded->chat.max_tokens, ChatRequest{}.max_tokens);
  EXPECT_FALSE(decoded->chat.temperature.has_value());
}

struct BadRequest {
  const char* body;
  const char* error;
};

class OpenAiRequestErrorTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(OpenAiRequestErrorTest, SaysWhereTheRequestIsWrong) {
  Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(GetParam().body);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr(GetParam().error));
}

constexpr char kUser[] = R"({"role":"user","content":"hi"})";

INSTANTIATE_TEST_SUITE_P(
    Cases, OpenAiRequestErrorTest,
    ::testing::Values(
        BadRequest{"{\"model\":", "the request body: is not valid JSON"},
        BadRequest{"[1]", "the body is not an object (it is an array)"},
        BadRequest{R"({"messages":[]})", "model is missing"},
        BadRequest{R"({"model":3,"messages":[]})", "model is not a string (it is an integer)"},
        BadRequest{R"({"model":"m"})", "messages is missing"},
        BadRequest{R"({"model":"m","messages":{}})", "messages is not an array (it is an object)"},
        BadRequest{R"({"model":"m","messages":[]})", "messages is empty"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"a"},{"role":"user"},
                   {"role":"user","content":7}]})",
                   "messages[2].content is neither a string nor an array (it is an integer)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":[{"type":"text"}]}]})",
                   "messages[0].content[0].text is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":[5]}]})",
                   "messages[0].content[0] is not an object (it is an integer)"},
        BadRequest{R"({"model":"m","messages":["hi"]})",
                   "messages[0] is not an object (it is a string)"},
        BadRequest{R"({"model":"m","messages":[{"content":"x"}]})", "messages[0].role is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"robot","content":"x"}]})",
                   "messages[0].role \"robot\" is not one of"},
        BadRequest{R"({"model":"m","messages":[{"role":"tool","content":"x"}]})",
                   "messages[0].tool_call_id is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c"}]}]})",
                   "messages[0].tool_calls[0].function is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"assistant","tool_calls":[{"id":"c",
                   "function":{"name":"f","arguments":[1]}}]}]})",
                   "messages[0].tool_calls[0].function.arguments is not a string (it is an array)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{}]})",
                   "tools[0].function is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                   "tools":[{"type":"function","function":{"name":"f","parameters":"x"}}]})",
                   "tools[0].function.parameters is not an object (it is a string)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                   "tool_choice":"maybe"})",
                   "tool_choice \"maybe\" is not one of auto, none, required"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],"tool_choice":1})",
                   "tool_choice is neither a string nor an object (it is an integer)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                   "temperature":"hot"})",
                   "temperature is not a number (it is a string)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":0})",
                   "max_tokens must be an integer from 1 to"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                   "max_completion_tokens":1.5})",
                   "max_completion_tokens is not an integer"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":"yes"})",
                   "stream is not a boolean (it is a string)"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"hi"}],
                   "stream_options":{"include_usage":1}})",
                   "stream_options.include_usage is not a boolean (it is an integer)"}));

TEST(OpenAiRequestDecoderTest, RefusesDeepNesting) {
  std::string body = R"({"model":"m","messages":[{"role":"user","content":"hi"}],"x":)";
  body += std::string(1000, '[') + std::string(1000, ']') + "}";
  Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(body);
  ASSERT_FALSE(decoded.ok());
  EXPECT_THAT(decoded.status().message(), HasSubstr("nests deeper"));
}

}  // namespace
}  // namespace troupe
