#include "store/sqlite_store.h"

#include <sys/stat.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <utility>

#include "store/sqlite_checkpointer.h"
#include "store/sqlite_db.h"
#include "store/sqlite_schema.h"
#include "store/sqlite_store_impl.h"

namespace troupe {

namespace {

constexpr int kBusyTimeoutMs = 5000;
// Page size of a new database. The hot path is many small transactions, each writing every page
// it touched to the WAL (with a checksum and two writes per page), so smaller pages mean fewer
// bytes per commit: 1 KiB pages measured ~1.5x the task lifecycles per second of the 4 KiB
// default. Large messages just span more overflow pages.
constexpr int kNewDatabasePageSize = 1024;
// After a checkpoint the WAL is rewritten from its start; one that grew past this is truncated.
constexpr int64_t kWalSizeLimitBytes = int64_t{16} << 20;

// Creates the missing directories of `dir`, each with mode 0700 (existing ones keep theirs).
Status CreateDirectories(const std::filesystem::path& dir) {
  if (dir.empty()) return Status::Ok();
  std::filesystem::path prefix;
  for (const std::filesystem::path& part : dir) {
    prefix /= part;
    if (::mkdir(prefix.c_str(), 0700) == 0 || errno == EEXIST) continue;
    return Status::IoError("cannot create directory \"" + prefix.string() +
                           "\" for the database: " + std::strerror(errno));
  }
  struct stat st;
  if (::stat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::IoError("\"" + dir.string() + "\" is not a directory");
  }
  return Status::Ok();
}

int64_t WallNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Connection settings. Run after InspectSqliteSchema: switching to WAL writes to the file.
Status ConfigureConnection(SqliteDb* db, const SqliteStoreOptions& options, bool new_database) {
  if (new_database) {
    // Only possible before the first write; an existing database keeps its page size.
    TROUPE_RETURN_IF_ERROR(db->Exec("PRAGMA page_size = " + std::to_string(kNewDatabasePageSize)));
  }
  TROUPE_ASSIGN_OR_RETURN(std::string mode, db->QueryText("PRAGMA journal_mode = WAL"));
  if (mode != "wal" && mode != "memory") {
    return Status::IoError("cannot switch \"" + db->path() +
                           "\" to write-ahead logging (journal_mode stays \"" + mode +
                           "\"); is its directory writable and on a local file system?");
  }
  TROUPE_RETURN_IF_ERROR(
      db->Exec(options.sync_full ? "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL"));
  TROUPE_RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  TROUPE_RETURN_IF_ERROR(
      db->Exec("PRAGMA journal_size_limit = " + std::to_string(kWalSizeLimitBytes)));
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const SqliteStoreOptions& options) {
  if (path.empty()) return Status::InvalidArgument("empty database path");
  const bool in_memory = path == ":memory:";
  if (!in_memory) {
    TROUPE_RETURN_IF_ERROR(CreateDirectories(std::filesystem::path(path).parent_path()));
  }
  TROUPE_ASSIGN_OR_RETURN(
      SqliteDb db,
      SqliteDb::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX));
  sqlite3_busy_timeout(db.handle(), kBusyTimeoutMs);
  if (sqlite3_db_readonly(db.handle(), "main") == 1) {
    return Status::IoError("\"" + db.path() +
                           "\" can only be opened read-only; troupe must write to its database: "
                           "check the permissions of the file and its directory");
  }
  TROUPE_ASSIGN_OR_RETURN(int version, InspectSqliteSchema(&db));
  TROUPE_RETURN_IF_ERROR(ConfigureConnection(&db, options, /*new_database=*/version == 0));
  TROUPE_RETURN_IF_ERROR(MigrateSqliteSchema(&db, version, WallNowMs()));
  std::unique_ptr<SqliteCheckpointer> checkpointer;
  if (!in_memory) {
    SqliteCheckpointer::Options checkpoint_options;
    checkpoint_options.synchronous = options.sync_full ? "FULL" : "NORMAL";
    TROUPE_ASSIGN_OR_RETURN(checkpointer,
                            SqliteCheckpointer::Start(db.handle(), db.path(), checkpoint_options));
  }
  auto store = std::make_unique<SqliteStore>(std::move(db), std::move(checkpointer));
  TROUPE_RETURN_IF_ERROR(store->PrepareStatements());
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace troupe
