#include "agent/tools/read_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

class ReadToolTest : public testing::ToolTest {
 protected:
  ReadTool tool_;
};

std::string Lines(int n, const std::string& stem = "line ") {
  std::string out;
  for (int i = 1; i <= n; ++i) out += stem + std::to_string(i) + "\n";
  return out;
}

// The check-then-open race: a directory of the workspace swapped for a link to outside while
// reads run. Each read either reads the inside file or is refused; never the outside one.
TEST_F(ReadToolTest, ADirectorySwappedForAnOutsideLinkNeverLeaksOutsideContent) {
  testing::OutsideDir outside;
  outside.Write("f.txt", "OUTSIDE SECRET\n");
  Write("d/f.txt", "inside\n");
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("swap").c_str()), 0);
  int inside = 0;
  {
    testing::PathSwapper racer(Abs("d"), Abs("swap"));
    for (int i = 0; i < 70; ++i) {
      ToolResult r = RunTool(tool_, {{"path", "d/f.txt"}});
      EXPECT_THAT(r.content, ::testing::Not(HasSubstr("OUTSIDE")));
      EXPECT_THAT(r.content, ::testing::Not(HasSubstr(outside.path())));
      inside += r.content.find("inside") != std::string::npos ? 1 : 0;
    }
    EXPECT_GT(racer.swaps(), 0);
  }
  EXPECT_GT(inside, 0);
}

TEST_F(ReadToolTest, PrintsNumberedLines) {
  Write("src/a.txt", "first\nsecond\n\tthird");
  ToolResult r = RunTool(tool_, {{"path", "src/a.txt"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "   1\tfirst\n   2\tsecond\n   3\t\tthird\n");
}

TEST_F(ReadToolTest, ReadsAWindowAndSaysWhereToReadOn) {
  Write("a.txt", Lines(10));
  ToolResult r = RunTool(tool_, {{"path", "a.txt"}, {"offset", 3}, {"limit", 2}});
  EXPECT_EQ(r.content,
            "   3\tline 3\n   4\tline 4\n"
            "… [truncated: 6 more lines; use offset=5 to read on]\n");
  r = RunTool(tool_, {{"path", "a.txt"}, {"offset", 9}});
  EXPECT_EQ(r.content, "   9\tline 9\n  10\tline 10\n");
}

TEST_F(ReadToolTest, DefaultsTo2000Lines) {
  Write("big.txt", Lines(2500, ""));
  ToolResult r = RunTool(tool_, {{"path", "big.txt"}});
  EXPECT_THAT(r.content, StartsWith("   1\t1\n"));
  EXPECT_THAT(r.content, HasSubstr("2000\t2000\n"));
  EXPECT_THAT(r.content, EndsWith("… [truncated: 500 more lines; use offset=2001 to read on]\n"));
}

TEST_F(ReadToolTest, CutsLongLines) {
  Write("long.txt", std::string(5000, 'x') + "\nshort\n");
  ToolResult r = RunTool(tool_, {{"path", "long.txt"}});
  EXPECT_THAT(r.content, HasSubstr("   1\t" + std::string(2000, 'x') +
                                   " … [truncated: 3,000 more bytes on this line]\n   2\tshort\n"));
}

TEST_F(ReadToolTest, StopsAtTheOutputLimit) {
  Write("wide.txt", Lines(1000, std::string(1000, 'w')));
  ToolResult r = RunTool(tool_, {{"path", "wide.txt"}});
  EXPECT_LE(r.content.size(), ReadTool::kMaxOutputBytes + 200);
  EXPECT_THAT(r.content, HasSubstr("more lines (output limit of 64 KiB); use offset="));
}

TEST_F(ReadToolTest, RefusesBinaryFilesAndDirectories) {
  Write("blob.bin", std::string("PK\0\0\x01\x02", 6));
  ToolResult r = RunTool(tool_, {{"path", "blob.bin"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("blob.bin is a binary file"));
  Write("dir/x.txt", "x");
  r = RunTool(tool_, {{"path", "dir"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content, "read: dir is a directory; use the list tool to see its entries");
}

TEST_F(ReadToolTest, ReportsMissingFilesEmptyFilesAndOffsetsPastTheEnd) {
  ToolResult r = RunTool(tool_, {{"path", "nope.txt"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("file nope.txt does not exist"));
  Write("empty.txt", "");
  r = RunTool(tool_, {{"path", "empty.txt"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "empty.txt is empty (0 lines)");
  Write("three.txt", "a\nb\nc\n");
  r = RunTool(tool_, {{"path", "three.txt"}, {"offset", 10}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content, "read: `offset` 10 is past the end of three.txt, which has 3 lines");
}

TEST_F(ReadToolTest, RefusesPathsOutsideTheWorkspace) {
  ToolResult r = RunTool(tool_, {{"path", "../../etc/passwd"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("read: path ../../etc/passwd is outside the workspace"));
  ASSERT_EQ(symlink("/etc/passwd", Abs("passwd").c_str()), 0);
  r = RunTool(tool_, {{"path", "passwd"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("is outside the workspace"));
}

TEST_F(ReadToolTest, ReplacesInvalidUtf8) {
  Write("latin1.txt", "caf\xe9\n");
  ToolResult r = RunTool(tool_, {{"path", "latin1.txt"}});
  EXPECT_EQ(r.content, "   1\tcaf\xEF\xBF\xBD\n");
}

TEST_F(ReadToolTest, ValidatesArguments) {
  EXPECT_EQ(RunTool(tool_, json::object()).content,
            "read: `path` is required (a file path relative to the workspace)");
  EXPECT_EQ(RunTool(tool_, {{"path", "a"}, {"offset", 0}}).content,
            "read: `offset` must be an integer from 1 to 1000000000 (got a number (0))");
  EXPECT_THAT(RunTool(tool_, {{"path", "a"}, {"limit", "ten"}}).content,
              HasSubstr("`limit` must be an integer"));
  EXPECT_THAT(RunTool(tool_, {{"file", "a"}}).content,
              HasSubstr("unknown argument `file`; accepted arguments: path, offset, limit"));
  EXPECT_TRUE(RunTool(tool_, json("a.txt")).is_error);
}

TEST_F(ReadToolTest, CancelStopsTheCallback) {
  Write("a.txt", "a\n");
  bool called = false;
  std::unique_ptr<ToolRun> run =
      tool_.Start({{"path", "a.txt"}}, context_, [&](ToolResult) { called = true; });
  run->Cancel();
  testing::RunLoopFor(io_, std::chrono::milliseconds(100));
  EXPECT_FALSE(called);
  run = tool_.Start({{"path", 5}}, context_, [&](ToolResult) { called = true; });
  run.reset();  // destroying cancels too, also for answers without work
  testing::RunLoopFor(io_, std::chrono::milliseconds(50));
  EXPECT_FALSE(called);
}

}  // namespace
}  // namespace troupe
