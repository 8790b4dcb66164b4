#include "agent/mcp_result_text.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

TEST(McpResultTextTest, TextInOrderAndNotesForWhatIsNotText) {
  const json result = {
      {"content",
       {{{"type", "text"}, {"text", "first"}},
        {{"type", "image"}, {"mimeType", "image/png"}, {"data", std::string(4096, 'A')}},
        {{"type", "resource_link"}, {"uri", "file:///a.txt"}, {"name", "a"}},
        {{"type", "resource"},
         {"resource", {{"uri", "mem://x"}, {"mimeType", "text/plain"}, {"text", "inside"}}}},
        {{"type", "text"}, {"text", "last"}}}}};
  const ToolResult r = McpResultToToolResult(result);
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content,
            "first\n[image: image/png, 3 KiB — not shown: this tool result is text only]\n"
            "[resource link: file:///a.txt (a)]\n[resource: mem://x (text/plain)]\ninside\nlast");
}

TEST(McpResultTextTest, StructuredContentWhenThereIsNoText) {
  const ToolResult r = McpResultToToolResult(
      {{"content", json::array()}, {"structuredContent", {{"sum", 3}}}});
  EXPECT_EQ(r.content, "{\n  \"sum\": 3\n}");
  // With text, the text says it (the spec asks servers to send both).
  EXPECT_EQ(McpResultToToolResult({{"content", {{{"type", "text"}, {"text", "3"}}}},
                                   {"structuredContent", {{"sum", 3}}}})
                .content,
            "3");
}

TEST(McpResultTextTest, IsErrorIsAToolErrorTheModelReads) {
  const ToolResult r = McpResultToToolResult(
      {{"content", {{{"type", "text"}, {"text", "no such entity"}}}}, {"isError", true}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content, "no such entity");
}

TEST(McpResultTextTest, CappedWithAMarker) {
  const ToolResult r =
      McpResultToToolResult({{"content", {{{"type", "text"}, {"text", std::string(5000, 'x')}}}}},
                            1024);
  EXPECT_EQ(r.content.substr(0, 1024), std::string(1024, 'x'));
  EXPECT_THAT(r.content, HasSubstr("… [truncated: 3 KiB more of the tool's answer]"));
  EXPECT_TRUE(McpResultToToolResult("nope").is_error);
}

}  // namespace
}  // namespace troupe
