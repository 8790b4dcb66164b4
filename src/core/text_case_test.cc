#include "core/text_case.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(TextCaseTest, AsciiLowercaseTouchesOnlyAToZ) {
  EXPECT_EQ(AsciiLowercase("OpenRouter/GPT-4o"), "openrouter/gpt-4o");
  EXPECT_EQ(AsciiLowercase("ÜNÏ ÉTÉ"), "ÜnÏ ÉtÉ");  // bytes of non-ASCII letters pass through
  EXPECT_EQ(AsciiLowercase(""), "");
}

TEST(TextCaseTest, FoldIdentifierIgnoresCaseUnderscoresAndDashes) {
  EXPECT_EQ(FoldIdentifier("maxTurns"), "maxturns");
  EXPECT_EQ(FoldIdentifier("max-turns"), "maxturns");
  EXPECT_EQ(FoldIdentifier("MAX_TURNS"), "maxturns");
  EXPECT_EQ(FoldIdentifier("todo write"), "todo write");  // spaces are not folded
}

TEST(TextCaseTest, EqualsIgnoringAsciiCaseFoldsOnlyAToZ) {
  EXPECT_TRUE(EqualsIgnoringAsciiCase("Retry-After", "retry-after"));
  EXPECT_TRUE(EqualsIgnoringAsciiCase("", ""));
  EXPECT_FALSE(EqualsIgnoringAsciiCase("retry-after", "retry-after-ms"));
  EXPECT_FALSE(EqualsIgnoringAsciiCase("x[", "X{"));  // '[' and '{' are 32 apart, not letters
  EXPECT_FALSE(EqualsIgnoringAsciiCase("\xC3\x89", "\xC3\xA9"));  // É is not é here
}

}  // namespace
}  // namespace troupe
