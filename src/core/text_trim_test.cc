#include "core/text_trim.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(TextTrimTest, AsciiSpaceAtBothEnds) {
  EXPECT_EQ(TrimAsciiSpace(" \t\r\n\v\fa b\t\r\n "), "a b");
  EXPECT_EQ(TrimAsciiSpace("a"), "a");
  EXPECT_EQ(TrimAsciiSpace(" \n "), "");
  EXPECT_EQ(TrimAsciiSpace(""), "");
  EXPECT_EQ(TrimAsciiSpace("\xC2\xA0x\xC2\xA0"), "\xC2\xA0x\xC2\xA0");  // ASCII only
}

TEST(TextTrimTest, RightOnly) {
  EXPECT_EQ(TrimRightAsciiSpace("  ---\r\n"), "  ---");
  EXPECT_EQ(TrimRightAsciiSpace("\n"), "");
}

TEST(TextTrimTest, BlanksAreSpacesAndTabsOnly) {
  EXPECT_EQ(TrimBlanks(" \tgzip, br\t "), "gzip, br");
  EXPECT_EQ(TrimBlanks("\r\nx\r\n"), "\r\nx\r\n");
  EXPECT_EQ(TrimBlanks("  "), "");
}

}  // namespace
}  // namespace troupe
