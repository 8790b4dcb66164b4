#include "engine/price_table.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

UsageTotals Request(int64_t input, int64_t output, int64_t cache_write = 0,
                    int64_t cache_read = 0) {
  UsageTotals u;
  u.requests = 1;
  u.input_tokens = input;
  u.output_tokens = output;
  u.cache_write_tokens = cache_write;
  u.cache_read_tokens = cache_read;
  return u;
}

TEST(PriceTableTest, ChargesEachKindOfTokenAtItsPrice) {
  PriceTable prices({{"corp/m", ModelPrice{3.0, 15.0, 3.75, 0.30}}}, /*with_defaults=*/false);
  // 1M prompt tokens of which 200k were written to the cache and 500k read from it: 300k
  // uncached at $3, 200k at $3.75, 500k at $0.30; 100k out at $15.
  UsageTotals charged = prices.Charge("corp/m", Request(1'000'000, 100'000, 200'000, 500'000));
  EXPECT_EQ(charged.cost_nano_usd, int64_t{900'000'000} + 750'000'000 + 150'000'000 + 1'500'000'000);
  EXPECT_TRUE(charged.cost_known());
  EXPECT_EQ(charged.input_tokens, 1'000'000);  // usage is kept as reported
  // One token at $0.30 per million is 300 nano-USD; fractions round once, per request.
  EXPECT_EQ(prices.Charge("corp/m", Request(1, 0, 0, 1)).cost_nano_usd, 300);
}

TEST(PriceTableTest, AModelWithoutAPriceHasNoCostOnlyTokens) {
  PriceTable prices({}, /*with_defaults=*/false);
  UsageTotals charged = prices.Charge("mock/scripted", Request(1000, 10));
  EXPECT_EQ(charged.cost_nano_usd, 0);
  EXPECT_EQ(charged.unpriced_requests, 1);
  EXPECT_FALSE(charged.cost_known());
  EXPECT_EQ(charged.tokens(), 1010);
}

TEST(PriceTableTest, ConfigPricesReplaceTheShippedOnesModelByModel) {
  PriceTable shipped;
  ASSERT_NE(shipped.Find("anthropic/claude-sonnet-4-5"), nullptr);
  EXPECT_EQ(*shipped.Find("anthropic/claude-sonnet-4-5"), (ModelPrice{3.00, 15.00, 3.75, 0.30}));
  EXPECT_EQ(shipped.Find("openrouter/anthropic/claude-sonnet-4-5"), nullptr);  // a proxy: unknown
  PriceTable mine({{"anthropic/claude-sonnet-4-5", ModelPrice{1, 2, 3, 4}}});
  EXPECT_EQ(*mine.Find("anthropic/claude-sonnet-4-5"), (ModelPrice{1, 2, 3, 4}));
  EXPECT_EQ(*mine.Find("openai/gpt-4.1"), *shipped.Find("openai/gpt-4.1"));
}

TEST(PriceTableTest, TheShippedTableIsDatedAndComplete) {
  EXPECT_STREQ(kDefaultPricesDate, "2026-12-06");
  for (const auto& [model, price] : DefaultModelPrices()) {
    SCOPED_TRACE(model);
    EXPECT_TRUE(model.rfind("anthropic/", 0) == 0 || model.rfind("openai/", 0) == 0);
    EXPECT_GT(price.input, 0);
    EXPECT_GT(price.output, price.input);
    EXPECT_LE(price.cache_read, price.input);
  }
}

}  // namespace
}  // namespace troupe
