#include "engine/concurrency_policy.h"

#include <gtest/gtest.h>

#include "engine/model_name.h"

namespace troupe {
namespace {

TEST(ModelNameTest, CanonicalFormIgnoresCaseAndWhitespaceAndResolvesAliases) {
  std::map<std::string, std::string> aliases{{"Opus", "Anthropic/Claude-Opus-4-5"}};
  EXPECT_EQ(CanonicalModel(" Anthropic / Claude-Opus-4-5 ", {}), "anthropic/claude-opus-4-5");
  EXPECT_EQ(CanonicalModel("opus", aliases), "anthropic/claude-opus-4-5");
  EXPECT_EQ(CanonicalModel("OPUS ", aliases), "anthropic/claude-opus-4-5");
  EXPECT_EQ(ProviderOf("openrouter/anthropic/claude-3.5"), "openrouter");
  EXPECT_EQ(BareModelOf("openrouter/anthropic/claude-3.5"), "anthropic/claude-3.5");
  EXPECT_EQ(ProviderOf("nomodel"), "");
  EXPECT_EQ(BareModelOf("nomodel"), "nomodel");
}

class ConcurrencyPolicyTest : public ::testing::Test {
 protected:
  ConcurrencyPolicy Make() {
    BackgroundTaskConfig c;
    c.default_concurrency = 5;
    c.provider_concurrency = {{"Anthropic", 3}, {"openai", 0}};
    c.model_concurrency = {{"anthropic/claude-opus-4-5", 2}, {"gpt-5.2", 1}};
    c.global_concurrency = 7;
    return ConcurrencyPolicy(c, {{"opus", "anthropic/claude-opus-4-5"}});
  }
};

TEST_F(ConcurrencyPolicyTest, ModelLimitWinsOverProviderAndDefault) {
  PoolSpec s = Make().Resolve("anthropic/Claude-Opus-4-5");
  EXPECT_EQ(s.level, PoolLevel::kModel);
  EXPECT_EQ(s.key, "model:anthropic/claude-opus-4-5");
  EXPECT_EQ(s.limit, 2);
  EXPECT_EQ(s.provider, "anthropic");
  EXPECT_EQ(Make().Resolve("opus").key, "model:anthropic/claude-opus-4-5");
}

TEST_F(ConcurrencyPolicyTest, BareModelKeyOfTheReferenceConfigMatchesAnyProvider) {
  PoolSpec s = Make().Resolve("openai/gpt-5.2");
  EXPECT_EQ(s.level, PoolLevel::kModel);
  EXPECT_EQ(s.limit, 1);
}

TEST_F(ConcurrencyPolicyTest, ProviderLimitIsOnePoolSharedByAllItsModels) {
  PoolSpec sonnet = Make().Resolve("anthropic/claude-sonnet-4-5");
  PoolSpec haiku = Make().Resolve("anthropic/claude-haiku-4-5");
  EXPECT_EQ(sonnet.level, PoolLevel::kProvider);
  EXPECT_EQ(sonnet.key, "provider:anthropic");
  EXPECT_EQ(sonnet.key, haiku.key);
  EXPECT_EQ(sonnet.limit, 3);
  EXPECT_EQ(Make().Resolve("openai/gpt-4o").limit, 0);  // 0 = unlimited
}

TEST_F(ConcurrencyPolicyTest, DefaultLimitAppliesPerModel) {
  PoolSpec a = Make().Resolve("google/gemini-2.5-pro");
  PoolSpec b = Make().Resolve("google/gemini-2.5-flash");
  EXPECT_EQ(a.level, PoolLevel::kDefault);
  EXPECT_EQ(a.limit, 5);
  EXPECT_NE(a.key, b.key);
  EXPECT_EQ(Make().global_limit(), 7);
}

}  // namespace
}  // namespace troupe
