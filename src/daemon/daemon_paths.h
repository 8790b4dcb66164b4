// Where a daemon keeps its files (DESIGN.md "Process model"). One daemon per data directory.
//   data dir   --data-dir, else $TROUPE_DATA_DIR, else the default data dir:
//              $XDG_DATA_HOME/troupe, else ~/.local/share/troupe      (created 0700)
//   database   <data dir>/troupe.db
//   lock       <data dir>/troupe.lock   flock()ed by the running daemon; holds its pid, socket
//                                       and TCP port as JSON, so a second start can say where
//   token      <data dir>/token         bearer token for TCP, 0600, generated on first start
//   log        <data dir>/troupe.log    with --detach
//   socket     --socket, else $TROUPE_SOCKET, else where a daemon of that data dir listens:
//              for the default data dir (however it was named: a --data-dir or
//              $TROUPE_DATA_DIR equal to it counts), $XDG_RUNTIME_DIR/troupe/troupe.sock when
//              $XDG_RUNTIME_DIR is an absolute path to a directory of this user that others
//              cannot write to (the XDG spec's demand; a missing one, or another user's after
//              `su`, is ignored), else ~/.local/state/troupe/troupe.sock; for any other data
//              dir <data dir>/troupe.sock — unless that path is too long for a Unix socket
//              (107 bytes), then <that runtime dir, else /tmp>/troupe-<uid>/<hash of data
//              dir>.sock. The socket's directory is created 0700.
// The socket depends on the data directory's value and the environment only, never on which
// option named the directory: a client and the daemon it starts (same environment) agree, and
// the client passes the daemon the socket it will wait on besides.
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

// What ResolveDaemonPaths reads of the machine.
struct PathsEnv {
  GetEnv getenv;
  // True when `dir` is an existing directory owned by this user that no one else can write to.
  std::function<bool(const std::string& dir)> is_private_dir;
};
// The real environment and file system.
PathsEnv ProcessPathsEnv();

// `data_dir` / `socket` are the command-line overrides ("" = none). Relative paths are made
// absolute against the current directory. Errors when no home directory can be found.
Result<DaemonPaths> ResolveDaemonPaths(const std::string& data_dir, const std::string& socket,
                                       const PathsEnv& env);

// Creates the data directory and the socket's directory (mode 0700; an existing directory
// that others can write to, or that belongs to another user, is refused with the reason).
Status PrepareDaemonDirs(const DaemonPaths& paths);

// Whether a client may talk to `socket`: OK when its directory does not exist yet (a daemon
// will make it) or is a real directory (lstat: not a symbolic link) that passes
// PrepareDaemonDirs's rules, and the socket, when there, is a socket of this user that others
// cannot write to — so a client never talks to a socket that another user put in a shared
// directory (/tmp) under a predictable name. The errors name the path and its owner.
Status CheckSocketDir(const std::string& socket);

}  // namespace troupe
