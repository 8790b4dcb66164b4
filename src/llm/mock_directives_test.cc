#include "llm/mock_directives.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using ::testing::HasSubstr;
using StreamFault = MockPlan::StreamFault;

MockDirectives Parse(const std::string& text) {
  Result<MockDirectives> d = ParseMockDirectives(text);
  EXPECT_TRUE(d.ok()) << d.status().ToString();
  return d.ok() ? *d : MockDirectives{};
}

std::string Error(const std::string& text) {
  Result<MockDirectives> d = ParseMockDirectives(text);
  EXPECT_FALSE(d.ok()) << text;
  return d.ok() ? "" : d.status().message();
}

TEST(MockDurationTest, UnitsAndBounds) {
  EXPECT_EQ(ParseMockDuration("250ms"), 250);
  EXPECT_EQ(ParseMockDuration("2s"), 2000);
  EXPECT_EQ(ParseMockDuration("1.5s"), 1500);
  EXPECT_EQ(ParseMockDuration("1m"), 60'000);
  EXPECT_EQ(ParseMockDuration("1h"), 3'600'000);
  EXPECT_EQ(ParseMockDuration("300"), 300);
  EXPECT_EQ(ParseMockDuration("0"), 0);
  EXPECT_EQ(ParseMockDuration("24h"), kMockMaxDurationMs);
  EXPECT_EQ(ParseMockDuration("25h"), std::nullopt);
  EXPECT_EQ(ParseMockDuration("-1s"), std::nullopt);
  EXPECT_EQ(ParseMockDuration("abc"), std::nullopt);
  EXPECT_EQ(ParseMockDuration("s"), std::nullopt);
  EXPECT_EQ(ParseMockDuration(""), std::nullopt);
  EXPECT_EQ(ParseMockDuration("1e9"), std::nullopt);
  EXPECT_EQ(ParseMockDuration("1..2s"), std::nullopt);
  EXPECT_EQ(ParseMockDuration("99999999999999999999999999"), std::nullopt);
}

TEST(MockDirectivesTest, OnlyMockLinesCount) {
  const MockDirectives d = Parse(
      "find the parser\n  #mock latency=250ms tps=40\n#mockery tps=1\nnot #mock tps=2\n#mock");
  EXPECT_EQ(d.first_token_delay_ms, 250);
  EXPECT_EQ(d.tokens_per_second, 40);
}

TEST(MockDirectivesTest, EveryLineForDefaults) {
  Result<MockDirectives> d = ParseMockDirectives("latency=1s\n#mock tps=5\n\n", true);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->first_token_delay_ms, 1000);
  EXPECT_EQ(d->tokens_per_second, 5);
}

TEST(MockDirectivesTest, PacingKeys) {
  const MockDirectives d = Parse("#mock head_delay=2s latency=1.5s tps=12.5");
  EXPECT_EQ(d.head_delay_ms, 2000);
  EXPECT_EQ(d.first_token_delay_ms, 1500);
  EXPECT_EQ(d.tokens_per_second, 12.5);
  EXPECT_EQ(Parse("#mock hang").head_delay_ms, kMockHangMs);
}

TEST(MockDirectivesTest, RefusalAndCutCall) {
  EXPECT_EQ(Parse("#mock signed_thinking").signed_thinking, true);
  EXPECT_EQ(
      MergeMockDirectives(Parse("#mock signed_thinking"), Parse("#mock reply=x")).signed_thinking,
      true);
  const MockDirectives d = Parse("#mock refusal=\"Not that.\" cut_call content_parts");
  EXPECT_EQ(d.refusal, "Not that.");
  EXPECT_EQ(d.cut_call, true);
  EXPECT_EQ(d.content_parts, true);
  Result<MockDirectives> bad = ParseMockDirectives("#mock cut_call=yes");
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("'cut_call' takes no value"));
  const MockDirectives merged =
      MergeMockDirectives(Parse("#mock refusal=a"), Parse("#mock cut_call"));
  EXPECT_EQ(merged.refusal, "a");
  EXPECT_EQ(merged.cut_call, true);
}

TEST(MockDirectivesTest, QuotedValuesAndEscapes) {
  const MockDirectives d =
      Parse(R"(#mock reply="He said \"hi\"\nthen left \\ ok" reasoning="think first")");
  EXPECT_EQ(d.reply, "He said \"hi\"\nthen left \\ ok");
  EXPECT_EQ(d.reasoning, "think first");
}

TEST(MockDirectivesTest, ToolCallsByTurn) {
  const MockDirectives d = Parse(
      "#mock tool=grep:{\"pattern\": \"retry policy\"} tool=glob:{\"pattern\":\"**/*.h\"}\n"
      "#mock tool@2=read:{\"path\":\"a b.cc\"} tool@3=list");
  ASSERT_TRUE(d.tool_calls);
  ASSERT_EQ(d.tool_calls->size(), 4u);
  EXPECT_EQ((*d.tool_calls)[0].turn, 1);
  EXPECT_EQ((*d.tool_calls)[0].name, "grep");
  EXPECT_EQ((*d.tool_calls)[0].arguments_json, R"({"pattern":"retry policy"})");
  EXPECT_EQ((*d.tool_calls)[1].name, "glob");
  EXPECT_EQ((*d.tool_calls)[2].turn, 2);
  EXPECT_EQ((*d.tool_calls)[2].arguments_json, R"({"path":"a b.cc"})");
  EXPECT_EQ((*d.tool_calls)[3].turn, 3);
  EXPECT_EQ((*d.tool_calls)[3].arguments_json, "{}");
}

TEST(MockDirectivesTest, QuotedToolValue) {
  const MockDirectives d = Parse(R"(#mock tool="bash:{\"command\": \"ls -l\"}")");
  ASSERT_TRUE(d.tool_calls);
  EXPECT_EQ((*d.tool_calls)[0].arguments_json, R"({"command":"ls -l"})");
}

TEST(MockDirectivesTest, FailureKeys) {
  const MockDirectives d = Parse(
      "#mock fail=429 retry_after=2s retry_after_ms=1500 should_retry=false times=2 "
      "fail_message=\"slow down\"");
  EXPECT_EQ(d.fail_status, 429);
  EXPECT_EQ(d.retry_after, "2");
  EXPECT_EQ(d.retry_after_ms, "1500");
  EXPECT_EQ(d.should_retry, false);
  EXPECT_EQ(d.times, 2);
  EXPECT_EQ(d.fail_message, "slow down");
  EXPECT_EQ(Parse("#mock fail=503 retry_after=1.25s").retry_after, "1.25");
}

TEST(MockDirectivesTest, StreamFaults) {
  MockDirectives d = Parse("#mock drop_after=5");
  ASSERT_TRUE(d.stream_fault);
  EXPECT_EQ(d.stream_fault->kind, StreamFault::kDrop);
  EXPECT_EQ(d.stream_fault->after_deltas, 5u);

  d = Parse("#mock stall=10s stall_after=3");
  EXPECT_EQ(d.stream_fault->kind, StreamFault::kStall);
  EXPECT_EQ(d.stream_fault->stall_ms, 10'000);
  EXPECT_EQ(d.stream_fault->after_deltas, 3u);

  d = Parse("#mock malformed_after=0");
  EXPECT_EQ(d.stream_fault->kind, StreamFault::kMalformedChunk);

  d = Parse("#mock error_event=\"Overloaded\" error_after=4");
  EXPECT_EQ(d.stream_fault->kind, StreamFault::kErrorEvent);
  EXPECT_EQ(d.stream_fault->message, "Overloaded");
  EXPECT_EQ(d.stream_fault->after_deltas, 4u);

  d = Parse("#mock truncate_after=2");
  EXPECT_EQ(d.stream_fault->kind, StreamFault::kTruncate);
  EXPECT_EQ(d.stream_fault->after_deltas, 2u);

  d = Parse("#mock stall=1s");
  EXPECT_EQ(d.stream_fault->after_deltas, 0u);
}

TEST(MockDirectivesTest, ContentAndUsageKeys) {
  const MockDirectives d = Parse("#mock tokens=1000 usage_in=7 usage_out=9 id=case-1");
  EXPECT_EQ(d.filler_tokens, 1000);
  EXPECT_EQ(d.usage_in, 7);
  EXPECT_EQ(d.usage_out, 9);
  EXPECT_EQ(d.id, "case-1");
}

TEST(MockDirectivesTest, BadValuesNameTheDirective) {
  EXPECT_EQ(Error("#mock tps=abc"),
            "mock directive 'tps=abc': expected a number of tokens per second from 0 to 1000000");
  EXPECT_THAT(Error("#mock latency=soon"), HasSubstr("'latency=soon': expected a duration"));
  EXPECT_THAT(Error("#mock latency=48h"), HasSubstr("at most 24h"));
  EXPECT_THAT(Error("#mock colour=red"), HasSubstr("'colour=red': unknown key"));
  EXPECT_THAT(Error("#mock fail=200"), HasSubstr("expected an HTTP status 400-599"));
  EXPECT_THAT(Error("#mock fail=abc"), HasSubstr("'fail=abc'"));
  EXPECT_THAT(Error("#mock tokens=1000001"), HasSubstr("from 0 to 1000000"));
  EXPECT_THAT(Error("#mock tokens=-1"), HasSubstr("'tokens=-1'"));
  EXPECT_THAT(Error("#mock should_retry=maybe"), HasSubstr("expected true or false"));
  EXPECT_THAT(Error("#mock reply=\"open"), HasSubstr("no closing"));
  EXPECT_THAT(Error("#mock tool=grep:{bad json}"), HasSubstr("expected NAME:{json object"));
  EXPECT_THAT(Error("#mock tool=grep:[1]"), HasSubstr("expected NAME:{json object"));
  EXPECT_THAT(Error("#mock tool=:{}"), HasSubstr("expected NAME:"));
  EXPECT_THAT(Error("#mock tool=gr$p:{}"), HasSubstr("tool name"));
  EXPECT_THAT(Error("#mock tool@0=grep"), HasSubstr("turn K from 1"));
  EXPECT_THAT(Error("#mock tool@x=grep"), HasSubstr("turn K from 1"));
  EXPECT_THAT(Error("#mock tool@3=grep tool=glob"), HasSubstr("turn 2 has no tool call"));
  EXPECT_THAT(Error("#mock hang=yes"), HasSubstr("takes no value"));
  EXPECT_THAT(Error("#mock tps"), HasSubstr("expected key=value"));
  EXPECT_THAT(Error("#mock =5"), HasSubstr("expected key=value"));
  EXPECT_THAT(Error("#mock reply=\"a\"b"), HasSubstr("expected a blank after the value"));
  EXPECT_THAT(Error("#mock id="), HasSubstr("non-empty id"));
}

TEST(MockDirectivesTest, ConflictsWithinALevel) {
  EXPECT_THAT(Error("#mock reply=x tokens=3"), HasSubstr("exclude each other"));
  EXPECT_THAT(Error("#mock drop_after=1 stall=1s"), HasSubstr("at most one stream fault"));
  EXPECT_THAT(Error("#mock truncate_after=1 drop_after=1"), HasSubstr("at most one stream fault"));
  EXPECT_THAT(Error("#mock stall_after=2"), HasSubstr("stall_after= needs stall="));
  EXPECT_THAT(Error("#mock error_after=2"), HasSubstr("error_after= needs error_event="));
}

TEST(MockDirectivesTest, LongItemsAreCutInMessages) {
  const std::string message = Error("#mock bogus=" + std::string(500, 'x'));
  EXPECT_THAT(message, HasSubstr("xxx…': unknown key"));
  EXPECT_LT(message.size(), 400u);
}

TEST(MockDirectivesTest, TooManyToolCalls) {
  std::string text = "#mock";
  for (size_t i = 0; i <= kMockMaxToolCalls; ++i) text += " tool=t";
  EXPECT_THAT(Error(text), HasSubstr("at most 256 scripted tool calls"));
}

TEST(MockDirectivesTest, MergeOverridesKeyByKeyAndGroupsWhole) {
  const MockDirectives base =
      Parse("#mock latency=1s tps=10 reply=base tool=grep tool@2=read drop_after=3 id=a");
  const MockDirectives over = Parse("#mock tps=20 tokens=5 tool=glob stall=1s");
  const MockDirectives m = MergeMockDirectives(base, over);
  EXPECT_EQ(m.first_token_delay_ms, 1000);
  EXPECT_EQ(m.tokens_per_second, 20);
  EXPECT_EQ(m.reply, std::nullopt);  // the final answer is one group
  EXPECT_EQ(m.filler_tokens, 5);
  ASSERT_TRUE(m.tool_calls);
  ASSERT_EQ(m.tool_calls->size(), 1u);  // the tool calls are one group
  EXPECT_EQ((*m.tool_calls)[0].name, "glob");
  EXPECT_EQ(m.stream_fault->kind, StreamFault::kStall);
  EXPECT_EQ(m.id, "a");
}

TEST(MockDirectivesTest, CheckNeedsFailForItsOptions) {
  EXPECT_THAT(CheckMockDirectives(Parse("#mock retry_after=1s")).message(),
              HasSubstr("'retry_after': only meaningful with fail=STATUS"));
  EXPECT_THAT(CheckMockDirectives(Parse("#mock should_retry=true")).message(),
              HasSubstr("should_retry"));
  EXPECT_THAT(CheckMockDirectives(Parse("#mock times=2")).message(),
              HasSubstr("'times=2': only meaningful with fail= or a stream fault"));
  EXPECT_TRUE(CheckMockDirectives(Parse("#mock times=2 drop_after=1")).ok());
  EXPECT_TRUE(CheckMockDirectives(Parse("#mock times=2 fail=500 retry_after=1s")).ok());
}

TEST(MockDirectivesTest, StripAndCollectLines) {
  const std::string text = "find x\n  #mock tps=1\nand y\n#mock reply=z";
  EXPECT_EQ(StripMockDirectiveLines(text), "find x\nand y");
  EXPECT_EQ(StripMockDirectiveLines("a\nb\n"), "a\nb\n");
  EXPECT_EQ(MockDirectiveLines(text), "#mock tps=1\n#mock reply=z");
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(MockDirectivesTest, UsageSetsEveryCountAtOnce) {
  MockDirectives d = Parse("#mock usage=10/2/50/4/3");
  EXPECT_EQ(d.usage_in, 10);
  EXPECT_EQ(d.usage_out, 2);
  EXPECT_EQ(d.usage_cache_read, 50);
  EXPECT_EQ(d.usage_cache_write, 4);
  EXPECT_EQ(d.usage_reasoning, 3);
  MockDirectives two = Parse("#mock usage=7/1");
  EXPECT_EQ(two.usage_in, 7);
  EXPECT_EQ(two.usage_cache_read, std::nullopt);
  EXPECT_THAT(Error("#mock usage=1/x"), HasSubstr("expected IN/OUT/CACHE_READ/CACHE_WRITE"));
  EXPECT_THAT(Error("#mock usage=1/2/3/4/5/6"), HasSubstr("at most 5 numbers"));
}

}  // namespace
}  // namespace troupe
