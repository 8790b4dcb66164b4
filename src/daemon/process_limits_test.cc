#include "daemon/process_limits.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <fstream>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

TEST(ProcessLimitsTest, RaisesTheOpenFileLimitToTheHardLimit) {
  rlimit start{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &start), 0);
  rlimit lowered = start;
  lowered.rlim_cur = std::min<rlim_t>(start.rlim_max, 256);
  ASSERT_EQ(setrlimit(RLIMIT_NOFILE, &lowered), 0);
  Result<OpenFileLimit> raised = RaiseOpenFileLimit();
  ASSERT_TRUE(raised.ok()) << raised.status().ToString();
  EXPECT_EQ(raised->before, lowered.rlim_cur);
  EXPECT_EQ(raised->now, start.rlim_max);
  rlimit now{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &now), 0);
  EXPECT_EQ(now.rlim_cur, now.rlim_max);
  setrlimit(RLIMIT_NOFILE, &start);
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(ProcessLimitsTest, DatabaseFilesAreTheOwnersOnly) {
  testing::TestDir dir;
  const std::string db = dir.File("troupe.db");
  ASSERT_TRUE(MakePrivateDatabaseFiles(db).ok());
  EXPECT_EQ(ModeOf(db), 0600u);  // created so, whatever the umask

  // Files an older daemon left readable are closed up, side files included.
  std::ofstream(db + "-wal") << "x";
  chmod(db.c_str(), 0644);
  chmod((db + "-wal").c_str(), 0644);
  ASSERT_TRUE(MakePrivateDatabaseFiles(db).ok());
  EXPECT_EQ(ModeOf(db), 0600u);
  EXPECT_EQ(ModeOf(db + "-wal"), 0600u);
}

}  // namespace
}  // namespace troupe
