#include "store/sqlite_schema.h"

#include <cstdio>
#include <string>

#include "store/sqlite_store.h"

namespace troupe {

namespace {

// Version 1: every table of the store. Empty strings and 0 stand for "none" (as in records.h),
// so every column is NOT NULL. Task states are stored by name. Foreign keys are immediate: the
// engine inserts a session before its first task, in the same transaction.
constexpr std::string_view kMigration1 = R"sql(
CREATE TABLE schema_migrations (
  version       INTEGER PRIMARY KEY,
  applied_at_ms INTEGER NOT NULL
);

CREATE TABLE sessions (
  id                TEXT PRIMARY KEY NOT NULL,
  agent             TEXT NOT NULL,
  model             TEXT NOT NULL,
  workspace         TEXT NOT NULL,
  parent_session_id TEXT NOT NULL,
  owner             TEXT NOT NULL,
  title             TEXT NOT NULL,
  depth             INTEGER NOT NULL,
  created_at_ms     INTEGER NOT NULL,
  updated_at_ms     INTEGER NOT NULL
);

CREATE TABLE messages (
  session_id    TEXT NOT NULL REFERENCES sessions(id),
  seq           INTEGER NOT NULL,
  task_id       TEXT NOT NULL,
  role          TEXT NOT NULL,
  content       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  PRIMARY KEY (session_id, seq)
);

CREATE TABLE todos (
  session_id TEXT NOT NULL REFERENCES sessions(id),
  position   INTEGER NOT NULL,
  id         TEXT NOT NULL,
  content    TEXT NOT NULL,
  status     TEXT NOT NULL,
  priority   TEXT NOT NULL,
  PRIMARY KEY (session_id, position)
) WITHOUT ROWID;

CREATE TABLE tasks (
  id                TEXT PRIMARY KEY NOT NULL,
  session_id        TEXT NOT NULL REFERENCES sessions(id),
  parent_session_id TEXT NOT NULL,
  owner             TEXT NOT NULL,
  description       TEXT NOT NULL,
  prompt            TEXT NOT NULL,
  agent             TEXT NOT NULL,
  model             TEXT NOT NULL,
  state             TEXT NOT NULL,
  attempt           INTEGER NOT NULL,
  depth             INTEGER NOT NULL,
  result            TEXT NOT NULL,
  error             TEXT NOT NULL,
  limits_json       TEXT NOT NULL,
  created_at_ms     INTEGER NOT NULL,
  queued_at_ms      INTEGER NOT NULL,
  started_at_ms     INTEGER NOT NULL,
  finished_at_ms    INTEGER NOT NULL,
  updated_at_ms     INTEGER NOT NULL,
  turns             INTEGER NOT NULL,
  tool_calls        INTEGER NOT NULL,
  input_tokens      INTEGER NOT NULL,
  output_tokens     INTEGER NOT NULL,
  last_tool         TEXT NOT NULL
);
CREATE INDEX tasks_by_state ON tasks(state);
CREATE INDEX tasks_by_session ON tasks(session_id);
CREATE INDEX tasks_by_parent ON tasks(parent_session_id);
CREATE INDEX tasks_by_owner ON tasks(owner);

CREATE TABLE task_attempts (
  task_id       TEXT NOT NULL REFERENCES tasks(id),
  attempt       INTEGER NOT NULL,
  started_at_ms INTEGER NOT NULL,
  ended_at_ms   INTEGER NOT NULL,
  outcome       TEXT NOT NULL,
  error         TEXT NOT NULL,
  PRIMARY KEY (task_id, attempt)
) WITHOUT ROWID;

-- AUTOINCREMENT: ids are never reused, even after the newest rows are deleted.
CREATE TABLE notifications (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id         TEXT NOT NULL,
  recipient       TEXT NOT NULL,
  state           TEXT NOT NULL,
  summary         TEXT NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  delivered_at_ms INTEGER NOT NULL
);
CREATE INDEX notifications_by_recipient ON notifications(recipient, delivered_at_ms);
CREATE INDEX notifications_by_task ON notifications(task_id);

CREATE TABLE events (
  id            INTEGER PRIMARY KEY AUTOINCREMENT,
  type          TEXT NOT NULL,
  task_id       TEXT NOT NULL,
  payload       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
)sql";

// Version 2: the parent's tool call that delegated a task, so that a delegation replayed after a
// crash finds its child instead of launching a second one.
constexpr std::string_view kMigration2 = R"sql(
ALTER TABLE tasks ADD COLUMN parent_call_id TEXT NOT NULL DEFAULT '';
)sql";

// Version 3: spend. Every model request in a ledger (per request, session, tree and UTC day
// sums), its totals on the task row, and each task's tree (root session), filled in for the
// tasks already stored by walking their sessions up to the top-level one.
constexpr std::string_view kMigration3 = R"sql(
ALTER TABLE tasks ADD COLUMN cache_write_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cache_read_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN reasoning_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN cost_nano_usd INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN unpriced_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tasks ADD COLUMN root_session_id TEXT NOT NULL DEFAULT '';
WITH RECURSIVE roots(id, root) AS (
  SELECT id, id FROM sessions WHERE parent_session_id = ''
  UNION ALL
  SELECT s.id, r.root FROM sessions s JOIN roots r ON s.parent_session_id = r.id
)
UPDATE tasks SET root_session_id =
  coalesce((SELECT root FROM roots WHERE roots.id = tasks.session_id), tasks.session_id);
CREATE INDEX tasks_by_root ON tasks(root_session_id);

CREATE TABLE model_requests (
  id                 INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id            TEXT NOT NULL,
  session_id         TEXT NOT NULL,
  root_session_id    TEXT NOT NULL,
  agent              TEXT NOT NULL,
  model              TEXT NOT NULL,
  input_tokens       INTEGER NOT NULL,
  output_tokens      INTEGER NOT NULL,
  cache_write_tokens INTEGER NOT NULL,
  cache_read_tokens  INTEGER NOT NULL,
  reasoning_tokens   INTEGER NOT NULL,
  cost_nano_usd      INTEGER NOT NULL,
  priced             INTEGER NOT NULL,
  created_at_ms      INTEGER NOT NULL
);
CREATE INDEX model_requests_by_task ON model_requests(task_id);
CREATE INDEX model_requests_by_session ON model_requests(session_id);
CREATE INDEX model_requests_by_root ON model_requests(root_session_id);
CREATE INDEX model_requests_by_time ON model_requests(created_at_ms);
)sql";

// Version 4: the git worktree an isolated task runs in (agent/task_worktree.h), as JSON text:
// where it is, its branch and base, and what the task left on the branch.
constexpr std::string_view kMigration4 = R"sql(
ALTER TABLE tasks ADD COLUMN worktree_json TEXT NOT NULL DEFAULT '';
)sql";

// Version 5: browsers logged in to the dashboard (dashboard/dashboard_sessions.h), by the
// SHA-256 of their cookie's secret — never the secret itself.
constexpr std::string_view kMigration5 = R"sql(
CREATE TABLE dashboard_sessions (
  secret_sha256   TEXT PRIMARY KEY NOT NULL,
  created_at_ms   INTEGER NOT NULL,
  last_used_at_ms INTEGER NOT NULL
) WITHOUT ROWID;
)sql";

constexpr std::string_view kRefusalAdvice =
    "; move it away or point troupe at another data directory";

std::string Quoted(const std::string& path) { return "\"" + path + "\""; }

Status NotTroupe(SqliteDb* db, const std::string& why) {
  return Status::FailedPrecondition(Quoted(db->path()) + " is not a troupe database (" + why + ")" +
                                    std::string(kRefusalAdvice));
}

Result<bool> HasMigrationsTable(SqliteDb* db) {
  TROUPE_ASSIGN_OR_RETURN(int64_t count,
                          db->QueryInt64("SELECT count(*) FROM sqlite_master "
                                         "WHERE type = 'table' AND name = 'schema_migrations'"));
  return count > 0;
}

// 0 when there is no schema_migrations table yet.
Result<int64_t> SchemaVersion(SqliteDb* db) {
  TROUPE_ASSIGN_OR_RETURN(bool has_table, HasMigrationsTable(db));
  if (!has_table) return int64_t{0};
  return db->QueryInt64("SELECT coalesce(max(version), 0) FROM schema_migrations");
}

Status ApplyMigration(SqliteDb* db, int version, int64_t now_ms) {
  TROUPE_RETURN_IF_ERROR(db->Exec("BEGIN IMMEDIATE"));
  Status status = [&]() -> Status {
    TROUPE_ASSIGN_OR_RETURN(int64_t current, SchemaVersion(db));
    if (current >= version) return Status::Ok();  // another connection applied it meanwhile
    TROUPE_RETURN_IF_ERROR(db->Exec(SqliteMigrations()[version - 1]));
    TROUPE_RETURN_IF_ERROR(
        db->Exec("PRAGMA application_id = " + std::to_string(kTroupeApplicationId)));
    TROUPE_ASSIGN_OR_RETURN(
        Statement record,
        db->Prepare("INSERT INTO schema_migrations (version, applied_at_ms) VALUES (?1, ?2)",
                    /*persistent=*/false));
    record.BindInt64(1, version).BindInt64(2, now_ms);
    TROUPE_RETURN_IF_ERROR(record.Run());
    return db->Exec("COMMIT");
  }();
  if (!status.ok()) {
    if (sqlite3_get_autocommit(db->handle()) == 0) (void)db->Exec("ROLLBACK");
    return status.WithContext("applying schema migration " + std::to_string(version) + " to " +
                              Quoted(db->path()));
  }
  return Status::Ok();
}

}  // namespace

const std::vector<std::string_view>& SqliteMigrations() {
  static const std::vector<std::string_view> migrations = {kMigration1, kMigration2, kMigration3,
                                                           kMigration4, kMigration5};
  return migrations;
}

int SqliteSchemaVersion() { return static_cast<int>(SqliteMigrations().size()); }

Result<int> InspectSqliteSchema(SqliteDb* db) {
  // The first read of the schema is what tells a database from any other file.
  Result<int64_t> objects = db->QueryInt64("SELECT count(*) FROM sqlite_master");
  if (!objects.ok()) {
    if ((sqlite3_extended_errcode(db->handle()) & 0xff) == SQLITE_NOTADB) {
      return Status::Corruption(Quoted(db->path()) +
                                " is not a troupe database (file is not a database)" +
                                std::string(kRefusalAdvice));
    }
    return objects.status().WithContext("reading the schema of " + Quoted(db->path()));
  }

  TROUPE_ASSIGN_OR_RETURN(int64_t application_id, db->QueryInt64("PRAGMA application_id"));
  if (application_id != 0 && application_id != kTroupeApplicationId) {
    char why[96];
    std::snprintf(why, sizeof(why), "its application_id is 0x%08x, troupe's is 0x%08x",
                  static_cast<unsigned>(application_id),
                  static_cast<unsigned>(kTroupeApplicationId));
    return NotTroupe(db, why);
  }
  TROUPE_ASSIGN_OR_RETURN(bool has_migrations, HasMigrationsTable(db));
  if (!has_migrations) {
    if (application_id == kTroupeApplicationId) {
      return Status::Corruption(Quoted(db->path()) +
                                " has troupe's application_id but no schema_migrations table" +
                                std::string(kRefusalAdvice));
    }
    if (*objects > 0) return NotTroupe(db, "it has tables but no schema_migrations table");
    return 0;  // empty: a new database
  }

  TROUPE_ASSIGN_OR_RETURN(int64_t version, SchemaVersion(db));
  if (version > SqliteSchemaVersion()) {
    return Status::FailedPrecondition(
        Quoted(db->path()) + " has schema version " + std::to_string(version) +
        ", newer than version " + std::to_string(SqliteSchemaVersion()) +
        " that this troupe understands; upgrade troupe, or point it at another data directory");
  }
  if (version < 0) return Status::Corruption(Quoted(db->path()) + " has a negative schema version");
  return static_cast<int>(version);
}

Status MigrateSqliteSchema(SqliteDb* db, int current_version, int64_t now_ms) {
  for (int version = current_version + 1; version <= SqliteSchemaVersion(); ++version) {
    TROUPE_RETURN_IF_ERROR(ApplyMigration(db, version, now_ms));
  }
  return Status::Ok();
}

}  // namespace troupe
