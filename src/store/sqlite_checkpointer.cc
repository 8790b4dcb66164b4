#include "store/sqlite_checkpointer.h"

#include <utility>

namespace troupe {

Result<std::unique_ptr<SqliteCheckpointer>> SqliteCheckpointer::Start(sqlite3* writer,
                                                                      const std::string& path,
                                                                      const Options& options) {
  TROUPE_ASSIGN_OR_RETURN(SqliteDb db,
                          SqliteDb::Open(path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX));
  TROUPE_RETURN_IF_ERROR(db.Exec("PRAGMA synchronous = " + options.synchronous));
  std::unique_ptr<SqliteCheckpointer> checkpointer(
      new SqliteCheckpointer(writer, std::move(db), options));
  checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->Run(); });
  // Replaces the automatic checkpoint, which is itself a WAL hook.
  sqlite3_wal_hook(writer, &SqliteCheckpointer::OnCommit, checkpointer.get());
  return checkpointer;
}

SqliteCheckpointer::SqliteCheckpointer(sqlite3* writer, SqliteDb db, const Options& options)
    : writer_(writer), db_(std::move(db)), options_(options) {}

SqliteCheckpointer::~SqliteCheckpointer() {
  sqlite3_wal_hook(writer_, nullptr, nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

int SqliteCheckpointer::OnCommit(void* self, sqlite3* db, const char* /*schema*/, int wal_pages) {
  auto* c = static_cast<SqliteCheckpointer*>(self);
  if (wal_pages >= c->options_.wal_pages_limit) {
    c->Checkpoint(db);  // the commit has happened; this only bounds the WAL's growth
    return SQLITE_OK;
  }
  if (wal_pages < c->options_.wal_pages) return SQLITE_OK;
  {
    std::lock_guard<std::mutex> lock(c->mu_);
    if (c->requested_) return SQLITE_OK;
    c->requested_ = true;
  }
  c->cv_.notify_all();
  return SQLITE_OK;
}

void SqliteCheckpointer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    cv_.wait(lock, [this] { return requested_ || stop_; });
    if (stop_) return;
    requested_ = false;
    running_ = true;
    lock.unlock();
    Checkpoint(db_.handle());
    lock.lock();
    running_ = false;
    cv_.notify_all();
  }
}

void SqliteCheckpointer::Checkpoint(sqlite3* db) {
  // PASSIVE: copies what it can without waiting for, or blocking, readers and the writer.
  int rc = sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  // BUSY only means another checkpoint was running; the next request catches up.
  Status status = rc == SQLITE_OK || rc == SQLITE_BUSY
                      ? Status::Ok()
                      : SqliteError(db, rc, "PRAGMA wal_checkpoint(PASSIVE)");
  std::lock_guard<std::mutex> lock(mu_);
  ++checkpoints_;
  last_status_ = std::move(status);
}

void SqliteCheckpointer::WaitIdle() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [this] { return (!requested_ && !running_) || stop_; });
}

int64_t SqliteCheckpointer::checkpoints() const {
  std::lock_guard<std::mutex> lock(mu_);
  return checkpoints_;
}

Status SqliteCheckpointer::last_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_status_;
}

}  // namespace troupe
