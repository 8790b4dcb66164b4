#include "mock_llm/prompt_cache.h"

#include <gtest/gtest.h>

#include <string>

#include "llm/anthropic_codec.h"
#include "llm/openai_codec.h"
#include "llm/openai_responses_codec.h"

namespace troupe {
namespace {

using json = nlohmann::json;

// A conversation whose system prompt alone is ~1500 tokens, `turns` user/assistant exchanges long.
ChatRequest Conversation(int turns, bool caching) {
  ChatRequest r;
  r.model = "gpt-4.1";  // the chat codec sends prompt_cache_key to OpenAI's models only
  r.system = std::string(6000, 's');
  r.tools.push_back({"read", "Reads a file", {{"type", "object"}}});
  for (int i = 0; i < turns; ++i) {
    r.messages.push_back(UserMessage("question " + std::to_string(i) + std::string(400, 'q')));
    if (i + 1 < turns) {
      ChatMessage answer;
      answer.role = ChatRole::kAssistant;
      answer.text = "answer " + std::to_string(i) + std::string(400, 'a');
      r.messages.push_back(answer);
    }
  }
  r.caching = {caching, caching ? "session-1" : ""};
  return r;
}

Usage Total(int64_t input) {
  Usage u;
  u.input_tokens = input;
  return u;
}

TEST(PromptCacheTest, OpenAiReadsTheLongestSeenPrefixInStepsOf128) {
  PromptCache cache;
  Usage first = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(1, true)), &first);
  EXPECT_EQ(first.cache_read_tokens, 0);  // nothing seen yet
  EXPECT_EQ(first.input_tokens, 5000);

  Usage second = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(3, true)), &second);
  // The first request's prefix (system prompt, tools, first question) is ~1650 tokens.
  EXPECT_GE(second.cache_read_tokens, 1024);
  EXPECT_EQ((second.cache_read_tokens - 1024) % 128, 0);
  EXPECT_LT(second.cache_read_tokens, 2000);
  EXPECT_EQ(second.input_tokens + second.cache_read_tokens, 5000);
  EXPECT_EQ(second.cache_write_tokens, 0);

  // Another key, or none, shares nothing.
  ChatRequest other = Conversation(3, true);
  other.caching.key = "session-2";
  Usage elsewhere = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(other), &elsewhere);
  EXPECT_EQ(elsewhere.cache_read_tokens, 0);
  Usage unasked = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(3, false)), &unasked);
  EXPECT_EQ(unasked.cache_read_tokens, 0);
  EXPECT_EQ(unasked.input_tokens, 5000);
}

TEST(PromptCacheTest, ResponsesRequestsCacheByTheirKeyToo) {
  PromptCache cache;
  Usage first = Total(4000);
  cache.Apply(WireProtocol::kOpenAiResponses, EncodeOpenAiResponsesRequest(Conversation(2, true)),
              &first);
  Usage second = Total(4000);
  cache.Apply(WireProtocol::kOpenAiResponses, EncodeOpenAiResponsesRequest(Conversation(3, true)),
              &second);
  EXPECT_EQ(first.cache_read_tokens, 0);
  EXPECT_GE(second.cache_read_tokens, 1024);
  EXPECT_EQ(second.input_tokens + second.cache_read_tokens, 4000);
}

TEST(PromptCacheTest, AnthropicWritesAtBreakpointsAndReadsThroughTheLookback) {
  PromptCache cache;
  Usage first = Total(10000);
  cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(Conversation(1, true)), &first);
  EXPECT_EQ(first.cache_read_tokens, 0);
  EXPECT_GT(first.cache_write_tokens, 1500);  // everything up to the last breakpoint
  EXPECT_EQ(UsageInputTotal(first), 10000);

  // The next turn: the breakpoints moved to the new last user turn; the old prefix is found
  // among the blocks before them and read, the new part written.
  Usage second = Total(10000);
  cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(Conversation(2, true)), &second);
  EXPECT_EQ(second.cache_read_tokens, first.cache_write_tokens);
  EXPECT_GT(second.cache_write_tokens, 0);
  EXPECT_LT(second.cache_write_tokens, 400);  // one answer and one question
  EXPECT_EQ(UsageInputTotal(second), 10000);

  // The same request again reads all of it.
  Usage again = Total(10000);
  cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(Conversation(2, true)), &again);
  EXPECT_EQ(again.cache_read_tokens, second.cache_read_tokens + second.cache_write_tokens);
  EXPECT_EQ(again.cache_write_tokens, 0);

  // Without breakpoints nothing is read or written; another model shares nothing.
  Usage unasked = Total(10000);
  cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(Conversation(2, false)), &unasked);
  EXPECT_EQ(unasked.cache_read_tokens + unasked.cache_write_tokens, 0);
  ChatRequest other = Conversation(2, true);
  other.model = "n";
  Usage elsewhere = Total(10000);
  cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(other), &elsewhere);
  EXPECT_EQ(elsewhere.cache_read_tokens, 0);
}

TEST(PromptCacheTest, ShortPrefixesAreNotCachedAndSplitsNeverExceedTheTotal) {
  PromptCache cache;
  ChatRequest small = Conversation(2, true);
  small.system = "short";
  for (int i = 0; i < 2; ++i) {
    Usage u = Total(300);
    cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(small), &u);
    EXPECT_EQ(u.cache_read_tokens + u.cache_write_tokens, 0);  // under 1024 tokens
  }
  for (int i = 0; i < 2; ++i) {
    Usage u = Total(50);  // a script reporting fewer tokens than the request holds
    cache.Apply(WireProtocol::kAnthropic, EncodeAnthropicRequest(Conversation(2, true)), &u);
    EXPECT_EQ(UsageInputTotal(u), 50);
    EXPECT_GE(u.input_tokens, 0);
  }
}

TEST(PromptCacheTest, ScriptedCacheTokensAreKeptAsTheScriptSaysThem) {
  PromptCache cache;
  Usage warm = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(1, true)), &warm);
  Usage scripted = Total(10000);
  scripted.cache_read_tokens = 50000;
  scripted.cache_write_tokens = 4000;
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(3, true)), &scripted);
  EXPECT_EQ(scripted.input_tokens, 10000);
  EXPECT_EQ(scripted.cache_read_tokens, 50000);
  EXPECT_EQ(scripted.cache_write_tokens, 4000);
}

TEST(PromptCacheTest, ForgetsEverythingPastItsCapacity) {
  PromptCache cache(/*max_prefixes=*/10);  // a request of 3 turns has 7 block prefixes
  Usage first = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(3, true)), &first);
  ChatRequest other = Conversation(3, true);
  other.caching.key = "session-2";
  Usage second = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(other), &second);
  EXPECT_LE(cache.prefixes(), 10u);
  Usage again = Total(5000);
  cache.Apply(WireProtocol::kOpenAi, EncodeOpenAiRequest(Conversation(3, true)), &again);
  EXPECT_EQ(again.cache_read_tokens, 0);  // evicted to make room for session-2's
}

}  // namespace
}  // namespace troupe
