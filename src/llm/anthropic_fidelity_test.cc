// The Anthropic shapes that go beyond plain text and tools: interleaved and redacted thinking
// kept and sent back unchanged, refusals, replies cut by max_tokens (also inside a tool_use),
// cache usage, prompt-caching breakpoints and extended thinking. The streams are written the way
// the Messages API documents and sends them (event names, `index`, empty `signature` at block
// start, `input: {}` at tool_use start, usage split between message_start and message_delta).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "llm/anthropic_codec.h"
#include "llm/codec_test_support.h"
#include "llm/request_text.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

Result<ChatResult> DecodeStream(std::string_view stream) {
  return codec_test::DecodeStream<AnthropicStreamDecoder>(stream);
}

// Interleaved thinking (beta interleaved-thinking-2025-05-14): a signed thinking block, a tool
// call, a redacted block, another signed block, a second tool call.
constexpr std::string_view kInterleavedStream = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_01Il","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":20,"cache_creation_input_tokens":1500,"cache_read_input_tokens":3000,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"First the config."}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBsigA"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01A","name":"read","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"path\":\"troupe.jsonc\"}"}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: content_block_start
data: {"type":"content_block_start","index":2,"content_block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"}}

event: content_block_stop
data: {"type":"content_block_stop","index":2}

event: content_block_start
data: {"type":"content_block_start","index":3,"content_block":{"type":"thinking","thinking":"","signature":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":3,"delta":{"type":"thinking_delta","thinking":"Then the agents."}}

event: content_block_delta
data: {"type":"content_block_delta","index":3,"delta":{"type":"signature_delta","signature":"EqQBsigB"}}

event: content_block_stop
data: {"type":"content_block_stop","index":3}

event: content_block_start
data: {"type":"content_block_start","index":4,"content_block":{"type":"tool_use","id":"toolu_01B","name":"list","input":{}}}

event: content_block_stop
data: {"type":"content_block_stop","index":4}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":120}}

event: message_stop
data: {"type":"message_stop"}

)sse";

TEST(AnthropicFidelityTest, InterleavedAndRedactedThinkingAreKeptInOrder) {
  const codec_test::Decoded split =
      codec_test::DecodeAtEverySplit<AnthropicStreamDecoder>(kInterleavedStream);
  ASSERT_TRUE(split.ok) << split.result;
  Result<ChatResult> r = DecodeStream(kInterleavedStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "First the config.Then the agents.");
  EXPECT_EQ(r->message.reasoning_signature, "EqQBsigB");
  EXPECT_EQ(r->message.stop_reason, "tool_use");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
  const json want = json::parse(R"([
    {"block":{"type":"thinking","thinking":"First the config.","signature":"EqQBsigA"},
     "tool_calls_before":0},
    {"block":{"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"},
     "tool_calls_before":1},
    {"block":{"type":"thinking","thinking":"Then the agents.","signature":"EqQBsigB"},
     "tool_calls_before":1}])");
  EXPECT_EQ(r->message.provider_replay["anthropic"], want);
  // Cache tokens are their own counts; the prompt's total has all three.
  EXPECT_EQ(r->usage.input_tokens, 20);
  EXPECT_EQ(r->usage.cache_write_tokens, 1500);
  EXPECT_EQ(r->usage.cache_read_tokens, 3000);
  EXPECT_EQ(UsageInputTotal(r->usage), 4520);
}

TEST(AnthropicFidelityTest, KeptThinkingGoesBackUnchangedAroundItsToolCalls) {
  Result<ChatResult> r = DecodeStream(kInterleavedStream);
  ASSERT_TRUE(r.ok());
  ChatRequest request;
  request.model = "claude-sonnet-4-5";
  request.messages.push_back(UserMessage("Look at the config and the agents."));
  request.messages.push_back(r->message);
  request.messages.push_back(ToolResultMessage("toolu_01A", "read", "{}"));
  request.messages.push_back(ToolResultMessage("toolu_01B", "list", "a.md"));
  const json body = EncodeAnthropicRequest(request);
  const json& content = body["messages"][1]["content"];
  ASSERT_EQ(content.size(), 5u) << content.dump();
  EXPECT_EQ(content[0], json::parse(
                            R"({"type":"thinking","thinking":"First the config.","signature":"EqQBsigA"})"));
  EXPECT_EQ(content[1]["type"], "tool_use");
  EXPECT_EQ(content[1]["id"], "toolu_01A");
  EXPECT_EQ(content[2],
            json::parse(R"({"type":"redacted_thinking","data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT"})"));
  EXPECT_EQ(content[3]["signature"], "EqQBsigB");
  EXPECT_EQ(content[4]["id"], "toolu_01B");
  // The body the providers send is the same request.
  EXPECT_EQ(json::parse(EncodeAnthropicRequestText(request, nullptr)), body);
}

TEST(AnthropicFidelityTest, MalformedStoredReplayIsSkippedNotSent) {
  ChatMessage m = codec_test::Assistant("ok", {}, "legacy thinking", "sig");
  m.provider_replay = json::parse(R"({"anthropic":[
      {"block":{"type":"text","text":"not thinking"},"tool_calls_before":0},
      {"block":"x","tool_calls_before":0},
      {"block":{"type":"redacted_thinking","data":"Em"},"tool_calls_before":"0"},
      {"block":{"type":"redacted_thinking","data":"Ok"},"tool_calls_before":7}]})");
  ChatRequest request;
  request.model = "m";
  request.messages = {UserMessage("hi"), m};
  const json content = EncodeAnthropicRequest(request)["messages"][1]["content"];
  ASSERT_EQ(content.size(), 2u) << content.dump();
  EXPECT_EQ(content[0], json::parse(R"({"type":"redacted_thinking","data":"Ok"})"));
  EXPECT_EQ(content[1]["type"], "text");
}

TEST(AnthropicFidelityTest, RedactedThinkingInAResponseBody) {
  Result<ChatResult> r = DecodeAnthropicResponse(R"({
    "id":"msg_01R","type":"message","role":"assistant","model":"claude-opus-4-1",
    "content":[{"type":"redacted_thinking","data":"EmwKAhgB"},
               {"type":"thinking","thinking":"ok","signature":"S1"},
               {"type":"text","text":"Done."}],
    "stop_reason":"end_turn","stop_sequence":null,
    "usage":{"input_tokens":5,"cache_creation_input_tokens":0,"cache_read_input_tokens":0,
             "output_tokens":3}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const json& kept = r->message.provider_replay["anthropic"];
  ASSERT_EQ(kept.size(), 2u);
  EXPECT_EQ(kept[0]["block"]["type"], "redacted_thinking");
  EXPECT_EQ(kept[1]["block"]["signature"], "S1");
  EXPECT_EQ(r->message.stop_reason, "end_turn");
}

TEST(AnthropicFidelityTest, RefusalIsARefusal) {
  constexpr std::string_view kRefusal = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_01Rf","type":"message","role":"assistant","model":"claude-sonnet-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":9,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"I can"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"refusal","stop_sequence":null},"usage":{"output_tokens":2}}

event: message_stop
data: {"type":"message_stop"}

)sse";
  Result<ChatResult> r = DecodeStream(kRefusal);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish, FinishReason::kRefusal);
  EXPECT_EQ(r->message.stop_reason, "refusal");
  EXPECT_THAT(r->message.refusal, HasSubstr("declined"));
  EXPECT_EQ(r->message.text, "I can");
}

TEST(AnthropicFidelityTest, ToolInputCutByMaxTokensStaysCut) {
  constexpr std::string_view kCut = R"sse(event: message_start
data: {"type":"message_start","message":{"id":"msg_01Cut","type":"message","role":"assistant","model":"claude-haiku-4-5","content":[],"stop_reason":null,"usage":{"input_tokens":30,"output_tokens":1}}}

event: content_block_start
data: {"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu_01W","name":"write","input":{}}}

event: content_block_delta
data: {"type":"content_block_delta","index":0,"delta":{"type":"input_json_delta","partial_json":"{\"path\":\"a.txt\",\"content\":\"lorem ip"}}

event: content_block_stop
data: {"type":"content_block_stop","index":0}

event: content_block_start
data: {"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01X","name":"bash","input":{}}}

event: content_block_stop
data: {"type":"content_block_stop","index":1}

event: message_delta
data: {"type":"message_delta","delta":{"stop_reason":"max_tokens","stop_sequence":null},"usage":{"output_tokens":4096}}

event: message_stop
data: {"type":"message_stop"}

)sse";
  Result<ChatResult> r = DecodeStream(kCut);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->message.stop_reason, "max_tokens");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path":"a.txt","content":"lorem ip)");
  // The API closes a cut block like any other, so a call cut before its input came reads as a
  // call without arguments: kLength is what says the calls of this reply cannot be trusted
  // (the agent loop runs none of them).
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
}

ChatRequest CachedRequest() {
  ChatRequest r;
  r.model = "claude-sonnet-4-5";
  r.system = "You are explore.";
  r.caching.enabled = true;
  r.tools.push_back({"read", "Reads a file.", json::parse(R"({"type":"object"})")});
  r.tools.push_back({"grep", "Searches.", json::parse(R"({"type":"object"})")});
  r.messages.push_back(UserMessage("Find the parser."));
  r.messages.push_back(codec_test::Assistant("", {{"toolu_1", "grep", R"({"q":"parse"})"}}));
  r.messages.push_back(ToolResultMessage("toolu_1", "grep", "src/p.cc"));
  r.messages.push_back(codec_test::Assistant("", {{"toolu_2", "read", R"({"path":"src/p.cc"})"}}));
  r.messages.push_back(ToolResultMessage("toolu_2", "read", "int parse();"));
  return r;
}

int CountBreakpoints(const json& value) {
  int n = 0;
  if (value.is_object()) {
    if (value.contains("cache_control")) ++n;
    for (const auto& [key, member] : value.items()) n += CountBreakpoints(member);
  } else if (value.is_array()) {
    for (const json& item : value) n += CountBreakpoints(item);
  }
  return n;
}

TEST(AnthropicFidelityTest, CachingPutsFourBreakpointsOnTheGrowingPrefix) {
  const ChatRequest request = CachedRequest();
  const json body = EncodeAnthropicRequest(request);
  EXPECT_EQ(CountBreakpoints(body), 4) << body.dump();
  EXPECT_EQ(body["system"], json::parse(R"([{"type":"text","text":"You are explore.",
                                             "cache_control":{"type":"ephemeral"}}])"));
  EXPECT_FALSE(body["tools"][0].contains("cache_control"));
  EXPECT_EQ(body["tools"][1]["cache_control"]["type"], "ephemeral");
  const json& messages = body["messages"];
  ASSERT_EQ(messages.size(), 5u);
  EXPECT_TRUE(messages[4]["content"].back().contains("cache_control"));  // this turn's end
  EXPECT_TRUE(messages[2]["content"].back().contains("cache_control"));  // the last turn's end
  EXPECT_FALSE(messages[0]["content"].back().contains("cache_control"));
  // The text the providers send, through the request text cache, twice.
  RequestTextCache cache;
  EXPECT_EQ(json::parse(EncodeAnthropicRequestText(request, &cache)), body);
  EXPECT_EQ(json::parse(EncodeAnthropicRequestText(request, &cache)), body);
  ChatRequest plain = request;
  plain.caching.enabled = false;
  EXPECT_EQ(json::parse(EncodeAnthropicRequestText(plain, &cache)), EncodeAnthropicRequest(plain));
  EXPECT_EQ(CountBreakpoints(EncodeAnthropicRequest(plain)), 0);
  EXPECT_EQ(EncodeAnthropicRequest(plain)["system"], "You are explore.");
}

TEST(AnthropicFidelityTest, ExtendedThinkingSettings) {
  ChatRequest r = CachedRequest();
  r.temperature = 0.2;
  r.tool_choice = "required";
  r.max_tokens = 4000;
  r.reasoning.budget_tokens = 10000;
  const json body = EncodeAnthropicRequest(r);
  EXPECT_EQ(body["thinking"], json::parse(R"({"type":"enabled","budget_tokens":10000})"));
  EXPECT_FALSE(body.contains("temperature"));  // the API allows only 1 with thinking
  EXPECT_EQ(body["tool_choice"], json::parse(R"({"type":"auto"})"));
  EXPECT_EQ(body["max_tokens"], 14000);  // above the budget, with room for the answer
  r.max_tokens = 32000;
  EXPECT_EQ(EncodeAnthropicRequest(r)["max_tokens"], 32000);
  r.reasoning.budget_tokens.reset();
  const json plain = EncodeAnthropicRequest(r);
  EXPECT_FALSE(plain.contains("thinking"));
  EXPECT_EQ(plain["temperature"], 0.2);
  EXPECT_EQ(plain["tool_choice"], json::parse(R"({"type":"any"})"));
}

}  // namespace
}  // namespace troupe
