#include "mock_llm/openai_responses_request_decoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llm/openai_responses_codec.h"
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
  r.model = "gpt-5-codex";
  r.system = "Be brief.\nAnd precise.";
  r.messages.push_back(UserMessage("Read a.cc and b.cc"));
  ChatMessage reading = Assistant(
      "Reading both.",
      {Call("call_1", "read", R"({"path":"a.cc"})"), Call("call_2", "read", R"({"path": "b.cc"})")},
      "Two files.\n\nBoth small.");
  reading.provider_replay = {
      {kOpenAiResponsesReplayKey,
       {{"reasoning_items",
         json::array(
             {{{"type", "reasoning"},
               {"id", "rs_1"},
               {"encrypted_content", "opaque-1"},
               {"summary", json::array({{{"type", "summary_text"}, {"text", "Two files."}}})}},
              {{"type", "reasoning"},
               {"id", "rs_2"},
               {"encrypted_content", "opaque-2"},
               {"summary",
                json::array({{{"type", "summary_text"}, {"text", "Both small."}}})}}})}}}};
  r.messages.push_back(reading);
  ChatMessage first = ToolResultMessage("call_1", "", "int main() {}");
  first.tool_name = "read";  // resolved from the assistant turn
  ChatMessage second = ToolResultMessage("call_2", "", "");
  second.tool_name = "read";
  r.messages.push_back(first);
  r.messages.push_back(second);
  r.messages.push_back(Assistant("", {Call("call_3", "grep", R"({"q":"x"})")}));
  r.messages.push_back(ToolResultMessage("call_9", "", "no such call"));  // keeps an empty name
  r.messages.push_back(Assistant("Done: a.cc is empty."));
  r.messages.push_back(UserMessage("Thanks\nbye"));
  r.tools.push_back({"read", "Reads a file", json::parse(R"({"type":"object","properties":{}})")});
  r.tools.push_back({"grep", "", json::object()});
  r.tool_choice = "required";
  r.max_tokens = 1234;
  r.reasoning.effort = "low";
  r.caching = {true, "task-1"};
  r.stream = true;
  return r;
}

TEST(OpenAiResponsesRequestDecoderTest, RoundTripsWhatTheEncoderWrites) {
  const ChatRequest original = EveryKindOfMessage();
  Result<ChatRequest> decoded =
      DecodeOpenAiResponsesRequest(EncodeOpenAiResponsesRequest(original).dump());
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Text(*decoded), Text(original));
  EXPECT_EQ(decoded->messages[1].provider_replay, original.messages[1].provider_replay);
  EXPECT_EQ(decoded->reasoning, original.reasoning);
  EXPECT_EQ(decoded->caching, original.caching);

  ChatRequest named = original;
  named.tool_choice = "grep";
  decoded = DecodeOpenAiResponsesRequest(EncodeOpenAiResponsesRequest(named).dump());
  ASSERT_TRUE(decoded.ok());
  EXPECT_EQ(decoded->tool_choice, "grep");
}

TEST(OpenAiResponsesRequestDecoderTest, ReadsWhatOtherClientsSend) {
  Result<ChatRequest> r = DecodeOpenAiResponsesRequest(R"({"model":"gpt-4.1","input":"Hi"})");
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->messages.size(), 1u);
  EXPECT_EQ(r->messages[0].text, "Hi");
  EXPECT_FALSE(r->stream);

  r = DecodeOpenAiResponsesRequest(R"({"model":"m","instructions":"Top.","input":[
    {"type":"message","role":"developer","content":[{"type":"input_text","text":"Dev."}]},
    {"role":"user","content":[{"type":"input_text","text":"a"},{"type":"input_image","image_url":"x"},
                              {"type":"input_text","text":"b"}]},
    {"type":"message","role":"assistant","status":"completed","content":[
      {"type":"refusal","refusal":"No."}]},
    {"type":"function_call_output","call_id":"c1","output":[{"type":"input_text","text":"out"}]}],
    "tools":[{"type":"web_search"},{"type":"function","name":"f","parameters":null}]})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->system, "Top.\nDev.");
  ASSERT_EQ(r->messages.size(), 3u);
  EXPECT_EQ(r->messages[0].text, "a\nb");
  EXPECT_EQ(r->messages[1].refusal, "No.");
  EXPECT_EQ(r->messages[2].text, "out");
  ASSERT_EQ(r->tools.size(), 1u);
  EXPECT_EQ(r->tools[0].name, "f");
}

TEST(OpenAiResponsesRequestDecoderTest, RefusesWrongShapesSayingWhere) {
  struct Case {
    const char* body;
    const char* message;
  };
  const Case cases[] = {
      {R"({"input":"x"})", "model is missing"},
      {R"({"model":"m"})", "input is missing"},
      {R"({"model":"m","input":[]})", "input is empty"},
      {R"({"model":"m","input":[3]})", "input[0] is not an object"},
      {R"({"model":"m","input":[{"role":"tool","content":"x"}]})",
       "input[0].role \"tool\" is not one of user, assistant, system, developer"},
      {R"({"model":"m","input":[{"type":"web_search_call"}]})",
       "input[0].type \"web_search_call\" is not one of message, function_call"},
      {R"({"model":"m","input":[{"type":"function_call","name":"f"}]})",
       "input[0].call_id is missing"},
      {R"({"model":"m","input":[{"type":"function_call_output","call_id":"c","output":7}]})",
       "input[0].output is neither a string nor an array"},
      {R"({"model":"m","input":"x","tool_choice":"any"})", "tool_choice \"any\" is not one of"},
      {R"({"model":"m","input":"x","max_output_tokens":0})", "max_output_tokens"},
      {"{", "the request body"},
  };
  for (const Case& c : cases) {
    Result<ChatRequest> r = DecodeOpenAiResponsesRequest(c.body);
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.body;
    EXPECT_THAT(r.status().message(), HasSubstr(c.message)) << c.body;
  }
}

}  // namespace
}  // namespace troupe
