// The SQLite schema of troupe's store and its migrations: how a database file is recognised as
// troupe's (application_id and the schema_migrations table), and how it is brought up to the
// version this build writes.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace troupe {

// `PRAGMA application_id` of a troupe database: "trup" in ASCII.
inline constexpr int32_t kTroupeApplicationId = 0x74727570;

// The migrations, oldest first: element i brings the schema from version i to version i + 1.
// Released migrations are never edited; a schema change appends one.
const std::vector<std::string_view>& SqliteMigrations();

// Reads, without writing anything, what `db` holds and returns its schema version: 0 for an
// empty database, else the highest version in schema_migrations. Refuses with Corruption a file
// that is not a SQLite database, and with FailedPrecondition a database of another application
// (foreign application_id, or tables but no schema_migrations table) or one whose schema is
// newer than SqliteSchemaVersion(). Messages name the file and say what to do.
Result<int> InspectSqliteSchema(SqliteDb* db);

// Applies the migrations after `current_version`, each in its own transaction that also records
// it in schema_migrations (at `now_ms`) and sets the application_id. A migration applied
// meanwhile by another connection is skipped.
Status MigrateSqliteSchema(SqliteDb* db, int current_version, int64_t now_ms);

}  // namespace troupe
