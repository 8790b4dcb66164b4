#include "agent/tool_output.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(ToolOutputTest, ToValidUtf8ReplacesBrokenSequences) {
  EXPECT_EQ(ToValidUtf8("plain"), "plain");
  EXPECT_EQ(ToValidUtf8("é€😀"), "é€😀");
  EXPECT_EQ(ToValidUtf8("a\xff"
                        "b"),
            "a\xEF\xBF\xBD"
            "b");
  EXPECT_EQ(ToValidUtf8("\xC3"), "\xEF\xBF\xBD");                  // truncated sequence
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong '/'
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(ToolOutputTest, Utf8CutsNeverSplitACharacter) {
  const std::string text = "aé€";  // 1 + 2 + 3 bytes
  EXPECT_EQ(Utf8Prefix(text, 2), "a");
  EXPECT_EQ(Utf8Prefix(text, 3), "aé");
  EXPECT_EQ(Utf8Prefix(text, 5), "aé");
  EXPECT_EQ(Utf8Prefix(text, 100), text);
  EXPECT_EQ(Utf8Suffix(text, 2), "");
  EXPECT_EQ(Utf8Suffix(text, 3), "€");
  EXPECT_EQ(Utf8Suffix(text, 5), "é€");
}

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
