#include "llm/anthropic_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "llm/codec_test_streams.h"
#include "llm/codec_test_support.h"
#include "wire/sse_test_streams.h"

namespace troupe {
namespace {

using codec_test::Assistant;
using ::testing::HasSubstr;
using json = nlohmann::json;

json Parse(std::string_view text) { return json::parse(text); }

codec_test::Decoded DecodeAtEverySplit(std::string_view stream) {
  return codec_test::DecodeAtEverySplit<AnthropicStreamDecoder>(stream);
}

Result<ChatResult> DecodeStream(std::string_view stream) {
  return codec_test::DecodeStream<AnthropicStreamDecoder>(stream);
}

SseEvent Event(std::string data) {
  const json j = json::parse(data);
  return SseEvent{j.value("type", "message"), std::move(data), ""};
}

// The events of a stream up to content block 0 holding `block`, for malformed-event tests.
constexpr std::string_view kStart =
    R"({"type":"message_start","message":{"id":"m","model":"c","usage":{"input_tokens":1}}})";

// --- Request encoding ---

TEST(AnthropicCodecTest, EncodesEveryMessageKind) {
  ChatRequest r;
  r.model = "claude-sonnet-4-5";
  r.system = "Be brief.";
  r.messages.push_back(UserMessage("Read a.cc"));
  r.messages.push_back(UserMessage("and b.cc"));  // merged with the previous user message
  r.messages.push_back(Assistant("Reading.",
                                 {{"toolu_1", "read_file", R"({"path":"a.cc"})"},
                                  {"toolu_2", "read_file", R"({"path":)"},  // invalid: {}
                                  {"toolu_3", "list", ""}},
                                 "Need both.", "sig=="));
  r.messages.push_back(ToolResultMessage("toolu_1", "", "int main() {}"));
  r.messages.push_back(ToolResultMessage("toolu_2", "", "bad arguments", /*is_error=*/true));
  r.messages.push_back(UserMessage("Also: hurry."));  // merged after the tool results
  r.messages.push_back(ToolResultMessage("toolu_3", "", ""));
  r.messages.push_back(Assistant("Done.", {}, "unsigned thinking is not sent"));
  r.tools.push_back({"read_file", "Reads a file.", Parse(R"({"type":"object"})")});
  r.tool_choice = "required";
  r.temperature = 1.0;
  r.max_tokens = 2048;

  EXPECT_EQ(EncodeAnthropicRequest(r), Parse(R"({
    "model": "claude-sonnet-4-5",
    "max_tokens": 2048,
    "system": "Be brief.",
    "messages": [
      {"role": "user", "content": [{"type": "text", "text": "Read a.cc"},
                                   {"type": "text", "text": "and b.cc"}]},
      {"role": "assistant", "content": [
        {"type": "thinking", "thinking": "Need both.", "signature": "sig=="},
        {"type": "text", "text": "Reading."},
        {"type": "tool_use", "id": "toolu_1", "name": "read_file", "input": {"path": "a.cc"}},
        {"type": "tool_use", "id": "toolu_2", "name": "read_file", "input": {}},
        {"type": "tool_use", "id": "toolu_3", "name": "list", "input": {}}]},
      {"role": "user", "content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "content": "int main() {}"},
        {"type": "tool_result", "tool_use_id": "toolu_2", "content": "bad arguments",
         "is_error": true},
        {"type": "tool_result", "tool_use_id": "toolu_3"},
        {"type": "text", "text": "Also: hurry."}]},
      {"role": "assistant", "content": [{"type": "text", "text": "Done."}]}
    ],
    "tools": [{"name": "read_file", "description": "Reads a file.",
               "input_schema": {"type": "object"}}],
    "tool_choice": {"type": "any"},
    "temperature": 1.0,
    "stream": true
  })"));
}

TEST(AnthropicCodecTest, EncodesToolChoiceAndDropsEmptyMessages) {
  ChatRequest r;
  r.model = "m";
  r.max_tokens = 10;
  r.stream = false;
  r.messages.push_back(UserMessage("hi"));
  r.messages.push_back(Assistant(""));    // nothing to send: dropped
  r.messages.push_back(UserMessage(""));  // an empty text block: dropped
  r.messages.push_back(UserMessage("there"));
  EXPECT_EQ(EncodeAnthropicRequest(r), Parse(R"({"model":"m","max_tokens":10,
    "messages":[{"role":"user","content":[{"type":"text","text":"hi"},
                                          {"type":"text","text":"there"}]}],
    "stream":false})"));

  r.tools.push_back({"grep", "", json::object()});
  r.tool_choice = "auto";
  EXPECT_EQ(EncodeAnthropicRequest(r)["tool_choice"], Parse(R"({"type":"auto"})"));
  r.tool_choice = "none";
  EXPECT_EQ(EncodeAnthropicRequest(r)["tool_choice"], Parse(R"({"type":"none"})"));
  r.tool_choice = "grep";
  EXPECT_EQ(EncodeAnthropicRequest(r)["tool_choice"], Parse(R"({"type":"tool","name":"grep"})"));
  // Arguments that are JSON but not an object are sent as {} too.
  r.messages.push_back(Assistant("", {{"t", "grep", "[1]"}}));
  EXPECT_EQ(EncodeAnthropicRequest(r)["messages"][1]["content"][0]["input"], json::object());
}

// --- Streams ---

TEST(AnthropicStreamDecoderTest, ThinkingTextAndToolUse) {
  const codec_test::Decoded d = DecodeAtEverySplit(sse_test::kAnthropicMessagesStream);
  ASSERT_TRUE(d.ok) << d.result;
  Result<ChatResult> r = DecodeStream(sse_test::kAnthropicMessagesStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->response_id, "msg_01XFDUDYJgAACzvnptvVoYEL");
  EXPECT_EQ(r->model, "claude-sonnet-4-20250514");
  EXPECT_EQ(r->message.reasoning, "The user wants main.cc; I should read it first.");
  EXPECT_EQ(r->message.reasoning_signature,
            "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds");
  EXPECT_EQ(r->message.text, "Je lis « main.cc » — 一秒 🙂");
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(r->message.tool_calls[0].id, "toolu_01T1x1fJ34qAmk2tNTrN7Up6");
  EXPECT_EQ(r->message.tool_calls[0].name, "read_file");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path": "src/main.cc"})");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_EQ(r->raw_finish_reason, "tool_use");
  EXPECT_EQ(r->usage.input_tokens, 472);
  EXPECT_EQ(r->usage.output_tokens, 89);
  // The error frame after message_stop is ignored: the message was complete.
  const json deltas = Parse(d.deltas);
  ASSERT_EQ(deltas.size(), 7u);
  EXPECT_EQ(deltas[0]["kind"], int(StreamDelta::Kind::kUsage));
  EXPECT_EQ(deltas[1]["kind"], int(StreamDelta::Kind::kReasoning));
  EXPECT_EQ(deltas[2]["kind"], int(StreamDelta::Kind::kText));
  EXPECT_EQ(deltas[3]["kind"], int(StreamDelta::Kind::kToolCallStart));
  EXPECT_EQ(deltas[3]["index"], 0);  // the call's position, not content block 2
  EXPECT_EQ(deltas[4]["text"], "{\"path\": \"src/ma");
  EXPECT_EQ(deltas[6]["usage"]["output"], 89);
}

TEST(AnthropicStreamDecoderTest, ParallelToolUseAndCacheUsage) {
  DecodeAtEverySplit(codec_test::kAnthropicParallelToolStream);
  Result<ChatResult> r = DecodeStream(codec_test::kAnthropicParallelToolStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.text, "Deux appels — ok.");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].id, "toolu_A");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path": "a.cc"})");
  EXPECT_EQ(r->message.tool_calls[1].id, "toolu_B");
  EXPECT_EQ(r->message.tool_calls[1].name, "list_tasks");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
  EXPECT_EQ(r->usage.input_tokens, 12);
  EXPECT_EQ(r->usage.cache_read_tokens, 2000);
  EXPECT_EQ(r->usage.cache_write_tokens, 300);
  EXPECT_EQ(r->usage.output_tokens, 61);
}

TEST(AnthropicStreamDecoderTest, StopReasons) {
  const std::vector<std::pair<std::string, FinishReason>> cases = {
      {"end_turn", FinishReason::kStop},         {"stop_sequence", FinishReason::kStop},
      {"tool_use", FinishReason::kToolCalls},    {"max_tokens", FinishReason::kLength},
      {"refusal", FinishReason::kRefusal},       {"pause_turn", FinishReason::kOther},
      {"model_context_window_exceeded", FinishReason::kLength}};
  for (const auto& [raw, want] : cases) {
    AnthropicStreamDecoder d;
    std::vector<StreamDelta> deltas;
    ASSERT_TRUE(d.OnEvent(Event(std::string(kStart)), &deltas).ok());
    ASSERT_TRUE(
        d.OnEvent(Event(R"({"type":"message_delta","delta":{"stop_reason":")" + raw + R"("}})"),
                  &deltas)
            .ok());
    EXPECT_FALSE(d.done());
    ASSERT_TRUE(d.OnEvent(Event(R"({"type":"message_stop"})"), &deltas).ok());
    EXPECT_TRUE(d.done());
    Result<ChatResult> r = d.Finish();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->finish, want) << raw;
    EXPECT_EQ(r->raw_finish_reason, raw);
  }
}

TEST(AnthropicStreamDecoderTest, ErrorEvent) {
  AnthropicStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Event(std::string(kStart)), &deltas).ok());
  const Status s = d.OnEvent(
      Event(R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})"),
      &deltas);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "anthropic: overloaded_error: Overloaded");
  EXPECT_EQ(d.OnEvent(Event(R"({"type":"message_stop"})"), &deltas), s);  // sticky
  EXPECT_EQ(d.Finish().status(), s);

  AnthropicStreamDecoder invalid;
  EXPECT_EQ(invalid
                .OnEvent(Event(R"({"type":"error","error":{"type":"invalid_request_error",
                                   "message":"prompt is too long"}})"),
                         &deltas)
                .code(),
            StatusCode::kInvalidArgument);
}

TEST(AnthropicStreamDecoderTest, IgnoresPingsAndUnknownEvents) {
  AnthropicStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(SseEvent{"ping", "not even json", ""}, &deltas).ok());
  ASSERT_TRUE(d.OnEvent(SseEvent{"brand_new", "{]", ""}, &deltas).ok());
  ASSERT_TRUE(d.OnEvent(SseEvent{"message", R"({"type":"brand_new"})", ""}, &deltas).ok());
  ASSERT_TRUE(d.OnEvent(Event(std::string(kStart)), &deltas).ok());
  ASSERT_TRUE(d.OnEvent(Event(R"({"type":"content_block_start","index":0,
      "content_block":{"type":"server_tool_use","id":"s","name":"web_search"}})"),
                        &deltas)
                  .ok());
  ASSERT_TRUE(d.OnEvent(Event(R"({"type":"content_block_delta","index":0,
      "delta":{"type":"input_json_delta","partial_json":"{}"}})"),
                        &deltas)
                  .ok());
  ASSERT_TRUE(d.OnEvent(Event(R"({"type":"content_block_stop","index":0})"), &deltas).ok());
  ASSERT_TRUE(d.OnEvent(Event(R"({"type":"content_block_start","index":1,
      "content_block":{"type":"text","text":""}})"),
                        &deltas)
                  .ok());
  ASSERT_TRUE(d.OnEvent(Event(R"({"type":"content_block_delta","index":1,
      "delta":{"type":"citations_delta","citation":{}}})"),
                        &deltas)
                  .ok());
  // Without an `event:` field the data's type decides.
  ASSERT_TRUE(d.OnEvent(SseEvent{"message", R"({"type":"message_stop"})", ""}, &deltas).ok());
  Result<ChatResult> r = d.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->message.tool_calls.empty());
  EXPECT_EQ(deltas.size(), 1u);  // the usage of message_start
}

TEST(AnthropicStreamDecoderTest, MalformedEventsNameTheEventAndField) {
  const std::string text_block =
      R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})";
  const std::string tool_block = R"({"type":"content_block_start","index":0,
      "content_block":{"type":"tool_use","id":"t","name":"n","input":{}}})";
  struct Case {
    std::string block;  // the content_block_start before the bad event, or ""
    std::string event;
    std::string want;
  };
  const std::vector<Case> cases = {
      {"", R"({"type":"content_block_delta","index":3,"delta":{"type":"text_delta","text":"x"}})",
       "anthropic stream: event 2 (content_block_delta): delta for content block 3, never "
       "started"},
      {text_block,
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":7}})",
       "anthropic stream: event 3 (content_block_delta): delta.text is not a string (it is an "
       "integer)"},
      {tool_block,
       R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"x"}})",
       "anthropic stream: event 3 (content_block_delta): text_delta for content block 0, which "
       "is of another type"},
      {text_block, R"({"type":"content_block_delta","index":"0","delta":{}})",
       "anthropic stream: event 3 (content_block_delta): index is not an integer (it is a "
       "string)"},
      {text_block, R"({"type":"content_block_delta","index":0})",
       "anthropic stream: event 3 (content_block_delta): delta is missing"},
      {text_block, text_block,
       "anthropic stream: event 3 (content_block_start): content block 0 started twice"},
      {"", R"({"type":"content_block_stop","index":0})",
       "anthropic stream: event 2 (content_block_stop): stop for content block 0, never started"},
      {"", R"({"type":"content_block_start","index":0,"content_block":{"type":5}})",
       "anthropic stream: event 2 (content_block_start): content_block.type is not a string (it "
       "is an integer)"},
      {"", R"({"type":"message_delta","delta":{"stop_reason":1}})",
       "anthropic stream: event 2 (message_delta): delta.stop_reason is not a string (it is an "
       "integer)"},
      {"", R"({"type":"message_delta","usage":{"output_tokens":-5}})",
       "anthropic stream: event 2 (message_delta): usage has a negative token count"},
      {"", R"({"type":"message_start"})",
       "anthropic stream: event 2 (message_start): message is missing"},
  };
  for (const Case& c : cases) {
    AnthropicStreamDecoder d;
    std::vector<StreamDelta> deltas;
    ASSERT_TRUE(d.OnEvent(Event(std::string(kStart)), &deltas).ok());
    if (!c.block.empty()) {
      ASSERT_TRUE(d.OnEvent(Event(c.block), &deltas).ok());
    }
    const Status s = d.OnEvent(Event(c.event), &deltas);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.event;
    EXPECT_EQ(s.message(), c.want);
  }

  AnthropicStreamDecoder bad_json;
  std::vector<StreamDelta> deltas;
  EXPECT_EQ(bad_json.OnEvent(SseEvent{"content_block_delta", "{\"type\":", ""}, &deltas).message(),
            "anthropic stream: event 1 (content_block_delta): is not valid JSON: {\"type\":");
  AnthropicStreamDecoder stopped_twice;
  ASSERT_TRUE(stopped_twice.OnEvent(Event(text_block), &deltas).ok());
  ASSERT_TRUE(
      stopped_twice.OnEvent(Event(R"({"type":"content_block_stop","index":0})"), &deltas).ok());
  EXPECT_THAT(
      stopped_twice.OnEvent(Event(R"({"type":"content_block_stop","index":0})"), &deltas).message(),
      HasSubstr("already stopped"));
}

TEST(AnthropicStreamDecoderTest, TruncatedStreamFailsAtFinish) {
  AnthropicStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Event(std::string(kStart)), &deltas).ok());
  ASSERT_TRUE(d.OnEvent(SseEvent{"ping", "{}", ""}, &deltas).ok());
  const Result<ChatResult> r = d.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "anthropic stream: stream ended early after 2 events: the response was truncated (no "
            "message_stop)");

  // Every cut of a stream before message_stop is reported; later cuts succeed.
  const std::string_view stream = codec_test::kAnthropicParallelToolStream;
  const size_t stop_end = stream.find("{\"type\":\"message_stop\"}") + 24;
  for (size_t i = 0; i < stream.size(); ++i) {
    const codec_test::Decoded cut = codec_test::Decode<AnthropicStreamDecoder>(stream.substr(0, i));
    EXPECT_EQ(cut.ok, i >= stop_end + 1) << i << ": " << cut.result;
    if (!cut.ok) {
      EXPECT_THAT(cut.result, HasSubstr("the response was truncated")) << i;
    }
  }
}

// --- Non-streamed responses and errors ---

TEST(AnthropicCodecTest, DecodesResponse) {
  Result<ChatResult> r = DecodeAnthropicResponse(R"({
    "id":"msg_9","type":"message","role":"assistant","model":"claude-haiku-4-5",
    "content":[
      {"type":"thinking","thinking":"Let me look.","signature":"abc"},
      {"type":"redacted_thinking","data":"xyz"},
      {"type":"text","text":"Looking."},
      {"type":"tool_use","id":"toolu_9","name":"grep","input":{"q":"TODO","n":3}}],
    "stop_reason":"tool_use","stop_sequence":null,
    "usage":{"input_tokens":10,"output_tokens":20,"cache_read_input_tokens":5,
             "cache_creation_input_tokens":0}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->response_id, "msg_9");
  EXPECT_EQ(r->message.reasoning, "Let me look.");
  EXPECT_EQ(r->message.reasoning_signature, "abc");
  EXPECT_EQ(r->message.text, "Looking.");
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(json::parse(r->message.tool_calls[0].arguments_json), Parse(R"({"q":"TODO","n":3})"));
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_EQ(r->usage.cache_read_tokens, 5);
  EXPECT_EQ(r->usage.output_tokens, 20);
}

TEST(AnthropicCodecTest, ResponseErrors) {
  EXPECT_EQ(DecodeAnthropicResponse("nope").status().message(),
            "anthropic response: is not valid JSON: nope");
  EXPECT_EQ(DecodeAnthropicResponse(R"({"type":"message"})").status().message(),
            "anthropic response: content is missing");
  EXPECT_EQ(DecodeAnthropicResponse(R"({"content":[{"type":"tool_use","input":"x"}]})")
                .status()
                .message(),
            "anthropic response: content[0].input is not an object (it is a string)");
  const Status s = DecodeAnthropicResponse(
                       R"({"type":"error","error":{"type":"api_error","message":"Internal"}})")
                       .status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "anthropic: api_error: Internal");
}

TEST(AnthropicCodecTest, DecodesErrorBodies) {
  Status s = DecodeAnthropicError(
      529, R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "anthropic: HTTP 529 overloaded_error: Overloaded");

  s = DecodeAnthropicError(
      401,
      R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("anthropic: HTTP 401 authentication_error: invalid x-api-key "
                                     "(check that the API key environment variable"));

  s = DecodeAnthropicError(
      400, R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DecodeAnthropicError(404, "{}").code(), StatusCode::kNotFound);
  EXPECT_EQ(DecodeAnthropicError(429, "{}").code(), StatusCode::kUnavailable);
  s = DecodeAnthropicError(502, "  upstream connect error  ");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "anthropic: HTTP 502: upstream connect error");
}

}  // namespace
}  // namespace troupe
