// The lock file holds one JSON object, {"pid":N,"socket":"…","tcp_port":P,"started_at_ms":T},
// followed by a newline and, when it replaced a longer text, blanks. It is rewritten in place
// (never truncated below the previous length), so a reader sees either the old object or the
// new one, never a cut one. The pid alone is written as soon as the lock is taken, so a second
// start can name the holder even before it listens.
#include "daemon/daemon_lock.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

namespace troupe {
namespace {

using json = nlohmann::json;

constexpr size_t kMaxLockFile = 64 * 1024;

std::string Errno() { return std::strerror(errno); }

std::string DataDirOf(const std::string& lock_path) {
  std::string dir = std::filesystem::path(lock_path).parent_path().string();
  return dir.empty() ? "." : dir;
}

Result<std::string> ReadAll(int fd) {
  std::string text;
  char buffer[4096];
  off_t offset = 0;
  for (;;) {
    ssize_t n = ::pread(fd, buffer, sizeof buffer, offset);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(Errno());
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    offset += n;
    if (text.size() > kMaxLockFile) break;
  }
  return text;
}

// What the file says; an address with pid 0 when it says nothing readable.
DaemonAddress ParseAddress(const std::string& text) {
  DaemonAddress a;
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return a;
  auto get_int = [&](const char* key) -> int64_t {
    auto it = j.find(key);
    return it != j.end() && it->is_number_integer() ? it->get<int64_t>() : 0;
  };
  a.pid = get_int("pid");
  a.tcp_port = static_cast<int>(get_int("tcp_port"));
  a.started_at_ms = get_int("started_at_ms");
  if (auto it = j.find("socket"); it != j.end() && it->is_string())
    a.socket = it->get<std::string>();
  return a;
}

std::string Describe(const DaemonAddress& a) {
  if (a.pid <= 0) return "starting up";
  std::string s = fmt::format("pid {}", a.pid);
  if (a.socket.empty()) return s + ", starting up";
  s += fmt::format(", socket {}", a.socket);
  if (a.tcp_port > 0) s += fmt::format(", tcp 127.0.0.1:{}", a.tcp_port);
  return s;
}

Status WriteAddress(int fd, const DaemonAddress& a) {
  json j = {{"pid", a.pid}};
  if (!a.socket.empty() || a.tcp_port != 0 || a.started_at_ms != 0) {
    j["socket"] = a.socket;
    j["tcp_port"] = a.tcp_port;
    j["started_at_ms"] = a.started_at_ms;
  }
  std::string text = j.dump() + "\n";
  struct stat st {};
  if (::fstat(fd, &st) != 0) return Status::IoError(Errno());
  if (static_cast<off_t>(text.size()) < st.st_size) {
    text.append(static_cast<size_t>(st.st_size) - text.size(), ' ');
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::pwrite(fd, text.data() + done, text.size() - done, static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(Errno());
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

std::string AlreadyRunningText(const std::string& lock_path, const DaemonAddress& holder) {
  return fmt::format("already running for {} ({})", DataDirOf(lock_path), Describe(holder));
}

Result<DaemonLock> DaemonLock::Acquire(const std::string& lock_path, DaemonAddress* holder) {
  // O_CLOEXEC: a tool's child process must never inherit (and so keep) the daemon's lock.
  int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::IoError(fmt::format("cannot open lock file {}: {}", lock_path, Errno()));
  }
  // ReadRunningDaemon holds a shared lock for a moment while it reads; a few quick retries
  // keep such a reader from being taken for a running daemon.
  int busy_retries = 20;
  while (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    const int err = errno;
    if (err == EWOULDBLOCK && busy_retries-- > 0) {
      ::usleep(5'000);
      continue;
    }
    if (err == EWOULDBLOCK) {
      Result<std::string> text = ReadAll(fd);
      ::close(fd);
      const DaemonAddress held_by = ParseAddress(text.ok() ? text.value() : "");
      if (holder != nullptr) *holder = held_by;
      return Status::FailedPrecondition("troupe is " + AlreadyRunningText(lock_path, held_by));
    }
    ::close(fd);
    return Status::IoError(fmt::format("cannot lock {}: {}", lock_path, std::strerror(err)));
  }
  DaemonLock lock(fd, lock_path);
  DaemonAddress self;
  self.pid = ::getpid();
  // A file left by an earlier daemon names it; this one now holds the lock.
  if (::ftruncate(fd, 0) != 0 || !WriteAddress(fd, self).ok()) {
    return Status::IoError(fmt::format("cannot write lock file {}: {}", lock_path, Errno()));
  }
  return lock;
}

DaemonLock::DaemonLock(DaemonLock&& other) noexcept
    : fd_(other.fd_), path_(std::move(other.path_)) {
  other.fd_ = -1;
}

DaemonLock& DaemonLock::operator=(DaemonLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = other.fd_;
    path_ = std::move(other.path_);
    other.fd_ = -1;
  }
  return *this;
}

DaemonLock::~DaemonLock() {
  // Closing the descriptor releases the flock.
  if (fd_ >= 0) ::close(fd_);
}

Status DaemonLock::Publish(const DaemonAddress& address) {
  if (fd_ < 0) return Status::FailedPrecondition("the daemon lock was moved away");
  Status s = WriteAddress(fd_, address);
  if (!s.ok()) {
    return Status::IoError(fmt::format("cannot write lock file {}: {}", path_, s.message()));
  }
  return Status::Ok();
}

Result<std::optional<DaemonAddress>> ReadRunningDaemon(const std::string& lock_path) {
  int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<DaemonAddress>();
    return Status::IoError(fmt::format("cannot open lock file {}: {}", lock_path, Errno()));
  }
  int rc;
  while ((rc = ::flock(fd, LOCK_SH | LOCK_NB)) != 0 && errno == EINTR) {
  }
  if (rc == 0) {
    // Nobody holds it: no daemon runs (what the file says is from one that stopped).
    ::close(fd);
    return std::optional<DaemonAddress>();
  }
  if (errno != EWOULDBLOCK) {
    const std::string err = Errno();
    ::close(fd);
    return Status::IoError(fmt::format("cannot lock {}: {}", lock_path, err));
  }
  Result<std::string> text = ReadAll(fd);
  ::close(fd);
  if (!text.ok()) {
    return Status::IoError(
        fmt::format("cannot read lock file {}: {}", lock_path, text.status().message()));
  }
  return std::optional<DaemonAddress>(ParseAddress(text.value()));
}

}  // namespace troupe
