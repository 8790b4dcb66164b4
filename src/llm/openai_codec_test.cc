#include "llm/openai_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "llm/codec_test_streams.h"
#include "llm/codec_test_support.h"
#include "wire/sse_test_streams.h"

namespace troupe {
namespace {

using codec_test::Assistant;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

json Parse(std::string_view text) { return json::parse(text); }

codec_test::Decoded DecodeAtEverySplit(std::string_view stream) {
  return codec_test::DecodeAtEverySplit<OpenAiStreamDecoder>(stream);
}

Result<ChatResult> DecodeStream(std::string_view stream) {
  return codec_test::DecodeStream<OpenAiStreamDecoder>(stream);
}

SseEvent Data(std::string data) { return SseEvent{"message", std::move(data), ""}; }

// --- Request encoding ---

TEST(OpenAiCodecTest, EncodesEveryMessageKind) {
  ChatRequest r;
  r.model = "gpt-4o";
  r.system = "Be brief.";
  r.messages.push_back(UserMessage("Read a.cc"));
  r.messages.push_back(Assistant(
      "", {{"call_1", "read_file", R"({"path":"a.cc"})"}, {"call_2", "list", ""}}, "not sent"));
  r.messages.push_back(ToolResultMessage("call_1", "", "int main() {}"));
  r.messages.push_back(ToolResultMessage("call_2", "", "no such tool", /*is_error=*/true));
  r.messages.push_back(Assistant("Done."));
  r.tools.push_back({"read_file", "Reads a file.",
                     Parse(R"({"type":"object","properties":{"path":{"type":"string"}}})")});
  r.temperature = 0.5;
  r.max_tokens = 1000;

  EXPECT_EQ(EncodeOpenAiRequest(r), Parse(R"({
    "model": "gpt-4o",
    "messages": [
      {"role": "system", "content": "Be brief."},
      {"role": "user", "content": "Read a.cc"},
      {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "read_file", "arguments": "{\"path\":\"a.cc\"}"}},
        {"id": "call_2", "type": "function", "function": {"name": "list", "arguments": "{}"}}]},
      {"role": "tool", "tool_call_id": "call_1", "content": "int main() {}"},
      {"role": "tool", "tool_call_id": "call_2", "content": "no such tool"},
      {"role": "assistant", "content": "Done."}
    ],
    "tools": [{"type": "function", "function": {"name": "read_file",
      "description": "Reads a file.",
      "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}}],
    "tool_choice": "auto",
    "temperature": 0.5,
    "max_tokens": 1000,
    "stream": true,
    "stream_options": {"include_usage": true}
  })"));
}

TEST(OpenAiCodecTest, EncodesToolChoiceAndOmitsWhatIsUnset) {
  ChatRequest r;
  r.model = "m";
  r.messages.push_back(UserMessage("hi"));
  r.stream = false;
  // No tools: neither tools nor tool_choice; no system, temperature or stream_options.
  EXPECT_EQ(EncodeOpenAiRequest(r), Parse(R"({"model":"m",
    "messages":[{"role":"user","content":"hi"}],"max_tokens":8192,"stream":false})"));

  r.tools.push_back({"grep", "", json::object()});
  r.tool_choice = "none";
  EXPECT_EQ(EncodeOpenAiRequest(r)["tool_choice"], "none");
  r.tool_choice = "required";
  EXPECT_EQ(EncodeOpenAiRequest(r)["tool_choice"], "required");
  r.tool_choice = "grep";
  EXPECT_EQ(EncodeOpenAiRequest(r)["tool_choice"],
            Parse(R"({"type":"function","function":{"name":"grep"}})"));
}

TEST(OpenAiCodecTest, AssistantWithoutTextOrCallsSendsEmptyContent) {
  ChatRequest r;
  r.messages.push_back(Assistant(""));
  EXPECT_EQ(EncodeOpenAiRequest(r)["messages"][0], Parse(R"({"role":"assistant","content":""})"));
}

// --- Streams ---

TEST(OpenAiStreamDecoderTest, TextWithUsageInFinalChunk) {
  const codec_test::Decoded d = DecodeAtEverySplit(codec_test::kOpenAiTextStream);
  ASSERT_TRUE(d.ok) << d.result;
  Result<ChatResult> r = DecodeStream(codec_test::kOpenAiTextStream);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message.role, ChatRole::kAssistant);
  EXPECT_EQ(r->message.text, "Bonjour — 世界 🎉");
  EXPECT_EQ(r->finish, FinishReason::kStop);
  EXPECT_EQ(r->raw_finish_reason, "stop");
  EXPECT_EQ(r->response_id, "chatcmpl-1");
  EXPECT_EQ(r->model, "gpt-4o-mini");
  EXPECT_EQ(r->usage.input_tokens, 176);  // 1200 prompt tokens, 1024 of them cached
  EXPECT_EQ(r->usage.cache_read_tokens, 1024);
  EXPECT_EQ(r->usage.output_tokens, 7);
  EXPECT_EQ(Parse(d.deltas), Parse(R"([
    {"kind":0,"text":"Bonjour — ","index":0,"id":"","name":"",
     "usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":0,"text":"世界 🎉","index":0,"id":"","name":"",
     "usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":4,"text":"","index":0,"id":"","name":"",
     "usage":{"input":176,"output":7,"cache_read":1024,"cache_write":0}}])"));
}

TEST(OpenAiStreamDecoderTest, ReasoningContent) {
  DecodeAtEverySplit(codec_test::kOpenAiReasoningStream);
  Result<ChatResult> r = DecodeStream(codec_test::kOpenAiReasoningStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "Il faut réfléchir.");
  EXPECT_EQ(r->message.text, "42");
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->usage.input_tokens, 14);
  EXPECT_EQ(r->usage.cache_read_tokens, 16);
  EXPECT_EQ(r->usage.output_tokens, 12);
}

TEST(OpenAiStreamDecoderTest, ParallelToolCallsByIndex) {
  const codec_test::Decoded d = DecodeAtEverySplit(codec_test::kOpenAiParallelToolStream);
  Result<ChatResult> r = DecodeStream(codec_test::kOpenAiParallelToolStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->message.reasoning, "Two files.");
  EXPECT_EQ(r->message.text, "");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].id, "call_A");
  EXPECT_EQ(r->message.tool_calls[0].name, "read_file");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path":"a.cc"})");
  EXPECT_EQ(r->message.tool_calls[1].id, "call_B");
  EXPECT_EQ(r->message.tool_calls[1].name, "read_file");  // "read_" + "file"
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, R"({"path":"b.cc"})");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_EQ(r->usage.input_tokens, 50);
  // Starts carry the call's position; argument fragments follow the wire order.
  const json deltas = Parse(d.deltas);
  ASSERT_EQ(deltas.size(), 8u);
  EXPECT_EQ(deltas[1]["kind"], int(StreamDelta::Kind::kToolCallStart));
  EXPECT_EQ(deltas[1]["id"], "call_A");
  EXPECT_EQ(deltas[3]["kind"], int(StreamDelta::Kind::kToolCallStart));
  EXPECT_EQ(deltas[3]["index"], 1);
  EXPECT_EQ(deltas[6]["text"], "\"a.cc\"}");
  EXPECT_EQ(deltas[6]["index"], 0);
}

TEST(OpenAiStreamDecoderTest, NewIdAtReusedIndexStartsNewCall) {
  DecodeAtEverySplit(codec_test::kOpenAiIndexReuseStream);
  Result<ChatResult> r = DecodeStream(codec_test::kOpenAiIndexReuseStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->message.tool_calls.size(), 3u);
  EXPECT_EQ(r->message.tool_calls[0].id, "call_1");
  EXPECT_EQ(r->message.tool_calls[0].name, "grep");  // the repeated name is not doubled
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"q":"TODO"})");
  EXPECT_EQ(r->message.tool_calls[1].id, "call_2");
  EXPECT_EQ(r->message.tool_calls[1].name, "ls");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
  EXPECT_EQ(r->message.tool_calls[2].id, "call_3");
  EXPECT_EQ(r->message.tool_calls[2].arguments_json, R"({"q":"FIXME"})");
  // "stop" with tool calls counts as a tool-call turn; no [DONE] is fine after a finish_reason.
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_EQ(r->raw_finish_reason, "stop");
}

TEST(OpenAiStreamDecoderTest, SseParserFixture) {
  DecodeAtEverySplit(sse_test::kOpenAiChatStream);
  Result<ChatResult> r = DecodeStream(sse_test::kOpenAiChatStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path": "src/main.cc"})");
  EXPECT_EQ(r->message.text, "Lecture de « main.cc » — 日本語 🎉");
  EXPECT_EQ(r->usage.input_tokens, 82);
  EXPECT_EQ(r->usage.output_tokens, 17);
}

TEST(OpenAiStreamDecoderTest, ToolCallsWithoutIndex) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  for (const char* chunk : {
           R"({"choices":[{"delta":{"tool_calls":[{"id":"c1","function":{"name":"a",
               "arguments":{"x":1}}}]}}]})",
           R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":""}}]}}]})",
           R"({"choices":[{"delta":{"tool_calls":[{"id":"c2","function":{"name":"b"}}]}}]})",
           R"({"choices":[{"delta":{"tool_calls":[{"function":{"arguments":"{}"}}]}}]})",
           R"({"choices":[{"delta":{},"finish_reason":"tool_calls"}]})"}) {
    ASSERT_TRUE(d.OnEvent(Data(chunk), &deltas).ok()) << chunk;
  }
  Result<ChatResult> r = d.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].id, "c1");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"x":1})");  // an object, re-serialised
  EXPECT_EQ(r->message.tool_calls[1].id, "c2");
  EXPECT_EQ(r->message.tool_calls[1].name, "b");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
}

TEST(OpenAiStreamDecoderTest, LegacyFunctionCall) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  for (const char* chunk :
       {R"({"choices":[{"delta":{"function_call":{"name":"b","arguments":"{\"y\""}}}]})",
        R"({"choices":[{"delta":{"function_call":{"arguments":":2}"}}}]})",
        R"({"choices":[{"delta":{},"finish_reason":"function_call"}]})"}) {
    ASSERT_TRUE(d.OnEvent(Data(chunk), &deltas).ok()) << chunk;
  }
  Result<ChatResult> r = d.Finish();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(r->message.tool_calls[0].id, "call_0");
  EXPECT_EQ(r->message.tool_calls[0].name, "b");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"y":2})");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_FALSE(d.done());
}

TEST(OpenAiStreamDecoderTest, CallsWithoutIdsGetPositionalIds) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Data(R"({"choices":[{"delta":{"tool_calls":[
      {"index":0,"function":{"name":"a"}},{"index":1,"function":{"name":"b"}}]},
      "finish_reason":"tool_calls"}]})"),
                        &deltas)
                  .ok());
  Result<ChatResult> r = d.Finish();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].id, "call_0");
  EXPECT_EQ(r->message.tool_calls[1].id, "call_1");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
}

TEST(OpenAiStreamDecoderTest, FinishReasons) {
  const std::vector<std::pair<std::string, FinishReason>> cases = {
      {"stop", FinishReason::kStop},
      {"tool_calls", FinishReason::kToolCalls},
      {"function_call", FinishReason::kToolCalls},
      {"length", FinishReason::kLength},
      {"content_filter", FinishReason::kContentFilter},
      {"error", FinishReason::kOther}};
  for (const auto& [raw, want] : cases) {
    OpenAiStreamDecoder d;
    std::vector<StreamDelta> deltas;
    ASSERT_TRUE(
        d.OnEvent(Data(R"({"choices":[{"delta":{},"finish_reason":")" + raw + R"("}]})"), &deltas)
            .ok());
    ASSERT_TRUE(d.OnEvent(Data("[DONE]"), &deltas).ok());
    EXPECT_TRUE(d.done());
    Result<ChatResult> r = d.Finish();
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->finish, want) << raw;
    EXPECT_EQ(r->raw_finish_reason, raw);
  }
}

TEST(OpenAiStreamDecoderTest, ErrorObjectMidStream) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Data(R"({"choices":[{"delta":{"content":"Hel"}}]})"), &deltas).ok());
  const Status s = d.OnEvent(
      Data(R"({"id":"gen-9","error":{"code":"server_error","message":"Provider disconnected"},
               "choices":[{"delta":{"content":""},"finish_reason":"error"}]})"),
      &deltas);
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(),
            "openai stream: chunk 2: the server sent an error server_error: Provider disconnected");
  // Sticky: later events and Finish give the same error.
  EXPECT_EQ(d.OnEvent(Data("[DONE]"), &deltas), s);
  EXPECT_EQ(d.Finish().status(), s);

  OpenAiStreamDecoder with_http_code;
  const Status s2 = with_http_code.OnEvent(
      Data(R"({"error":{"code":429,"message":"Rate limit exceeded"}})"), &deltas);
  EXPECT_EQ(s2.code(), StatusCode::kUnavailable);
  EXPECT_THAT(s2.message(), HasSubstr("Rate limit exceeded"));

  OpenAiStreamDecoder error_event;
  const Status s3 = error_event.OnEvent(
      SseEvent{"error", R"({"message":"context too long","code":400})", ""}, &deltas);
  EXPECT_EQ(s3.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(s3.message(), HasSubstr("context too long"));
}

TEST(OpenAiStreamDecoderTest, MalformedChunksNameTheChunkAndField) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {R"({"choices":[{"delta":{"tool_calls":[{"index":"0"}]}}]})",
       "openai stream: chunk 2: choices[0].delta.tool_calls[0].index is not an integer (it is a "
       "string)"},
      {R"({"choices":[{"delta":{"tool_calls":[{"index":0.5}]}}]})",
       "openai stream: chunk 2: choices[0].delta.tool_calls[0].index is not an integer (it is a "
       "number)"},
      {R"({"choices":[{"delta":{"tool_calls":[{"index":-1}]}}]})",
       "openai stream: chunk 2: choices[0].delta.tool_calls[0].index is negative"},
      {R"({"choices":[{"delta":{"tool_calls":[7]}}]})",
       "openai stream: chunk 2: choices[0].delta.tool_calls[0] is not an object (it is an "
       "integer)"},
      {R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":[1]}}]}}]})",
       "openai stream: chunk 2: choices[0].delta.tool_calls[0].function.arguments is not a "
       "string (it is an array)"},
      {R"({"choices":[{"delta":{"content":12}}]})",
       "openai stream: chunk 2: choices[0].delta.content is not a string (it is an integer)"},
      {R"({"choices":{"delta":{}}})",
       "openai stream: chunk 2: choices is not an array (it is an object)"},
      {R"({"choices":["x"]})",
       "openai stream: chunk 2: choices[0] is not an object (it is a string)"},
      {R"({"choices":[],"usage":{"prompt_tokens":"12"}})",
       "openai stream: chunk 2: usage.prompt_tokens is not an integer (it is a string)"},
      {R"({"choices":[],"usage":{"prompt_tokens":18446744073709551615}})",
       "openai stream: chunk 2: usage.prompt_tokens is out of range"},
      {R"([1,2])", "openai stream: chunk 2: the chunk is not an object (it is an array)"},
      {R"({"choices":[{"delta":{"content":"x"})",
       R"(openai stream: chunk 2: is not valid JSON: {"choices":[{"delta":{"content":"x"})"},
  };
  for (const auto& [chunk, want] : cases) {
    OpenAiStreamDecoder d;
    std::vector<StreamDelta> deltas;
    ASSERT_TRUE(d.OnEvent(Data(R"({"choices":[{"delta":{"content":"ok"}}]})"), &deltas).ok());
    const Status s = d.OnEvent(Data(chunk), &deltas);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << chunk;
    EXPECT_EQ(s.message(), want);
  }
}

TEST(OpenAiStreamDecoderTest, RejectsDeepNesting) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  const Status s = d.OnEvent(Data(deep), &deltas);
  EXPECT_THAT(s.message(), StartsWith("openai stream: chunk 1: nests deeper than 256 levels"));
}

TEST(OpenAiStreamDecoderTest, TruncatedStreamFailsAtFinish) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Data(R"({"choices":[{"delta":{"content":"Hel"}}]})"), &deltas).ok());
  ASSERT_TRUE(d.OnEvent(Data(R"({"choices":[{"delta":{"content":"lo"}}]})"), &deltas).ok());
  const Result<ChatResult> r = d.Finish();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.status().message(),
            "openai stream: stream ended early after 2 chunks: the response was truncated (no "
            "finish_reason, no [DONE])");

  // Every cut of a stream before its finish chunk is reported; later cuts succeed.
  const std::string_view stream = codec_test::kOpenAiTextStream;
  const size_t finish_end = stream.find("\"stop\"") + 40;
  for (size_t i = 0; i < stream.size(); ++i) {
    const codec_test::Decoded cut = codec_test::Decode<OpenAiStreamDecoder>(stream.substr(0, i));
    if (!cut.ok) {
      EXPECT_LT(i, finish_end);
      EXPECT_THAT(cut.result, HasSubstr("the response was truncated")) << i;
    }
  }
}

TEST(OpenAiStreamDecoderTest, IgnoresKeepAlivesAndEventsAfterDone) {
  OpenAiStreamDecoder d;
  std::vector<StreamDelta> deltas;
  ASSERT_TRUE(d.OnEvent(Data(""), &deltas).ok());
  ASSERT_TRUE(d.OnEvent(Data(" [DONE] "), &deltas).ok());
  EXPECT_TRUE(d.done());
  ASSERT_TRUE(d.OnEvent(Data("not json"), &deltas).ok());
  EXPECT_TRUE(deltas.empty());
  EXPECT_TRUE(d.Finish().ok());
}

// --- Non-streamed responses and errors ---

TEST(OpenAiCodecTest, DecodesResponse) {
  Result<ChatResult> r = DecodeOpenAiResponse(R"({
    "id":"chatcmpl-7","object":"chat.completion","model":"gpt-4o",
    "choices":[{"index":0,"finish_reason":"tool_calls","message":{"role":"assistant",
      "content":null,"reasoning_content":"hmm","tool_calls":[
        {"id":"call_1","type":"function","function":{"name":"grep","arguments":"{\"q\":\"x\"}"}},
        {"id":"call_2","type":"function","function":{"name":"ls","arguments":""}}]}}],
    "usage":{"prompt_tokens":100,"completion_tokens":9,"prompt_tokens_details":{"cached_tokens":64}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->response_id, "chatcmpl-7");
  EXPECT_EQ(r->model, "gpt-4o");
  EXPECT_EQ(r->message.text, "");
  EXPECT_EQ(r->message.reasoning, "hmm");
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"q":"x"})");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, "{}");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_EQ(r->usage.input_tokens, 36);
  EXPECT_EQ(r->usage.cache_read_tokens, 64);
  EXPECT_EQ(r->usage.output_tokens, 9);
}

TEST(OpenAiCodecTest, ResponseErrors) {
  EXPECT_EQ(DecodeOpenAiResponse("<html>").status().message(),
            "openai response: is not valid JSON: <html>");
  EXPECT_EQ(DecodeOpenAiResponse(R"({"choices":[]})").status().message(),
            "openai response: choices is missing or empty");
  EXPECT_EQ(DecodeOpenAiResponse(R"({"choices":[{"message":{"tool_calls":[{"id":"c"}]}}]})")
                .status()
                .message(),
            "openai response: choices[0].message.tool_calls[0].function is missing");
  const Status s =
      DecodeOpenAiResponse(R"({"error":{"message":"boom","type":"server_error"}})").status();
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "openai response: the server sent an error server_error: boom");
}

TEST(OpenAiCodecTest, DecodesErrorBodies) {
  Status s = DecodeOpenAiError(401, R"({"error":{"message":"Incorrect API key provided",
      "type":"invalid_request_error","param":null,"code":"invalid_api_key"}})");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), StartsWith("openai: HTTP 401 invalid_api_key: Incorrect API key "
                                      "provided (check that the API key environment variable"));

  s = DecodeOpenAiError(429, R"({"error":{"message":"Slow down","type":"requests","code":null}})");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "openai: HTTP 429 requests: Slow down");

  s = DecodeOpenAiError(400, R"([{"error":{"code":400,"message":"Bad model",
      "status":"INVALID_ARGUMENT"}}])");  // Gemini
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "openai: HTTP 400: Bad model");

  s = DecodeOpenAiError(404, R"({"error":"model \"llama9\" not found"})");  // Ollama
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.message(), R"(openai: HTTP 404: model "llama9" not found)");

  s = DecodeOpenAiError(422, R"({"object":"error","message":"bad field","type":"BadRequest"})");
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "openai: HTTP 422 BadRequest: bad field");

  s = DecodeOpenAiError(502, "\n<html>Bad Gateway</html>\n");
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(s.message(), "openai: HTTP 502: <html>Bad Gateway</html>");

  s = DecodeOpenAiError(503, std::string(2000, 'x'));
  EXPECT_EQ(s.message(), "openai: HTTP 503: " + std::string(500, 'x') + "…");

  EXPECT_EQ(DecodeOpenAiError(408, "").message(), "openai: HTTP 408: (empty body)");
  EXPECT_EQ(DecodeOpenAiError(408, "").code(), StatusCode::kUnavailable);
  EXPECT_EQ(DecodeOpenAiError(403, "{}").code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(DecodeOpenAiError(418, "{}").code(), StatusCode::kInternal);
  EXPECT_EQ(DecodeOpenAiError(418, "{}").message(), "openai: HTTP 418: {}");
}

}  // namespace
}  // namespace troupe
