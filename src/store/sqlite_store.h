// The SQLite backend of Store: one database file in WAL mode, schema versioned by migrations,
// prepared statements cached for the life of the store. The WAL is checkpointed into the file
// by a background thread with its own connection, so commits never wait for an fsync (unless
// sync_full). An open file store thus holds a second connection and a thread.
#pragma once

#include <memory>
#include <string>

#include "core/status.h"
#include "store/store.h"

namespace troupe {

struct SqliteStoreOptions {
  // "synchronous" pragma in WAL mode: NORMAL survives a process crash (kill -9) without losing
  // committed transactions; FULL also survives power loss at the cost of an fsync per commit.
  bool sync_full = false;
};

// Opens (creating if absent) the database at `path` (":memory:" for a private in-memory one),
// creating its parent directory. Refuses, without modifying the file, one that is not a SQLite
// database, belongs to another application, or has a newer schema than this build knows.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options = {});

// The schema version this build writes and understands.
int SqliteSchemaVersion();

}  // namespace troupe
