// The reply encoders checked against the client side: what they write, fed to the decoders the
// provider clients use (llm/openai_codec.h, llm/openai_responses_codec.h, llm/anthropic_codec.h),
// gives back the plan's reply.
#include "mock_llm/reply_encoder.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "llm/anthropic_codec.h"
#include "llm/anthropic_replay.h"
#include "llm/openai_codec.h"
#include "llm/openai_responses_codec.h"
#include "mock_llm/anthropic_reply_encoder.h"
#include "mock_llm/mock_llm_test_support.h"
#include "mock_llm/openai_reply_encoder.h"

namespace troupe {
namespace {

using mock_llm_test::Call;
using mock_llm_test::DecodedStream;
using mock_llm_test::DecodeSse;
using mock_llm_test::PlanFor;
using mock_llm_test::Reply;
using mock_llm_test::Text;
using ::testing::HasSubstr;
using json = nlohmann::json;

// Replies covering what a model sends: text; reasoning then text; parallel tool calls after
// text; a reply cut by the output limit; usage with cache reads and writes.
std::vector<ChatResult> Replies() {
  std::vector<ChatResult> out;
  out.push_back(Reply("Hello, world! \"quoted\"\nsecond line ünïcode"));
  ChatResult thinking = Reply("The answer is 42.");
  thinking.message.reasoning = "Let me think about it carefully.";
  thinking.message.reasoning_signature = "c2lnbmF0dXJl";
  out.push_back(thinking);
  out.push_back(Reply("Reading both files.",
                      {Call("call_a", "read", R"({"path":"a.cc"})"),
                       Call("call_b", "grep", R"({"path":"src","pattern":"main"})")},
                      FinishReason::kToolCalls));
  out.push_back(Reply("", {Call("call_c", "list", R"({})")}, FinishReason::kToolCalls));
  out.push_back(Reply("cut off mid", {}, FinishReason::kLength));
  ChatResult cached = Reply("cached");
  cached.usage = Usage{10, 20, 300, 40};
  out.push_back(cached);
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].response_id = "resp_" + std::to_string(i);
    out[i].model = "mock-model";
  }
  return out;
}

// `result` as the decoder of `protocol` reports it: the finish reason in the protocol's words,
// and for OpenAI no cache writes and no signature (the wire has no field for them); for OpenAI's
// Responses API, the response status or incomplete reason and no signature.
ChatResult AsDecoded(ChatResult result, WireProtocol protocol) {
  if (protocol == WireProtocol::kOpenAiResponses) {
    result.raw_finish_reason =
        result.finish == FinishReason::kLength ? "max_output_tokens" : "completed";
    result.message.reasoning_signature.clear();
  } else if (protocol == WireProtocol::kOpenAi) {
    result.raw_finish_reason = OpenAiFinishReason(result);
    result.usage.cache_write_tokens = 0;
    result.message.reasoning_signature.clear();
  } else {
    result.raw_finish_reason = AnthropicStopReason(result);
  }
  return result;
}

std::string Stream(WireProtocol protocol, const MockPlan& plan, bool include_usage = true) {
  auto encoder = MakeReplyEncoder(protocol, plan.result, {1'767'225'600, include_usage});
  std::string out = encoder->StreamStart();
  for (const StreamDelta& d : plan.deltas) out += encoder->StreamDelta(d);
  out += encoder->StreamEnd();
  return out;
}

DecodedStream DecodeStream(WireProtocol protocol, std::string_view bytes) {
  switch (protocol) {
    case WireProtocol::kOpenAi:
      return DecodeSse<OpenAiStreamDecoder>(bytes);
    case WireProtocol::kOpenAiResponses:
      return DecodeSse<OpenAiResponsesStreamDecoder>(bytes);
    case WireProtocol::kAnthropic:
      break;
  }
  return DecodeSse<AnthropicStreamDecoder>(bytes);
}

Result<ChatResult> DecodeResponse(WireProtocol protocol, std::string_view body) {
  switch (protocol) {
    case WireProtocol::kOpenAi:
      return DecodeOpenAiResponse(body);
    case WireProtocol::kOpenAiResponses:
      return DecodeOpenAiResponsesResponse(body);
    case WireProtocol::kAnthropic:
      break;
  }
  return DecodeAnthropicResponse(body);
}

class ReplyEncoderTest : public ::testing::TestWithParam<WireProtocol> {};

TEST_P(ReplyEncoderTest, StreamDecodesToThePlansReplyAndDeltas) {
  const WireProtocol protocol = GetParam();
  for (const ChatResult& reply : Replies()) {
    for (size_t piece : {1, 4, 1000}) {
      const MockPlan plan = PlanFor(reply, piece);
      DecodedStream decoded = DecodeStream(protocol, Stream(protocol, plan));
      ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
      EXPECT_EQ(Text(*decoded.result), Text(AsDecoded(reply, protocol)));
      EXPECT_EQ(Text(decoded.deltas), Text(plan.deltas)) << "piece " << piece;
    }
  }
}

TEST_P(ReplyEncoderTest, ResponseDecodesToThePlansReply) {
  const WireProtocol protocol = GetParam();
  for (const ChatResult& reply : Replies()) {
    const std::string body = MakeReplyEncoder(protocol, reply, {})->Response();
    Result<ChatResult> decoded = DecodeResponse(protocol, body);
    ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
    EXPECT_EQ(Text(*decoded), Text(AsDecoded(reply, protocol)));
  }
}

TEST_P(ReplyEncoderTest, ErrorEventEndsTheStreamWithTheMessage) {
  const WireProtocol protocol = GetParam();
  const MockPlan plan = PlanFor(Reply("partial answer"));
  auto encoder = MakeReplyEncoder(protocol, plan.result, {});
  std::string bytes = encoder->StreamStart() + encoder->StreamDelta(plan.deltas[0]) +
                      encoder->StreamError("overloaded_error", "Overloaded right now");
  DecodedStream decoded = DecodeStream(protocol, bytes);
  ASSERT_FALSE(decoded.result.ok());
  EXPECT_EQ(decoded.result.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(decoded.result.status().message(), HasSubstr("overloaded_error"));
  EXPECT_THAT(decoded.result.status().message(), HasSubstr("Overloaded right now"));
  EXPECT_EQ(decoded.deltas.size(), 1u);
}

TEST_P(ReplyEncoderTest, MalformedEventIsAnErrorForTheClient) {
  const WireProtocol protocol = GetParam();
  const MockPlan plan = PlanFor(Reply("abc"));
  auto encoder = MakeReplyEncoder(protocol, plan.result, {});
  std::string bytes = encoder->StreamStart() + encoder->StreamMalformed();
  for (const StreamDelta& d : plan.deltas) bytes += encoder->StreamDelta(d);
  bytes += encoder->StreamEnd();
  DecodedStream decoded = DecodeStream(protocol, bytes);
  ASSERT_FALSE(decoded.result.ok());
  EXPECT_THAT(decoded.result.status().message(), HasSubstr("is not valid JSON"));
}

TEST_P(ReplyEncoderTest, StreamWithoutItsEndIsTruncatedForTheClient) {
  const WireProtocol protocol = GetParam();
  const MockPlan plan = PlanFor(Reply("abcdefgh"));
  auto encoder = MakeReplyEncoder(protocol, plan.result, {});
  std::string bytes = encoder->StreamStart();
  for (const StreamDelta& d : plan.deltas) bytes += encoder->StreamDelta(d);
  DecodedStream decoded = DecodeStream(protocol, bytes);
  ASSERT_FALSE(decoded.result.ok());
  EXPECT_THAT(decoded.result.status().message(), HasSubstr("truncated"));
}

TEST_P(ReplyEncoderTest, ErrorBodyDecodesWithTypeAndMessage) {
  const WireProtocol protocol = GetParam();
  const std::string body = ErrorBody(protocol, "rate_limit_error", "Slow down");
  Status s = protocol == WireProtocol::kAnthropic ? DecodeAnthropicError(429, body)
                                                  : DecodeOpenAiError(429, body);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s.message(), HasSubstr("HTTP 429 rate_limit_error: Slow down"));
}

INSTANTIATE_TEST_SUITE_P(Protocols, ReplyEncoderTest,
                         ::testing::Values(WireProtocol::kOpenAi, WireProtocol::kAnthropic,
                                           WireProtocol::kOpenAiResponses),
                         [](const auto& info) {
                           std::string name = WireProtocolName(info.param);
                           std::erase(name, '-');
                           return name;
                         });

std::vector<json> DataOf(const std::vector<SseEvent>& events) {
  std::vector<json> out;
  for (const SseEvent& e : events) out.push_back(json::parse(e.data, nullptr, false));
  return out;
}

TEST(OpenAiReplyEncoderTest, WritesChunksAsOpenAiDoes) {
  const MockPlan plan =
      PlanFor(Reply("Hi", {Call("call_a", "read", R"({"p":1})")}, FinishReason::kToolCalls), 100);
  DecodedStream decoded = DecodeSse<OpenAiStreamDecoder>(Stream(WireProtocol::kOpenAi, plan));
  ASSERT_EQ(decoded.events.size(), 7u);  // role, text, call start, arguments, finish, usage, DONE
  std::vector<json> data = DataOf(decoded.events);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_EQ(data[i]["object"], "chat.completion.chunk");
    EXPECT_EQ(data[i]["id"], "");  // Reply() leaves the id to the server
    EXPECT_EQ(data[i]["created"], 1'767'225'600);
  }
  EXPECT_EQ(data[0]["choices"][0]["delta"], json::parse(R"({"role":"assistant","content":""})"));
  EXPECT_EQ(data[1]["choices"][0]["delta"], json::parse(R"({"content":"Hi"})"));
  EXPECT_EQ(data[2]["choices"][0]["delta"]["tool_calls"], json::parse(R"([{"index":0,
            "id":"call_a","type":"function","function":{"name":"read","arguments":""}}])"));
  EXPECT_EQ(data[3]["choices"][0]["delta"]["tool_calls"],
            json::parse(R"([{"index":0,"function":{"arguments":"{\"p\":1}"}}])"));
  EXPECT_EQ(data[3]["choices"][0]["finish_reason"], nullptr);
  EXPECT_EQ(data[4]["choices"][0]["delta"], json::object());
  EXPECT_EQ(data[4]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_EQ(data[5]["choices"], json::array());
  EXPECT_EQ(data[5]["usage"]["prompt_tokens"], 120);
  EXPECT_EQ(data[5]["usage"]["completion_tokens"], 17);
  EXPECT_EQ(data[5]["usage"]["total_tokens"], 137);
  EXPECT_EQ(decoded.events[6].data, "[DONE]");
}

// A refusal goes out as OpenAI writes it (`refusal` deltas, `message.refusal`), with reasoning
// tokens in the usage, and the client reads a refusal with its words back.
TEST(OpenAiReplyEncoderTest, WritesRefusalsAndReasoningTokens) {
  ChatResult reply = Reply("");
  reply.message.refusal = "I can't help with that.";
  reply.finish = FinishReason::kRefusal;
  reply.usage = Usage{10, 20, 0, 0, 15};
  reply.response_id = "chatcmpl-R";
  reply.model = "gpt-4o";
  const MockPlan plan = PlanFor(reply, 4);
  DecodedStream decoded = DecodeStream(WireProtocol::kOpenAi, Stream(WireProtocol::kOpenAi, plan));
  ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
  EXPECT_EQ(decoded.result->finish, FinishReason::kRefusal);
  EXPECT_EQ(decoded.result->message.refusal, "I can't help with that.");
  EXPECT_EQ(decoded.result->usage.reasoning_tokens, 15);

  const json body = json::parse(MakeReplyEncoder(WireProtocol::kOpenAi, reply, {})->Response());
  EXPECT_EQ(body["choices"][0]["message"]["refusal"], "I can't help with that.");
  EXPECT_TRUE(body["choices"][0]["message"]["content"].is_null());
  EXPECT_EQ(body["usage"]["completion_tokens_details"]["reasoning_tokens"], 15);
  Result<ChatResult> whole = DecodeOpenAiResponse(body.dump());
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->finish, FinishReason::kRefusal);
}

// Mistral's reasoning models' shape: `content` as typed parts, streamed and whole.
TEST(OpenAiReplyEncoderTest, ContentPartsDecodeToTheSameReply) {
  ReplyOptions options;
  options.include_usage = true;
  options.content_parts = true;
  for (const ChatResult& reply : Replies()) {
    const MockPlan plan = PlanFor(reply, 4);
    auto encoder = MakeReplyEncoder(WireProtocol::kOpenAi, plan.result, options);
    std::string bytes = encoder->StreamStart();
    for (const StreamDelta& d : plan.deltas) bytes += encoder->StreamDelta(d);
    bytes += encoder->StreamEnd();
    DecodedStream decoded = DecodeSse<OpenAiStreamDecoder>(bytes);
    ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
    EXPECT_EQ(Text(*decoded.result), Text(AsDecoded(reply, WireProtocol::kOpenAi)));
    EXPECT_EQ(Text(decoded.deltas), Text(plan.deltas));
    for (const json& chunk : DataOf(decoded.events)) {
      if (!chunk.is_object() || chunk["choices"].empty()) continue;
      const json& delta = chunk["choices"][0]["delta"];
      if (delta.contains("content") && delta["content"].is_string() &&
          !delta["content"].get<std::string>().empty()) {
        ADD_FAILURE() << "a string content: " << chunk.dump();
      }
      EXPECT_FALSE(delta.contains("reasoning_content")) << chunk.dump();
    }
    Result<ChatResult> whole =
        DecodeOpenAiResponse(MakeReplyEncoder(WireProtocol::kOpenAi, reply, options)->Response());
    ASSERT_TRUE(whole.ok()) << whole.status().ToString();
    EXPECT_EQ(Text(*whole), Text(AsDecoded(reply, WireProtocol::kOpenAi)));
  }
}

TEST(OpenAiReplyEncoderTest, NoUsageChunkUnlessAsked) {
  const MockPlan plan = PlanFor(Reply("Hi"), 100);
  DecodedStream decoded =
      DecodeSse<OpenAiStreamDecoder>(Stream(WireProtocol::kOpenAi, plan, /*include_usage=*/false));
  ASSERT_EQ(decoded.events.size(), 4u);  // role, text, finish, DONE
  ASSERT_TRUE(decoded.result.ok());
  EXPECT_EQ(decoded.result->usage.output_tokens, 0);
}

TEST(AnthropicReplyEncoderTest, WritesEventsAsAnthropicDoes) {
  ChatResult reply = Reply("Hi", {Call("toolu_a", "read", R"({"p":1})")}, FinishReason::kToolCalls);
  reply.message.reasoning = "hmm";
  reply.message.reasoning_signature = "sig";
  const MockPlan plan = PlanFor(reply, 100);
  DecodedStream decoded = DecodeSse<AnthropicStreamDecoder>(Stream(WireProtocol::kAnthropic, plan));
  std::vector<std::string> names;
  for (const SseEvent& e : decoded.events) names.push_back(e.event);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "message_start", "ping", "content_block_start", "content_block_delta",
                       "content_block_delta",
                       "content_block_stop",  // thinking, its text, its signature
                       "content_block_start", "content_block_delta", "content_block_stop",  // text
                       "content_block_start", "content_block_delta", "content_block_stop",  // tool
                       "message_delta", "message_stop"}));
  std::vector<json> data = DataOf(decoded.events);
  EXPECT_EQ(data[0]["message"]["usage"]["input_tokens"], 120);
  EXPECT_EQ(data[0]["message"]["content"], json::array());
  EXPECT_EQ(data[2]["content_block"], json::parse(R"({"type":"thinking","thinking":""})"));
  EXPECT_EQ(data[4]["delta"], json::parse(R"({"type":"signature_delta","signature":"sig"})"));
  EXPECT_EQ(data[6]["index"], 1);
  EXPECT_EQ(data[9]["content_block"], json::parse(R"({"type":"tool_use","id":"toolu_a",
            "name":"read","input":{}})"));
  EXPECT_EQ(data[10]["delta"],
            json::parse(R"({"type":"input_json_delta","partial_json":"{\"p\":1}"})"));
  EXPECT_EQ(data[12]["delta"]["stop_reason"], "tool_use");
  EXPECT_EQ(data[12]["usage"]["output_tokens"], 17);
}

// Kept thinking blocks (provider_replay["anthropic"]) go out whole, in place among the tool_use
// blocks, streamed or not; the client's decoder keeps exactly what was planned.
TEST(AnthropicReplyEncoderTest, WritesKeptThinkingBlocksInPlace) {
  ChatResult reply =
      Reply("", {Call("toolu_a", "grep", R"({"p":1})"), Call("toolu_b", "glob", "{}")},
            FinishReason::kToolCalls);
  ChatMessage kept;
  anthropic_replay::KeepThinking(&kept, "first", "sig-1", 0);
  anthropic_replay::KeepRedactedThinking(&kept, "opaque", 0);
  anthropic_replay::KeepThinking(&kept, "between the calls", "sig-2", 1);
  const json blocks = kept.provider_replay["anthropic"];
  reply.message.provider_replay = kept.provider_replay;
  const MockPlan plan = PlanFor(reply, 100);
  DecodedStream decoded = DecodeSse<AnthropicStreamDecoder>(Stream(WireProtocol::kAnthropic, plan));
  ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
  EXPECT_EQ(decoded.result->message.provider_replay["anthropic"], blocks);
  std::vector<std::string> types;
  for (const json& d : DataOf(decoded.events)) {
    if (d.value("type", "") == "content_block_start") types.push_back(d["content_block"]["type"]);
  }
  EXPECT_EQ(types, (std::vector<std::string>{"thinking", "redacted_thinking", "tool_use",
                                             "thinking", "tool_use"}));

  std::unique_ptr<ReplyEncoder> encoder = MakeAnthropicReplyEncoder(reply);
  Result<ChatResult> whole = DecodeAnthropicResponse(encoder->Response());
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  EXPECT_EQ(whole->message.provider_replay["anthropic"], blocks);
}

}  // namespace
}  // namespace troupe
