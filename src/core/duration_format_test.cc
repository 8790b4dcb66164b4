#include "core/duration_format.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(FormatDurationTest, ScalesUnitsWithTheDuration) {
  EXPECT_EQ(FormatDuration(-5), "0ms");
  EXPECT_EQ(FormatDuration(850), "850ms");
  EXPECT_EQ(FormatDuration(2340), "2.3s");
  EXPECT_EQ(FormatDuration(42'000), "42s");
  EXPECT_EQ(FormatDuration(135'000), "2m 15s");
  EXPECT_EQ(FormatDuration(332'000), "5m 32s");
  EXPECT_EQ(FormatDuration(3'900'000), "1h 5m");
}

}  // namespace
}  // namespace troupe
