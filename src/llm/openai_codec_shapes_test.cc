// OpenAiStreamDecoder, DecodeOpenAiResponse and EncodeOpenAiRequest against replies shaped as
// the real services send them (learnt from their API references and public SDK test suites;
// ids, texts and signatures are made up): Mistral's content-part arrays, OpenAI refusals,
// length stops, usage details and OpenAI reasoning models' request rules. The replay data of
// DeepSeek, OpenRouter and Gemini are in openai_replay_test.cc.
#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

#include "llm/codec_test_support.h"
#include "llm/openai_codec.h"

namespace troupe {
namespace {

using json = nlohmann::json;

using codec_test::DataEvents;
constexpr auto DecodeStream = &codec_test::DecodeStreamAtEverySplit<OpenAiStreamDecoder>;

// Mistral's magistral models: thinking parts first, then text parts (and plain strings).
TEST(OpenAiShapesTest, MistralContentPartArraysGiveReasoningAndText) {
  const std::string stream = DataEvents({
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})",
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":"Half of 18"}]}]},"finish_reason":null}]})",
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":" is 9."}]}]},"finish_reason":null}]})",
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"It is "}]},"finish_reason":null}]})",
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":"9."},"finish_reason":null}]})",
      R"({"id":"8c1f","object":"chat.completion.chunk","created":1759752086,"model":"magistral-medium-2509","choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}],"usage":{"prompt_tokens":12,"total_tokens":52,"completion_tokens":40}})",
  });
  Result<ChatResult> r = DecodeStream(stream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "Half of 18 is 9.");
  EXPECT_EQ(r->message.text, "It is 9.");
  EXPECT_EQ(r->finish, FinishReason::kStop);
  EXPECT_EQ(r->usage.output_tokens, 40);
  EXPECT_TRUE(r->message.provider_replay.is_null());  // Mistral needs nothing back

  // The same reply, not streamed.
  Result<ChatResult> whole = DecodeOpenAiResponse(R"({"id":"8c1f","object":"chat.completion",
    "model":"magistral-medium-2509","choices":[{"index":0,"finish_reason":"stop","message":{
    "role":"assistant","tool_calls":null,"content":[
      {"type":"thinking","thinking":[{"type":"text","text":"Half of 18 is 9."}]},
      {"type":"text","text":"It is 9."}]}}],
    "usage":{"prompt_tokens":12,"total_tokens":52,"completion_tokens":40}})");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->message.reasoning, "Half of 18 is 9.");
  EXPECT_EQ(whole->message.text, "It is 9.");
}

TEST(OpenAiShapesTest, ContentPartErrorsSayWhere) {
  Result<ChatResult> r = codec_test::DecodeStream<OpenAiStreamDecoder>(DataEvents({
      R"({"id":"x","choices":[{"index":0,"delta":{"content":[{"type":"text","text":"a"},7]},"finish_reason":null}]})",
  }));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "openai stream: chunk 1: choices[0].delta.content[1] is not an object (it is an "
            "integer)");
  r = codec_test::DecodeStream<OpenAiStreamDecoder>(DataEvents({
      R"({"id":"x","choices":[{"index":0,"delta":{"content":[{"type":"thinking","thinking":[{"type":"text","text":5}]}]},"finish_reason":null}]})",
  }));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "openai stream: chunk 1: choices[0].delta.content[0].thinking[0].text is not a string "
            "(it is an integer)");
}

TEST(OpenAiShapesTest, StreamedRefusalIsARefusalWithItsWords) {
  const std::string stream = DataEvents({
      R"({"id":"chatcmpl-R1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"refusal":""},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-R1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"refusal":"I'm sorry, "},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-R1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{"refusal":"I can't help with that."},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-R1","object":"chat.completion.chunk","created":1727000000,"model":"gpt-4o-2024-08-06","system_fingerprint":"fp_1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]})",
  });
  Result<ChatResult> r = DecodeStream(stream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish, FinishReason::kRefusal);
  EXPECT_EQ(r->message.refusal, "I'm sorry, I can't help with that.");
  EXPECT_EQ(r->message.text, "");
  EXPECT_EQ(r->message.stop_reason, "stop");

  Result<ChatResult> whole = DecodeOpenAiResponse(R"({"id":"chatcmpl-R2",
    "object":"chat.completion","created":1727000000,"model":"gpt-4o-2024-08-06",
    "choices":[{"index":0,"message":{"role":"assistant","content":null,
      "refusal":"I'm sorry, I can't help with that.","annotations":[]},
      "logprobs":null,"finish_reason":"stop"}],
    "usage":{"prompt_tokens":81,"completion_tokens":11,"total_tokens":92}})");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->finish, FinishReason::kRefusal);
  EXPECT_EQ(whole->message.refusal, "I'm sorry, I can't help with that.");

  // Sent back on a later turn as the assistant's refusal.
  ChatRequest next;
  next.model = "gpt-4o";
  next.messages = {UserMessage("q"), whole->message, UserMessage("Why?")};
  const json body = EncodeOpenAiRequest(next);
  EXPECT_EQ(body["messages"][1]["refusal"], "I'm sorry, I can't help with that.");
}

TEST(OpenAiShapesTest, LengthStopInTextIsCarried) {
  Result<ChatResult> r = DecodeStream(DataEvents({
      R"({"id":"chatcmpl-L1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"role":"assistant","content":"The first"},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-L1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]})",
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->message.stop_reason, "length");
  EXPECT_EQ(r->message.text, "The first");
}

// The limit cuts a tool call's arguments: they stay cut (not valid JSON), never become "{}".
TEST(OpenAiShapesTest, LengthStopInsideAToolCallKeepsTheCutInput) {
  Result<ChatResult> r = DecodeStream(DataEvents({
      R"({"id":"chatcmpl-L2","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_w1","type":"function","function":{"name":"write_file","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-L2","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"path\":\"a.txt\",\"content\":\"lorem ip"}}]},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-L2","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{"tool_calls":[{"index":1,"id":"call_w2","type":"function","function":{"name":"read_file","arguments":""}}]},"logprobs":null,"finish_reason":null}]})",
      R"({"id":"chatcmpl-L2","object":"chat.completion.chunk","created":1,"model":"gpt-4.1","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"length"}]})",
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->message.stop_reason, "length");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path":"a.txt","content":"lorem ip)");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "");  // cut before its input began
}

TEST(OpenAiShapesTest, UsageDetailsGiveCachedAndReasoningTokens) {
  Result<ChatResult> r = DecodeStream(DataEvents({
      R"({"id":"chatcmpl-U1","object":"chat.completion.chunk","created":1,"model":"o4-mini-2025-04-16","service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"finish_reason":null}],"usage":null})",
      R"({"id":"chatcmpl-U1","object":"chat.completion.chunk","created":1,"model":"o4-mini-2025-04-16","service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":{"content":"42"},"finish_reason":null}],"usage":null})",
      R"({"id":"chatcmpl-U1","object":"chat.completion.chunk","created":1,"model":"o4-mini-2025-04-16","service_tier":"default","system_fingerprint":null,"choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})",
      R"({"id":"chatcmpl-U1","object":"chat.completion.chunk","created":1,"model":"o4-mini-2025-04-16","service_tier":"default","system_fingerprint":null,"choices":[],"usage":{"prompt_tokens":2210,"completion_tokens":334,"total_tokens":2544,"prompt_tokens_details":{"cached_tokens":1920,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":320,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}}})",
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->usage.input_tokens, 290);
  EXPECT_EQ(r->usage.cache_read_tokens, 1920);
  EXPECT_EQ(r->usage.output_tokens, 334);
  EXPECT_EQ(r->usage.reasoning_tokens, 320);

  Result<ChatResult> bad = DecodeOpenAiResponse(R"({"id":"x","choices":[{"index":0,
    "message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],
    "usage":{"prompt_tokens":1,"completion_tokens":1,
             "completion_tokens_details":{"reasoning_tokens":"many"}}})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(),
            "openai response: usage.completion_tokens_details.reasoning_tokens is not an integer "
            "(it is a string)");
}

ChatRequest Request(std::string model) {
  ChatRequest r;
  r.model = std::move(model);
  r.messages.push_back(UserMessage("hi"));
  r.temperature = 0.2;
  r.max_tokens = 1000;
  return r;
}

TEST(OpenAiShapesTest, ReasoningModelsGetNoTemperatureAndMaxCompletionTokens) {
  for (const char* model : {"o1", "o3-mini", "o4-mini-2025-04-16", "gpt-5", "gpt-5.1-codex",
                            "openai/o3-mini"}) {
    SCOPED_TRACE(model);
    ChatRequest r = Request(model);
    r.reasoning.effort = "high";
    const json options = EncodeOpenAiOptions(r);
    EXPECT_FALSE(options.contains("temperature"));
    EXPECT_FALSE(options.contains("max_tokens"));
    EXPECT_EQ(options["max_completion_tokens"], 1000);
    EXPECT_EQ(options["reasoning_effort"], "high");
  }
  for (const char* model : {"gpt-4o", "gpt-5-chat-latest", "deepseek-chat", "omni-lite"}) {
    SCOPED_TRACE(model);
    const json options = EncodeOpenAiOptions(Request(model));
    EXPECT_EQ(options["temperature"], 0.2);
    EXPECT_EQ(options["max_tokens"], 1000);
    EXPECT_FALSE(options.contains("max_completion_tokens"));
    EXPECT_FALSE(options.contains("reasoning_effort"));  // not asked
  }
}

TEST(OpenAiShapesTest, PromptCacheKeyGoesToOpenAiModelsOnly) {
  ChatRequest r = Request("gpt-4.1");
  r.caching.enabled = true;  // as the agent loop asks by default (AgentLimits::prompt_caching)
  r.caching.key = "task-7f3a";
  EXPECT_EQ(EncodeOpenAiOptions(r)["prompt_cache_key"], "task-7f3a");
  r.caching.enabled = false;
  EXPECT_FALSE(EncodeOpenAiOptions(r).contains("prompt_cache_key"));
  r.caching.enabled = true;
  r.model = "mistral-large-latest";  // Mistral refuses fields it does not know
  EXPECT_FALSE(EncodeOpenAiOptions(r).contains("prompt_cache_key"));
  r.model = "gpt-4.1";
  r.caching.key = "";
  EXPECT_FALSE(EncodeOpenAiOptions(r).contains("prompt_cache_key"));
}

}  // namespace
}  // namespace troupe
