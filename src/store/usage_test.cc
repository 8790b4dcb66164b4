#include "store/usage.h"

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

TEST(UsageTest, UsdIsShownToTheCentOrToFourPlacesBelowADollar) {
  EXPECT_EQ(FormatUsd(2'000'000'000), "$2.00");
  EXPECT_EQ(FormatUsd(12'346'000'000), "$12.35");
  EXPECT_EQ(FormatUsd(12'300'000), "$0.0123");
  EXPECT_EQ(FormatUsd(0), "$0.00");
  UsageTotals priced = Spent(1, 1, 1'500'000'000);
  EXPECT_EQ(FormatCost(priced), "$1.50");
  UsageTotals unknown = priced;
  unknown.cost_nano_usd = 0;
  unknown.unpriced_requests = 3;
  EXPECT_EQ(FormatCost(unknown), "cost unknown");
  UsageTotals part = priced;
  part.unpriced_requests = 1;
  EXPECT_EQ(FormatCost(part), "≥ $1.50, cost unknown for 1 of 3 requests");
}

TEST(UsageTest, TotalsAdd) {
  UsageTotals a{1, 10, 2, 3, 4, 1, 100, 0};
  a += UsageTotals{2, 5, 5, 0, 1, 0, 50, 1};
  EXPECT_EQ(a, (UsageTotals{3, 15, 7, 3, 5, 1, 150, 1}));
  EXPECT_EQ(a.tokens(), 22);
  EXPECT_FALSE(a.cost_known());
}

}  // namespace
}  // namespace troupe
