#include "mcp_client/mcp_param_headers.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using Headers = std::vector<std::pair<std::string, std::string>>;

TEST(McpParamHeadersTest, FindsAnnotatedPropertiesAndMirrorsTheirValuesAsTheSpecsExample) {
  const json schema = json::parse(R"({
    "type": "object",
    "properties": {
      "region": {"type": "string", "x-mcp-header": "Region"},
      "query": {"type": "string"},
      "confirm": {"type": "boolean", "x-mcp-header": "Confirm"},
      "options": {"type": "object", "properties": {
        "limit": {"type": "integer", "x-mcp-header": "Limit"}}},
      "x-mcp-header": {"type": "string"}
    }
  })");
  Result<std::vector<McpParamHeader>> params = McpParamHeadersOf(schema);
  ASSERT_TRUE(params.ok()) << params.status().ToString();
  ASSERT_EQ(params->size(), 3u) << "a property merely named x-mcp-header is no annotation";
  EXPECT_EQ(McpParamHeaderValues(*params, {{"region", "us-west1"},
                                           {"query", "SELECT 1"},
                                           {"confirm", false},
                                           {"options", {{"limit", -7}}}}),
            (Headers{{"Mcp-Param-Confirm", "false"},
                     {"Mcp-Param-Limit", "-7"},
                     {"Mcp-Param-Region", "us-west1"}}));
  // Absent or null: no header.
  EXPECT_EQ(McpParamHeaderValues(*params, {{"region", nullptr}, {"query", "x"}}), Headers{});
}

TEST(McpParamHeadersTest, ValuesThatAreNotPlainAsciiAreBase64) {
  Result<std::vector<McpParamHeader>> params =
      McpParamHeadersOf({{"type", "object"},
                         {"properties", {{"t", {{"type", "string"}, {"x-mcp-header", "Text"}}}}}});
  ASSERT_TRUE(params.ok());
  auto value = [&](const std::string& text) {
    return McpParamHeaderValues(*params, {{"t", text}}).at(0).second;
  };
  // The spec's table of examples.
  EXPECT_EQ(value("Hello, 世界"), "=?base64?SGVsbG8sIOS4lueVjA==?=");
  EXPECT_EQ(value(" padded "), "=?base64?IHBhZGRlZCA=?=");
  EXPECT_EQ(value("line1\nline2"), "=?base64?bGluZTEKbGluZTI=?=");
  EXPECT_EQ(value("=?base64?literal?="), "=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=");
}

TEST(McpParamHeadersTest, AnnotationsThatBreakTheRulesMakeTheToolInvalid) {
  auto why = [](const char* text) {
    Result<std::vector<McpParamHeader>> r = McpParamHeadersOf(json::parse(text));
    return r.ok() ? std::string("ok") : r.status().message();
  };
  EXPECT_THAT(why(R"({"properties": {"n": {"type": "number", "x-mcp-header": "N"}}})"),
              HasSubstr("type is \"number\""));
  EXPECT_THAT(why(R"({"properties": {"n": {"x-mcp-header": "N"}}})"),
              HasSubstr("type is not given"));
  EXPECT_THAT(why(R"({"properties": {"n": {"type": "string", "x-mcp-header": ""}}})"),
              HasSubstr("non-empty HTTP token"));
  EXPECT_THAT(why(R"({"properties": {"n": {"type": "string", "x-mcp-header": "A B"}}})"),
              HasSubstr("non-empty HTTP token"));
  EXPECT_THAT(why(R"({"properties": {"n": {"type": "string", "x-mcp-header": "A\r\nX: y"}}})"),
              HasSubstr("non-empty HTTP token"));
  EXPECT_THAT(why(R"({"properties": {"a": {"type": "string", "x-mcp-header": "Region"},
                                     "b": {"type": "string", "x-mcp-header": "region"}}})"),
              HasSubstr("used twice"));
  EXPECT_THAT(why(R"({"properties": {"l": {"type": "array",
                      "items": {"type": "string", "x-mcp-header": "I"}}}})"),
              HasSubstr("not on a property reached through \"properties\" alone"));
  EXPECT_THAT(why(R"({"oneOf": [{"properties": {"a": {"type": "string", "x-mcp-header": "A"}}}]})"),
              HasSubstr("not on a property reached"));
  EXPECT_THAT(why(R"({"$defs": {"d": {"type": "string", "x-mcp-header": "D"}},
                      "properties": {"a": {"$ref": "#/$defs/d"}}})"),
              HasSubstr("not on a property reached"));
  EXPECT_EQ(why(R"({"type": "object", "properties": {}})"), "ok");
}

}  // namespace
}  // namespace troupe
