// list, glob and grep against a real workspace with real ripgrep.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "agent/tools/glob_tool.h"
#include "agent/tools/grep_tool.h"
#include "agent/tools/list_tool.h"
#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using json = nlohmann::json;

class SearchToolsTest : public testing::ToolTest {
 protected:
  SearchToolsTest() : list_(RipgrepOptions{}), glob_(RipgrepOptions{}), grep_(RipgrepOptions{}) {
    Write(".gitignore", "build/\n*.log\n");
    Write("README.md", "# Demo\nTODO: write docs\n");
    Write("src/main.cc", "int main() {\n  // TODO: parse args\n  return Run();\n}\n");
    Write("src/util/strings.h", "#pragma once\nstd::string Trim(std::string s);  // todo\n");
    Write("build/generated.cc", "// TODO: generated\n");
    Write("debug.log", "TODO in a log\n");
    Write(".github/workflows/ci.yml", "name: ci # TODO\n");
  }

  // Sets the modification time of `relative` to `seconds` after the epoch.
  void Touch(const std::string& relative, time_t seconds) {
    timespec times[2] = {{seconds, 0}, {seconds, 0}};
    ASSERT_EQ(utimensat(AT_FDCWD, Abs(relative).c_str(), times, 0), 0);
  }

  ListTool list_;
  GlobTool glob_;
  GrepTool grep_;
};

// --- list ---

// A directory swapped for a link to outside while greps run: ripgrep sees only the workspace and
// the system directories, so the outside file is never found.
TEST_F(SearchToolsTest, GrepThroughADirectorySwappedForAnOutsideLinkFindsNothingOutside) {
  testing::OutsideDir outside;
  outside.Write("f.txt", "needle OUTSIDE\n");
  Write("d/f.txt", "needle inside\n");
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("swap").c_str()), 0);
  testing::PathSwapper racer(Abs("d"), Abs("swap"));
  for (int i = 0; i < 70; ++i) {
    for (const char* path : {"d", "d/f.txt"}) {
      ToolResult r = RunTool(grep_, {{"pattern", "needle"}, {"path", path}});
      EXPECT_THAT(r.content, ::testing::Not(HasSubstr("OUTSIDE"))) << path;
    }
  }
  EXPECT_GT(racer.swaps(), 0);
}

// list and glob walk directories with ripgrep, not with openat2 beneath the workspace fd: what
// keeps their walks inside is the sandbox's view (SandboxView::kWorkspaceOnly: the workspace and
// the system directories only), the same as for grep above. A directory swapped for a link to
// outside while they run lists nothing of what is outside.
TEST_F(SearchToolsTest, ListAndGlobThroughADirectorySwappedForAnOutsideLinkShowNothingOutside) {
  testing::OutsideDir outside;
  outside.Write("outside_secret.txt", "x\n");
  outside.Write("deeper/outside_secret_too.txt", "x\n");
  Write("d/inside.txt", "x\n");
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("swap").c_str()), 0);
  testing::PathSwapper racer(Abs("d"), Abs("swap"));
  int inside = 0;
  for (int i = 0; i < 70; ++i) {
    ToolResult listed = RunTool(list_, {{"path", "d"}});
    EXPECT_THAT(listed.content, Not(HasSubstr("outside_secret"))) << listed.content;
    ToolResult globbed = RunTool(glob_, {{"pattern", "**/*.txt"}, {"path", "d"}});
    EXPECT_THAT(globbed.content, Not(HasSubstr("outside_secret"))) << globbed.content;
    if (listed.content.find("inside.txt") != std::string::npos) ++inside;
  }
  EXPECT_GT(racer.swaps(), 0);
  EXPECT_GT(inside, 0);  // the walks did run while the directory was in place
}

TEST_F(SearchToolsTest, GrepRefusesFifos) {
  ASSERT_EQ(mkfifo(Abs("pipe").c_str(), 0600), 0);
  ToolResult r = RunTool(grep_, {{"pattern", "x"}, {"path", "pipe"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("not a regular file or a directory"));
}

TEST_F(SearchToolsTest, ListShowsATreeRespectingGitignore) {
  ToolResult r = RunTool(list_, json::object());
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content,
            "./\n"
            ".github/\n"
            "  workflows/\n"
            "    ci.yml\n"
            "src/\n"
            "  util/\n"
            "    strings.h\n"
            "  main.cc\n"
            ".gitignore\n"
            "README.md\n");
}

TEST_F(SearchToolsTest, ListASubdirectory) {
  ToolResult r = RunTool(list_, {{"path", "src"}});
  EXPECT_EQ(r.content, "src/\nutil/\n  strings.h\nmain.cc\n");
}

TEST_F(SearchToolsTest, ListRefusesFilesMissingPathsAndEscapes) {
  EXPECT_THAT(RunTool(list_, {{"path", "README.md"}}).content, HasSubstr("is a file"));
  EXPECT_THAT(RunTool(list_, {{"path", "nope"}}).content, HasSubstr("nope does not exist"));
  EXPECT_THAT(RunTool(list_, {{"path", ".."}}).content, HasSubstr("outside the workspace"));
  EXPECT_THAT(RunTool(list_, {{"path", 3}}).content, HasSubstr("`path` must be a directory path"));
}

TEST_F(SearchToolsTest, ListCollapsesDeepTreesToFitItsLimit) {
  std::vector<std::string> files;
  for (int d = 0; d < 30; ++d) {
    for (int f = 0; f < 20; ++f) {
      files.push_back("dir" + std::to_string(d) + "/sub/f" + std::to_string(f) + ".txt");
    }
  }
  const std::string tree = RenderFileTree(files, 100, 4);
  EXPECT_THAT(tree, StartsWith("dir0/\n  sub/ (20 files)\ndir1/\n"));
  const std::string flat = RenderFileTree(files, 10, 4);
  EXPECT_THAT(flat, StartsWith("dir0/ (20 files)\n"));
  EXPECT_THAT(flat, EndsWith("… [truncated: 20 more entries; list a subdirectory to see them]\n"));
}

// --- glob ---

TEST_F(SearchToolsTest, GlobFindsFilesNewestFirst) {
  Write("src/old.cc", "");
  Touch("src/old.cc", 1'000'000);
  Touch("src/main.cc", 2'000'000);
  Write("src/new.cc", "");
  ToolResult r = RunTool(glob_, {{"pattern", "**/*.cc"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "src/new.cc\nsrc/main.cc\nsrc/old.cc\n");  // build/ is ignored
}

TEST_F(SearchToolsTest, GlobIsRelativeToPathAndPrintsPathsFromTheRoot) {
  ToolResult r = RunTool(glob_, {{"pattern", "util/*.h"}, {"path", "src"}});
  EXPECT_EQ(r.content, "src/util/strings.h\n");
  r = RunTool(glob_, {{"pattern", "*.h"}});  // no '/': any depth
  EXPECT_EQ(r.content, "src/util/strings.h\n");
}

TEST_F(SearchToolsTest, GlobSkipsHiddenFilesUnlessThePatternNamesThem) {
  EXPECT_EQ(RunTool(glob_, {{"pattern", "*.yml"}}).content, "no files match `*.yml` in .");
  EXPECT_EQ(RunTool(glob_, {{"pattern", ".github/**"}}).content, ".github/workflows/ci.yml\n");
}

TEST_F(SearchToolsTest, GlobCapsItsListWithAMarker) {
  for (int i = 0; i < 205; ++i) Write("many/f" + std::to_string(i) + ".txt", "");
  ToolResult r = RunTool(glob_, {{"pattern", "many/*.txt"}});
  EXPECT_EQ(std::count(r.content.begin(), r.content.end(), '\n'), 201);
  EXPECT_THAT(r.content, EndsWith("… [truncated: 5 more files; narrow the pattern or the path]\n"));
}

TEST_F(SearchToolsTest, GlobValidatesArguments) {
  EXPECT_EQ(RunTool(glob_, json::object()).content,
            "glob: `pattern` is required (a glob pattern such as **/*.cc)");
  EXPECT_THAT(RunTool(glob_, {{"pattern", "*"}, {"path", "README.md"}}).content,
              HasSubstr("is a file; give a directory"));
  EXPECT_THAT(RunTool(glob_, {{"pattern", "*"}, {"path", "/etc"}}).content,
              HasSubstr("outside the workspace"));
  ToolResult bad = RunTool(glob_, {{"pattern", "a[b"}});
  EXPECT_TRUE(bad.is_error);
  EXPECT_THAT(bad.content, HasSubstr("glob: "));
}

// --- grep ---

TEST_F(SearchToolsTest, GrepPrintsPathLineTextAndRespectsGitignore) {
  ToolResult r = RunTool(grep_, {{"pattern", "TODO"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "README.md:2:TODO: write docs\nsrc/main.cc:2:  // TODO: parse args\n");
}

TEST_F(SearchToolsTest, GrepOptions) {
  EXPECT_EQ(
      RunTool(grep_, {{"pattern", "todo"}, {"case_insensitive", true}, {"path", "src"}}).content,
      "src/main.cc:2:  // TODO: parse args\n"
      "src/util/strings.h:2:std::string Trim(std::string s);  // todo\n");
  EXPECT_EQ(
      RunTool(grep_, {{"pattern", "todo"}, {"case_insensitive", true}, {"glob", "*.h"}}).content,
      "src/util/strings.h:2:std::string Trim(std::string s);  // todo\n");
  EXPECT_EQ(RunTool(grep_, {{"pattern", "TODO"}, {"path", "src/main.cc"}, {"context", 1}}).content,
            "src/main.cc-1-int main() {\nsrc/main.cc:2:  // TODO: parse args\n"
            "src/main.cc-3-  return Run();\n");
  EXPECT_EQ(RunTool(grep_, {{"pattern", "TODO"}, {"glob", ".github/**"}}).content,
            ".github/workflows/ci.yml:1:name: ci # TODO\n");
}

TEST_F(SearchToolsTest, GrepWithoutMatchesIsNotAnError) {
  ToolResult r = RunTool(grep_, {{"pattern", "nothing-like-this"}, {"glob", "*.cc"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "no matches for `nothing-like-this` in . (files matching *.cc)");
}

TEST_F(SearchToolsTest, GrepQuotesRipgrepOnABadRegex) {
  ToolResult r = RunTool(grep_, {{"pattern", "(unclosed"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, StartsWith("grep: regex parse error"));
  EXPECT_THAT(r.content, HasSubstr("unclosed group"));
}

TEST_F(SearchToolsTest, GrepCapsMatchesWithAMarker) {
  std::string text;
  for (int i = 0; i < 250; ++i) text += "hit " + std::to_string(i) + "\n";
  Write("hits.txt", text);
  ToolResult r = RunTool(grep_, {{"pattern", "^hit"}, {"path", "hits.txt"}});
  EXPECT_THAT(r.content, StartsWith("hits.txt:1:hit 0\n"));
  EXPECT_THAT(r.content, HasSubstr("hits.txt:200:hit 199\n… [truncated: showing 200 of 250 "
                                   "matching lines; narrow the pattern, the path or the glob]\n"));
}

TEST_F(SearchToolsTest, GrepValidatesArguments) {
  EXPECT_EQ(RunTool(grep_, json::object()).content,
            "grep: `pattern` is required (a regular expression)");
  EXPECT_THAT(RunTool(grep_, {{"pattern", "x"}, {"context", 99}}).content,
              HasSubstr("`context` must be an integer from 0 to 10"));
  EXPECT_THAT(RunTool(grep_, {{"pattern", "x"}, {"case_insensitive", "yes"}}).content,
              HasSubstr("`case_insensitive` must be true or false"));
  EXPECT_THAT(RunTool(grep_, {{"pattern", "x"}, {"path", "../.."}}).content,
              HasSubstr("outside the workspace"));
}

TEST(GrepOutputTest, FormatsRipgrepNullSeparatedOutput) {
  using namespace std::string_literals;
  const std::string output =
      "./a.cc\0"s + "3-before\n" + "./a.cc\0"s + "4:match\n" + "--\n" + "./b.cc\0"s + "9:again\n";
  GrepListing listing = FormatGrepOutput(output, "src", 10, 1000);
  EXPECT_EQ(listing.text, "src/a.cc-3-before\nsrc/a.cc:4:match\n--\nsrc/b.cc:9:again\n");
  EXPECT_EQ(listing.matches, 2u);
  listing = FormatGrepOutput(output, ".", 1, 1000);
  EXPECT_EQ(listing.text, "a.cc-3-before\na.cc:4:match\n");
  EXPECT_EQ(listing.shown_matches, 1u);
  EXPECT_EQ(listing.matches, 2u);
}

}  // namespace
}  // namespace troupe
