#include "daemon/token_file.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/unique_fd.h"

namespace troupe {
namespace {

constexpr size_t kTokenBytes = 32;  // 256 bits
constexpr size_t kTokenHexChars = 2 * kTokenBytes;
constexpr size_t kMaxTokenFile = 4096;

std::string Errno() { return std::strerror(errno); }

bool IsLowerHex(const std::string& s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Status WriteAll(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::IoError(Errno());
    }
    done += static_cast<size_t>(n);
  }
  return Status::Ok();
}

}  // namespace

Result<std::string> GenerateToken() {
  UniqueFd fd(::open("/dev/urandom", O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return Status::IoError("cannot open /dev/urandom: " + Errno());
  unsigned char bytes[kTokenBytes];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::read(fd.get(), bytes + got, sizeof bytes - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Status::IoError("cannot read /dev/urandom: " + (n < 0 ? Errno() : "EOF"));
    got += static_cast<size_t>(n);
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string token;
  token.reserve(kTokenHexChars);
  for (unsigned char b : bytes) {
    token += kHex[b >> 4];
    token += kHex[b & 0xf];
  }
  return token;
}

Result<std::string> ReadToken(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) {
    if (errno == ENOENT) return Status::NotFound(fmt::format("no token file {}", path));
    if (errno == ELOOP) {
      return Status::FailedPrecondition(fmt::format(
          "token file {} is a symbolic link; troupe only uses a regular file of its own", path));
    }
    return Status::IoError(fmt::format("cannot open token file {}: {}", path, Errno()));
  }
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) {
    return Status::IoError(fmt::format("cannot stat token file {}: {}", path, Errno()));
  }
  if (!S_ISREG(st.st_mode)) {
    return Status::FailedPrecondition(
        fmt::format("token file {} is not a regular file; remove it to get a new token", path));
  }
  if (st.st_uid != ::geteuid()) {
    return Status::FailedPrecondition(
        fmt::format("token file {} belongs to another user (uid {}); remove it to get a new token",
                    path, st.st_uid));
  }
  if ((st.st_mode & 077) != 0) {
    return Status::FailedPrecondition(fmt::format(
        "token file {} is open to other users (mode {:o}); run `chmod 600 {}`, or remove it "
        "to get a new token",
        path, st.st_mode & 0777, path));
  }
  std::string text;
  char buffer[512];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Status::IoError(fmt::format("cannot read token file {}: {}", path, Errno()));
    if (n == 0) break;
    text.append(buffer, static_cast<size_t>(n));
    if (text.size() > kMaxTokenFile) break;
  }
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  if (text.size() != kTokenHexChars || !IsLowerHex(text)) {
    return Status::Corruption(fmt::format(
        "token file {} does not hold a token ({} hex characters expected); remove it to get a "
        "new one",
        path, kTokenHexChars));
  }
  return text;
}

Result<std::string> LoadOrCreateToken(const std::string& path) {
  Result<std::string> existing = ReadToken(path);
  if (existing.ok() || existing.status().code() != StatusCode::kNotFound) return existing;

  std::string token;
  TROUPE_ASSIGN_OR_RETURN(token, GenerateToken());
  // Written aside under a name of this process, then linked to `path`: link() fails when the
  // name exists, so a concurrent creator's token wins and is read back.
  const std::string temp = fmt::format("{}.tmp.{}", path, ::getpid());
  ::unlink(temp.c_str());
  {
    UniqueFd fd(::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (fd.get() < 0) {
      return Status::IoError(fmt::format("cannot create token file {}: {}", temp, Errno()));
    }
    // The mode given to open() is masked by the umask; make sure it is exactly 0600.
    Status s =
        ::fchmod(fd.get(), 0600) == 0 ? WriteAll(fd.get(), token + "\n") : Status::IoError(Errno());
    if (s.ok() && ::fsync(fd.get()) != 0) s = Status::IoError(Errno());
    if (!s.ok()) {
      ::unlink(temp.c_str());
      return Status::IoError(fmt::format("cannot write token file {}: {}", temp, s.message()));
    }
  }
  const int linked = ::link(temp.c_str(), path.c_str());
  const int link_errno = errno;
  ::unlink(temp.c_str());
  if (linked != 0 && link_errno != EEXIST) {
    return Status::IoError(
        fmt::format("cannot create token file {}: {}", path, std::strerror(link_errno)));
  }
  return ReadToken(path);
}

}  // namespace troupe
