#include "store/dashboard_session_store.h"

#include <sqlite3.h>

#include <utility>

#include "store/sqlite_db.h"

namespace troupe {

namespace {

constexpr int kBusyTimeoutMs = 5000;  // as the Store's connection

class SqliteDashboardSessionStore final : public DashboardSessionStore {
 public:
  explicit SqliteDashboardSessionStore(SqliteDb db) : db_(std::move(db)) {}

  Status Prepare() {
    TROUPE_ASSIGN_OR_RETURN(insert_, db_.Prepare("INSERT INTO dashboard_sessions (secret_sha256, "
                                                 "created_at_ms, last_used_at_ms) VALUES (?1, ?2, ?3)"));
    TROUPE_ASSIGN_OR_RETURN(
        touch_,
        db_.Prepare("UPDATE dashboard_sessions SET last_used_at_ms = ?2 WHERE secret_sha256 = ?1"));
    TROUPE_ASSIGN_OR_RETURN(
        delete_, db_.Prepare("DELETE FROM dashboard_sessions WHERE secret_sha256 = ?1"));
    TROUPE_ASSIGN_OR_RETURN(
        list_, db_.Prepare("SELECT secret_sha256, created_at_ms, last_used_at_ms FROM "
                           "dashboard_sessions ORDER BY created_at_ms"));
    return Status::Ok();
  }

  Status Insert(const DashboardSessionRecord& session) override {
    Statement::Scope scope(&insert_);
    insert_.BindText(1, session.secret_sha256)
        .BindInt64(2, session.created_at_ms)
        .BindInt64(3, session.last_used_at_ms);
    return insert_.Run();
  }

  Status Touch(const std::string& secret_sha256, int64_t at_ms) override {
    Statement::Scope scope(&touch_);
    touch_.BindText(1, secret_sha256).BindInt64(2, at_ms);
    return touch_.Run();
  }

  Status Delete(const std::string& secret_sha256) override {
    Statement::Scope scope(&delete_);
    delete_.BindText(1, secret_sha256);
    return delete_.Run();
  }

  Result<std::vector<DashboardSessionRecord>> List() override {
    Statement::Scope scope(&list_);
    std::vector<DashboardSessionRecord> out;
    for (;;) {
      TROUPE_ASSIGN_OR_RETURN(bool has_row, list_.Step());
      if (!has_row) break;
      DashboardSessionRecord r;
      r.secret_sha256 = list_.ColumnText(0);
      r.created_at_ms = list_.ColumnInt64(1);
      r.last_used_at_ms = list_.ColumnInt64(2);
      out.push_back(std::move(r));
    }
    return out;
  }

 private:
  SqliteDb db_;  // declared first: destroyed after the statements
  Statement insert_, touch_, delete_, list_;
};

}  // namespace

Result<std::unique_ptr<DashboardSessionStore>> OpenSqliteDashboardSessionStore(
    const std::string& path) {
  if (path == ":memory:") {
    return Status::InvalidArgument("the dashboard's sessions need a database file, not :memory:");
  }
  TROUPE_ASSIGN_OR_RETURN(SqliteDb db,
                          SqliteDb::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX));
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  auto store = std::make_unique<SqliteDashboardSessionStore>(std::move(db));
  TROUPE_RETURN_IF_ERROR(store->Prepare().WithContext("opening the dashboard's sessions in \"" +
                                                      path + "\""));
  return std::unique_ptr<DashboardSessionStore>(std::move(store));
}

}  // namespace troupe
