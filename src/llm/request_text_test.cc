#include "llm/request_text.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"

namespace troupe {
namespace {

using nlohmann::json;

ToolSpec Tool(const std::string& name, const std::string& description = "Does a thing.") {
  return {name, description,
          json{{"type", "object"},
               {"properties", {{"path", {{"type", "string"}, {"description", "A \"path\"\n"}}}}},
               {"required", {"path"}}}};
}

// Requests that cover every part: with and without system, tools, tool_choice, temperature,
// max_tokens and streaming; every role, tool calls, reasoning, errors.
std::vector<ChatRequest> Requests() {
  ChatRequest full;
  full.model = "m-1";
  full.system = "You are \"careful\".\nÜber alles: \t tabs and \\ slashes.";
  full.messages.push_back(UserMessage("Find the token check."));
  ChatMessage assistant;
  assistant.role = ChatRole::kAssistant;
  assistant.text = "Looking.";
  assistant.reasoning = "think";
  assistant.reasoning_signature = "sig";
  assistant.tool_calls = {{"call_1", "grep", R"({"pattern":"Check"})"}, {"call_2", "read", ""}};
  full.messages.push_back(assistant);
  ChatMessage result;
  result.role = ChatRole::kTool;
  result.tool_call_id = "call_1";
  result.tool_name = "grep";
  result.text = "src/a.cc:1:CheckToken";
  full.messages.push_back(result);
  result.tool_call_id = "call_2";
  result.tool_name = "read";
  result.text = "no such file";
  result.is_error = true;
  full.messages.push_back(result);
  full.tools = {Tool("grep"), Tool("read", "Reads a file.")};
  full.tool_choice = "read";
  full.temperature = 0.25;
  full.max_tokens = 1000;

  ChatRequest bare;
  bare.model = "m-2";
  bare.messages.push_back(UserMessage("hi"));
  bare.tool_choice = "required";  // without tools: not sent
  bare.max_tokens = 0;
  bare.stream = false;

  ChatRequest no_messages = full;
  no_messages.messages.clear();
  ChatRequest no_system = full;
  no_system.system.clear();
  ChatRequest auto_choice = full;
  auto_choice.tool_choice = "auto";
  auto_choice.temperature.reset();
  return {full, bare, no_messages, no_system, auto_choice};
}

TEST(RequestTextTest, OpenAiBodyIsTheEncodedRequest) {
  RequestTextCache cache;
  for (int round = 0; round < 2; ++round) {  // the second round from the cache
    for (const ChatRequest& r : Requests()) {
      SCOPED_TRACE(EncodeOpenAiRequest(r).dump());
      EXPECT_EQ(json::parse(EncodeOpenAiRequestText(r, false, &cache)), EncodeOpenAiRequest(r));
      EXPECT_EQ(json::parse(EncodeOpenAiRequestText(r, false, nullptr)), EncodeOpenAiRequest(r));
    }
  }
  EXPECT_GT(cache.hits(), 0);
}

TEST(RequestTextTest, AnthropicBodyIsTheEncodedRequest) {
  RequestTextCache cache;
  for (int round = 0; round < 2; ++round) {
    for (const ChatRequest& r : Requests()) {
      SCOPED_TRACE(EncodeAnthropicRequest(r).dump());
      EXPECT_EQ(json::parse(EncodeAnthropicRequestText(r, &cache)), EncodeAnthropicRequest(r));
      EXPECT_EQ(json::parse(EncodeAnthropicRequestText(r, nullptr)), EncodeAnthropicRequest(r));
    }
  }
  EXPECT_GT(cache.hits(), 0);
}

TEST(RequestTextTest, MaxCompletionTokensRenamesTheLimit) {
  ChatRequest r = Requests()[0];
  json body = json::parse(EncodeOpenAiRequestText(r, true, nullptr));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body["max_completion_tokens"], 1000);
  r.max_tokens = 0;  // no limit: nothing to rename
  body = json::parse(EncodeOpenAiRequestText(r, true, nullptr));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("max_completion_tokens"));
}

TEST(RequestTextTest, CacheRecognisesItsPartsByValue) {
  RequestTextCache cache;
  ChatRequest r = Requests()[0];
  EncodeOpenAiRequestText(r, false, &cache);
  EXPECT_EQ(cache.misses(), 2);  // the system prompt and the tools
  EXPECT_EQ(cache.hits(), 0);
  ChatRequest copy = r;  // other objects, same values
  copy.messages.push_back(UserMessage("more"));
  EncodeOpenAiRequestText(copy, false, &cache);
  EXPECT_EQ(cache.misses(), 2);
  EXPECT_EQ(cache.hits(), 2);

  // A changed schema, description or system prompt is not taken from the cache.
  ChatRequest changed = r;
  changed.tools[1].input_schema["required"] = json::array();
  EXPECT_EQ(json::parse(EncodeOpenAiRequestText(changed, false, &cache)),
            EncodeOpenAiRequest(changed));
  changed.tools[0].description = "Other.";
  EXPECT_EQ(json::parse(EncodeOpenAiRequestText(changed, false, &cache)),
            EncodeOpenAiRequest(changed));
  changed.system += "!";
  EXPECT_EQ(json::parse(EncodeOpenAiRequestText(changed, false, &cache)),
            EncodeOpenAiRequest(changed));
  EXPECT_EQ(cache.misses(), 5);
  // The same system prompt and tools in the other wire format are other entries.
  EXPECT_EQ(json::parse(EncodeAnthropicRequestText(r, &cache)), EncodeAnthropicRequest(r));
  EXPECT_EQ(cache.misses(), 7);
}

TEST(RequestTextTest, CacheKeepsTheLastFewAndStaysCorrectPastThem) {
  RequestTextCache cache;
  ChatRequest r = Requests()[0];
  for (int i = 0; i < 20; ++i) {
    r.system = "prompt " + std::to_string(i);
    r.tools[0].name = "tool_" + std::to_string(i);
    EXPECT_EQ(json::parse(EncodeOpenAiRequestText(r, false, &cache)), EncodeOpenAiRequest(r));
  }
  EXPECT_EQ(cache.misses(), 40);
  // The latest are still there; the first were evicted, and are encoded again correctly.
  EncodeOpenAiRequestText(r, false, &cache);
  EXPECT_EQ(cache.hits(), 2);
  r.system = "prompt 0";
  r.tools[0].name = "tool_0";
  EXPECT_EQ(json::parse(EncodeOpenAiRequestText(r, false, &cache)), EncodeOpenAiRequest(r));
  EXPECT_EQ(cache.misses(), 42);
}

TEST(RequestTextTest, InvalidUtf8IsReplacedNotFatal) {
  ChatRequest r = Requests()[0];
  r.system = "bad \xff byte";
  r.messages[0].text = "also \xc3 bad";
  r.tools[0].description = "\xfe";
  for (RequestTextCache* cache : {static_cast<RequestTextCache*>(nullptr), new RequestTextCache}) {
    const std::string openai = EncodeOpenAiRequestText(r, false, cache);
    const std::string anthropic = EncodeAnthropicRequestText(r, cache);
    const json a = json::parse(openai);
    EXPECT_EQ(a["messages"][0]["content"], "bad \xef\xbf\xbd byte");
    EXPECT_EQ(a["messages"][1]["content"], "also \xef\xbf\xbd bad");
    EXPECT_EQ(json::parse(anthropic)["system"], "bad \xef\xbf\xbd byte");
    delete cache;
  }
}

}  // namespace
}  // namespace troupe
