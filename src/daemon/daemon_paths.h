// Where a daemon keeps its files (DESIGN.md "Process model"). One daemon per data directory.
//   data dir   --data-dir, else $TROUPE_DATA_DIR, else $XDG_DATA_HOME/troupe, else
//              ~/.local/share/troupe                         (created 0700)
//   database   <data dir>/troupe.db
//   lock       <data dir>/troupe.lock   flock()ed by the running daemon; holds its pid, socket
//                                       and TCP port as JSON, so a second start can say where
//   token      <data dir>/token         bearer token for TCP, 0600, generated on first start
//   log        <data dir>/troupe.log    with --detach
//   socket     --socket, else $TROUPE_SOCKET, else, for the default data dir,
//              $XDG_RUNTIME_DIR/troupe/troupe.sock or ~/.local/state/troupe/troupe.sock; for any
//              other data dir <data dir>/troupe.sock — unless that path is too long for a Unix
//              socket (107 bytes), then $XDG_RUNTIME_DIR or /tmp /troupe-<uid>/<hash of data
//              dir>.sock. The socket's directory is created 0700.
// Pure computation from the environment (injected); creating directories is separate.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "core/status.h"

namespace troupe {

struct DaemonPaths {
  std::string data_dir;
  std::string db;
  std::string lock;
  std::string token;
  std::string log;
  std::string socket;
};

using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;
GetEnv ProcessEnv();

// `data_dir` / `socket` are the command-line overrides ("" = none). Relative paths are made
// absolute against the current directory. Errors when no home directory can be found.
Result<DaemonPaths> ResolveDaemonPaths(const std::string& data_dir, const std::string& socket,
                                       const GetEnv& getenv);

// Creates the data directory and the socket's directory (mode 0700; an existing directory
// that others can write to is refused with the reason).
Status PrepareDaemonDirs(const DaemonPaths& paths);

}  // namespace troupe
