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
  if (!S_ISDIR(st.st_mode)) {
    return Status::FailedPrecondition(fmt::format("{} exists and is not a directory", dir));
  }
  if (st.st_uid != ::geteuid()) {
    return Status::FailedPrecondition(fmt::format(
        "{} belongs to another user (uid {}); troupe keeps its files in a directory of its own",
        dir, st.st_uid));
  }
  // A directory others could write to may already hold what they put there (a socket, a link
  // named troupe.db): refused. One they can only read is made private. One just created got
  // the umask's mode: made private too.
  if (!created && (st.st_mode & 0022) != 0) {
    return Status::FailedPrecondition(fmt::format(
        "{} is writable by other users (mode {:o}); troupe keeps its files in a private "
        "directory: run `chmod 700 {}` or choose another directory",
        dir, st.st_mode & 0777, dir));
  }
  if ((st.st_mode & 0077) != 0 && ::chmod(dir.c_str(), 0700) != 0) {
    return Status::IoError(
        fmt::format("{} is open to other users (mode {:o}) and chmod 0700 "
                    "failed: {}",
                    dir, st.st_mode & 0777, std::strerror(errno)));
  }
  return Status::Ok();
}

}  // namespace

GetEnv ProcessEnv() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<DaemonPaths> ResolveDaemonPaths(const std::string& data_dir, const std::string& socket,
                                       const GetEnv& getenv) {
  auto home = NonEmpty(getenv, "HOME");
  DaemonPaths p;
  bool default_dir = false;
  if (!data_dir.empty()) {
    p.data_dir = Absolute(data_dir);
  } else if (auto env = NonEmpty(getenv, "TROUPE_DATA_DIR")) {
    p.data_dir = Absolute(*env);
  } else if (auto xdg = NonEmpty(getenv, "XDG_DATA_HOME")) {
    p.data_dir = Absolute(*xdg + "/troupe");
    default_dir = true;
  } else if (home) {
    p.data_dir = Absolute(*home + "/.local/share/troupe");
    default_dir = true;
  } else {
    return Status::InvalidArgument(
        "cannot find a data directory: HOME is not set; pass --data-dir or set TROUPE_DATA_DIR");
  }
  p.db = p.data_dir + "/troupe.db";
  p.lock = p.data_dir + "/troupe.lock";
  p.token = p.data_dir + "/token";
  p.log = p.data_dir + "/troupe.log";

  const auto runtime = NonEmpty(getenv, "XDG_RUNTIME_DIR");
  std::optional<std::string> explicit_socket;
  if (!socket.empty()) {
    explicit_socket = "--socket";
    p.socket = Absolute(socket);
  } else if (auto env = NonEmpty(getenv, "TROUPE_SOCKET")) {
    explicit_socket = "TROUPE_SOCKET";
    p.socket = Absolute(*env);
  } else if (default_dir && runtime) {
    p.socket = Absolute(*runtime + "/troupe/troupe.sock");
  } else if (default_dir && home) {
    p.socket = Absolute(*home + "/.local/state/troupe/troupe.sock");
  } else {
    p.socket = p.data_dir + "/troupe.sock";
  }
  if (p.socket.size() > kMaxSocketPath && explicit_socket) {
    // A path the user chose is used as given or not at all: a client told the same path must
    // find the daemon there.
    return Status::InvalidArgument(
        fmt::format("{}: socket path {} is {} bytes, longer than the {} a Unix socket allows",
                    *explicit_socket, p.socket, p.socket.size(), kMaxSocketPath));
  }
  if (p.socket.size() > kMaxSocketPath) {
    const std::string base = runtime ? Absolute(*runtime) : std::string("/tmp");
    p.socket = fmt::format("{}/troupe-{}/{}.sock", base, ::geteuid(), ShortHash(p.data_dir));
    if (p.socket.size() > kMaxSocketPath) {
      return Status::InvalidArgument(fmt::format(
          "socket path {} is longer than the {} bytes a Unix socket allows; pass --socket",
          p.socket, kMaxSocketPath));
    }
  }
  return p;
}

Status PrepareDaemonDirs(const DaemonPaths& paths) {
  TROUPE_RETURN_IF_ERROR(MakePrivateDir(paths.data_dir));
  return MakePrivateDir(fs::path(paths.socket).parent_path().string());
}

}  // namespace troupe
