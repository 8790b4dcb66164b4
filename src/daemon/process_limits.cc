#include "daemon/process_limits.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace troupe {

Result<OpenFileLimit> RaiseOpenFileLimit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Status::IoError(fmt::format("cannot read the open-file limit: {}", std::strerror(errno)));
  }
  OpenFileLimit out;
  out.before = limit.rlim_cur;
  out.now = limit.rlim_cur;
  if (limit.rlim_cur == limit.rlim_max) return out;
  rlimit raised = limit;
  raised.rlim_cur = limit.rlim_max;
  if (::setrlimit(RLIMIT_NOFILE, &raised) != 0) {
    return Status::IoError(fmt::format("cannot raise the open-file limit from {} to {}: {}",
                                       limit.rlim_cur, limit.rlim_max, std::strerror(errno)));
  }
  out.now = raised.rlim_cur;
  return out;
}

Status MakePrivateDatabaseFiles(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) {
    return Status::IoError(fmt::format("cannot open {}: {}", path, std::strerror(errno)));
  }
  const int chmodded = ::fchmod(fd, 0600);
  const int error = errno;
  ::close(fd);
  if (chmodded != 0) {
    return Status::IoError(fmt::format("cannot make {} private (chmod 600): {}", path,
                                       std::strerror(error)));
  }
  for (const char* suffix : {"-wal", "-shm"}) {
    const std::string side = path + suffix;
    struct stat st {};
    if (::lstat(side.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
    if ((st.st_mode & 0077) != 0 && ::chmod(side.c_str(), 0600) != 0) {
      return Status::IoError(fmt::format("cannot make {} private (chmod 600): {}", side,
                                         std::strerror(errno)));
    }
  }
  return Status::Ok();
}

}  // namespace troupe
