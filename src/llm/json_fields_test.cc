#include "llm/json_fields.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe::json_fields {
namespace {

using json = nlohmann::json;

TEST(JsonFieldsTest, ParseJson) {
  EXPECT_TRUE(ParseJson(R"({"a":[1,"]]]"]})").ok());
  EXPECT_EQ(ParseJson("{").status().message(), "is not valid JSON: {");
  EXPECT_EQ(ParseJson("").status().message(), "is not valid JSON: ");
  // Brackets in strings do not count towards the depth limit.
  EXPECT_TRUE(ParseJson("\"" + std::string(1000, '[') + "\"").ok());
  EXPECT_TRUE(ParseJson(std::string(256, '[') + std::string(256, ']')).ok());
  EXPECT_FALSE(ParseJson(std::string(257, '[') + std::string(257, ']')).ok());
}

TEST(JsonFieldsTest, ReadsTypedMembers) {
  const json j = json::parse(R"({"s":"x","i":-3,"u":7,"f":1.5,"n":null,"o":{},"a":[]})");
  std::string s = "unchanged";
  bool found = true;
  EXPECT_TRUE(ReadString(j, "missing", "p", &s, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_TRUE(ReadString(j, "n", "p", &s, &found).ok());
  EXPECT_FALSE(found);
  EXPECT_EQ(s, "unchanged");
  EXPECT_TRUE(ReadString(j, "s", "p", &s, &found).ok());
  EXPECT_TRUE(found);
  EXPECT_EQ(s, "x");
  EXPECT_EQ(ReadString(j, "i", "p.q", &s).message(), "p.q.i is not a string (it is an integer)");

  int64_t i = 0;
  EXPECT_TRUE(ReadInt(j, "i", "", &i).ok());
  EXPECT_EQ(i, -3);
  EXPECT_TRUE(ReadInt(j, "u", "", &i).ok());
  EXPECT_EQ(i, 7);
  EXPECT_EQ(ReadInt(j, "f", "", &i).message(), "f is not an integer (it is a number)");

  const json* o = nullptr;
  EXPECT_TRUE(ReadObject(j, "o", "", &o).ok());
  EXPECT_NE(o, nullptr);
  EXPECT_EQ(ReadObject(j, "a", "", &o).message(), "a is not an object (it is an array)");
  EXPECT_EQ(o, nullptr);
  const json* a = nullptr;
  EXPECT_TRUE(ReadArray(j, "a", "", &a).ok());
  EXPECT_NE(a, nullptr);
  EXPECT_EQ(ReadArray(j, "s", "", &a).message(), "s is not an array (it is a string)");
  // Reading from a non-object finds nothing.
  EXPECT_TRUE(ReadString(json::array(), "s", "", &s).ok());
}

TEST(JsonFieldsTest, SnippetCutsAtCharacterBoundary) {
  EXPECT_EQ(Snippet("abc", 3), "abc");
  EXPECT_EQ(Snippet("abcd", 3), "abc…");
  EXPECT_EQ(Snippet("a€b", 2), "a…");  // '€' is 3 bytes
  EXPECT_EQ(Join("", "k"), "k");
  EXPECT_EQ(At(Join("a", "b"), 2), "a.b[2]");
}

}  // namespace
}  // namespace troupe::json_fields
