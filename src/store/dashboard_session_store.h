// The browsers logged in to the dashboard (dashboard/dashboard_sessions.h), in the troupe
// database's `dashboard_sessions` table (schema version 5). Only a hash of each cookie's secret
// is stored, so reading the database lets no one in.
//
// Its own connection to the database file, beside the Store's: the table is the dashboard's
// alone (no engine write touches it, none of its writes joins an engine transaction), and the
// engine's Store interface stays what the engine needs. Each call is its own transaction. WAL
// mode lets the two connections share the file; both run on the loop thread, and the Store
// never leaves a transaction open across loop turns, so neither waits for the other.
//
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace troupe {

struct DashboardSessionRecord {
  std::string secret_sha256;  // lower-case hex SHA-256 of the cookie's secret
  int64_t created_at_ms = 0;
  int64_t last_used_at_ms = 0;
};

class DashboardSessionStore {
 public:
  virtual ~DashboardSessionStore() = default;
  virtual Status Insert(const DashboardSessionRecord& session) = 0;
  // Sets last_used_at_ms (nothing if there is no such session).
  virtual Status Touch(const std::string& secret_sha256, int64_t at_ms) = 0;
  // Removes it; removing one that is absent is not an error.
  virtual Status Delete(const std::string& secret_sha256) = 0;
  // Every session, oldest first.
  virtual Result<std::vector<DashboardSessionRecord>> List() = 0;
};

// Opens a connection to the troupe database at `path`, which OpenSqliteStore has opened (and so
// migrated) already. Not for ":memory:" (a second connection would see another database).
Result<std::unique_ptr<DashboardSessionStore>> OpenSqliteDashboardSessionStore(
    const std::string& path);

}  // namespace troupe
