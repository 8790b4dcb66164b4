// Copies the write-ahead log back into the database file on a background thread, so that the
// fsyncs of a checkpoint never stall the thread that commits (the engine's event loop). It
// replaces SQLite's automatic checkpoint on the writing connection.
#pragma once

#include <sqlite3.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace troupe {

class SqliteCheckpointer {
 public:
  struct Options {
    // A checkpoint is requested after a commit leaves at least this many pages in the WAL.
    int wal_pages = 4000;
    // Past this many pages the committing thread checkpoints by itself: the background thread
    // is not keeping up.
    int wal_pages_limit = 64000;
    // The "synchronous" pragma of the checkpointing connection ("NORMAL" or "FULL").
    std::string synchronous = "NORMAL";
  };

  // Opens a second connection to `path` (a database in WAL mode), installs a WAL hook on
  // `writer` and starts the thread. `writer` must outlive the checkpointer and be used by one
  // thread at a time.
  static Result<std::unique_ptr<SqliteCheckpointer>> Start(sqlite3* writer, const std::string& path,
                                                           const Options& options);
  SqliteCheckpointer(const SqliteCheckpointer&) = delete;
  SqliteCheckpointer& operator=(const SqliteCheckpointer&) = delete;
  // Removes the hook, then stops and joins the thread. A checkpoint under way completes.
  ~SqliteCheckpointer();

  // Blocks until no requested checkpoint is pending. For tests.
  void WaitIdle();
  // Checkpoints run so far (including failed ones), by the thread or inline.
  int64_t checkpoints() const;
  // The result of the last checkpoint (OK before the first).
  Status last_status() const;

 private:
  SqliteCheckpointer(sqlite3* writer, SqliteDb db, const Options& options);
  static int OnCommit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void Run();
  // Runs a passive checkpoint on `db` and records its outcome.
  void Checkpoint(sqlite3* db);

  sqlite3* const writer_;
  SqliteDb db_;  // the checkpointing connection, used only by thread_
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool requested_ = false;   // guarded by mu_
  bool running_ = false;     // guarded by mu_: a checkpoint is under way
  bool stop_ = false;        // guarded by mu_
  int64_t checkpoints_ = 0;  // guarded by mu_
  Status last_status_;       // guarded by mu_
  std::thread thread_;
};

}  // namespace troupe
