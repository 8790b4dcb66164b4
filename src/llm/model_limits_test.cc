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

TEST(ModelLimitsTest, KnownMaximumIsTheTablesUncappedFigure) {
  EXPECT_EQ(KnownMaxOutputTokens("claude-sonnet-4-5-20250929"), 64000);
  EXPECT_EQ(KnownMaxOutputTokens("gpt-5-mini"), 128000);
  EXPECT_EQ(KnownMaxOutputTokens("llama3.1:8b"), std::nullopt);
}

TEST(ModelLimitsTest, WithoutAnAgentSettingTheLimitCappedOrTheFallbackIsAsked) {
  EXPECT_EQ(ChooseOutputTokens("claude-3-haiku", std::nullopt, std::nullopt, {}).max_tokens, 4096);
  EXPECT_EQ(ChooseOutputTokens("gpt-5", std::nullopt, std::nullopt, {}).max_tokens, 32000);
  EXPECT_EQ(ChooseOutputTokens("qwen3", std::nullopt, std::nullopt, {}).max_tokens, 8192);
  // The config's figure wins over the table's, either way.
  EXPECT_EQ(ChooseOutputTokens("qwen3", 2048, std::nullopt, {}).max_tokens, 2048);
  EXPECT_EQ(ChooseOutputTokens("gpt-4o", 4000, std::nullopt, {}).max_tokens, 4000);
  EXPECT_EQ(ChooseOutputTokens("gpt-4o", 100000, std::nullopt, {}).max_tokens, 32000);
}

TEST(ModelLimitsTest, TheAgentSettingNarrowsTheModelLimitAndNeverPassesIt) {
  EXPECT_EQ(ChooseOutputTokens("claude-3-haiku", std::nullopt, 2000, {}).max_tokens, 2000);
  EXPECT_EQ(ChooseOutputTokens("claude-3-haiku", std::nullopt, 50000, {}).max_tokens, 4096);
  EXPECT_EQ(ChooseOutputTokens("qwen3", 16384, 50000, {}).max_tokens, 16384);
  // Above the default cap, within the model's limit: the agent asked for it.
  EXPECT_EQ(ChooseOutputTokens("gpt-5", std::nullopt, 100000, {}).max_tokens, 100000);
  // Unknown model, nothing configured: the agent's figure as given.
  EXPECT_EQ(ChooseOutputTokens("qwen3", std::nullopt, 50000, {}).max_tokens, 50000);
}

TEST(ModelLimitsTest, AThinkingBudgetRaisesMaxTokensOnlyUpToTheLimit) {
  ReasoningSettings thinking;
  thinking.budget_tokens = 10000;
  OutputTokens fits = ChooseOutputTokens("claude-sonnet-4-5", std::nullopt, 8000, thinking);
  EXPECT_EQ(fits.max_tokens, 18000);
  EXPECT_EQ(fits.reasoning.budget_tokens, 10000);
  // Below the budget already: left alone.
  OutputTokens above = ChooseOutputTokens("claude-sonnet-4-5", std::nullopt, 20000, thinking);
  EXPECT_EQ(above.max_tokens, 20000);
  EXPECT_EQ(above.reasoning.budget_tokens, 10000);
  // A model capped at 12000: max_tokens stops there and a budget that no longer fits shrinks
  // under it.
  OutputTokens fitting = ChooseOutputTokens("m", 12000, 8000, thinking);
  EXPECT_EQ(fitting.max_tokens, 12000);
  EXPECT_EQ(fitting.reasoning.budget_tokens, 10000);
  thinking.budget_tokens = 12000;
  OutputTokens capped = ChooseOutputTokens("m", 12000, 8000, thinking);
  EXPECT_EQ(capped.max_tokens, 12000);
  EXPECT_EQ(capped.reasoning.budget_tokens, 11999);
  // No room for Anthropic's smallest budget: thinking off rather than a request it refuses.
  OutputTokens tiny = ChooseOutputTokens("m", 1000, std::nullopt, thinking);
  EXPECT_EQ(tiny.max_tokens, 1000);
  EXPECT_EQ(tiny.reasoning.budget_tokens, std::nullopt);
  // The effort is kept as given.
  thinking.effort = "high";
  EXPECT_EQ(ChooseOutputTokens("m", 1000, std::nullopt, thinking).reasoning.effort, "high");
}

}  // namespace
}  // namespace troupe
