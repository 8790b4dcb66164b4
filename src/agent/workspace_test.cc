#include "agent/workspace.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <filesystem>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using troupe::testing::TestDir;
using troupe::testing::WriteText;

// <tmp>/ws is the workspace; <tmp>/outside and <tmp>/ws-evil are not.
class WorkspaceTest : public ::testing::Test {
 protected:
  WorkspaceTest() {
    ws_path_ = tmp_.File("ws");
    outside_ = tmp_.File("outside");
    std::filesystem::create_directories(ws_path_ + "/src/sub");
    std::filesystem::create_directories(outside_);
    std::filesystem::create_directories(tmp_.File("ws-evil"));
    WriteText(ws_path_ + "/src/a.txt", "a");
    WriteText(outside_ + "/secret.txt", "secret");
    WriteText(tmp_.File("ws-evil/f.txt"), "evil");
    Result<Workspace> ws = Workspace::Open(ws_path_);
    EXPECT_TRUE(ws.ok()) << ws.status().ToString();
    ws_.emplace(std::move(*ws));
  }

  void Link(const std::string& target, const std::string& relative) {
    ASSERT_EQ(symlink(target.c_str(), (ws_path_ + "/" + relative).c_str()), 0) << relative;
  }
  // The error message Resolve gives for `path`, or "" when it resolved.
  std::string Refusal(const std::string& path) {
    Result<std::string> r = ws_->Resolve(path);
    return r.ok() ? "" : r.status().message();
  }

  TestDir tmp_;
  std::string ws_path_;
  std::string outside_;
  std::optional<Workspace> ws_;
};

TEST_F(WorkspaceTest, RelativePathsResolveUnderTheRoot) {
  EXPECT_EQ(*ws_->Resolve("src/a.txt"), ws_path_ + "/src/a.txt");
  EXPECT_EQ(*ws_->Resolve("./src//sub/../a.txt"), ws_path_ + "/src/a.txt");
  EXPECT_EQ(*ws_->Resolve("."), ws_path_);
  EXPECT_EQ(*ws_->Resolve("src/"), ws_path_ + "/src");
}

TEST_F(WorkspaceTest, MissingPathsResolveThroughTheirNearestExistingAncestor) {
  EXPECT_EQ(*ws_->Resolve("src/new/deeper/file.txt"), ws_path_ + "/src/new/deeper/file.txt");
  EXPECT_EQ(*ws_->Resolve("new/../src/a.txt"), ws_path_ + "/src/a.txt");
}

TEST_F(WorkspaceTest, AbsolutePathsInsideAreAccepted) {
  EXPECT_EQ(*ws_->Resolve(ws_path_ + "/src/a.txt"), ws_path_ + "/src/a.txt");
  EXPECT_EQ(*ws_->Resolve(ws_path_), ws_path_);
}

TEST_F(WorkspaceTest, DotDotLeadingOutIsRefused) {
  EXPECT_EQ(Refusal("../etc/passwd"), "path ../etc/passwd is outside the workspace " + ws_path_ +
                                          "; only files inside the workspace can be used");
  EXPECT_THAT(Refusal("src/../../outside/secret.txt"), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal("src/missing/../../../x"), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal(".."), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, AbsolutePathsElsewhereAreRefused) {
  EXPECT_THAT(Refusal("/etc/passwd"),
              HasSubstr("path /etc/passwd is outside the workspace " + ws_path_));
  EXPECT_THAT(Refusal("/"), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal(outside_ + "/secret.txt"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, ASiblingSharingThePrefixIsNotInside) {
  EXPECT_THAT(Refusal(tmp_.File("ws-evil/f.txt")), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal("../ws-evil/f.txt"), HasSubstr("is outside the workspace"));
  EXPECT_FALSE(PathIsInside("/a/ws-evil", "/a/ws"));
  EXPECT_FALSE(PathIsInside("/a/w", "/a/ws"));
  EXPECT_TRUE(PathIsInside("/a/ws", "/a/ws"));
  EXPECT_TRUE(PathIsInside("/a/ws/x", "/a/ws"));
  EXPECT_TRUE(PathIsInside("/anything", "/"));
  EXPECT_FALSE(PathIsInside("relative", "/a"));
}

TEST_F(WorkspaceTest, AFinalSymlinkPointingOutsideIsRefused) {
  Link(outside_ + "/secret.txt", "leak.txt");
  EXPECT_THAT(Refusal("leak.txt"), HasSubstr("through a symbolic link"));
  // Never where it leads: that would tell a model what lies outside.
  EXPECT_THAT(Refusal("leak.txt"), ::testing::Not(HasSubstr(outside_)));
}

TEST_F(WorkspaceTest, ADanglingSymlinkPointingOutsideIsRefusedForWrites) {
  Link(outside_ + "/not-yet.txt", "dangling.txt");
  EXPECT_THAT(Refusal("dangling.txt"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, AnIntermediateSymlinkedDirectoryPointingOutsideIsRefused) {
  Link(outside_, "src/out");
  EXPECT_THAT(Refusal("src/out/secret.txt"), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal("src/out/new-file.txt"), HasSubstr("is outside the workspace"));
  EXPECT_THAT(Refusal("src/out"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, RelativeSymlinksAndChainsAreFollowed) {
  Link("../../outside", "src/rel");  // ws/src/rel -> ws/src/../../outside = tmp/outside
  EXPECT_THAT(Refusal("src/rel/secret.txt"), HasSubstr("is outside the workspace"));
  Link(outside_ + "/secret.txt", "hop2");
  Link("hop2", "hop1");
  EXPECT_THAT(Refusal("hop1"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, DotDotAfterASymlinkIsPhysical) {
  // out/.. is the parent of the link's target (tmp/), not src/.
  Link(outside_, "src/out");
  EXPECT_THAT(Refusal("src/out/../ws/src/a.txt"), ::testing::IsEmpty());
  EXPECT_EQ(*ws_->Resolve("src/out/../ws/src/a.txt"), ws_path_ + "/src/a.txt");
  EXPECT_THAT(Refusal("src/out/../outside/secret.txt"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, DotDotAfterAMissingComponentStillResolvesLinks) {
  Link(outside_, "out");
  EXPECT_THAT(Refusal("missing/../out/secret.txt"), HasSubstr("is outside the workspace"));
}

TEST_F(WorkspaceTest, SymlinksStayingInsideResolveToTheirTarget) {
  Link("src", "alias");
  EXPECT_EQ(*ws_->Resolve("alias/a.txt"), ws_path_ + "/src/a.txt");
  Link(ws_path_ + "/src/a.txt", "abs-alias");
  EXPECT_EQ(*ws_->Resolve("abs-alias"), ws_path_ + "/src/a.txt");
}

TEST_F(WorkspaceTest, SymlinkLoopsAreRefused) {
  Link("loop2", "loop1");
  Link("loop1", "loop2");
  EXPECT_THAT(Refusal("loop1"), HasSubstr("more than 40 symbolic links"));
}

TEST_F(WorkspaceTest, NulBytesAndEmptyPathsAreRefused) {
  EXPECT_THAT(Refusal(std::string("src/a.txt\0../../x", 17)), HasSubstr("NUL byte"));
  EXPECT_THAT(Refusal(""), HasSubstr("the path is empty"));
}

TEST_F(WorkspaceTest, PathsThroughAFileAreRefused) {
  EXPECT_THAT(Refusal("src/a.txt/x"), HasSubstr("src/a.txt, which is not a directory"));
}

TEST_F(WorkspaceTest, ARootReachedThroughASymlinkIsCanonicalised) {
  const std::string link = tmp_.File("ws-link");
  ASSERT_EQ(symlink(ws_path_.c_str(), link.c_str()), 0);
  Result<Workspace> ws = Workspace::Open(link);
  ASSERT_TRUE(ws.ok());
  EXPECT_EQ(ws->root(), ws_path_);
  EXPECT_EQ(*ws->Resolve(link + "/src/a.txt"), ws_path_ + "/src/a.txt");
}

TEST_F(WorkspaceTest, OpenRefusesBadRoots) {
  EXPECT_FALSE(Workspace::Open("relative/dir").ok());
  EXPECT_FALSE(Workspace::Open(tmp_.File("missing")).ok());
  EXPECT_FALSE(Workspace::Open(ws_path_ + "/src/a.txt").ok());
}

TEST_F(WorkspaceTest, OpenDirectoryBeneathOpensAndMakesDirectoriesInside) {
  Result<int> src = ws_->OpenDirectoryBeneath("src/sub", /*create_missing=*/false);
  ASSERT_TRUE(src.ok()) << src.status().ToString();
  close(*src);
  Result<int> missing = ws_->OpenDirectoryBeneath("new/deeper", /*create_missing=*/false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(ws_path_ + "/new"));
  Result<int> made = ws_->OpenDirectoryBeneath("new/deeper", /*create_missing=*/true);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  close(*made);
  EXPECT_TRUE(std::filesystem::is_directory(ws_path_ + "/new/deeper"));
  Link(outside_, "out");
  Result<int> out = ws_->OpenDirectoryBeneath("out/x", /*create_missing=*/true);
  EXPECT_THAT(out.status().message(), HasSubstr("outside the workspace"));
  EXPECT_THAT(out.status().message(), ::testing::Not(HasSubstr(outside_)));
  EXPECT_FALSE(std::filesystem::exists(outside_ + "/x"));
  Result<int> file = ws_->OpenDirectoryBeneath("src/a.txt", /*create_missing=*/false);
  EXPECT_THAT(file.status().message(), HasSubstr("not a directory"));
}

TEST_F(WorkspaceTest, OpenFileParentGivesTheDirectoryAndTheName) {
  Result<FileInDirectory> a = ws_->OpenFileParent(ws_path_ + "/src/a.txt", /*create_missing=*/false);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  EXPECT_EQ(a->name, "a.txt");
  EXPECT_EQ(a->shown, "src/a.txt");
  struct stat st;
  EXPECT_EQ(fstatat(a->parent.get(), "a.txt", &st, AT_SYMLINK_NOFOLLOW), 0);

  Result<FileInDirectory> missing = ws_->OpenFileParent("gone/b.txt", /*create_missing=*/false);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(), "file gone/b.txt does not exist");
  EXPECT_FALSE(std::filesystem::exists(ws_path_ + "/gone"));
  Result<FileInDirectory> made = ws_->OpenFileParent("gone/b.txt", /*create_missing=*/true);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  EXPECT_TRUE(std::filesystem::is_directory(ws_path_ + "/gone"));

  Result<FileInDirectory> root = ws_->OpenFileParent(".", /*create_missing=*/false);
  EXPECT_EQ(root.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(root.status().message(), ". is a directory; give a file path");
  Link(outside_, "out");
  Result<FileInDirectory> out = ws_->OpenFileParent("out/x.txt", /*create_missing=*/true);
  EXPECT_THAT(out.status().message(), HasSubstr("outside the workspace"));
}

TEST_F(WorkspaceTest, RelativeNamesPathsForPrinting) {
  EXPECT_EQ(ws_->Relative(ws_path_), ".");
  EXPECT_EQ(ws_->Relative(ws_path_ + "/src/a.txt"), "src/a.txt");
  EXPECT_EQ(ws_->Relative("/etc/passwd"), "/etc/passwd");
}

}  // namespace
}  // namespace troupe
