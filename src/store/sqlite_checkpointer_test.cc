#include "store/sqlite_checkpointer.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using testing::TestDir;

constexpr int kFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

class SqliteCheckpointerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.File("wal.db");
    Result<SqliteDb> db = SqliteDb::Open(path_, kFlags);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    ASSERT_EQ(*db_.QueryText("PRAGMA journal_mode = WAL"), "wal");
    ASSERT_TRUE(db_.Exec("CREATE TABLE blobs (b BLOB NOT NULL)").ok());
  }

  // Commits `n` transactions of one 4 KiB blob each. New pages live only in the WAL until a
  // checkpoint copies them into the database file.
  void CommitBlobs(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(db_.Exec("INSERT INTO blobs (b) VALUES (randomblob(4096))").ok());
    }
  }

  uintmax_t FileSize() const { return std::filesystem::file_size(path_); }

  TestDir dir_;
  std::string path_;
  SqliteDb db_;
};

TEST_F(SqliteCheckpointerTest, CheckpointsInTheBackgroundPastTheThreshold) {
  SqliteCheckpointer::Options options;
  options.wal_pages = 20;
  Result<std::unique_ptr<SqliteCheckpointer>> checkpointer =
      SqliteCheckpointer::Start(db_.handle(), path_, options);
  ASSERT_TRUE(checkpointer.ok()) << checkpointer.status().ToString();
  const uintmax_t before = FileSize();
  CommitBlobs(2);  // below the threshold
  (*checkpointer)->WaitIdle();
  EXPECT_EQ((*checkpointer)->checkpoints(), 0);
  EXPECT_EQ(FileSize(), before);

  CommitBlobs(20);
  (*checkpointer)->WaitIdle();
  EXPECT_GE((*checkpointer)->checkpoints(), 1);
  EXPECT_TRUE((*checkpointer)->last_status().ok()) << (*checkpointer)->last_status().ToString();
  EXPECT_GT(FileSize(), before + 20 * 4096);
  EXPECT_EQ(*db_.QueryInt64("SELECT count(*) FROM blobs"), 22);
}

TEST_F(SqliteCheckpointerTest, CheckpointsInlinePastTheLimit) {
  SqliteCheckpointer::Options options;
  options.wal_pages = 1 << 30;  // the thread is never asked
  options.wal_pages_limit = 20;
  Result<std::unique_ptr<SqliteCheckpointer>> checkpointer =
      SqliteCheckpointer::Start(db_.handle(), path_, options);
  ASSERT_TRUE(checkpointer.ok());
  const uintmax_t before = FileSize();
  CommitBlobs(20);
  EXPECT_GE((*checkpointer)->checkpoints(), 1);  // already, without waiting
  EXPECT_GT(FileSize(), before + 10 * 4096);
}

TEST_F(SqliteCheckpointerTest, StopsPromptlyAndRestoresNoHook) {
  SqliteCheckpointer::Options options;
  options.wal_pages = 1;
  {
    Result<std::unique_ptr<SqliteCheckpointer>> checkpointer =
        SqliteCheckpointer::Start(db_.handle(), path_, options);
    ASSERT_TRUE(checkpointer.ok());
    CommitBlobs(5);
  }                // destroyed with a request possibly pending
  CommitBlobs(2);  // the hook is gone: commits still work
  EXPECT_EQ(*db_.QueryInt64("SELECT count(*) FROM blobs"), 7);
}

TEST_F(SqliteCheckpointerTest, FailsToStartOnAMissingFile) {
  Result<std::unique_ptr<SqliteCheckpointer>> checkpointer =
      SqliteCheckpointer::Start(db_.handle(), dir_.File("missing/none.db"), {});
  ASSERT_FALSE(checkpointer.ok());
  EXPECT_EQ(checkpointer.status().code(), StatusCode::kIoError);
}

}  // namespace
}  // namespace troupe
