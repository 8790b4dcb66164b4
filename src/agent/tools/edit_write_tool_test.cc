#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include "agent/tools/edit_tool.h"
#include "agent/tools/tool_test_fixture.h"
#include "agent/tools/write_tool.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

class EditWriteToolTest : public testing::ToolTest {
 protected:
  mode_t ModeOf(const std::string& relative) {
    struct stat st;
    EXPECT_EQ(stat(Abs(relative).c_str(), &st), 0);
    return st.st_mode & 07777;
  }
  // Names in the workspace root (to see that no temporary file is left behind).
  std::vector<std::string> Entries() {
    std::vector<std::string> names;
    for (const auto& e : std::filesystem::directory_iterator(root())) {
      names.push_back(e.path().filename().string());
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  EditTool edit_;
  WriteTool write_;
};

TEST_F(EditWriteToolTest, EditReplacesAUniqueString) {
  Write("a.py", "def f():\n    return 1\n\ndef g():\n    return 2\n");
  ToolResult r =
      RunTool(edit_, {{"path", "a.py"}, {"old_string", "return 1"}, {"new_string", "return 10"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(Read("a.py"), "def f():\n    return 10\n\ndef g():\n    return 2\n");
  EXPECT_THAT(r.content,
              StartsWith("Edited a.py: replaced 1 occurrence (line 2 before the edit)."));
  EXPECT_THAT(r.content, HasSubstr("   2\t    return 10\n"));
  EXPECT_EQ(Entries(), std::vector<std::string>{"a.py"});
}

TEST_F(EditWriteToolTest, EditRefusesAmbiguousAndMissingStrings) {
  Write("a.txt", "x = 1\ny = 1\nz = 1\n");
  ToolResult r = RunTool(edit_, {{"path", "a.txt"}, {"old_string", "= 1"}, {"new_string", "= 2"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("`old_string` occurs 3 times in a.txt (lines 1, 2, 3)"));
  EXPECT_THAT(r.content, HasSubstr("replace_all=true"));
  r = RunTool(edit_, {{"path", "a.txt"}, {"old_string", "w = 1"}, {"new_string", "w = 2"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("`old_string` was not found in a.txt"));
  EXPECT_EQ(Read("a.txt"), "x = 1\ny = 1\nz = 1\n");
}

TEST_F(EditWriteToolTest, EditReplaceAll) {
  Write("a.txt", "x = 1\ny = 1\n");
  ToolResult r = RunTool(
      edit_, {{"path", "a.txt"}, {"old_string", "1"}, {"new_string", "22"}, {"replace_all", true}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(Read("a.txt"), "x = 22\ny = 22\n");
  EXPECT_THAT(r.content, StartsWith("Edited a.txt: replaced 2 occurrences (lines 1, 2 before"));
}

TEST_F(EditWriteToolTest, EditKeepsTheFileMode) {
  Write("run.sh", "echo hi\n");
  ASSERT_EQ(chmod(Abs("run.sh").c_str(), 0751), 0);
  ToolResult r = RunTool(edit_, {{"path", "run.sh"}, {"old_string", "hi"}, {"new_string", "ho"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(ModeOf("run.sh"), 0751u);
}

TEST_F(EditWriteToolTest, EditValidatesArguments) {
  Write("a.txt", "abc");
  EXPECT_EQ(RunTool(edit_, {{"path", "a.txt"}, {"old_string", "a"}, {"new_string", "a"}}).content,
            "edit: `old_string` and `new_string` are the same; nothing would change");
  EXPECT_THAT(RunTool(edit_, {{"path", "a.txt"}, {"old_string", ""}, {"new_string", "x"}}).content,
              HasSubstr("`old_string` must not be empty"));
  EXPECT_THAT(RunTool(edit_, {{"path", "a.txt"}, {"old_string", "a"}}).content,
              HasSubstr("`new_string` is required"));
  EXPECT_THAT(RunTool(edit_, {{"path", "b.txt"}, {"old_string", "a"}, {"new_string", "b"}}).content,
              HasSubstr("file b.txt does not exist; use write to create a new file"));
  EXPECT_THAT(
      RunTool(edit_, {{"path", "/etc/hosts"}, {"old_string", "a"}, {"new_string", "b"}}).content,
      HasSubstr("outside the workspace"));
}

TEST_F(EditWriteToolTest, WriteCreatesFilesAndParents) {
  ToolResult r = RunTool(write_, {{"path", "new/dir/f.txt"}, {"content", "one\ntwo\n"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, "Created new/dir/f.txt (2 lines, 8 bytes).");
  EXPECT_EQ(Read("new/dir/f.txt"), "one\ntwo\n");
  r = RunTool(write_, {{"path", "new/dir/f.txt"}, {"content", ""}});
  EXPECT_EQ(r.content, "Overwrote new/dir/f.txt (0 lines, 0 bytes).");
  EXPECT_EQ(Read("new/dir/f.txt"), "");
}

TEST_F(EditWriteToolTest, WriteKeepsTheModeOfAnExistingFile) {
  Write("tool.sh", "old");
  ASSERT_EQ(chmod(Abs("tool.sh").c_str(), 0700), 0);
  ASSERT_FALSE(RunTool(write_, {{"path", "tool.sh"}, {"content", "new"}}).is_error);
  EXPECT_EQ(ModeOf("tool.sh"), 0700u);
  EXPECT_EQ(Read("tool.sh"), "new");
}

TEST_F(EditWriteToolTest, WriteRefusesEscapesAndDirectories) {
  testing::TestDir outside;
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("out").c_str()), 0);
  ToolResult r = RunTool(write_, {{"path", "out/pwned.txt"}, {"content", "x"}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("outside the workspace"));
  EXPECT_FALSE(std::filesystem::exists(outside.File("pwned.txt")));
  r = RunTool(write_, {{"path", "../escape.txt"}, {"content", "x"}});
  EXPECT_THAT(r.content, HasSubstr("outside the workspace"));
  std::filesystem::create_directories(Abs("d"));
  EXPECT_THAT(RunTool(write_, {{"path", "d"}, {"content", "x"}}).content,
              HasSubstr("d is a directory"));
  EXPECT_THAT(RunTool(write_, {{"path", "a.txt"}}).content, HasSubstr("`content` is required"));
}

// Names in `dir`, sorted (to see that nothing was created there).
std::vector<std::string> NamesIn(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

// The check-then-open race: a directory of the workspace swapped for a link to outside while
// writes run. Each write lands inside or is refused; nothing is ever created outside.
TEST_F(EditWriteToolTest, ADirectorySwappedForAnOutsideLinkNeverReceivesAWrite) {
  testing::OutsideDir outside;
  outside.Write("keep.txt", "OUTSIDE\n");
  std::filesystem::create_directories(Abs("d/sub"));
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("swap").c_str()), 0);
  int written = 0;
  {
    testing::PathSwapper racer(Abs("d"), Abs("swap"));
    for (int i = 0; i < 70; ++i) {
      const std::string path = i % 2 == 0 ? "d/f.txt" : "d/sub/new/g.txt";
      ToolResult r = RunTool(write_, {{"path", path}, {"content", "inside\n"}});
      EXPECT_THAT(r.content, ::testing::Not(HasSubstr(outside.path())));
      written += r.is_error ? 0 : 1;
    }
    EXPECT_GT(racer.swaps(), 0);
  }
  EXPECT_GT(written, 0);
  EXPECT_EQ(NamesIn(outside.path()), std::vector<std::string>{"keep.txt"});
  EXPECT_EQ(testing::ReadText(outside.path() + "/keep.txt"), "OUTSIDE\n");
}

// The same race for edit: the outside file with the same name is never changed or replaced.
TEST_F(EditWriteToolTest, ADirectorySwappedForAnOutsideLinkNeverReceivesAnEdit) {
  testing::OutsideDir outside;
  outside.Write("f.txt", "a b\n");
  struct stat before;
  ASSERT_EQ(stat((outside.path() + "/f.txt").c_str(), &before), 0);
  Write("d/f.txt", "a\n");
  ASSERT_EQ(symlink(outside.path().c_str(), Abs("swap").c_str()), 0);
  int edited = 0;
  {
    testing::PathSwapper racer(Abs("d"), Abs("swap"));
    for (int i = 0; i < 70; ++i) {
      // Alternating a->b and b->a: the outside file holds both, so either would apply there.
      const bool forward = edited % 2 == 0;
      ToolResult r = RunTool(edit_, {{"path", "d/f.txt"},
                                     {"old_string", forward ? "a" : "b"},
                                     {"new_string", forward ? "b" : "a"}});
      EXPECT_THAT(r.content, ::testing::Not(HasSubstr(outside.path())));
      edited += r.is_error ? 0 : 1;
    }
    EXPECT_GT(racer.swaps(), 0);
  }
  EXPECT_GT(edited, 0);
  EXPECT_EQ(NamesIn(outside.path()), std::vector<std::string>{"f.txt"});
  EXPECT_EQ(testing::ReadText(outside.path() + "/f.txt"), "a b\n");
  struct stat after;
  ASSERT_EQ(stat((outside.path() + "/f.txt").c_str(), &after), 0);
  EXPECT_EQ(after.st_ino, before.st_ino);
}

}  // namespace
}  // namespace troupe
