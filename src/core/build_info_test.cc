#include "core/build_info.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(DescribeBuildTest, NamesTheCommitAndWhetherTheTreeWasDirty) {
  EXPECT_EQ(DescribeBuild({"0.1.0", "0123456789ab", false}), "0.1.0 (commit 0123456789ab)");
  EXPECT_EQ(DescribeBuild({"0.1.0", "0123456789ab", true}), "0.1.0 (commit 0123456789ab, dirty)");
}

TEST(DescribeBuildTest, SaysSoWhenTheSourcesWereNotAGitCheckout) {
  EXPECT_EQ(DescribeBuild({"0.2.0", "", false}), "0.2.0 (commit unknown)");
}

}  // namespace
}  // namespace troupe
