#include "agent/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "agent/tool_output.h"

namespace troupe {
namespace {

std::string TempNameFor(const std::string& name) {
  static std::atomic<uint64_t> counter{0};
  return "." + name + ".troupe-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + ".tmp";
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status WriteFileAtomicallyAt(int dir_fd, const std::string& name, std::string_view content,
                             std::optional<mode_t> mode, const std::string& shown) {
  const std::string temp = TempNameFor(name);
  int fd = openat(dir_fd, temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0666);
  if (fd < 0) return Errno("cannot create a temporary file for", shown);
  Status status;
  if (mode && fchmod(fd, *mode) != 0) status = Errno("cannot set the mode of", shown);
  size_t written = 0;
  while (status.ok() && written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Errno("cannot write", shown);
    if (n > 0) written += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) status = Errno("cannot flush", shown);
  if (close(fd) != 0 && status.ok()) status = Errno("cannot close", shown);
  if (status.ok() && renameat(dir_fd, temp.c_str(), dir_fd, name.c_str()) != 0) {
    status = Errno("cannot replace", shown);
  }
  if (!status.ok()) unlinkat(dir_fd, temp.c_str(), 0);
  return status;
}

Status WriteFileAtomically(const std::string& path, std::string_view content,
                           std::optional<mode_t> mode) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  int dir_fd = open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return Errno("cannot create a temporary file for", path);
  Status status = WriteFileAtomicallyAt(dir_fd, name, content, mode, path);
  close(dir_fd);
  return status;
}

Result<std::string> ReadWholeFd(int fd, size_t max_bytes, const std::string& shown) {
  std::string content;
  char buffer[64 * 1024];
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read", shown);
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      return Status::ResourceExhausted(shown + " is larger than " + FormatBytes(max_bytes));
    }
  }
  return content;
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  Result<std::string> content = ReadWholeFd(fd, max_bytes, path);
  close(fd);
  return content;
}

}  // namespace troupe
