#include "store/sqlite_db.h"

#include <gtest/gtest.h>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using testing::TestDir;

constexpr int kFlags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;

SqliteDb OpenMemory() {
  Result<SqliteDb> db = SqliteDb::Open(":memory:", kFlags);
  EXPECT_TRUE(db.ok()) << db.status().ToString();
  return std::move(db).value();
}

TEST(SqliteDbTest, BindStepAndReadColumns) {
  SqliteDb db = OpenMemory();
  ASSERT_TRUE(db.Exec("CREATE TABLE t (i INTEGER, s TEXT)").ok());
  Result<Statement> insert = db.Prepare("INSERT INTO t (i, s) VALUES (?1, ?2)");
  ASSERT_TRUE(insert.ok()) << insert.status().ToString();
  for (int64_t i : {int64_t{1}, int64_t{1} << 40}) {
    Statement::Scope scope(&*insert);
    const std::string text = "x" + std::to_string(i);  // must outlive the execution
    insert->BindInt64(1, i).BindText(2, text);
    ASSERT_TRUE(insert->Run().ok());
    EXPECT_EQ(insert->changes(), 1);
  }
  {
    Statement::Scope scope(&*insert);
    insert->BindNull(1).BindText(2, "");  // '' stays '', not NULL
    ASSERT_TRUE(insert->Run().ok());
  }

  Result<Statement> select = db.Prepare("SELECT i, s FROM t ORDER BY rowid");
  ASSERT_TRUE(select.ok());
  Statement::Scope scope(&*select);
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnInt64(0), 1);
  EXPECT_EQ(select->ColumnText(1), "x1");
  ASSERT_TRUE(*select->Step());
  EXPECT_EQ(select->ColumnInt64(0), int64_t{1} << 40);
  ASSERT_TRUE(*select->Step());
  EXPECT_TRUE(select->ColumnIsNull(0));
  EXPECT_FALSE(select->ColumnIsNull(1));
  EXPECT_EQ(select->ColumnText(1), "");
  EXPECT_FALSE(*select->Step());
}

TEST(SqliteDbTest, TextWithNulBytesRoundTrips) {
  SqliteDb db = OpenMemory();
  Result<Statement> echo = db.Prepare("SELECT ?1");
  ASSERT_TRUE(echo.ok());
  const std::string text("a\0b", 3);
  echo->BindText(1, text);
  ASSERT_TRUE(*echo->Step());
  EXPECT_EQ(echo->ColumnText(0), text);
}

TEST(SqliteDbTest, PrepareErrorNamesTheSql) {
  SqliteDb db = OpenMemory();
  Result<Statement> bad = db.Prepare("SELECT * FROM missing_table");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kInternal);
  EXPECT_NE(bad.status().message().find("no such table: missing_table"), std::string::npos)
      << bad.status().message();
  EXPECT_NE(bad.status().message().find("SELECT * FROM missing_table"), std::string::npos);
}

TEST(SqliteDbTest, BindErrorIsReportedByStep) {
  SqliteDb db = OpenMemory();
  Result<Statement> statement = db.Prepare("SELECT ?1");
  ASSERT_TRUE(statement.ok());
  statement->BindInt64(7, 1);  // out of range
  Result<bool> row = statement->Step();
  ASSERT_FALSE(row.ok());
  EXPECT_NE(row.status().message().find("binding parameter 7"), std::string::npos)
      << row.status().message();
  statement->Reset();  // clears the remembered error
  statement->BindInt64(1, 5);
  ASSERT_TRUE(*statement->Step());
  EXPECT_EQ(statement->ColumnInt(0), 5);
}

TEST(SqliteDbTest, ConstraintViolationsMapToStatusCodes) {
  SqliteDb db = OpenMemory();
  ASSERT_TRUE(db.Exec("PRAGMA foreign_keys = ON; "
                      "CREATE TABLE p (id TEXT PRIMARY KEY); "
                      "CREATE TABLE c (p TEXT NOT NULL REFERENCES p(id)); "
                      "INSERT INTO p VALUES ('a')")
                  .ok());
  Status duplicate = db.Exec("INSERT INTO p VALUES ('a')");
  EXPECT_EQ(duplicate.code(), StatusCode::kAlreadyExists) << duplicate.ToString();
  Status orphan = db.Exec("INSERT INTO c VALUES ('b')");
  EXPECT_EQ(orphan.code(), StatusCode::kFailedPrecondition) << orphan.ToString();
}

TEST(SqliteDbTest, ResultCodeMapping) {
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_CORRUPT), StatusCode::kCorruption);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_NOTADB), StatusCode::kCorruption);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_IOERR_FSYNC), StatusCode::kIoError);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_FULL), StatusCode::kIoError);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_BUSY), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_CONSTRAINT_PRIMARYKEY), StatusCode::kAlreadyExists);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_CONSTRAINT_FOREIGNKEY), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_NOMEM), StatusCode::kResourceExhausted);
  EXPECT_EQ(StatusCodeForSqlite(SQLITE_ERROR), StatusCode::kInternal);
}

TEST(SqliteDbTest, OpenFailureIsAnIoError) {
  TestDir dir;
  // A directory cannot be opened as a database file.
  Result<SqliteDb> db = SqliteDb::Open(dir.path().string(), kFlags);
  ASSERT_FALSE(db.ok());
  EXPECT_EQ(db.status().code(), StatusCode::kIoError) << db.status().ToString();
  EXPECT_NE(db.status().message().find(dir.path().string()), std::string::npos);
}

TEST(SqliteDbTest, QueryHelpers) {
  SqliteDb db = OpenMemory();
  EXPECT_EQ(*db.QueryInt64("SELECT 40 + 2"), 42);
  EXPECT_EQ(*db.QueryText("SELECT 'wal'"), "wal");
  EXPECT_EQ(db.QueryInt64("SELECT 1 WHERE 0").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(db.path(), ":memory:");
}

}  // namespace
}  // namespace troupe
