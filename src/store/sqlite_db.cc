#include "store/sqlite_db.h"

#include <utility>

namespace troupe {

StatusCode StatusCodeForSqlite(int rc) {
  switch (rc) {
    case SQLITE_CONSTRAINT_PRIMARYKEY:
    case SQLITE_CONSTRAINT_UNIQUE:
    case SQLITE_CONSTRAINT_ROWID:
      return StatusCode::kAlreadyExists;
    default:
      break;
  }
  switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE:
      return StatusCode::kOk;
    case SQLITE_CONSTRAINT:
      return StatusCode::kFailedPrecondition;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_FORMAT:
      return StatusCode::kCorruption;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return StatusCode::kIoError;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return StatusCode::kUnavailable;
    case SQLITE_NOMEM:
    case SQLITE_TOOBIG:
      return StatusCode::kResourceExhausted;
    case SQLITE_INTERRUPT:
    case SQLITE_ABORT:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kInternal;
  }
}

namespace {

std::string DbPath(sqlite3* db) {
  const char* name = db == nullptr ? nullptr : sqlite3_db_filename(db, "main");
  return name == nullptr || name[0] == '\0' ? std::string(":memory:") : std::string(name);
}

}  // namespace

Status SqliteError(sqlite3* db, int rc, std::string_view sql) {
  // sqlite3_errmsg describes the most recent failure on the connection; fall back to the generic
  // text of `rc` when the connection is unknown or its message is about something else.
  const char* what = sqlite3_errstr(rc);
  if (db != nullptr && sqlite3_extended_errcode(db) == rc) what = sqlite3_errmsg(db);
  std::string message = "sqlite: " + std::string(what) + " on \"" + DbPath(db) + "\"";
  if (!sql.empty()) message += " (in \"" + std::string(sql) + "\")";
  StatusCode code = StatusCodeForSqlite(rc);
  if (code == StatusCode::kOk) code = StatusCode::kInternal;  // a caller's bug: not an error code
  return Status(code, std::move(message));
}

// --- SqliteDb

Result<SqliteDb> SqliteDb::Open(const std::string& path, int flags) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string what = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close_v2(db);
    StatusCode code = StatusCodeForSqlite(rc);
    if (code == StatusCode::kOk) code = StatusCode::kIoError;
    return Status(code, "cannot open database \"" + path + "\": " + what);
  }
  sqlite3_extended_result_codes(db, 1);
  return SqliteDb(db);
}

SqliteDb::SqliteDb(SqliteDb&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}

SqliteDb& SqliteDb::operator=(SqliteDb&& other) noexcept {
  if (this != &other) {
    sqlite3_close_v2(db_);
    db_ = std::exchange(other.db_, nullptr);
  }
  return *this;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

std::string SqliteDb::path() const { return DbPath(db_); }

Status SqliteDb::Error(int rc, std::string_view sql) const { return SqliteError(db_, rc, sql); }

Status SqliteDb::Exec(std::string_view sql) {
  std::string text(sql);  // sqlite3_exec wants a NUL-terminated string
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error(sqlite3_extended_errcode(db_), sql);
  return Status::Ok();
}

Result<Statement> SqliteDb::Prepare(std::string_view sql, bool persistent) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    sqlite3_finalize(stmt);
    return Error(rc, sql);
  }
  if (stmt == nullptr) {
    return Status::Internal("sqlite: no SQL statement in \"" + std::string(sql) + "\"");
  }
  return Statement(stmt);
}

Result<int64_t> SqliteDb::QueryInt64(std::string_view sql) {
  TROUPE_ASSIGN_OR_RETURN(Statement statement, Prepare(sql, /*persistent=*/false));
  TROUPE_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  if (!has_row) return Status::NotFound("no row from \"" + std::string(sql) + "\"");
  return statement.ColumnInt64(0);
}

Result<std::string> SqliteDb::QueryText(std::string_view sql) {
  TROUPE_ASSIGN_OR_RETURN(Statement statement, Prepare(sql, /*persistent=*/false));
  TROUPE_ASSIGN_OR_RETURN(bool has_row, statement.Step());
  if (!has_row) return Status::NotFound("no row from \"" + std::string(sql) + "\"");
  return statement.ColumnText(0);
}

// --- Statement

Statement::Statement(Statement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      bind_error_(other.bind_error_),
      bind_error_index_(other.bind_error_index_) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    sqlite3_finalize(stmt_);
    stmt_ = std::exchange(other.stmt_, nullptr);
    bind_error_ = other.bind_error_;
    bind_error_index_ = other.bind_error_index_;
  }
  return *this;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

void Statement::NoteBind(int rc, int index) {
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) {
    bind_error_ = rc;
    bind_error_index_ = index;
  }
}

Statement& Statement::BindInt64(int index, int64_t value) {
  NoteBind(sqlite3_bind_int64(stmt_, index, value), index);
  return *this;
}

Statement& Statement::BindText(int index, std::string_view value) {
  // SQLITE_STATIC: the caller keeps `value` alive until Reset (see the class comment). A
  // non-null pointer is passed for empty strings so they bind as '' and not NULL.
  const char* data = value.empty() ? "" : value.data();
  NoteBind(sqlite3_bind_text64(stmt_, index, data, value.size(), SQLITE_STATIC, SQLITE_UTF8),
           index);
  return *this;
}

Statement& Statement::BindNull(int index) {
  NoteBind(sqlite3_bind_null(stmt_, index), index);
  return *this;
}

Result<bool> Statement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return Error(bind_error_).WithContext("binding parameter " + std::to_string(bind_error_index_));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Error(rc);
}

Status Statement::Run() {
  Result<bool> has_row = Step();
  while (has_row.ok() && *has_row) has_row = Step();
  return has_row.status();
}

void Statement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  bind_error_ = SQLITE_OK;
  bind_error_index_ = 0;
}

int64_t Statement::ColumnInt64(int index) const { return sqlite3_column_int64(stmt_, index); }

int Statement::ColumnInt(int index) const { return sqlite3_column_int(stmt_, index); }

std::string Statement::ColumnText(int index) const {
  const unsigned char* text = sqlite3_column_text(stmt_, index);
  if (text == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(text), sqlite3_column_bytes(stmt_, index));
}

bool Statement::ColumnIsNull(int index) const {
  return sqlite3_column_type(stmt_, index) == SQLITE_NULL;
}

int64_t Statement::changes() const { return sqlite3_changes64(sqlite3_db_handle(stmt_)); }

const char* Statement::sql() const { return sqlite3_sql(stmt_); }

Status Statement::Error(int rc) const { return SqliteError(sqlite3_db_handle(stmt_), rc, sql()); }

}  // namespace troupe
