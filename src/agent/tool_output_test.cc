#include "agent/tool_output.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(ToolOutputTest, CountsAndSizes) {
  EXPECT_EQ(FormatCount(0), "0");
  EXPECT_EQ(FormatCount(999), "999");
  EXPECT_EQ(FormatCount(1234), "1,234");
  EXPECT_EQ(FormatCount(1234567), "1,234,567");
  EXPECT_EQ(CountOf(1, "line", "lines"), "1 line");
  EXPECT_EQ(CountOf(1234, "line", "lines"), "1,234 lines");
  EXPECT_EQ(FormatBytes(1), "1 byte");
  EXPECT_EQ(FormatBytes(51200), "50 KiB");
  EXPECT_EQ(FormatBytes(3 * 1024 * 1024 + 5), "3 MiB");
  EXPECT_EQ(TruncationMarker("12 more lines; use offset=40 to read on"),
            "… [truncated: 12 more lines; use offset=40 to read on]");
}

}  // namespace
}  // namespace troupe
