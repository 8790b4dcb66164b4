#include "engine/budget.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

UsageTotals Spent(int64_t in, int64_t out, int64_t nano, int64_t requests = 3) {
  UsageTotals u;
  u.requests = requests;
  u.input_tokens = in;
  u.output_tokens = out;
  u.cost_nano_usd = nano;
  return u;
}

TEST(BudgetTest, NarrowestTakesTheLowerOfEachLimit) {
  TaskBudget config{1000, std::nullopt};
  TaskBudget launch{5000, 700};
  EXPECT_EQ(Narrowest(config, launch), (TaskBudget{1000, 700}));
  EXPECT_EQ(Narrowest(TaskBudget{}, TaskBudget{}), TaskBudget{});
}

TEST(BudgetTest, TaskVerdictsNameTheBudgetItsLimitAndTheSpend) {
  TaskBudget tokens{10000, std::nullopt};
  EXPECT_EQ(TaskBudgetVerdict(tokens, Spent(8000, 1999, 0)), "");
  EXPECT_EQ(TaskBudgetVerdict(tokens, Spent(9000, 1523, 0, 4)),
            "task budget reached: max_tokens 10000, spent 10523 tokens (9000 in, 1523 out) in 4 "
            "requests");
  TaskBudget cost{std::nullopt, UsdToNano(2)};
  EXPECT_EQ(TaskBudgetVerdict(cost, Spent(1, 1, UsdToNano(1.99))), "");
  EXPECT_EQ(TaskBudgetVerdict(cost, Spent(1, 1, UsdToNano(2.0312), 12)),
            "task budget reached: max_cost_usd $2.00, spent $2.03 in 12 requests");
}

TEST(BudgetTest, TheNextRequestKeepsItsOutputLimitWhenTheBudgetCanPayForAllOfIt) {
  const ModelPrice price{3, 15, 3, 3};
  // 7000 spent + 1000 prompt + 2000 output = the limit exactly.
  RequestAllowance a =
      NextRequestAllowance({10000, std::nullopt}, Spent(6000, 1000, 0), 1000, 2000, &price);
  EXPECT_EQ(a.verdict, "");
  EXPECT_EQ(a.max_output_tokens, 2000);
  // No limit at all: as asked.
  EXPECT_EQ(NextRequestAllowance({}, Spent(1, 1, 1), 1'000'000, 64000, nullptr).max_output_tokens,
            64000);
}

TEST(BudgetTest, TheNextRequestsOutputLimitIsLoweredToWhatTheBudgetLeaves) {
  const ModelPrice price{3, 15, 3, 3};
  // Tokens: 10000 - 7000 spent - 1000 prompt leaves 2000 of the 8192 asked.
  RequestAllowance tokens =
      NextRequestAllowance({10000, std::nullopt}, Spent(6000, 1000, 0), 1000, 8192, &price);
  EXPECT_EQ(tokens.verdict, "");
  EXPECT_EQ(tokens.max_output_tokens, 2000);
  // Cost: $1 - $0.70 spent - 50k prompt tokens at $3/M ($0.15) leaves $0.15, which pays for
  // 10,000 output tokens at $15/M.
  RequestAllowance cost = NextRequestAllowance({std::nullopt, UsdToNano(1)},
                                               Spent(1, 1, UsdToNano(0.70)), 50'000, 32000, &price);
  EXPECT_EQ(cost.verdict, "");
  EXPECT_EQ(cost.max_output_tokens, 10000);
  // Both: the lower wins.
  RequestAllowance both = NextRequestAllowance(
      {7000 + 1000 + 500, UsdToNano(1)}, Spent(6000, 1000, UsdToNano(0.70)), 1000, 32000, &price);
  EXPECT_EQ(both.max_output_tokens, 500);
}

TEST(BudgetTest, TheNextRequestIsRefusedWhenNotEvenASmallReplyFits) {
  const ModelPrice price{3, 15, 3, 3};
  RequestAllowance tokens =
      NextRequestAllowance({10000, std::nullopt}, Spent(6000, 1000, 0), 2800, 8192, &price);
  EXPECT_EQ(tokens.verdict,
            "task budget would be passed by the next model request: max_tokens 10000, spent 7000 "
            "tokens in 3 requests, and the next request sends about 2800 more, leaving room for "
            "200 output tokens (fewer than 256, the smallest reply worth asking for)");
  // The prompt alone passes the budget.
  RequestAllowance over = NextRequestAllowance({std::nullopt, UsdToNano(1)},
                                               Spent(1, 1, UsdToNano(0.70)), 100'000, 8192, &price);
  EXPECT_EQ(over.verdict,
            "task budget would be passed by the next model request: max_cost_usd $1.00, spent "
            "$0.7000 in 3 requests, and the next request's prompt costs about $0.3000, leaving "
            "$0.00 — room for 0 output tokens (fewer than 256, the smallest reply worth asking "
            "for)");
  // Asking for no output at all: refused only when the prompt alone passes the budget.
  EXPECT_EQ(NextRequestAllowance({std::nullopt, UsdToNano(1)}, Spent(1, 1, UsdToNano(0.70)),
                                 100'000, 0, &price)
                .verdict,
            "");
  EXPECT_NE(NextRequestAllowance({std::nullopt, UsdToNano(1)}, Spent(1, 1, UsdToNano(0.70)),
                                 100'001, 0, &price)
                .verdict,
            "");
  // A request that asks for less than the minimum is sent when all of it fits.
  EXPECT_EQ(NextRequestAllowance({10000, std::nullopt}, Spent(6000, 1000, 0), 2800, 100, &price)
                .max_output_tokens,
            100);
}

TEST(BudgetTest, UnpricedVerdictNamesTheBudgetAndTheModel) {
  EXPECT_EQ(UnpricedVerdict("tree_max_cost_usd", std::nullopt, "corp/x"), "");
  EXPECT_EQ(
      UnpricedVerdict("tree_max_cost_usd", UsdToNano(10), "corp/x"),
      "model corp/x has no price, so the cost budget tree_max_cost_usd $10.00 could not count "
      "what it spends; add its price under \"prices\" in the config (docs/CONFIG.md "
      "\"Prices\"), or set budgets.allow_unpriced_models to true to run unpriced models "
      "with only their token budgets enforced");
}

TEST(BudgetTest, TreeSpawnAndDailyVerdicts) {
  TreeBudget tree{UsdToNano(10), 50};
  EXPECT_EQ(TreeCostVerdict(tree, "ses_1", UsdToNano(9.99), 7), "");
  EXPECT_EQ(TreeCostVerdict(tree, "ses_1", UsdToNano(10.21), 14),
            "tree budget reached: tree_max_cost_usd $10.00 for the tree of session ses_1, spent "
            "$10.21 by its 14 tasks");
  EXPECT_EQ(SpawnCapVerdict(tree, "ses_1", 49), "");
  EXPECT_EQ(SpawnCapVerdict(tree, "ses_1", 50),
            "spawn cap reached: tree_max_tasks 50 for the tree of session ses_1, and 50 tasks "
            "were already launched in it; no more tasks can be started in this tree — finish the "
            "work with the results you have");
  EXPECT_EQ(SpawnCapVerdict(TreeBudget{std::nullopt, 0}, "ses_1", 100000), "");  // 0 = no cap
  EXPECT_EQ(DailyVerdict(std::nullopt, UsdToNano(1e6), "2026-12-06"), "");
  EXPECT_EQ(DailyVerdict(UsdToNano(40), UsdToNano(40.12), "2026-12-06"),
            "daily budget reached: daily_max_cost_usd $40.00, spent $40.12 on 2026-12-06 (UTC); "
            "new work is refused until 00:00 UTC");
}

TEST(BudgetTest, UtcDays) {
  const int64_t dec6 = 1796515200000;  // 2026-12-06T00:00:00Z
  EXPECT_EQ(UtcDay(dec6), "2026-12-06");
  EXPECT_EQ(UtcDay(dec6 - 1), "2026-12-05");
  EXPECT_EQ(UtcDay(dec6 + kDayMs - 1), "2026-12-06");
  EXPECT_EQ(UtcDayStartMs(dec6 + 12345), dec6);
}

}  // namespace
}  // namespace troupe
