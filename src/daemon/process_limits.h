// What the daemon sets up about its own process and files before it serves: the open-file limit
// raised to what the system allows (each client connection, the store and every tool process
// take descriptors; the soft limit is often 1024 while the hard one is far higher), and the
// database files readable by the owner only.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace troupe {

struct OpenFileLimit {
  uint64_t before = 0;  // the soft limit found
  uint64_t now = 0;     // the soft limit set (the hard limit, or `before` when it was that)
};

// Raises RLIMIT_NOFILE's soft limit to its hard limit.
Result<OpenFileLimit> RaiseOpenFileLimit();

// Makes `path` (and SQLite's `-wal` and `-shm` beside it, when there) a file only its owner can
// read and write (0600), creating `path` empty if it does not exist, so that SQLite, which
// gives its side files the mode of the database, never creates one readable by others.
Status MakePrivateDatabaseFiles(const std::string& path);

}  // namespace troupe
