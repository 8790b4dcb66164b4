// One daemon per data directory: an flock() on <data dir>/troupe.lock held for the daemon's
// life. The file records where the holder listens, so a second start (and the CLI) can say.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/status.h"

namespace troupe {

struct DaemonAddress {
  int64_t pid = 0;
  std::string socket;
  int tcp_port = 0;  // 0 = no TCP listener
  int64_t started_at_ms = 0;
};

class DaemonLock {
 public:
  // Takes the lock without waiting. FailedPrecondition "troupe is already running for <data
  // dir> (pid N, socket S)" when another process holds it, its address then in `*holder` (when
  // given) for a caller that says it in its own words (AlreadyRunningText).
  static Result<DaemonLock> Acquire(const std::string& lock_path, DaemonAddress* holder = nullptr);
  DaemonLock(DaemonLock&& other) noexcept;
  DaemonLock& operator=(DaemonLock&& other) noexcept;
  ~DaemonLock();  // releases the lock (the file stays)

  // Writes the address into the lock file (after the listeners are up).
  Status Publish(const DaemonAddress& address);

 private:
  explicit DaemonLock(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_ = -1;
  std::string path_;
};

// "already running for <data dir> (pid N, socket S, tcp 127.0.0.1:P)": the daemon `holder` that
// holds the lock at `lock_path`.
std::string AlreadyRunningText(const std::string& lock_path, const DaemonAddress& holder);

// What the lock file says, if a daemon holds it now (nullopt when no one holds the lock).
Result<std::optional<DaemonAddress>> ReadRunningDaemon(const std::string& lock_path);

}  // namespace troupe
