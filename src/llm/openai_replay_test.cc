// What OpenAI-compatible servers need back on later turns (openai_replay.h), both directions:
// decoded from replies shaped as DeepSeek, OpenRouter and Gemini send them (ids, texts and
// signatures made up), then encoded into the next request.
#include "llm/openai_replay.h"

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

// The request of the next turn: the reply, then the result of each of its calls.
json NextTurn(const std::string& model, const ChatMessage& reply) {
  ChatRequest r;
  r.model = model;
  r.messages.push_back(UserMessage("Weather in Paris?"));
  r.messages.push_back(reply);
  for (const ToolCall& c : reply.tool_calls) {
    r.messages.push_back(ToolResultMessage(c.id, c.name, "18C, sunny"));
  }
  return EncodeOpenAiRequest(r);
}

// DeepSeek thinking mode in a tool loop.
constexpr std::string_view kDeepSeekChunks[] = {
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":"I need the weather"},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"content":null,"reasoning_content":" tool."},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_00_k3P","type":"function","function":{"name":"get_weather","arguments":""}}]},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"city\": \"Paris\"}"}}]},"logprobs":null,"finish_reason":null}]})",
    R"({"id":"5e0c","object":"chat.completion.chunk","created":1764000000,"model":"deepseek-reasoner","system_fingerprint":"fp_ds_1","choices":[{"index":0,"delta":{"content":""},"logprobs":null,"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":310,"completion_tokens":58,"total_tokens":368,"prompt_tokens_details":{"cached_tokens":256},"completion_tokens_details":{"reasoning_tokens":40},"prompt_cache_hit_tokens":256,"prompt_cache_miss_tokens":54}})",
};

TEST(OpenAiReplayTest, DeepSeekReasoningContentGoesBackWithToolCalls) {
  const auto& c = kDeepSeekChunks;
  Result<ChatResult> r = DecodeStream(DataEvents({c[0], c[1], c[2], c[3], c[4], c[5]}));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "I need the weather tool.");
  EXPECT_EQ(r->message.provider_replay,
            json::parse(R"({"openai":{"reasoning_content":"I need the weather tool."}})"));
  EXPECT_EQ(r->usage.reasoning_tokens, 40);
  EXPECT_EQ(r->usage.cache_read_tokens, 256);

  const json body = NextTurn("deepseek-reasoner", r->message);
  const json& assistant = body["messages"][1];
  EXPECT_EQ(assistant["reasoning_content"], "I need the weather tool.");
  EXPECT_EQ(assistant["tool_calls"][0]["id"], "call_00_k3P");
  EXPECT_EQ(assistant["tool_calls"][0]["function"]["arguments"], R"({"city": "Paris"})");

  // A final answer (no tool calls): DeepSeek ignores its reasoning, so it is not sent.
  ChatMessage final_answer = r->message;
  final_answer.tool_calls.clear();
  final_answer.text = "18C.";
  EXPECT_FALSE(NextTurn("deepseek-reasoner", final_answer)["messages"][1].contains(
      "reasoning_content"));
}

// Reasoning that came as `reasoning` (vLLM, Ollama, OpenRouter) is not DeepSeek's: not sent.
TEST(OpenAiReplayTest, PlainReasoningIsNotSentBack) {
  Result<ChatResult> r = DecodeStream(DataEvents({
      R"({"id":"o1","model":"qwen3","choices":[{"index":0,"delta":{"role":"assistant","reasoning":"hmm"},"finish_reason":null}]})",
      R"({"id":"o1","model":"qwen3","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"ls","arguments":"{}"}}]},"finish_reason":"tool_calls"}]})",
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "hmm");
  EXPECT_TRUE(r->message.provider_replay.is_null());
  EXPECT_FALSE(NextTurn("qwen3", r->message)["messages"][1].contains("reasoning_content"));
}

TEST(OpenAiReplayTest, OpenRouterReasoningDetailsAreMergedAndSentBack) {
  // OpenRouter in front of Claude: text fragments of item 0, then its signature; an
  // encrypted item; keep-alive comments between chunks.
  const std::string stream =
      ": OPENROUTER PROCESSING\n\n" +
      DataEvents({
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":"Paris is","reasoning_details":[{"type":"reasoning.text","text":"Paris is","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":" in France.","reasoning_details":[{"type":"reasoning.text","text":" in France.","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.text","signature":"ErUBCkYIBxgCKkB1c2lnbmF0dXJl","format":"anthropic-claude-v1","index":0}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning_details":[{"type":"reasoning.encrypted","data":"EmwKAhgBEgy3","format":"anthropic-claude-v1","index":1}]},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":"It is 18C."},"finish_reason":null,"native_finish_reason":null,"logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop","native_finish_reason":"end_turn","logprobs":null}]})",
          R"({"id":"gen-17","provider":"Anthropic","model":"anthropic/claude-sonnet-4.5","object":"chat.completion.chunk","created":1764000000,"choices":[],"usage":{"prompt_tokens":40,"completion_tokens":30,"total_tokens":70,"cost":0.0006,"prompt_tokens_details":{"cached_tokens":0},"completion_tokens_details":{"reasoning_tokens":12}}})",
      });
  Result<ChatResult> r = DecodeStream(stream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "Paris is in France.");
  EXPECT_EQ(r->message.text, "It is 18C.");
  const json details = json::parse(R"([
    {"type":"reasoning.text","text":"Paris is in France.","signature":"ErUBCkYIBxgCKkB1c2lnbmF0dXJl",
     "format":"anthropic-claude-v1","index":0},
    {"type":"reasoning.encrypted","data":"EmwKAhgBEgy3","format":"anthropic-claude-v1","index":1}])");
  EXPECT_EQ(r->message.provider_replay, (json{{"openai", {{"reasoning_details", details}}}}));
  EXPECT_EQ(r->usage.reasoning_tokens, 12);

  const json body = NextTurn("anthropic/claude-sonnet-4.5", r->message);
  EXPECT_EQ(body["messages"][1]["reasoning_details"], details);
  EXPECT_FALSE(body["messages"][1].contains("reasoning_content"));

  // Not streamed: the items as they are.
  Result<ChatResult> whole = DecodeOpenAiResponse(
      R"({"id":"gen-18","model":"x-ai/grok-4.1-fast","object":"chat.completion","choices":[{
      "index":0,"finish_reason":"stop","message":{"role":"assistant","content":"3.",
      "reasoning":"Count r.","reasoning_details":[{"type":"reasoning.encrypted",
      "data":"gAAAAABo","id":"rs_1","format":"xai-responses-v1","index":0}]}}]})");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->message.provider_replay["openai"]["reasoning_details"][0]["data"], "gAAAAABo");
}

TEST(OpenAiReplayTest, GeminiThoughtSignatureStaysOnItsToolCall) {
  // Gemini's OpenAI-compatible endpoint sends each call whole, in one chunk.
  Result<ChatResult> r = DecodeStream(DataEvents({
      R"({"choices":[{"delta":{"content":null,"role":"assistant","tool_calls":[{"extra_content":{"google":{"thought_signature":"CiQBcsjafA5mX2sig1"}},"function":{"arguments":"{\"city\":\"Paris\"}","name":"get_weather"},"id":"function-call-9021","index":0,"type":"function"}]},"finish_reason":null,"index":0}],"created":1764000000,"id":"kYhAabc","model":"gemini-3-pro-preview","object":"chat.completion.chunk"})",
      R"({"choices":[{"delta":{"content":null,"role":"assistant","tool_calls":[{"function":{"arguments":"{\"city\":\"Lyon\"}","name":"get_weather"},"id":"function-call-9022","index":1,"type":"function"}]},"finish_reason":"tool_calls","index":0}],"created":1764000000,"id":"kYhAabc","model":"gemini-3-pro-preview","object":"chat.completion.chunk","usage":{"completion_tokens":30,"prompt_tokens":80,"total_tokens":160,"completion_tokens_details":{"reasoning_tokens":50}}})",
  }));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  const json extra = json::parse(R"({"extra_content":{"google":{"thought_signature":
                                     "CiQBcsjafA5mX2sig1"}}})");
  EXPECT_EQ(r->message.tool_calls[0].provider_extra, extra);
  EXPECT_TRUE(r->message.tool_calls[1].provider_extra.is_null());

  const json body = NextTurn("gemini-3-pro-preview", r->message);
  const json& calls = body["messages"][1]["tool_calls"];
  EXPECT_EQ(calls[0]["extra_content"], extra["extra_content"]);
  EXPECT_EQ(calls[0]["function"]["name"], "get_weather");
  EXPECT_FALSE(calls[1].contains("extra_content"));

  Result<ChatResult> whole = DecodeOpenAiResponse(
      R"({"choices":[{"finish_reason":"tool_calls","index":0,"message":{"role":"assistant",
      "tool_calls":[{"extra_content":{"google":{"thought_signature":"CiQBcsjafA5mX2sig1"}},
      "function":{"arguments":"{\"city\":\"Paris\"}","name":"get_weather"},
      "id":"function-call-9021","type":"function"}]}}],"id":"kYh","model":"gemini-3-pro-preview",
      "object":"chat.completion"})");
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->message.tool_calls[0].provider_extra, extra);
}

TEST(OpenAiReplayTest, ReplayKeptForAnotherWireIsIgnored) {
  ChatMessage m = codec_test::Assistant("x", {{"call_1", "ls", "{}", json{{"other", 1}}}});
  m.provider_replay = json{{"anthropic", {{"blocks", json::array()}}}};
  json out = {{"role", "assistant"}, {"tool_calls", json::array({{{"id", "call_1"}}})}};
  openai_replay::AddReplay(m, &out);
  EXPECT_FALSE(out.contains("reasoning_details"));
  EXPECT_FALSE(out.contains("reasoning_content"));
  EXPECT_EQ(out["tool_calls"][0]["other"], 1);
  // provider_extra never replaces what the call already says.
  m.tool_calls[0].provider_extra = json{{"id", "forged"}};
  openai_replay::AddReplay(m, &out);
  EXPECT_EQ(out["tool_calls"][0]["id"], "call_1");
}

TEST(OpenAiReplayTest, MalformedReplayFieldsSayWhere) {
  json details;
  Status s = openai_replay::AppendReasoningDetails(
      json::parse(R"({"reasoning_details":[{"type":"reasoning.text"},"x"]})"), "choices[0].delta",
      &details);
  EXPECT_EQ(s.message(), "choices[0].delta.reasoning_details[1] is not an object (it is a string)");
  json extra;
  s = openai_replay::ReadToolCallExtra(json::parse(R"({"extra_content":"sig"})"),
                                       "choices[0].delta.tool_calls[0]", &extra);
  EXPECT_EQ(s.message(),
            "choices[0].delta.tool_calls[0].extra_content is not an object (it is a string)");
}

}  // namespace
}  // namespace troupe
