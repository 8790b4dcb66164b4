#include "llm/mock_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using json = nlohmann::json;
using Kind = StreamDelta::Kind;

ToolSpec Tool(const std::string& name, const std::vector<std::string>& properties) {
  ToolSpec spec;
  spec.name = name;
  spec.input_schema = {{"type", "object"}, {"properties", json::object()}};
  for (const std::string& p : properties) spec.input_schema["properties"][p] = {{"type", "string"}};
  return spec;
}

std::vector<ToolSpec> SearchTools() {
  return {Tool("grep", {"pattern", "path"}), Tool("glob", {"pattern"}), Tool("read", {"path"})};
}

ChatRequest Request(std::string prompt, std::string system = "") {
  ChatRequest r;
  r.model = "scripted";
  r.system = std::move(system);
  r.messages = {UserMessage(std::move(prompt))};
  return r;
}

MockModelOptions Instant() {
  MockModelOptions o;
  o.first_token_delay_ms = 0;
  o.tokens_per_second = 0;
  return o;
}

// The reply the deltas add up to, as a streaming client would assemble it.
ChatMessage FromDeltas(const std::vector<StreamDelta>& deltas) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  for (const StreamDelta& d : deltas) {
    switch (d.kind) {
      case Kind::kText:
        m.text += d.text;
        break;
      case Kind::kReasoning:
        m.reasoning += d.text;
        break;
      case Kind::kToolCallStart:
        EXPECT_EQ(d.index, static_cast<int>(m.tool_calls.size()));
        m.tool_calls.push_back({d.id, d.name, ""});
        break;
      case Kind::kToolCallArguments:
        m.tool_calls.at(d.index).arguments_json += d.text;
        break;
      case Kind::kUsage:
        ADD_FAILURE() << "a plan holds no usage delta";
        break;
    }
  }
  return m;
}

void ExpectConsistent(const MockPlan& plan) {
  const ChatMessage m = FromDeltas(plan.deltas);
  EXPECT_EQ(m.text, plan.result.message.text);
  EXPECT_EQ(m.reasoning, plan.result.message.reasoning);
  ASSERT_EQ(m.tool_calls.size(), plan.result.message.tool_calls.size());
  for (size_t i = 0; i < m.tool_calls.size(); ++i) {
    EXPECT_EQ(m.tool_calls[i].id, plan.result.message.tool_calls[i].id);
    EXPECT_EQ(m.tool_calls[i].name, plan.result.message.tool_calls[i].name);
    EXPECT_EQ(m.tool_calls[i].arguments_json, plan.result.message.tool_calls[i].arguments_json);
  }
  EXPECT_EQ(plan.result.message.role, ChatRole::kAssistant);
  if (m.tool_calls.empty()) {
    EXPECT_NE(plan.result.finish, FinishReason::kToolCalls);
  } else {
    EXPECT_EQ(plan.result.finish, FinishReason::kToolCalls);
  }
}

std::vector<std::string> Texts(const MockPlan& plan) {
  std::vector<std::string> out;
  for (const StreamDelta& d : plan.deltas) out.push_back(d.text);
  return out;
}

TEST(MockModelTest, DefaultAgentCallsSearchToolsThenReadsThenSummarises) {
  MockModel model(Instant());
  ChatRequest r = Request("Where is the SseParser implemented?");
  r.tools = SearchTools();

  const MockPlan first = model.Plan(r);
  ExpectConsistent(first);
  ASSERT_FALSE(first.http_error);
  EXPECT_EQ(first.result.finish, FinishReason::kToolCalls);
  EXPECT_EQ(first.result.raw_finish_reason, "tool_calls");
  const auto& calls = first.result.message.tool_calls;
  ASSERT_EQ(calls.size(), 2u);
  EXPECT_EQ(calls[0].id, "call_mock_1_1");
  EXPECT_EQ(calls[0].name, "grep");
  EXPECT_EQ(json::parse(calls[0].arguments_json), json({{"pattern", "SseParser"}}));
  EXPECT_EQ(calls[1].id, "call_mock_1_2");
  EXPECT_EQ(json::parse(calls[1].arguments_json), json({{"pattern", "**/*sse_parser*"}}));
  EXPECT_EQ(first.deltas[0].kind, Kind::kToolCallStart);

  r.messages.push_back(first.result.message);
  r.messages.push_back(
      ToolResultMessage("call_mock_1_1", "",
                        "src/wire/sse_parser.h:20:class SseParser {\n"
                        "src/wire/sse_parser.cc:8:SseParser::SseParser() = default;\n"));
  r.messages.push_back(
      ToolResultMessage("call_mock_1_2", "", "src/wire/sse_parser.cc\nsrc/wire/sse_parser.h\n"));
  const MockPlan second = model.Plan(r);
  ExpectConsistent(second);
  ASSERT_EQ(second.result.message.tool_calls.size(), 1u);
  EXPECT_EQ(second.result.message.tool_calls[0].id, "call_mock_2_1");
  EXPECT_EQ(second.result.message.tool_calls[0].name, "read");
  EXPECT_EQ(json::parse(second.result.message.tool_calls[0].arguments_json),
            json({{"path", "src/wire/sse_parser.h"}}));

  r.messages.push_back(second.result.message);
  r.messages.push_back(ToolResultMessage("call_mock_2_1", "",
                                         "1\t// The SSE parser.\n2\tnamespace troupe {\n"
                                         "3\tstruct SseEvent {\n4\tclass SseParser {\n"));
  const MockPlan third = model.Plan(r);
  ExpectConsistent(third);
  EXPECT_EQ(third.result.finish, FinishReason::kStop);
  EXPECT_EQ(third.result.raw_finish_reason, "stop");
  const std::string& text = third.result.message.text;
  EXPECT_THAT(text, HasSubstr("2 matching lines in 2 files"));
  EXPECT_THAT(text, HasSubstr("`src/wire/sse_parser.h:20`: `class SseParser {`"));
  EXPECT_THAT(text, HasSubstr("line 3: `struct SseEvent {`"));
  EXPECT_THAT(text, HasSubstr("offline mock model"));
  // Tokenised as words with their following whitespace.
  for (size_t i = 0; i + 1 < third.deltas.size(); ++i) {
    const std::string& t = third.deltas[i].text;
    EXPECT_TRUE(std::isspace(static_cast<unsigned char>(t.back()))) << i << ": " << t;
    EXPECT_EQ(t.find_first_of(" \n"), t.find_last_not_of(" \n") + 1) << t;
  }
}

TEST(MockModelTest, NoToolsRestatesTheRequest) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request("Explain the TaskManager lifecycle"));
  ExpectConsistent(plan);
  EXPECT_THAT(plan.result.message.text, HasSubstr("(offline mock model)"));
  EXPECT_THAT(plan.result.message.text, HasSubstr("`TaskManager` and `lifecycle`"));
  EXPECT_EQ(plan.result.finish, FinishReason::kStop);
}

TEST(MockModelTest, DirectiveLinesAreNotKeywords) {
  MockModel model(Instant());
  ChatRequest r = Request("find the scheduler\n#mock latency=5ms id=probe");
  r.tools = SearchTools();
  const MockPlan plan = model.Plan(r);
  ASSERT_FALSE(plan.result.message.tool_calls.empty());
  EXPECT_EQ(json::parse(plan.result.message.tool_calls[0].arguments_json)["pattern"], "scheduler");
  EXPECT_EQ(plan.first_token_delay_ms, 5);
  EXPECT_EQ(plan.marker, "probe");
}

TEST(MockModelTest, ReplyIsTokenisedWordByWord) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request(R"(#mock reply="  Hello big\n world")"));
  ExpectConsistent(plan);
  EXPECT_THAT(Texts(plan), ElementsAre("  Hello ", "big\n ", "world"));
  EXPECT_EQ(plan.result.message.text, "  Hello big\n world");
  EXPECT_EQ(plan.result.usage.output_tokens, 3);
}

TEST(MockModelTest, ReasoningComesFirst) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request("#mock reasoning=\"let me think\" reply=ok"));
  ExpectConsistent(plan);
  ASSERT_EQ(plan.deltas.size(), 4u);
  EXPECT_EQ(plan.deltas[0].kind, Kind::kReasoning);
  EXPECT_EQ(plan.deltas[2].kind, Kind::kReasoning);
  EXPECT_EQ(plan.deltas[3].kind, Kind::kText);
  EXPECT_EQ(plan.result.message.reasoning, "let me think");
}

TEST(MockModelTest, RefusalEndsTheFinalTurnInItsWords) {
  MockModel model(Instant());
  MockPlan plan = model.Plan(Request("#mock refusal=\"I can't help with that.\"\nhack it"));
  ExpectConsistent(plan);
  EXPECT_EQ(plan.result.finish, FinishReason::kRefusal);
  EXPECT_EQ(plan.result.message.refusal, "I can't help with that.");
  EXPECT_EQ(plan.result.message.text, "");
  // With a scripted tool turn first, that turn runs; the refusal comes after it.
  plan = model.Plan(Request("#mock tool=glob:{\"pattern\":\"*\"} refusal=No.\ngo"));
  EXPECT_EQ(plan.result.finish, FinishReason::kToolCalls);
  EXPECT_EQ(plan.result.message.refusal, "");
}

TEST(MockModelTest, ContentPartsIsAWireShapeForThePlayer) {
  MockModel model(Instant());
  EXPECT_TRUE(model.Plan(Request("#mock content_parts reply=ok")).content_parts);
  EXPECT_FALSE(model.Plan(Request("#mock reply=ok")).content_parts);
}

TEST(MockModelTest, CutCallStopsTheLastCallsInputHalfwayAtTheLimit) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request(
      "#mock tool=glob:{\"pattern\":\"*\"} tool=grep:{\"pattern\":\"abcdefgh\"} cut_call\nx"));
  const ChatMessage m = FromDeltas(plan.deltas);
  ASSERT_EQ(plan.result.message.tool_calls.size(), 2u);
  EXPECT_EQ(plan.result.message.tool_calls[0].arguments_json, R"({"pattern":"*"})");
  EXPECT_EQ(plan.result.message.tool_calls[1].arguments_json, R"({"pattern":)");
  EXPECT_EQ(m.tool_calls.at(1).arguments_json, plan.result.message.tool_calls[1].arguments_json);
  EXPECT_EQ(plan.result.finish, FinishReason::kLength);
  EXPECT_EQ(plan.result.raw_finish_reason, "length");
}

TEST(MockModelTest, SignedThinkingInterleavesSignedAndRedactedBlocksWithTheCalls) {
  const json blocks = MockSignedThinking(1, 3);
  ASSERT_EQ(blocks.size(), 4u);
  EXPECT_EQ(blocks[0]["block"]["type"], "thinking");
  EXPECT_EQ(blocks[0]["tool_calls_before"], 0);
  EXPECT_EQ(blocks[1]["block"]["type"], "redacted_thinking");
  EXPECT_EQ(blocks[1]["tool_calls_before"], 0);
  EXPECT_EQ(blocks[2]["tool_calls_before"], 1);
  EXPECT_EQ(blocks[3]["tool_calls_before"], 2);
  EXPECT_THAT(blocks[3]["block"]["signature"].get<std::string>(),
              ::testing::StartsWith("mock-sig-"));
  // Signatures differ by turn and text; the same turn gives the same blocks.
  EXPECT_NE(blocks[0]["block"]["signature"], blocks[2]["block"]["signature"]);
  EXPECT_NE(MockSignedThinking(2, 1)[0]["block"], blocks[0]["block"]);
  EXPECT_EQ(MockSignedThinking(1, 3), blocks);
  EXPECT_EQ(MockSignedThinking(1, 0).size(), 2u);  // a final answer: the first two only
}

TEST(MockModelTest, SignedThinkingChecksEachTurnGotItsBlocksBackUnchanged) {
  MockModel model(Instant());
  ChatRequest r = Request(
      "go\n#mock signed_thinking reasoning=ignored tool=grep:{\"pattern\":\"a\"} "
      "tool=glob:{\"pattern\":\"*\"} reply=done");
  MockPlan plan = model.Plan(r);
  ASSERT_FALSE(plan.http_error.has_value());
  const ChatMessage& first = plan.result.message;
  EXPECT_EQ(first.provider_replay, (json{{"anthropic", MockSignedThinking(1, 2)}}));
  EXPECT_THAT(first.reasoning, HasSubstr("Turn 1: what is asked"));
  EXPECT_THAT(first.reasoning, Not(HasSubstr("ignored")));
  EXPECT_EQ(first.reasoning_signature, MockSignedThinking(1, 2)[2]["block"]["signature"]);
  for (const StreamDelta& d : plan.deltas) EXPECT_NE(d.kind, Kind::kReasoning);

  // Given back unchanged: the next turn answers, with its own blocks.
  ChatRequest next = r;
  next.messages.push_back(first);
  next.messages.push_back(ToolResultMessage("call_mock_2_1", "grep", "x"));
  next.messages.push_back(ToolResultMessage("call_mock_2_2", "glob", "y"));
  plan = model.Plan(next);
  ASSERT_FALSE(plan.http_error.has_value()) << plan.http_error->message;
  EXPECT_EQ(plan.result.message.text, "done");
  EXPECT_EQ(plan.result.message.provider_replay["anthropic"], MockSignedThinking(2, 0));

  // Dropped, merged into one block, or moved: a 400 naming the turn, as the API refuses them.
  auto refused = [&](const json& replay) {
    ChatRequest bad = next;
    bad.messages[1].provider_replay = replay;
    MockPlan p = model.Plan(bad);
    EXPECT_TRUE(p.http_error.has_value()) << replay.dump();
    if (!p.http_error) return std::string();
    EXPECT_EQ(p.http_error->status, 400);
    EXPECT_EQ(p.http_error->type, "invalid_request_error");
    return p.http_error->message;
  };
  EXPECT_THAT(refused(nullptr), HasSubstr("the thinking of turn 1 was not sent back unchanged"));
  json moved = MockSignedThinking(1, 2);
  moved[2]["tool_calls_before"] = 0;
  EXPECT_THAT(refused({{"anthropic", moved}}), HasSubstr("turn 1"));
  json redacted_lost = MockSignedThinking(1, 2);
  redacted_lost.erase(1);
  EXPECT_THAT(refused({{"anthropic", redacted_lost}}), HasSubstr("turn 1"));
  json edited = MockSignedThinking(1, 2);
  edited[0]["block"]["thinking"] = "something else";
  EXPECT_THAT(refused({{"anthropic", edited}}), HasSubstr("turn 1"));
}

TEST(MockModelTest, ScriptedToolTurnsThenReply) {
  MockModel model(Instant());
  ChatRequest r = Request(
      "do it\n#mock tool=grep:{\"pattern\":\"a b\"} tool=glob:{\"pattern\":\"*\"} "
      "tool@2=read:{\"path\":\"x.cc\"} reply=\"all done\"");
  MockPlan plan = model.Plan(r);
  ExpectConsistent(plan);
  ASSERT_EQ(plan.result.message.tool_calls.size(), 2u);
  EXPECT_EQ(plan.result.message.tool_calls[0].arguments_json, R"({"pattern":"a b"})");
  EXPECT_EQ(plan.result.message.tool_calls[1].name, "glob");

  r.messages.push_back(plan.result.message);
  r.messages.push_back(ToolResultMessage("call_mock_1_1", "", "x.cc:1:a b"));
  r.messages.push_back(ToolResultMessage("call_mock_1_2", "", "x.cc"));
  plan = model.Plan(r);
  ExpectConsistent(plan);
  ASSERT_EQ(plan.result.message.tool_calls.size(), 1u);
  EXPECT_EQ(plan.result.message.tool_calls[0].name, "read");
  EXPECT_EQ(plan.result.message.tool_calls[0].id, "call_mock_2_1");

  r.messages.push_back(plan.result.message);
  r.messages.push_back(ToolResultMessage("call_mock_2_1", "", "1\tint main() {}"));
  plan = model.Plan(r);
  EXPECT_EQ(plan.result.message.text, "all done");
  EXPECT_EQ(plan.result.finish, FinishReason::kStop);
}

TEST(MockModelTest, ScriptedToolsWithoutReplySummariseTheResults) {
  MockModel model(Instant());
  ChatRequest r = Request("look\n#mock tool=bash:{\"command\":\"ls\"}");
  MockPlan plan = model.Plan(r);
  ASSERT_EQ(plan.result.message.tool_calls.size(), 1u);
  r.messages.push_back(plan.result.message);
  r.messages.push_back(ToolResultMessage("call_mock_1_1", "", "a.txt\nb.txt\n"));
  plan = model.Plan(r);
  EXPECT_THAT(plan.result.message.text, HasSubstr("bash `ls`: 2 files: `a.txt` and `b.txt`."));
}

TEST(MockModelTest, ScriptedToolCallsAreMadeEvenWhenNotOffered) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request("#mock tool=delete_everything:{}"));
  ASSERT_EQ(plan.result.message.tool_calls.size(), 1u);
  EXPECT_EQ(plan.result.message.tool_calls[0].arguments_json, "{}");
}

TEST(MockModelTest, ArgumentsAreStreamedInFragmentsWithoutSplittingCharacters) {
  MockModel model(Instant());
  const MockPlan plan =
      model.Plan(Request("#mock tool=grep:{\"pattern\":\"ééééééééééééééééé long pattern\"}"));
  ExpectConsistent(plan);
  size_t fragments = 0;
  for (const StreamDelta& d : plan.deltas) {
    if (d.kind != Kind::kToolCallArguments) continue;
    ++fragments;
    EXPECT_LE(d.text.size(), 16u);
    EXPECT_NE(static_cast<unsigned char>(d.text[0]) & 0xC0, 0x80) << "split inside a character";
  }
  EXPECT_GT(fragments, 2u);
}

TEST(MockModelTest, FailDirectivesGiveTypedHttpErrors) {
  MockModel model(Instant());
  MockPlan plan = model.Plan(Request(
      "#mock fail=429 retry_after=2s retry_after_ms=1500 should_retry=true head_delay=20ms"));
  ASSERT_TRUE(plan.http_error);
  EXPECT_EQ(plan.http_error->status, 429);
  EXPECT_EQ(plan.http_error->type, "rate_limit_error");
  EXPECT_THAT(plan.http_error->headers,
              ElementsAre(HttpHeader{"retry-after", "2"}, HttpHeader{"retry-after-ms", "1500"},
                          HttpHeader{"x-should-retry", "true"}));
  EXPECT_EQ(plan.head_delay_ms, 20);
  EXPECT_THAT(plan.deltas, IsEmpty());

  const std::pair<int, const char*> kinds[] = {{529, "overloaded_error"},
                                               {500, "api_error"},
                                               {503, "api_error"},
                                               {400, "invalid_request_error"},
                                               {401, "authentication_error"},
                                               {408, "timeout_error"}};
  for (const auto& [status, type] : kinds) {
    plan = model.Plan(Request("#mock fail=" + std::to_string(status)));
    ASSERT_TRUE(plan.http_error) << status;
    EXPECT_EQ(plan.http_error->type, type) << status;
    EXPECT_THAT(plan.http_error->message, HasSubstr("mock fail=" + std::to_string(status)));
  }
  plan = model.Plan(Request("#mock fail=500 fail_message=\"boom\""));
  EXPECT_EQ(plan.http_error->message, "boom");
}

TEST(MockModelTest, TimesCountsRequestsPerScriptKey) {
  MockModel model(Instant());
  const ChatRequest r = Request("task A\n#mock fail=503 times=2 reply=fine");
  EXPECT_TRUE(model.Plan(r).http_error);
  // Another prompt is another key, with its own count.
  EXPECT_TRUE(model.Plan(Request("task B\n#mock fail=503 times=1 reply=fine")).http_error);
  EXPECT_TRUE(model.Plan(r).http_error);
  const MockPlan third = model.Plan(r);
  EXPECT_FALSE(third.http_error);
  EXPECT_EQ(third.result.message.text, "fine");
  EXPECT_FALSE(model.Plan(r).http_error);
  EXPECT_FALSE(model.Plan(Request("task B\n#mock fail=503 times=1 reply=fine")).http_error);
}

TEST(MockModelTest, TimesKeyIsTheIdWhenGiven) {
  MockModel model(Instant());
  EXPECT_TRUE(model.Plan(Request("one\n#mock id=k fail=429 times=1")).http_error);
  // A different prompt with the same id shares the count.
  EXPECT_FALSE(model.Plan(Request("two\n#mock id=k fail=429 times=1")).http_error);
  EXPECT_TRUE(model.Plan(Request("two\n#mock id=other fail=429 times=1")).http_error);
}

TEST(MockModelTest, WithoutTimesEveryRequestFaults) {
  MockModel model(Instant());
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(model.Plan(Request("#mock fail=500")).http_error);
}

TEST(MockModelTest, StreamFaultsGoIntoThePlan) {
  MockModel model(Instant());
  MockPlan plan = model.Plan(Request("#mock reply=\"a b c\" drop_after=2"));
  EXPECT_EQ(plan.fault, MockPlan::StreamFault::kDrop);
  EXPECT_EQ(plan.fault_after_deltas, 2u);
  ExpectConsistent(plan);

  plan = model.Plan(Request("#mock stall=10s stall_after=1"));
  EXPECT_EQ(plan.fault, MockPlan::StreamFault::kStall);
  EXPECT_EQ(plan.stall_ms, 10'000);
  EXPECT_EQ(plan.fault_after_deltas, 1u);

  plan = model.Plan(Request("#mock malformed_after=3"));
  EXPECT_EQ(plan.fault, MockPlan::StreamFault::kMalformedChunk);

  plan = model.Plan(Request("#mock error_event=\"Overloaded\" error_after=1"));
  EXPECT_EQ(plan.fault, MockPlan::StreamFault::kErrorEvent);
  EXPECT_EQ(plan.error_message, "Overloaded");
}

TEST(MockModelTest, StreamFaultsHonourTimes) {
  MockModel model(Instant());
  const ChatRequest r = Request("x\n#mock drop_after=1 times=1 reply=\"a b\"");
  EXPECT_EQ(model.Plan(r).fault, MockPlan::StreamFault::kDrop);
  const MockPlan second = model.Plan(r);
  EXPECT_EQ(second.fault, MockPlan::StreamFault::kNone);
  EXPECT_EQ(second.result.message.text, "a b");
}

TEST(MockModelTest, PacingFromOptionsAndDirectives) {
  MockModelOptions options;
  options.head_delay_ms = 5;
  options.first_token_delay_ms = 300;
  options.tokens_per_second = 80;
  MockModel model(options);
  MockPlan plan = model.Plan(Request("hi"));
  EXPECT_EQ(plan.head_delay_ms, 5);
  EXPECT_EQ(plan.first_token_delay_ms, 300);
  EXPECT_EQ(plan.tokens_per_second, 80);

  plan = model.Plan(Request("#mock head_delay=1s latency=250ms tps=50"));
  EXPECT_EQ(plan.head_delay_ms, 1000);
  EXPECT_EQ(plan.first_token_delay_ms, 250);
  EXPECT_EQ(plan.tokens_per_second, 50);

  EXPECT_EQ(model.Plan(Request("#mock hang")).head_delay_ms, kMockHangMs);
}

TEST(MockModelTest, UserOverridesSystemOverridesDefaults) {
  MockModelOptions options = Instant();
  options.default_directives = "tps=1 latency=1s reply=default\nhead_delay=7ms";
  MockModel model(options);
  ASSERT_TRUE(model.default_directives_status().ok());

  MockPlan plan = model.Plan(Request("q", "#mock tps=2 reply=system"));
  EXPECT_EQ(plan.tokens_per_second, 2);
  EXPECT_EQ(plan.first_token_delay_ms, 1000);
  EXPECT_EQ(plan.head_delay_ms, 7);
  EXPECT_EQ(plan.result.message.text, "system");

  plan = model.Plan(Request("q\n#mock tps=3 reply=user", "#mock tps=2 reply=system"));
  EXPECT_EQ(plan.tokens_per_second, 3);
  EXPECT_EQ(plan.result.message.text, "user");

  plan = model.Plan(Request("q"));
  EXPECT_EQ(plan.result.message.text, "default");
}

TEST(MockModelTest, DirectivesComeFromTheLastUserMessageOnly) {
  MockModel model(Instant());
  ChatRequest r = Request("first\n#mock reply=old");
  ChatMessage answer;
  answer.role = ChatRole::kAssistant;
  answer.text = "old";
  r.messages.push_back(answer);
  r.messages.push_back(UserMessage("second\n#mock reply=new"));
  EXPECT_EQ(model.Plan(r).result.message.text, "new");
}

TEST(MockModelTest, BadDirectivesGiveA400NamingThem) {
  MockModel model(Instant());
  MockPlan plan = model.Plan(Request("#mock tps=abc"));
  ASSERT_TRUE(plan.http_error);
  EXPECT_EQ(plan.http_error->status, 400);
  EXPECT_EQ(plan.http_error->type, "invalid_request_error");
  EXPECT_EQ(plan.http_error->message,
            "in the last user message: mock directive 'tps=abc': expected a number of tokens per "
            "second from 0 to 1000000");

  plan = model.Plan(Request("q", "#mock bogus=1"));
  ASSERT_TRUE(plan.http_error);
  EXPECT_THAT(plan.http_error->message,
              HasSubstr("in the system prompt: mock directive 'bogus=1'"));

  plan = model.Plan(Request("#mock retry_after=1s"));
  ASSERT_TRUE(plan.http_error);
  EXPECT_THAT(plan.http_error->message, HasSubstr("only meaningful with fail="));

  MockModelOptions options = Instant();
  options.default_directives = "latency=forever";
  MockModel bad_defaults(options);
  EXPECT_FALSE(bad_defaults.default_directives_status().ok());
  plan = bad_defaults.Plan(Request("q"));
  ASSERT_TRUE(plan.http_error);
  EXPECT_THAT(plan.http_error->message,
              HasSubstr("in the provider's default directives: mock directive 'latency=forever'"));
}

TEST(MockModelTest, FillerTokensAndUsage) {
  MockModel model(Instant());
  MockPlan plan = model.Plan(Request("#mock tokens=1000"));
  ExpectConsistent(plan);
  EXPECT_EQ(plan.deltas.size(), 1000u);
  EXPECT_EQ(plan.result.usage.output_tokens, 1000);
  EXPECT_EQ(model.Plan(Request("#mock tokens=0")).deltas.size(), 0u);

  plan = model.Plan(Request("#mock reply=x usage_in=123 usage_out=45"));
  EXPECT_EQ(plan.result.usage.input_tokens, 123);
  EXPECT_EQ(plan.result.usage.output_tokens, 45);

  // Estimated: the request's characters / 4.
  const std::string prompt = "#mock reply=x\n" + std::string(386, 'a');
  plan = model.Plan(Request(prompt, std::string(100, 's')));
  EXPECT_EQ(plan.result.usage.input_tokens, static_cast<int64_t>((prompt.size() + 100) / 4));
  EXPECT_EQ(plan.result.usage.output_tokens, 1);
}

TEST(MockModelTest, MaxTokensCutsTheText) {
  MockModel model(Instant());
  ChatRequest r = Request("#mock tokens=50");
  r.max_tokens = 10;
  const MockPlan plan = model.Plan(r);
  ExpectConsistent(plan);
  EXPECT_EQ(plan.deltas.size(), 10u);
  EXPECT_EQ(plan.result.finish, FinishReason::kLength);
  EXPECT_EQ(plan.result.raw_finish_reason, "length");
}

TEST(MockModelTest, LongWordsAreCut) {
  MockModel model(Instant());
  const MockPlan plan = model.Plan(Request("#mock reply=" + std::string(200, 'x')));
  ExpectConsistent(plan);
  EXPECT_EQ(plan.deltas.size(), 4u);
}

TEST(MockModelTest, IdsAndModel) {
  MockModel model(Instant());
  ChatRequest r = Request("#mock reply=x");
  r.model = "fast-1";
  EXPECT_EQ(model.Plan(r).result.response_id, "mock-1");
  const MockPlan second = model.Plan(r);
  EXPECT_EQ(second.result.response_id, "mock-2");
  EXPECT_EQ(second.result.model, "fast-1");
  EXPECT_EQ(second.marker, "");
}

TEST(MockModelTest, DeterministicForTheSameSeed) {
  MockModelOptions options = Instant();
  options.seed = 42;
  MockModel a(options);
  MockModel b(options);
  ChatRequest r = Request("Where is the SseParser? #mock is not here\n#mock tokens=30");
  ChatRequest agent = Request("Where is the SseParser?");
  agent.tools = SearchTools();
  for (const ChatRequest& request : {r, agent}) {
    const MockPlan pa = a.Plan(request);
    const MockPlan pb = b.Plan(request);
    EXPECT_EQ(Texts(pa), Texts(pb));
    EXPECT_EQ(pa.result.message.text, pb.result.message.text);
    EXPECT_EQ(pa.result.response_id, pb.result.response_id);
  }
  options.seed = 43;
  MockModel c(options);
  EXPECT_NE(c.Plan(r).result.message.text, MockModel(Instant()).Plan(r).result.message.text);
}

}  // namespace
}  // namespace troupe
