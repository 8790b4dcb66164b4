#include "agent/tool_cgroup.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include <fmt/format.h>

namespace troupe {
namespace {

// How long KillAll and the removal wait for the kernel to empty a group: rounds of kRoundMs.
constexpr int kRounds = 400;
constexpr int kRoundMs = 5;

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// Writes `text` to the control file `path`; the errno on failure, 0 on success.
int WriteControl(const std::string& path, const std::string& text) {
  const int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return errno;
  const ssize_t n = write(fd, text.data(), text.size());
  const int error = n == static_cast<ssize_t>(text.size()) ? 0 : (n < 0 ? errno : EIO);
  close(fd);
  return error;
}

bool Exists(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0;
}

// The daemon's group in the v2 hierarchy ("0::/path") or in v1's `controller` hierarchy
// ("N:a,controller,b:/path"); nullopt-like "" when /proc/self/cgroup has no such line.
std::string OwnGroup(bool v2, const std::string& controller) {
  std::ifstream in("/proc/self/cgroup");
  for (std::string line; std::getline(in, line);) {
    const size_t first = line.find(':');
    const size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = line.substr(first + 1, second - first - 1);
    const std::string path = line.substr(second + 1);
    if (v2 ? (line.substr(0, first) == "0" && controllers.empty())
           : ("," + controllers + ",").find("," + controller + ",") != std::string::npos) {
      return path.empty() ? "/" : path;
    }
  }
  return "";
}

std::string Joined(const std::string& root, const std::string& group) {
  return group == "/" ? root : root + group;
}

// Removes an empty group, waiting (bounded) for the kernel to let its last members go.
void RemoveGroup(const std::string& path) {
  for (int round = 0; round < kRounds; ++round) {
    if (rmdir(path.c_str()) == 0 || errno == ENOENT) return;
    if (errno != EBUSY) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(kRoundMs));
  }
}

}  // namespace

// --- ToolCgroup ---------------------------------------------------------------------------------

ToolCgroup::~ToolCgroup() {
  KillAll();
  if (procs_fd_ >= 0) close(procs_fd_);
  RemoveGroup(path_);
}

void ToolCgroup::KillAll() const {
  const std::string procs = path_ + "/cgroup.procs";
  const std::string kill_file = path_ + "/cgroup.kill";
  const bool kernel_kills = v2_ && Exists(kill_file);
  for (int round = 0; round < kRounds; ++round) {
    std::vector<pid_t> members;
    std::istringstream in(ReadSmallFile(procs));
    for (long pid; in >> pid;) members.push_back(static_cast<pid_t>(pid));
    if (members.empty()) return;
    if (kernel_kills) {
      // Atomic for the whole group, forks in flight included (Linux 5.14).
      WriteControl(kill_file, "1");
    } else {
      // v1: one by one; what a member forks meanwhile is found in the next round, and the pids
      // cap bounds how many there can be.
      for (pid_t pid : members) kill(pid, SIGKILL);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(round == 0 ? 0 : kRoundMs));
  }
}

void ToolCgroups::RemoveStaleParents(const std::string& own) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(own, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with("troupe-") || !entry.is_directory(ec)) continue;
    const long pid = std::atol(name.c_str() + 7);
    if (pid <= 0 || pid == getpid() || kill(static_cast<pid_t>(pid), 0) == 0 || errno != ESRCH) {
      continue;
    }
    for (const auto& run : std::filesystem::directory_iterator(entry.path(), ec)) {
      if (!run.is_directory(ec)) continue;
      ToolCgroup left(run.path().string(), -1, false);  // its end kills and removes
    }
    RemoveGroup(entry.path().string());
  }
}

// --- ToolCgroups --------------------------------------------------------------------------------

std::shared_ptr<ToolCgroups> ToolCgroups::Create(const std::string& root, int64_t max_processes) {
  std::shared_ptr<ToolCgroups> groups(new ToolCgroups());
  groups->max_processes_ = max_processes;
  auto refuse = [&](const std::string& why) {
    groups->unavailable_ = why + "; tools keep the rlimits only (RLIMIT_NPROC does not bind root)";
    return groups;
  };
  if (max_processes <= 0) return refuse("no per-run process cap configured (max_processes 0)");
  if (root.empty()) return refuse("control groups are not used (no cgroup root)");
  // One parent per ToolCgroups (a process may make several, tests do), gone with it.
  static std::atomic<uint64_t> made{0};
  const std::string name = fmt::format("troupe-{}-{}", getpid(), made.fetch_add(1));
  if (Exists(root + "/cgroup.controllers")) {
    // cgroup v2: a group may give a controller to its children only while it holds no process
    // (the root group excepted), so the daemon's own group must allow pids below it.
    groups->v2_ = true;
    const std::string own = Joined(root, OwnGroup(true, ""));
    const std::string controllers = ReadSmallFile(own + "/cgroup.controllers");
    if ((" " + controllers).find(" pids") == std::string::npos) {
      return refuse(fmt::format("cgroup v2: the pids controller is not available in {}", own));
    }
    if (const int error = WriteControl(own + "/cgroup.subtree_control", "+pids"); error != 0) {
      return refuse(fmt::format(
          "cgroup v2: cannot enable pids for the groups below {}: {}{}", own, strerror(error),
          error == EBUSY ? " (that group holds processes; start troupe serve in a delegated group "
                           "of its own)"
                         : ""));
    }
    RemoveStaleParents(own);
    const std::string parent = own + "/" + name;
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return refuse(fmt::format("cgroup v2: cannot make {}: {}", parent, strerror(errno)));
    }
    if (const int error = WriteControl(parent + "/cgroup.subtree_control", "+pids"); error != 0) {
      RemoveGroup(parent);
      return refuse(
          fmt::format("cgroup v2: cannot enable pids below {}: {}", parent, strerror(error)));
    }
    groups->parent_ = parent;
    return groups;
  }
  if (Exists(root + "/pids/cgroup.procs")) {
    const std::string own = Joined(root + "/pids", OwnGroup(false, "pids"));
    RemoveStaleParents(own);
    const std::string parent = own + "/" + name;
    if (mkdir(parent.c_str(), 0755) != 0 && errno != EEXIST) {
      return refuse(fmt::format("cgroup v1: cannot make {}: {}", parent, strerror(errno)));
    }
    if (!Exists(parent + "/pids.max")) {
      RemoveGroup(parent);
      return refuse(fmt::format("cgroup v1: {} has no pids.max", parent));
    }
    groups->parent_ = parent;
    return groups;
  }
  return refuse(fmt::format("no cgroup v2 and no cgroup v1 pids hierarchy under {}", root));
}

ToolCgroups::~ToolCgroups() {
  if (!parent_.empty()) RemoveGroup(parent_);
}

std::string ToolCgroups::Describe() const {
  if (!available()) return "no cgroup: " + unavailable_;
  return fmt::format("cgroup {} pids ({}), pids.max {} per tool run", v2_ ? "v2" : "v1", parent_,
                     max_processes_);
}

Result<std::shared_ptr<const ToolCgroup>> ToolCgroups::ForRun() {
  if (!available()) return Status::FailedPrecondition(unavailable_);
  const std::string path = fmt::format("{}/run-{}", parent_, next_.fetch_add(1));
  if (mkdir(path.c_str(), 0755) != 0) {
    return Status::IoError(fmt::format("cannot make the tool's cgroup {}: {}", path,
                                       strerror(errno)));
  }
  if (const int error = WriteControl(path + "/pids.max", std::to_string(max_processes_));
      error != 0) {
    RemoveGroup(path);
    return Status::IoError(
        fmt::format("cannot set pids.max of the tool's cgroup {}: {}", path, strerror(error)));
  }
  const int fd = open((path + "/cgroup.procs").c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    const int error = errno;
    RemoveGroup(path);
    return Status::IoError(
        fmt::format("cannot open the tool's cgroup {}: {}", path, strerror(error)));
  }
  return std::shared_ptr<const ToolCgroup>(new ToolCgroup(path, fd, v2_));
}

}  // namespace troupe
