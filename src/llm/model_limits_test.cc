#include "llm/model_limits.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(ModelLimitsTest, KnownFamiliesGetTheirLimitCapped) {
  EXPECT_EQ(DefaultMaxOutputTokens("claude-3-5-haiku-20241022"), 8192);
  EXPECT_EQ(DefaultMaxOutputTokens("claude-3-haiku-20240307"), 4096);  // lower than the fallback
  EXPECT_EQ(DefaultMaxOutputTokens("claude-sonnet-4-5-20250929"), 32000);  // 64000, capped
  EXPECT_EQ(DefaultMaxOutputTokens("gpt-4o-mini"), 16384);
  EXPECT_EQ(DefaultMaxOutputTokens("gpt-4-0613"), 8192);
  EXPECT_EQ(DefaultMaxOutputTokens("gpt-4-turbo-2024-04-09"), 4096);
  EXPECT_EQ(DefaultMaxOutputTokens("o1-mini"), 32000);
}

TEST(ModelLimitsTest, PrefixesCaseAndRoutersAreUnderstood) {
  EXPECT_EQ(DefaultMaxOutputTokens("GPT-4o"), 16384);
  EXPECT_EQ(DefaultMaxOutputTokens("anthropic/claude-3-haiku"), 4096);
}

TEST(ModelLimitsTest, UnknownModelsGetTheFallback) {
  EXPECT_EQ(DefaultMaxOutputTokens("llama3.1:8b"), kFallbackMaxOutputTokens);
  EXPECT_EQ(DefaultMaxOutputTokens(""), kFallbackMaxOutputTokens);
  EXPECT_EQ(DefaultMaxOutputTokens("scripted"), kFallbackMaxOutputTokens);
}

}  // namespace
}  // namespace troupe
