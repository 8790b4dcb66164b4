#include "llm/openai_responses_codec.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "llm/codec_test_streams.h"
#include "llm/codec_test_support.h"
#include "llm/request_text.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;
using Decoder = OpenAiResponsesStreamDecoder;

Result<ChatResult> DecodeAtEverySplit(std::string_view stream) {
  return codec_test::DecodeStreamAtEverySplit<Decoder>(std::string(stream));
}

// One SSE event per JSON object (compacted to one line), named by its type, as the API sends them.
std::string Events(std::initializer_list<std::string_view> events) {
  std::string out;
  for (std::string_view e : events) {
    const json event = json::parse(e);
    out += "event: " + event.at("type").get<std::string>() + "\ndata: " + event.dump() + "\n\n";
  }
  return out;
}

constexpr std::string_view kCreated =
    R"({"type":"response.created","response":{"id":"resp_9","status":"in_progress","model":"o4-mini","output":[]}})";

// --- Request encoding ---

TEST(OpenAiResponsesCodecTest, EncodesTheConversationAsInputItems) {
  ChatRequest r;
  r.model = "gpt-4.1";
  r.system = "Be brief.";
  r.temperature = 0.2;
  r.max_tokens = 2000;
  r.tool_choice = "read_file";
  r.tools.push_back({"read_file", "Reads a file", {{"type", "object"}}});
  r.messages.push_back(UserMessage("Read a.cc"));
  ChatMessage assistant =
      codec_test::Assistant("Reading.", {{"call_A", "read_file", R"({"p":1})"}});
  assistant.tool_calls.push_back({"call_B", "ls", ""});
  assistant.provider_replay = {{"openai-responses",
                                {{"reasoning_items", json::array({{{"id", "rs_1"},
                                                                   {"type", "reasoning"},
                                                                   {"encrypted_content", "gAAA"},
                                                                   {"summary", json::array()}}})}}},
                               {"openai", {{"reasoning_content", "not for this wire"}}}};
  r.messages.push_back(assistant);
  r.messages.push_back(ToolResultMessage("call_A", "read_file", "int main() {}"));
  r.messages.push_back(ToolResultMessage("call_B", "ls", "no such dir", /*is_error=*/true));

  const json body = EncodeOpenAiResponsesRequest(r);
  EXPECT_EQ(body.at("model"), "gpt-4.1");
  EXPECT_EQ(body.at("instructions"), "Be brief.");
  EXPECT_EQ(body.at("input"), json::parse(R"([
    {"role":"user","content":"Read a.cc"},
    {"id":"rs_1","type":"reasoning","encrypted_content":"gAAA","summary":[]},
    {"role":"assistant","content":"Reading."},
    {"type":"function_call","call_id":"call_A","name":"read_file","arguments":"{\"p\":1}"},
    {"type":"function_call","call_id":"call_B","name":"ls","arguments":"{}"},
    {"type":"function_call_output","call_id":"call_A","output":"int main() {}"},
    {"type":"function_call_output","call_id":"call_B","output":"no such dir"}])"));
  EXPECT_EQ(body.at("tools"), json::parse(R"([{"type":"function","name":"read_file",
    "description":"Reads a file","parameters":{"type":"object"},"strict":false}])"));
  EXPECT_EQ(body.at("tool_choice"), json::parse(R"({"type":"function","name":"read_file"})"));
  EXPECT_EQ(body.at("temperature"), 0.2);
  EXPECT_EQ(body.at("max_output_tokens"), 2000);
  EXPECT_EQ(body.at("store"), false);
  EXPECT_EQ(body.at("stream"), true);
  // Not a reasoning model and no effort asked: `reasoning` would be refused.
  EXPECT_FALSE(body.contains("reasoning"));
  EXPECT_FALSE(body.contains("include"));
  EXPECT_FALSE(body.contains("prompt_cache_key"));
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_FALSE(body.contains("messages"));
}

TEST(OpenAiResponsesCodecTest, ReasoningModelsGetReasoningSettingsAndNoTemperature) {
  ChatRequest r;
  r.model = "gpt-5-codex";
  r.temperature = 0.7;
  r.reasoning.effort = "high";
  r.caching = {true, "task-7"};
  r.messages.push_back(UserMessage("hi"));
  const json body = EncodeOpenAiResponsesRequest(r);
  EXPECT_FALSE(body.contains("temperature"));
  EXPECT_EQ(body.at("reasoning"), json::parse(R"({"effort":"high","summary":"auto"})"));
  EXPECT_EQ(body.at("include"), json::parse(R"(["reasoning.encrypted_content"])"));
  EXPECT_EQ(body.at("prompt_cache_key"), "task-7");
  EXPECT_FALSE(body.contains("instructions"));
  EXPECT_FALSE(body.contains("tools"));
  EXPECT_FALSE(body.contains("tool_choice"));  // refused without tools

  r.reasoning.effort.clear();
  r.caching.enabled = false;
  const json defaults = EncodeOpenAiResponsesRequest(r);
  EXPECT_EQ(defaults.at("reasoning"), json::parse(R"({"summary":"auto"})"));
  EXPECT_FALSE(defaults.contains("prompt_cache_key"));
}

TEST(OpenAiResponsesCodecTest, RequestTextReadsAsTheEncodedRequest) {
  ChatRequest r;
  r.model = "o3";
  r.system = "Sys \xff";  // invalid UTF-8 is replaced, not fatal
  r.tools.push_back({"grep", "Searches", {{"type", "object"}}});
  r.messages.push_back(UserMessage("find TODO"));
  r.messages.push_back(codec_test::Assistant("", {{"call_1", "grep", R"({"q":"TODO"})"}}));
  r.messages.push_back(ToolResultMessage("call_1", "grep", "a.cc:3"));
  RequestTextCache cache;
  for (int i = 0; i < 2; ++i) {
    const json text = json::parse(EncodeOpenAiResponsesRequestText(r, &cache));
    json expected = EncodeOpenAiResponsesRequest(r);
    expected["instructions"] = "Sys \xEF\xBF\xBD";
    EXPECT_EQ(text, expected);
  }
  EXPECT_EQ(cache.hits(), 2);  // the instructions and the tools, the second time
  EXPECT_EQ(json::parse(EncodeOpenAiResponsesRequestText(r, nullptr)).at("input").size(), 3u);
}

TEST(OpenAiResponsesCodecTest, ARefusalGoesBackAsTheAssistantsText) {
  ChatRequest r;
  r.model = "gpt-4.1";
  ChatMessage refused = codec_test::Assistant("");
  refused.refusal = "I can't help with that.";
  r.messages.push_back(UserMessage("?"));
  r.messages.push_back(refused);
  EXPECT_EQ(EncodeOpenAiResponsesRequest(r).at("input").at(1),
            json::parse(R"({"role":"assistant","content":"I can't help with that."})"));
}

// --- Stream decoding ---

TEST(OpenAiResponsesCodecTest, DecodesReasoningAndTextAndKeepsTheEncryptedReasoning) {
  Result<ChatResult> r = DecodeAtEverySplit(codec_test::kResponsesTextStream);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->response_id, "resp_1");
  EXPECT_EQ(r->model, "gpt-5-2025-08-07");
  EXPECT_EQ(r->message.text, "Bonjour — 世界 🎉");
  EXPECT_EQ(r->message.reasoning, "**Saluer** en français.\n\nPuis le monde 🌍.");
  EXPECT_EQ(r->finish, FinishReason::kStop);
  EXPECT_EQ(r->raw_finish_reason, "completed");
  EXPECT_EQ(r->message.stop_reason, "completed");
  EXPECT_EQ(r->usage.input_tokens, 1200 - 1024);
  EXPECT_EQ(r->usage.cache_read_tokens, 1024);
  EXPECT_EQ(r->usage.cache_write_tokens, 0);
  EXPECT_EQ(r->usage.output_tokens, 90);
  EXPECT_EQ(r->usage.reasoning_tokens, 64);
  EXPECT_EQ(UsageInputTotal(r->usage), 1200);
  const json& items = r->message.provider_replay.at("openai-responses").at("reasoning_items");
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].at("id"), "rs_1");
  EXPECT_EQ(items[0].at("encrypted_content"), "gAAAAB-opaque==");

  // The next turn sends the item back before the text.
  ChatRequest next;
  next.model = "gpt-5";
  next.messages = {UserMessage("hi"), r->message, UserMessage("again")};
  const json input = EncodeOpenAiResponsesRequest(next).at("input");
  ASSERT_EQ(input.size(), 4u);
  EXPECT_EQ(input[1], items[0]);
  EXPECT_EQ(input[2], json::parse(R"({"role":"assistant","content":"Bonjour — 世界 🎉"})"));
}

TEST(OpenAiResponsesCodecTest, DecodesFunctionCallsWithOrWithoutArgumentDeltas) {
  const codec_test::Decoded d =
      codec_test::DecodeAtEverySplit<Decoder>(codec_test::kResponsesToolStream);
  ASSERT_TRUE(d.ok) << d.result;
  Result<ChatResult> r = codec_test::DecodeStream<Decoder>(codec_test::kResponsesToolStream);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->message.tool_calls.size(), 2u);
  EXPECT_EQ(r->message.tool_calls[0].id, "call_A");
  EXPECT_EQ(r->message.tool_calls[0].name, "read_file");
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"path":"a.cc"})");
  EXPECT_EQ(r->message.tool_calls[1].id, "call_B");
  EXPECT_EQ(r->message.tool_calls[1].arguments_json, R"({"all":true})");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  EXPECT_TRUE(r->message.provider_replay.is_null());
  // Each call announced once, its arguments delivered once: from the deltas, or from .done.
  EXPECT_EQ(d.deltas, json::parse(R"([
    {"kind":2,"text":"","index":0,"id":"call_A","name":"read_file","usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":3,"text":"{\"path\":","index":0,"id":"","name":"","usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":3,"text":"\"a.cc\"}","index":0,"id":"","name":"","usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":2,"text":"","index":1,"id":"call_B","name":"list_tasks","usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":3,"text":"{\"all\":true}","index":1,"id":"","name":"","usage":{"input":0,"output":0,"cache_read":0,"cache_write":0}},
    {"kind":4,"text":"","index":0,"id":"","name":"","usage":{"input":50,"output":40,"cache_read":0,"cache_write":0}}])")
                          .dump());
}

TEST(OpenAiResponsesCodecTest, AnOutputLimitInsideACallIsALengthStopWithTheCutInput) {
  const std::string stream = Events(
      {kCreated,
       R"({"type":"response.output_item.added","output_index":0,"item":{"id":"fc_1","type":"function_call","arguments":"","call_id":"call_1","name":"write_file"}})",
       R"({"type":"response.function_call_arguments.delta","item_id":"fc_1","output_index":0,"delta":"{\"content\":\"lo"})",
       R"({"type":"response.incomplete","response":{"id":"resp_9","status":"incomplete","incomplete_details":{"reason":"max_output_tokens"},"output":[{"id":"fc_1","type":"function_call","status":"incomplete","arguments":"{\"content\":\"lo","call_id":"call_1","name":"write_file"}],"usage":{"input_tokens":10,"output_tokens":16,"output_tokens_details":{"reasoning_tokens":0}}}})"});
  Result<ChatResult> r = DecodeAtEverySplit(stream);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kLength);
  EXPECT_EQ(r->raw_finish_reason, "max_output_tokens");
  EXPECT_EQ(r->message.stop_reason, "max_output_tokens");
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, R"({"content":"lo)");

  // A call with no argument at all stays empty when cut, rather than reading as `{}`.
  const std::string empty = Events(
      {kCreated,
       R"({"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","arguments":"","call_id":"call_2","name":"ls"}})",
       R"({"type":"response.incomplete","response":{"status":"incomplete","incomplete_details":{"reason":"max_output_tokens"}}})"});
  r = DecodeAtEverySplit(empty);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message.tool_calls.at(0).arguments_json, "");
}

TEST(OpenAiResponsesCodecTest, ARefusalEndsInRefusal) {
  const std::string stream = Events(
      {kCreated,
       R"({"type":"response.output_item.added","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","content":[]}})",
       R"({"type":"response.content_part.added","item_id":"msg_1","output_index":0,"content_index":0,"part":{"type":"refusal","refusal":""}})",
       R"({"type":"response.refusal.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"I can't "})",
       R"({"type":"response.refusal.delta","item_id":"msg_1","output_index":0,"content_index":0,"delta":"help with that."})",
       R"({"type":"response.refusal.done","item_id":"msg_1","output_index":0,"content_index":0,"refusal":"I can't help with that."})",
       R"({"type":"response.output_item.done","output_index":0,"item":{"id":"msg_1","type":"message","role":"assistant","content":[{"type":"refusal","refusal":"I can't help with that."}]}})",
       R"({"type":"response.completed","response":{"id":"resp_9","status":"completed","usage":{"input_tokens":5,"output_tokens":6}}})"});
  Result<ChatResult> r = DecodeAtEverySplit(stream);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kRefusal);
  EXPECT_EQ(r->message.refusal, "I can't help with that.");  // once, not again from the item
  EXPECT_EQ(r->message.text, "");
  EXPECT_EQ(r->raw_finish_reason, "completed");
}

TEST(OpenAiResponsesCodecTest, ItemsOnlyInTheFinalResponseAreRead) {
  // A server that streams no item events: everything is in response.completed.
  const std::string stream = Events(
      {R"({"type":"response.completed","response":{"id":"resp_3","model":"gpt-4.1","status":"completed","output":[
        {"id":"rs_1","type":"reasoning","summary":[{"type":"summary_text","text":"Plan."}]},
        {"id":"msg_1","type":"message","role":"assistant","content":[{"type":"output_text","text":"Done.","annotations":[]}]},
        {"id":"fc_1","type":"function_call","call_id":"call_1","name":"ls","arguments":""}],
        "usage":{"input_tokens":3,"input_tokens_details":{"cached_tokens":1,"cache_write_tokens":2},"output_tokens":4}}})"});
  Result<ChatResult> r = DecodeAtEverySplit(stream);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message.reasoning, "Plan.");
  EXPECT_EQ(r->message.text, "Done.");
  ASSERT_EQ(r->message.tool_calls.size(), 1u);
  EXPECT_EQ(r->message.tool_calls[0].arguments_json, "{}");
  EXPECT_EQ(r->finish, FinishReason::kToolCalls);
  // A reasoning item without encrypted_content cannot be sent back with store: false.
  EXPECT_TRUE(r->message.provider_replay.is_null());
  EXPECT_EQ(r->usage.input_tokens, 0);
  EXPECT_EQ(r->usage.cache_read_tokens, 1);
  EXPECT_EQ(r->usage.cache_write_tokens, 2);
}

TEST(OpenAiResponsesCodecTest, FailuresAndErrorEventsEndTheStreamWithTheServersWords) {
  Result<ChatResult> failed = codec_test::DecodeStream<Decoder>(Events(
      {kCreated,
       R"({"type":"response.failed","response":{"id":"resp_9","status":"failed","error":{"code":"server_error","message":"The model crashed."}}})"}));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(failed.status().message(),
            "openai-responses stream: event 2 (response.failed): the server sent an error "
            "server_error: The model crashed.");

  Result<ChatResult> invalid = codec_test::DecodeStream<Decoder>(Events(
      {kCreated,
       R"({"type":"error","code":"invalid_prompt","message":"Bad prompt.","param":null,"sequence_number":1})"}));
  ASSERT_FALSE(invalid.ok());
  EXPECT_EQ(invalid.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("invalid_prompt: Bad prompt."));

  Result<ChatResult> limited = codec_test::DecodeStream<Decoder>(Events(
      {R"({"type":"error","code":"rate_limit_exceeded","message":"Slow down.","param":null})"}));
  EXPECT_EQ(limited.status().code(), StatusCode::kUnavailable);
}

TEST(OpenAiResponsesCodecTest, AStreamWithoutItsFinalEventIsTruncated) {
  const std::string stream(codec_test::kResponsesTextStream.substr(
      0, codec_test::kResponsesTextStream.find("event: response.completed")));
  Result<ChatResult> r = codec_test::DecodeStream<Decoder>(stream);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("ended early after 14 events"));
}

TEST(OpenAiResponsesCodecTest, MalformedEventsSayWhere) {
  struct Case {
    std::string event;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"{not json", "event 1: "},
      {R"(["a"])", "event 1: the event is not an object (it is an array)"},
      {R"({"type":"response.output_item.added","output_index":0,"item":{"type":"function_call","call_id":7}})",
       "event 1 (response.output_item.added): item.call_id is not a string (it is an integer)"},
      {R"({"type":"response.output_text.delta","delta":"x"})",
       "event 1 (response.output_text.delta): output_index is missing"},
      {R"({"type":"response.function_call_arguments.delta","output_index":0,"delta":"x"})",
       "event 1 (response.function_call_arguments.delta): function call arguments for an output "
       "item that is not a function_call (it is unknown)"},
      {R"({"type":"response.completed","response":{"status":"completed","usage":{"input_tokens":-1}}})",
       "event 1 (response.completed): response.usage has a negative token count"},
      {R"({"type":"response.output_item.done","output_index":0,"item":{"type":"reasoning","encrypted_content":1}})",
       "event 1 (response.output_item.done): item.encrypted_content is not a string (it is an "
       "integer)"},
  };
  for (const Case& c : cases) {
    Result<ChatResult> r = codec_test::DecodeStream<Decoder>("data: " + c.event + "\n\n");
    ASSERT_FALSE(r.ok()) << c.event;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << c.event;
    EXPECT_THAT(r.status().message(), HasSubstr("openai-responses stream: " + c.message))
        << c.event;
  }
}

TEST(OpenAiResponsesCodecTest, DecodesANonStreamedResponse) {
  Result<ChatResult> r = DecodeOpenAiResponsesResponse(R"({"id":"resp_4","object":"response",
    "model":"gpt-4.1","status":"completed","error":null,"incomplete_details":null,"output":[
    {"id":"msg_1","type":"message","status":"completed","role":"assistant",
     "content":[{"type":"output_text","text":"Hi.","annotations":[]}]}],
    "usage":{"input_tokens":7,"input_tokens_details":{"cached_tokens":0},"output_tokens":2,
             "output_tokens_details":{"reasoning_tokens":0},"total_tokens":9}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->response_id, "resp_4");
  EXPECT_EQ(r->message.text, "Hi.");
  EXPECT_EQ(r->finish, FinishReason::kStop);
  EXPECT_EQ(r->usage.input_tokens, 7);

  Result<ChatResult> error =
      DecodeOpenAiResponsesResponse(R"({"error":{"code":"server_error","message":"Oops."}})");
  ASSERT_FALSE(error.ok());
  EXPECT_EQ(error.status().message(),
            "openai-responses response: the server sent an error server_error: Oops.");
  Result<ChatResult> pending = DecodeOpenAiResponsesResponse(R"({"status":"in_progress"})");
  ASSERT_FALSE(pending.ok());
  EXPECT_THAT(pending.status().message(), HasSubstr("neither \"completed\" nor \"incomplete\""));
}

}  // namespace
}  // namespace troupe
