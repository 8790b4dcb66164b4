#include "daemon/daemon_paths.h"

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>

namespace troupe {
namespace {

namespace fs = std::filesystem;

// sockaddr_un.sun_path holds 108 bytes including the terminating NUL.
constexpr size_t kMaxSocketPath = 107;

std::optional<std::string> NonEmpty(const GetEnv& getenv, const std::string& name) {
  auto v = getenv(name);
  if (!v || v->empty()) return std::nullopt;
  return v;
}

std::string Absolute(const std::string& path) {
  std::error_code ec;
  fs::path p = fs::absolute(path, ec);
  if (ec) p = path;
  std::string s = p.lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

// A short, stable name for a long data directory (FNV-1a, 64 bits).
std::string ShortHash(const std::string& text) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return fmt::format("{:016x}", h);
}

// A directory troupe's files may live in: a directory of this user's. (Whether others can
// write to it is a separate rule: a directory just created gets fixed instead.)
Status CheckOwnDir(const std::string& dir, const struct stat& st) {
  if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition(fmt::format("{} exists and is not a directory", dir));
  }
  if (st.st_uid != ::geteuid()) {
    return Status::FailedPrecondition(fmt::format(
        "{} belongs to another user (uid {}); troupe keeps its files in a directory of its own",
        dir, st.st_uid));
  }
  return Status::Ok();
}

// A directory others could write to may already hold what they put there (a socket, a link
// named troupe.db).
Status CheckNotWritableByOthers(const std::string& dir, const struct stat& st) {
  if ((st.st_mode & 0022) != 0) {
    return Status::FailedPrecondition(fmt::format(
        "{} is writable by other users (mode {:o}); troupe keeps its files in a private "
        "directory: run `chmod 700 {}` or choose another directory",
        dir, st.st_mode & 0777, dir));
  }
  return Status::Ok();
}

Status MakePrivateDir(const std::string& dir) {
  std::error_code ec;
  const bool created = fs::create_directories(dir, ec);
  if (ec) {
    return Status::IoError(fmt::format("cannot create directory {}: {}", dir, ec.message()));
  }
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    return Status::IoError(fmt::format("cannot stat {}: {}", dir, std::strerror(errno)));
  }
  TROUPE_RETURN_IF_ERROR(CheckOwnDir(dir, st));
  // An existing one others can write to is refused; one they can only read is made private. One
  // just created got the umask's mode: made private too.
  if (!created) TROUPE_RETURN_IF_ERROR(CheckNotWritableByOthers(dir, st));
  if ((st.st_mode & 0077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::IoError(
        fmt::format("{} is open to other users (mode {:o}) and chmod 0700 "
                    "failed: {}",
                    dir, st.st_mode & 0777, std::strerror(errno)));
  }
  return Status::Ok();
}

bool IsPrivateDir(const std::string& dir) {
  struct stat st {};
  return ::stat(dir.c_str(), &st) == 0 && CheckOwnDir(dir, st).ok() &&
         CheckNotWritableByOthers(dir, st).ok();
}

// The default data dir: $XDG_DATA_HOME/troupe, else ~/.local/share/troupe; nullopt without
// either variable.
std::optional<std::string> DefaultDataDir(const GetEnv& getenv) {
  if (auto xdg = NonEmpty(getenv, "XDG_DATA_HOME")) return Absolute(*xdg + "/troupe");
  if (auto home = NonEmpty(getenv, "HOME")) return Absolute(*home + "/.local/share/troupe");
  return std::nullopt;
}

// $XDG_RUNTIME_DIR when it can hold a socket: an absolute path to a private directory of this
// user's (the XDG Base Directory spec's demand). Any other counts as unset: one a container names
// but never made, or the first user's in a `su` shell.
std::optional<std::string> UsableRuntimeDir(const PathsEnv& env) {
  auto runtime = NonEmpty(env.getenv, "XDG_RUNTIME_DIR");
  if (!runtime || runtime->front() != '/' || !env.is_private_dir(*runtime)) return std::nullopt;
  return Absolute(*runtime);
}

// Where a daemon of `data_dir` listens when no socket is named: decided by the directory's
// value, so every way of naming the same directory gives the same socket.
Result<std::string> DefaultSocket(const std::string& data_dir, const PathsEnv& env) {
  const auto home = NonEmpty(env.getenv, "HOME");
  const auto runtime = UsableRuntimeDir(env);
  const bool default_dir = data_dir == DefaultDataDir(env.getenv);
  std::string socket;
  if (default_dir && runtime) {
    socket = Absolute(*runtime + "/troupe/troupe.sock");
  } else if (default_dir && home) {
    socket = Absolute(*home + "/.local/state/troupe/troupe.sock");
  } else {
    socket = data_dir + "/troupe.sock";
  }
  if (socket.size() <= kMaxSocketPath) return socket;
  socket = Absolute(fmt::format("{}/troupe-{}/{}.sock", runtime.value_or("/tmp"), ::geteuid(),
                                ShortHash(data_dir)));
  if (socket.size() > kMaxSocketPath) {
    return Status::InvalidArgument(fmt::format(
        "socket path {} is longer than the {} bytes a Unix socket allows; pass --socket", socket,
        kMaxSocketPath));
  }
  return socket;
}

}  // namespace

GetEnv ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

PathsEnv ProcessPathsEnv() { return PathsEnv{ProcessEnv(), &IsPrivateDir}; }

Result<DaemonPaths> ResolveDaemonPaths(const std::string& data_dir, const std::string& socket,
                                       const PathsEnv& env) {
  DaemonPaths p;
  if (!data_dir.empty()) {
    p.data_dir = Absolute(data_dir);
  } else if (auto from_env = NonEmpty(env.getenv, "TROUPE_DATA_DIR")) {
    p.data_dir = Absolute(*from_env);
  } else if (auto default_dir = DefaultDataDir(env.getenv)) {
    p.data_dir = *default_dir;
  } else {
    return Status::InvalidArgument(
        "cannot find a data directory: HOME is not set; pass --data-dir or set TROUPE_DATA_DIR");
  }
  p.db = p.data_dir + "/troupe.db";
  p.lock = p.data_dir + "/troupe.lock";
  p.token = p.data_dir + "/token";
  p.log = p.data_dir + "/troupe.log";

  std::optional<std::string> named_by;
  if (!socket.empty()) {
    named_by = "--socket";
    p.socket = Absolute(socket);
  } else if (auto from_env = NonEmpty(env.getenv, "TROUPE_SOCKET")) {
    named_by = "TROUPE_SOCKET";
    p.socket = Absolute(*from_env);
  } else {
    TROUPE_ASSIGN_OR_RETURN(p.socket, DefaultSocket(p.data_dir, env));
  }
  if (named_by && p.socket.size() > kMaxSocketPath) {
    // A path the user chose is used as given or not at all: a client told the same path must
    // find the daemon there.
    return Status::InvalidArgument(
        fmt::format("{}: socket path {} is {} bytes, longer than the {} a Unix socket allows",
                    *named_by, p.socket, p.socket.size(), kMaxSocketPath));
  }
  return p;
}

Status PrepareDaemonDirs(const DaemonPaths& paths) {
  TROUPE_RETURN_IF_ERROR(MakePrivateDir(paths.data_dir));
  return MakePrivateDir(fs::path(paths.socket).parent_path().string());
}

Status CheckSocketDir(const std::string& socket) {
  const std::string dir = fs::path(socket).parent_path().string();
  struct stat st {};
  // lstat: a link could be pointed elsewhere between this check and the connect.
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::Ok();
    return Status::IoError(fmt::format("cannot stat {}: {}", dir, std::strerror(errno)));
  }
  if (S_ISLNK(st.st_mode)) {
    return Status::FailedPrecondition(fmt::format(
        "{} is a symbolic link; troupe's socket directory must be a real directory", dir));
  }
  TROUPE_RETURN_IF_ERROR(CheckOwnDir(dir, st));
  TROUPE_RETURN_IF_ERROR(CheckNotWritableByOthers(dir, st));
  struct stat sock {};
  if (::lstat(socket.c_str(), &sock) != 0) {
    if (errno == ENOENT) return Status::Ok();  // nothing to talk to yet
    return Status::IoError(fmt::format("cannot stat {}: {}", socket, std::strerror(errno)));
  }
  if (!S_ISSOCK(sock.st_mode)) {
    return Status::FailedPrecondition(fmt::format("{} is not a socket", socket));
  }
  if (sock.st_uid != ::geteuid()) {
    return Status::FailedPrecondition(fmt::format(
        "{} belongs to another user (uid {}); a troupe daemon's socket is its owner's", socket,
        sock.st_uid));
  }
  if ((sock.st_mode & 0022) != 0) {
    return Status::FailedPrecondition(fmt::format(
        "{} is writable by other users (mode {:o}); a troupe daemon's socket is its owner's only",
        socket, sock.st_mode & 0777));
  }
  return Status::Ok();
}

}  // namespace troupe
