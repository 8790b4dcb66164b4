#include "daemon/token_file.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <regex>
#include <set>
#include <string>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

bool IsToken(const std::string& s) {
  static const std::regex kToken("^[0-9a-f]{64}$");
  return std::regex_match(s, kToken);
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

class TokenFileTest : public ::testing::Test {
 protected:
  std::string Path() const { return dir_.File("token"); }
  testing::TestDir dir_;
};

TEST_F(TokenFileTest, GeneratedTokensAre256RandomBitsInHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 20; ++i) {
    auto t = GenerateToken();
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_TRUE(IsToken(*t)) << *t;
    seen.insert(*t);
  }
  EXPECT_EQ(seen.size(), 20u);
}

TEST_F(TokenFileTest, TheFirstStartCreatesAPrivateFileAndLaterStartsReuseIt) {
  const mode_t old_umask = umask(0);  // a permissive umask must not leak into the mode
  auto first = LoadOrCreateToken(Path());
  umask(old_umask);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(IsToken(*first));
  EXPECT_EQ(ModeOf(Path()), 0600u);
  EXPECT_EQ(testing::ReadFileBytes(Path()), *first + "\n");

  auto again = LoadOrCreateToken(Path());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, *first);
  auto read = ReadToken(Path());
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(*read, *first);

  // No temporary file is left next to it.
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_.path())) {
    (void)e;
    ++files;
  }
  EXPECT_EQ(files, 1);
}

TEST_F(TokenFileTest, ReadTokenWithoutAFileIsNotFound) {
  auto t = ReadToken(Path());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(std::filesystem::exists(Path()));
}

TEST_F(TokenFileTest, ATokenFileOthersCanReadIsRefused) {
  auto t = LoadOrCreateToken(Path());
  ASSERT_TRUE(t.ok());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0606}) {
    ASSERT_EQ(chmod(Path().c_str(), mode), 0);
    auto again = LoadOrCreateToken(Path());
    ASSERT_FALSE(again.ok()) << std::oct << mode;
    EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(again.status().message(), HasSubstr("open to other users"));
    EXPECT_THAT(again.status().message(), HasSubstr("chmod 600 " + Path()));
    EXPECT_FALSE(ReadToken(Path()).ok());
  }
  // Nothing was replaced: fixing the mode gives the same token back.
  ASSERT_EQ(chmod(Path().c_str(), 0600), 0);
  auto fixed = LoadOrCreateToken(Path());
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(*fixed, *t);
  // 0400 is fine too.
  ASSERT_EQ(chmod(Path().c_str(), 0400), 0);
  EXPECT_TRUE(ReadToken(Path()).ok());
}

TEST_F(TokenFileTest, ASymbolicLinkIsRefused) {
  auto real = LoadOrCreateToken(dir_.File("real"));
  ASSERT_TRUE(real.ok());
  ASSERT_EQ(symlink(dir_.File("real").c_str(), Path().c_str()), 0);
  auto t = LoadOrCreateToken(Path());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(t.status().message(), HasSubstr("symbolic link"));
}

TEST_F(TokenFileTest, ADirectoryIsRefused) {
  std::filesystem::create_directory(Path());
  chmod(Path().c_str(), 0700);
  auto t = LoadOrCreateToken(Path());
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(t.status().message(), HasSubstr("not a regular file"));
}

TEST_F(TokenFileTest, AFileThatHoldsNoTokenIsCorruptionNotReplaced) {
  for (std::string text : {std::string(), std::string("short\n"), std::string(64, 'G'),
                           std::string(65, 'a'), std::string(64, 'A')}) {
    testing::WriteFileBytes(Path(), text);
    ASSERT_EQ(chmod(Path().c_str(), 0600), 0);
    auto t = LoadOrCreateToken(Path());
    ASSERT_FALSE(t.ok()) << text;
    EXPECT_EQ(t.status().code(), StatusCode::kCorruption);
    EXPECT_THAT(t.status().message(), HasSubstr("remove it"));
    EXPECT_EQ(testing::ReadFileBytes(Path()), text);
  }
  // Trailing whitespace (an editor's newline) is fine.
  const std::string token(64, 'a');
  testing::WriteFileBytes(Path(), token + "\r\n");
  auto t = ReadToken(Path());
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, token);
}

TEST_F(TokenFileTest, AnotherUsersFileIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a file away";
  auto t = LoadOrCreateToken(Path());
  ASSERT_TRUE(t.ok());
  ASSERT_EQ(chown(Path().c_str(), 65534, 65534), 0);
  auto again = LoadOrCreateToken(Path());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(again.status().message(), HasSubstr("belongs to another user"));
}

TEST_F(TokenFileTest, AMissingDirectoryIsAnIoError) {
  auto t = LoadOrCreateToken(dir_.File("no/such/dir/token"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace troupe
