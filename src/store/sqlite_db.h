// Thin RAII wrappers over the SQLite C API: a connection (SqliteDb) and a prepared statement
// (Statement) with typed bind and column helpers. Every failure becomes a Status naming the
// database file, the SQL and SQLite's own message.
//
// Threading: like the connection they wrap (opened with SQLITE_OPEN_NOMUTEX), neither is
// thread-safe.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

// Maps a SQLite result code (primary or extended) to a StatusCode: constraint violations of a
// primary key or unique index to AlreadyExists, other constraints to FailedPrecondition,
// corruption and "not a database" to Corruption, I/O, disk-full, permission and open failures
// to IoError, busy/locked to Unavailable, out-of-memory to ResourceExhausted, the rest (SQL
// errors, misuse) to Internal.
StatusCode StatusCodeForSqlite(int rc);

class Statement;

// An open connection. Move-only; closes the connection on destruction. Every Statement prepared
// on it must be destroyed first.
class SqliteDb {
 public:
  // Opens `path` with `flags` (SQLITE_OPEN_*), with extended result codes enabled.
  static Result<SqliteDb> Open(const std::string& path, int flags);

  SqliteDb() = default;
  SqliteDb(SqliteDb&& other) noexcept;
  SqliteDb& operator=(SqliteDb&& other) noexcept;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  sqlite3* handle() const { return db_; }
  // The file name, or ":memory:".
  std::string path() const;

  // Runs one or more SQL statements that return no rows of interest.
  Status Exec(std::string_view sql);
  // Compiles one statement. `persistent` hints SQLite that it will be reused many times.
  Result<Statement> Prepare(std::string_view sql, bool persistent = true);
  // Runs `sql` (one statement) and returns the first column of its first row; NotFound when it
  // returns no row.
  Result<int64_t> QueryInt64(std::string_view sql);
  Result<std::string> QueryText(std::string_view sql);

  // The Status for result code `rc` of the last call on this connection, with `sql` as context.
  Status Error(int rc, std::string_view sql) const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  sqlite3* db_ = nullptr;
};

// The Status for result code `rc` of the last call on connection `db`, naming its file and, when
// not empty, the SQL that failed: e.g. `sqlite: disk I/O error on "/x/troupe.db" (in "INSERT
// ...")`.
Status SqliteError(sqlite3* db, int rc, std::string_view sql);

// A prepared statement. Bind errors are remembered and reported by the next Step/Run, so call
// sites bind without checking each call. Use a Statement::Scope per execution: it resets the
// statement and clears its bindings when it ends, which releases the read snapshot a stepped
// SELECT holds and drops pointers to bound strings (bound with SQLITE_STATIC: the caller's
// strings must outlive the execution).
class Statement {
 public:
  Statement() = default;
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  class Scope {
   public:
    explicit Scope(Statement* statement) : statement_(statement) {}
    Scope(const Scope&) = delete;
    Scope& operator=(const Scope&) = delete;
    ~Scope() { statement_->Reset(); }

   private:
    Statement* statement_;
  };

  // Parameters are 1-based, as in SQLite.
  Statement& BindInt64(int index, int64_t value);
  Statement& BindText(int index, std::string_view value);
  Statement& BindText(int index, const std::string& value) {
    return BindText(index, std::string_view(value));
  }
  Statement& BindText(int index, const char* value) {
    return BindText(index, std::string_view(value));
  }
  // A temporary string would be gone before the statement runs.
  Statement& BindText(int index, std::string&& value) = delete;
  Statement& BindNull(int index);

  // Advances to the next row: true when a row is available, false when the statement is done.
  Result<bool> Step();
  // Steps a statement that returns no rows (or whose rows are ignored) to completion.
  Status Run();
  // Resets the statement and clears its bindings and any remembered bind error.
  void Reset();

  // Columns are 0-based, as in SQLite. Read only after Step() returned true.
  int64_t ColumnInt64(int index) const;
  int ColumnInt(int index) const;
  std::string ColumnText(int index) const;
  bool ColumnIsNull(int index) const;

  // Rows changed by the last Run of an INSERT, UPDATE or DELETE on this connection.
  int64_t changes() const;
  const char* sql() const;
  // The Status for result code `rc` of the last call on this statement.
  Status Error(int rc) const;

 private:
  friend class SqliteDb;
  explicit Statement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  void NoteBind(int rc, int index);

  sqlite3_stmt* stmt_ = nullptr;
  int bind_error_ = SQLITE_OK;
  int bind_error_index_ = 0;
};

}  // namespace troupe
