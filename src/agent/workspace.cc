#include "agent/workspace.h"

#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <deque>
#include <vector>

namespace troupe {
namespace {

// Same bound as the kernel's MAXSYMLINKS.
constexpr int kMaxSymlinks = 40;

// The non-empty components of `path` ("/a//b/" -> {"a", "b"}).
std::vector<std::string> Components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    if (j > i) out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

std::string JoinAbsolute(const std::vector<std::string>& components) {
  if (components.empty()) return "/";
  std::string out;
  for (const std::string& c : components) {
    out += '/';
    out += c;
  }
  return out;
}

Result<std::string> ReadLink(const std::string& path) {
  std::string target(PATH_MAX, '\0');
  ssize_t n = readlink(path.c_str(), target.data(), target.size());
  if (n < 0) {
    return Status::InvalidArgument("cannot read the symbolic link " + path + ": " +
                                   std::strerror(errno));
  }
  target.resize(static_cast<size_t>(n));
  return target;
}

}  // namespace

bool PathIsInside(std::string_view path, std::string_view root) {
  if (path.empty() || path[0] != '/' || root.empty() || root[0] != '/') return false;
  std::vector<std::string> p = Components(path);
  std::vector<std::string> r = Components(root);
  if (p.size() < r.size()) return false;
  for (size_t i = 0; i < r.size(); ++i) {
    if (p[i] != r[i]) return false;
  }
  return true;
}

Result<Workspace> Workspace::Open(std::string_view root) {
  if (root.empty() || root[0] != '/' || root.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("workspace root \"" + std::string(root) +
                                   "\" is not an absolute path");
  }
  std::string given(root);
  char buffer[PATH_MAX];
  if (realpath(given.c_str(), buffer) == nullptr) {
    return Status::NotFound("workspace root " + given +
                            " cannot be resolved: " + std::strerror(errno));
  }
  struct stat st;
  if (stat(buffer, &st) != 0 || !S_ISDIR(st.st_mode)) {
    return Status::InvalidArgument("workspace root " + given + " is not a directory");
  }
  return Workspace(buffer);
}

Result<std::string> Workspace::Resolve(std::string_view path) const {
  if (path.empty()) {
    return Status::InvalidArgument("the path is empty; give a path relative to the workspace " +
                                   root_);
  }
  if (path.find('\0') != std::string_view::npos) {
    return Status::InvalidArgument("the path contains a NUL byte");
  }
  const std::string shown(path);
  std::deque<std::string> pending;
  for (std::string& c : Components(path[0] == '/' ? shown : root_ + "/" + shown)) {
    pending.push_back(std::move(c));
  }

  std::vector<std::string> resolved;  // components of the resolved prefix
  size_t missing = 0;                 // trailing components of `resolved` that do not exist
  int links = 0;
  while (!pending.empty()) {
    std::string name = std::move(pending.front());
    pending.pop_front();
    if (name == ".") continue;
    if (name == "..") {
      // `resolved` holds no links, so dropping its last component is the physical parent.
      if (!resolved.empty()) resolved.pop_back();
      if (missing > 0) --missing;
      continue;
    }
    resolved.push_back(std::move(name));
    if (missing > 0) {
      ++missing;
      continue;
    }
    const std::string current = JoinAbsolute(resolved);
    struct stat st;
    if (lstat(current.c_str(), &st) != 0) {
      if (errno == ENOENT) {
        missing = 1;
        continue;
      }
      return Status::InvalidArgument("path " + shown + " cannot be resolved: " + current + ": " +
                                     std::strerror(errno));
    }
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) {
        return Status::InvalidArgument("path " + shown + " goes through more than " +
                                       std::to_string(kMaxSymlinks) + " symbolic links");
      }
      TROUPE_ASSIGN_OR_RETURN(std::string target, ReadLink(current));
      resolved.pop_back();
      if (!target.empty() && target[0] == '/') resolved.clear();
      std::vector<std::string> parts = Components(target);
      pending.insert(pending.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!S_ISDIR(st.st_mode) && !pending.empty()) {
      return Status::InvalidArgument("path " + shown + " goes through " + Relative(current) +
                                     ", which is not a directory");
    }
  }

  std::string result = JoinAbsolute(resolved);
  if (!PathIsInside(result, root_)) {
    std::string message = "path " + shown + " is outside the workspace " + root_;
    // Never where the link leads: that would tell a model what lies outside.
    if (links > 0) message += " (through a symbolic link)";
    return Status::InvalidArgument(message + "; only files inside the workspace can be used");
  }
  return result;
}

Result<int> Workspace::OpenBeneath(std::string_view path, int flags, mode_t mode) const {
  TROUPE_ASSIGN_OR_RETURN(std::string resolved, Resolve(path));
  const std::string shown(path);
  const std::string relative = Relative(resolved);
  const int root_fd = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (root_fd < 0) {
    return Status::IoError("cannot open the workspace " + root_ + ": " + std::strerror(errno));
  }
  open_how how{};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.mode = (flags & (O_CREAT | O_TMPFILE)) != 0 ? mode : 0;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
  int fd;
  do {
    fd = static_cast<int>(syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof how));
  } while (fd < 0 && (errno == EINTR || errno == EAGAIN));
  if (fd < 0 && (errno == ENOSYS || errno == EPERM) && how.resolve != 0) {
    fd = open(resolved.c_str(), flags | O_CLOEXEC, mode);
  }
  const int error = errno;
  close(root_fd);
  if (fd >= 0) return fd;
  if (error == ELOOP) {
    return Status::InvalidArgument("path " + shown +
                                   " goes through too many symbolic links, or a /proc link");
  }
  if (error == EXDEV) {
    return Status::InvalidArgument(
        "path " + shown +
        " leads outside the workspace (a symbolic link on the way "
        "points out of it); only files inside the workspace can be used");
  }
  if (error == ENOENT) return Status::NotFound("path " + shown + " does not exist");
  return Status::IoError("cannot open " + shown + ": " + std::strerror(error));
}

Result<int> Workspace::OpenDirectoryBeneath(std::string_view path, bool create_missing) const {
  TROUPE_ASSIGN_OR_RETURN(std::string resolved, Resolve(path));
  const std::string shown(path);
  int dir = open(root_.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) {
    return Status::IoError("cannot open the workspace " + root_ + ": " + std::strerror(errno));
  }
  // Resolve's result holds no links and no "..", so every component is a plain name.
  std::string walked;
  for (const std::string& name : Components(resolved.substr(root_ == "/" ? 0 : root_.size()))) {
    walked += walked.empty() ? name : "/" + name;
    int next = openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (next < 0 && errno == ENOENT && create_missing) {
      if (mkdirat(dir, name.c_str(), 0777) != 0 && errno != EEXIST) {
        const int error = errno;
        close(dir);
        return Status::IoError("cannot create the directory " + walked + ": " +
                               std::strerror(error));
      }
      next = openat(dir, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    const int error = errno;
    close(dir);
    if (next < 0) {
      if (error == ENOENT) return Status::NotFound("path " + shown + " does not exist");
      if (error == ENOTDIR || error == ELOOP) {
        return Status::InvalidArgument("path " + shown + " goes through " + walked +
                                       ", which is not a directory inside the workspace (it "
                                       "changed while being used, or is a symbolic link)");
      }
      return Status::IoError("cannot open the directory " + walked + ": " +
                             std::strerror(error));
    }
    dir = next;
  }
  return dir;
}

Result<FileInDirectory> Workspace::OpenFileParent(std::string_view path,
                                                 bool create_missing) const {
  TROUPE_ASSIGN_OR_RETURN(std::string resolved, Resolve(path));
  FileInDirectory file;
  file.shown = Relative(resolved);
  if (resolved == root_) {
    return Status::InvalidArgument(file.shown + " is a directory; give a file path");
  }
  const size_t slash = resolved.rfind('/');
  file.name = resolved.substr(slash + 1);
  Result<int> parent = OpenDirectoryBeneath(
      slash == 0 ? std::string("/") : resolved.substr(0, slash), create_missing);
  if (!parent.ok() && parent.status().code() == StatusCode::kNotFound) {
    return Status::NotFound("file " + file.shown + " does not exist");
  }
  if (!parent.ok()) return parent.status();
  file.parent = UniqueFd(*parent);
  return file;
}

std::string Workspace::Relative(std::string_view absolute) const {
  if (absolute == root_) return ".";
  if (!PathIsInside(absolute, root_)) return std::string(absolute);
  return std::string(absolute.substr(root_ == "/" ? 1 : root_.size() + 1));
}

}  // namespace troupe
