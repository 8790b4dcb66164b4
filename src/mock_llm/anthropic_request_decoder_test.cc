#include "mock_llm/anthropic_request_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llm/anthropic_codec.h"
#include "mock_llm/mock_llm_test_support.h"

namespace troupe {
namespace {

using codec_test::Assistant;
using mock_llm_test::Call;
using mock_llm_test::Text;
using ::testing::HasSubstr;
using json = nlohmann::json;

// Arguments are compact JSON objects with sorted keys: the wire carries `input` as an object,
// which comes back in that form.
ChatRequest EveryKindOfMessage() {
  ChatRequest r;
  r.model = "claude-sonnet-4-5";
  r.system = "Be brief.";
  r.messages.push_back(UserMessage("Read a.cc and b.cc"));
  r.messages.push_back(Assistant("Reading both.",
                                 {Call("toolu_1", "read", R"({"limit":5,"path":"a.cc"})"),
                                  Call("toolu_2", "read", R"({"path":"b.cc"})")},
                                 "I should read them.", "sig-1"));
  r.messages.push_back(ToolResultMessage("toolu_1", "read", "int main() {}"));
  r.messages.push_back(ToolResultMessage("toolu_2", "read", "no such file", /*is_error=*/true));
  r.messages.push_back(UserMessage("<system-reminder>\nkeep going\n</system-reminder>"));
  r.messages.push_back(Assistant("", {Call("toolu_3", "grep", R"({"q":"x"})")}));
  r.messages.push_back(ToolResultMessage("toolu_3", "grep", ""));
  r.messages.push_back(Assistant("Done."));
  r.messages.push_back(UserMessage("Thanks"));
  r.tools.push_back({"read", "Reads a file", json::parse(R"({"type":"object","properties":{}})")});
  r.tools.push_back({"grep", "", json::object()});
  r.tool_choice = "required";
  r.temperature = 0.5;
  r.max_tokens = 4096;
  r.stream = true;
  return r;
}

TEST(AnthropicRequestDecoderTest, RoundTripsWhatTheEncoderWrites) {
  const ChatRequest original = EveryKindOfMessage();
  Result<ChatRequest> decoded = DecodeAnthropicRequest(EncodeAnthropicRequest(original).dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Text(*decoded), Text(original));
}

TEST(AnthropicRequestDecoderTest, RoundTripsEveryToolChoiceAndNoStream) {
  for (const char* choice : {"auto", "none", "required", "grep"}) {
    ChatRequest original = EveryKindOfMessage();
    original.tool_choice = choice;
    original.stream = false;
    original.temperature.reset();
    Result<ChatRequest> decoded = DecodeAnthropicRequest(EncodeAnthropicRequest(original).dump());
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(Text(*decoded), Text(original)) << choice;
  }
}

TEST(AnthropicRequestDecoderTest, AcceptsWhatOtherClientsSend) {
  Result<ChatRequest> decoded = DecodeAnthropicRequest(R"({
    "model": "m", "max_tokens": 100,
    "system": [{"type": "text", "text": "one", "cache_control": {"type": "ephemeral"}},
               {"type": "text", "text": "two"}],
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "look"},
                                   {"type": "image", "source": {"type": "base64"}},
                                   {"type": "text", "text": "here"}]},
      {"role": "assistant", "content": [
         {"type": "redacted_thinking", "data": "xx"},
         {"type": "text", "text": "a"}, {"type": "text", "text": "b"},
         {"type": "tool_use", "id": "t1", "name": "f", "input": {"z": 1, "a": [true]}}]},
      {"role": "user", "content": [
         {"type": "tool_result", "tool_use_id": "t1",
          "content": [{"type": "text", "text": "r1"}, {"type": "text", "text": "r2"}]},
         {"type": "text", "text": "and"}]},
      {"role": "assistant", "content": "plain"}
    ],
    "tools": [{"type": "web_search_20250305", "name": "web_search"},
              {"name": "f", "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "tool", "name": "f", "disable_parallel_tool_use": true},
    "thinking": {"type": "enabled", "budget_tokens": 1024},
    "metadata": {"user_id": "u"}
  })");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  const ChatRequest& r = *decoded;
  EXPECT_EQ(r.system, "one\ntwo");
  ASSERT_EQ(r.messages.size(), 5u);
  EXPECT_EQ(r.messages[0].text, "look\nhere");
  EXPECT_EQ(r.messages[1].text, "ab");
  ASSERT_EQ(r.messages[1].tool_calls.size(), 1u);
  EXPECT_EQ(r.messages[1].tool_calls[0].arguments_json, R"({"a":[true],"z":1})");
  EXPECT_EQ(r.messages[2].role, ChatRole::kTool);
  EXPECT_EQ(r.messages[2].text, "r1\nr2");
  EXPECT_EQ(r.messages[2].tool_name, "f");
  EXPECT_EQ(r.messages[3].role, ChatRole::kUser);
  EXPECT_EQ(r.messages[3].text, "and");
  EXPECT_EQ(r.messages[4].role, ChatRole::kAssistant);
  EXPECT_EQ(r.messages[4].text, "plain");
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "f");
  EXPECT_EQ(r.tool_choice, "f");
  EXPECT_EQ(r.max_tokens, 100);
  EXPECT_FALSE(r.stream);
}

// Claude Code (2.1.x, beta "mid-conversation-system") puts `system` messages between the turns.
TEST(AnthropicRequestDecoderTest, SystemMessagesInTheConversationJoinTheSystemPrompt) {
  Result<ChatRequest> decoded = DecodeAnthropicRequest(R"({
    "model": "m", "max_tokens": 100, "system": "top",
    "messages": [
      {"role": "user", "content": "hi"},
      {"role": "system", "content": "agents: a, b"},
      {"role": "assistant", "content": "ok"},
      {"role": "system", "content": [{"type": "text", "text": "#mock reply=x"},
                                     {"type": "text", "text": "more"}]},
      {"role": "user", "content": "go"}
    ]
  })");
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(decoded->system, "top\nagents: a, b\n#mock reply=x\nmore");
  ASSERT_EQ(decoded->messages.size(), 3u);
  EXPECT_EQ(decoded->messages[0].text, "hi");
  EXPECT_EQ(decoded->messages[1].role, ChatRole::kAssistant);
  EXPECT_EQ(decoded->messages[2].text, "go");
}

struct BadRequest {
  const char* body;
  const char* error;
};

class AnthropicRequestErrorTest : public ::testing::TestWithParam<BadRequest> {};

TEST_P(AnthropicRequestErrorTest, SaysWhereTheRequestIsWrong) {
  Result<ChatRequest> decoded = DecodeAnthropicRequest(GetParam().body);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(decoded.status().message(), HasSubstr(GetParam().error));
}

INSTANTIATE_TEST_SUITE_P(
    Cases, AnthropicRequestErrorTest,
    ::testing::Values(
        BadRequest{"nope", "the request body: is not valid JSON"},
        BadRequest{R"({"max_tokens":1,"messages":[]})", "model is missing"},
        BadRequest{R"({"model":"m","messages":[{"role":"user","content":"x"}]})",
                   "max_tokens is missing"},
        BadRequest{R"({"model":"m","max_tokens":-3,"messages":[]})",
                   "max_tokens must be an integer from 1 to"},
        BadRequest{R"({"model":"m","max_tokens":"5","messages":[]})",
                   "max_tokens is not an integer (it is a string)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[]})", "messages is empty"},
        BadRequest{R"({"model":"m","max_tokens":1,"system":5,
                   "messages":[{"role":"user","content":"x"}]})",
                   "system is neither a string nor an array (it is an integer)"},
        BadRequest{R"({"model":"m","max_tokens":1,"system":[{"type":"text"}],
                   "messages":[{"role":"user","content":"x"}]})",
                   "system[0].text is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"tool","content":"x"}]})",
                   "messages[0].role \"tool\" is not one of user, assistant, system"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"system","content":7}]})",
                   "messages[0].content is neither a string nor an array (it is an integer)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user"}]})",
                   "messages[0].content is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"a"},
                   {"role":"assistant","content":"b"},{"role":"user","content":2.5}]})",
                   "messages[2].content is neither a string nor an array (it is a number)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":[{}]}]})",
                   "messages[0].content[0].type is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user",
                   "content":[{"type":"tool_result"}]}]})",
                   "messages[0].content[0].tool_use_id is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user",
                   "content":[{"type":"tool_result","tool_use_id":"t","content":{}}]}]})",
                   "messages[0].content[0].content is neither a string nor an array"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user",
                   "content":[{"type":"tool_result","tool_use_id":"t","is_error":"no"}]}]})",
                   "messages[0].content[0].is_error is not a boolean (it is a string)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant",
                   "content":[{"type":"tool_use","id":"t","name":"f","input":"{}"}]}]})",
                   "messages[0].content[0].input is not an object (it is a string)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"assistant",
                   "content":[{"type":"thinking"}]}]})",
                   "messages[0].content[0].thinking is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                   "tools":[{"name":"f"}]})",
                   "tools[0].input_schema is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                   "tool_choice":{"type":"tool"}})",
                   "tool_choice.name is missing"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                   "tool_choice":{"type":"sometimes"}})",
                   "tool_choice.type \"sometimes\" is not one of auto, any, tool, none"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                   "tool_choice":"auto"})",
                   "tool_choice is not an object (it is a string)"},
        BadRequest{R"({"model":"m","max_tokens":1,"messages":[{"role":"user","content":"x"}],
                   "stream":1})",
                   "stream is not a boolean (it is an integer)"}));

}  // namespace
}  // namespace troupe
