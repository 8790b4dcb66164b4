#include "core/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

TEST(JsonNestingDepthTest, CountsBracketsOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1", 10), 0);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[1,{"b":[]}]})", 10), 4);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[{{{"})", 10), 1);
  // An escaped quote does not end the string.
  EXPECT_EQ(JsonNestingDepth(R"(["\"[[[", []])", 10), 2);
  EXPECT_EQ(JsonNestingDepth(R"(["\\", [[]]])", 10), 3);
}

TEST(JsonNestingDepthTest, StopsCountingPastTheLimit) {
  const std::string deep(100000, '[');
  EXPECT_EQ(JsonNestingDepth(deep, 64), 65);
  EXPECT_EQ(JsonNestingDepth(std::string(64, '[') + std::string(64, ']'), 64), 64);
}

}  // namespace
}  // namespace troupe
