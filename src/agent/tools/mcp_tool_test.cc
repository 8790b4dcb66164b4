#include "agent/tools/mcp_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/event_loop.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

TEST(McpToolTest, NamesAreServerDoubleUnderscoreToolWithinWhatProvidersAccept) {
  EXPECT_EQ(McpToolName("docs", "search"), "docs__search");
  EXPECT_EQ(McpToolName("docs", "get.page/v2"), "docs__get_page_v2");
  EXPECT_EQ(McpToolName("s", std::string(100, 'x')).size(), 64u);
}

TEST(McpToolTest, PatternsExpandAndAnUnknownServerIsNamed) {
  boost::asio::io_context io;
  LoopClock clock(io);
  McpServerConfig docs;
  docs.command = "docs-server";
  docs.research = true;
  McpServerConfig mem;
  mem.command = "mem-server";
  McpServersDeps deps;
  deps.io = &io;
  deps.clock = &clock;
  McpServers servers({{"docs", docs}, {"memory", mem}}, deps);

  Result<std::vector<McpToolPattern>> p =
      ExpandMcpPatterns(&servers, "librarian", {"read", "mcp:@research", "mcp:memory/get_*"});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].server, "docs");
  EXPECT_EQ((*p)[0].tool_glob, "*");
  EXPECT_EQ((*p)[1].server, "memory");
  EXPECT_EQ((*p)[1].tool_glob, "get_*");

  Result<std::vector<McpToolPattern>> bad =
      ExpandMcpPatterns(&servers, "explore", {"mcp:nosuch/*"});
  EXPECT_EQ(bad.status().message(),
            "unknown MCP server \"nosuch\" in the tools of agent \"explore\" (mcp:nosuch/*); "
            "configured: docs, memory");
  EXPECT_THAT(ExpandMcpPatterns(nullptr, "explore", {"mcp:x"}).status().message(),
              HasSubstr("configured: none (see mcp_servers in docs/CONFIG.md)"));
  // With no research server, the librarian's default pattern adds nothing.
  EXPECT_TRUE(ExpandMcpPatterns(nullptr, "librarian", {"mcp:@research"})->empty());
}

}  // namespace
}  // namespace troupe
