#include "agent/tool_args.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using ::testing::HasSubstr;
using json = nlohmann::json;

TEST(ToolArgsTest, CheckObjectAcceptsKnownMembersAndNull) {
  json args = {{"path", "a"}};
  EXPECT_TRUE(ToolArgs("read", args).CheckObject({"path", "offset"}).ok());
  json null_args;
  EXPECT_TRUE(ToolArgs("list", null_args).CheckObject({"path"}).ok());
}

TEST(ToolArgsTest, CheckObjectNamesUnknownMembersAndWrongShapes) {
  json args = {{"path", "a"}, {"file", "b"}};
  EXPECT_EQ(ToolArgs("read", args).CheckObject({"path", "offset"}).message(),
            "read: unknown argument `file`; accepted arguments: path, offset");
  json text = "src/a.cc";
  EXPECT_EQ(ToolArgs("read", text).CheckObject({"path"}).message(),
            "read: the arguments must be a JSON object (got a string (\"src/a.cc\")); accepted "
            "arguments: path");
}

TEST(ToolArgsTest, RequiredStrings) {
  json args = {{"pattern", "x"}, {"empty", ""}, {"number", 3}, {"none", nullptr}};
  ToolArgs a("grep", args);
  EXPECT_EQ(*a.RequiredString("pattern", "a regular expression"), "x");
  EXPECT_EQ(a.RequiredString("missing", "a regular expression").status().message(),
            "grep: `missing` is required (a regular expression)");
  EXPECT_EQ(a.RequiredString("none", "a regular expression").status().message(),
            "grep: `none` is required (a regular expression)");
  EXPECT_EQ(a.RequiredString("number", "a regular expression").status().message(),
            "grep: `number` must be a regular expression (got a number (3))");
  EXPECT_EQ(a.RequiredString("empty", "text").status().message(),
            "grep: `empty` must not be empty (text)");
  EXPECT_EQ(*a.RequiredString("empty", "text", /*allow_empty=*/true), "");
}

TEST(ToolArgsTest, OptionalValues) {
  json args = {{"n", 5}, {"f", 7.0}, {"half", 2.5}, {"big", 100}, {"s", "ten"}, {"b", true}};
  ToolArgs a("read", args);
  EXPECT_EQ(*a.OptionalInt("n", 1, 1, 10), 5);
  EXPECT_EQ(*a.OptionalInt("f", 1, 1, 10), 7);
  EXPECT_EQ(*a.OptionalInt("absent", 3, 1, 10), 3);
  EXPECT_EQ(a.OptionalInt("half", 1, 1, 10).status().message(),
            "read: `half` must be an integer from 1 to 10 (got a number (2.5))");
  EXPECT_EQ(a.OptionalInt("big", 1, 1, 10).status().message(),
            "read: `big` must be an integer from 1 to 10 (got a number (100))");
  EXPECT_EQ(a.OptionalInt("s", 1, 1, 10).status().message(),
            "read: `s` must be an integer from 1 to 10 (got a string (\"ten\"))");
  EXPECT_TRUE(*a.OptionalBool("b", false));
  EXPECT_FALSE(*a.OptionalBool("absent", false));
  EXPECT_THAT(a.OptionalBool("n", false).status().message(),
              HasSubstr("`n` must be true or false (got a number (5))"));
  EXPECT_FALSE(a.OptionalString("absent", "a path")->has_value());
  EXPECT_EQ(**a.OptionalString("s", "a path"), "ten");
  EXPECT_THAT(a.OptionalString("n", "a path").status().message(),
              HasSubstr("`n` must be a path (got a number (5))"));
}

}  // namespace
}  // namespace troupe
