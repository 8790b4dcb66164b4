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

std::string TempPathFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  return dir + "/." + base + ".troupe-" + std::to_string(getpid()) + "-" +
         std::to_string(counter.fetch_add(1)) + ".tmp";
}

Status Errno(const std::string& what, const std::string& path) {
  return Status::IoError(what + " " + path + ": " + std::strerror(errno));
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::string_view content,
                           std::optional<mode_t> mode) {
  const std::string temp = TempPathFor(path);
  int fd = open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
  if (fd < 0) return Errno("cannot create a temporary file for", path);
  Status status;
  if (mode && fchmod(fd, *mode) != 0) status = Errno("cannot set the mode of", temp);
  size_t written = 0;
  while (status.ok() && written < content.size()) {
    ssize_t n = write(fd, content.data() + written, content.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) status = Errno("cannot write", temp);
    if (n > 0) written += static_cast<size_t>(n);
  }
  if (status.ok() && fsync(fd) != 0) status = Errno("cannot flush", temp);
  if (close(fd) != 0 && status.ok()) status = Errno("cannot close", temp);
  if (status.ok() && rename(temp.c_str(), path.c_str()) != 0) {
    status = Errno("cannot replace", path);
  }
  if (!status.ok()) unlink(temp.c_str());
  return status;
}

Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open", path);
  std::string content;
  char buffer[64 * 1024];
  Status status;
  while (true) {
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = Errno("cannot read", path);
      break;
    }
    if (n == 0) break;
    content.append(buffer, static_cast<size_t>(n));
    if (content.size() > max_bytes) {
      status = Status::ResourceExhausted(path + " is larger than " + FormatBytes(max_bytes));
      break;
    }
  }
  close(fd);
  if (!status.ok()) return status;
  return content;
}

}  // namespace troupe
