// A control group per tool run (docs/DESIGN.md "Sandbox"): the process cap that also binds root.
//
// RLIMIT_NPROC counts the processes of a user, and not at all for root (CAP_SYS_RESOURCE), so a
// daemon run as root has no cap on what a tool forks. Where the daemon may make control groups
// with the pids controller — cgroup v2 (/sys/fs/cgroup, pids enabled for the daemon's group's
// children: root, or a delegated group that holds no process itself) or the v1 pids hierarchy
// (/sys/fs/cgroup/pids, writable by root) — every tool run gets a group of its own under
// `<the daemon's group>/troupe-<pid>-<n>`, with `pids.max`; its first process joins it between fork
// and exec, so everything it starts is counted, and everything left in the group is killed when
// the run ends (cgroup.kill on v2, SIGKILL to each member on v1) before the group is removed.
// Where no such group can be had, ToolCgroups says why and tools keep the rlimits alone.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "core/status.h"

namespace troupe {

class ToolCgroups;

// One run's group. Created by ToolCgroups::ForRun; removed (its members killed first) when the
// last reference goes. Thread-safe for KillAll and the destructor against other runs.
class ToolCgroup {
 public:
  ~ToolCgroup();
  ToolCgroup(const ToolCgroup&) = delete;
  ToolCgroup& operator=(const ToolCgroup&) = delete;

  const std::string& path() const { return path_; }
  // Write "0" here between fork and exec and the writing process joins the group. Close-on-exec.
  int procs_fd() const { return procs_fd_; }
  // Kills every process in the group and waits (bounded) until none is left. Idempotent.
  void KillAll() const;

 private:
  friend class ToolCgroups;
  ToolCgroup(std::string path, int procs_fd, bool v2)
      : path_(std::move(path)), procs_fd_(procs_fd), v2_(v2) {}

  std::string path_;
  int procs_fd_ = -1;
  bool v2_ = false;
};

class ToolCgroups {
 public:
  // Finds where the daemon may make groups under `root` (normally "/sys/fs/cgroup"), and makes
  // its parent group there. Never fails: an unusable place makes unavailable groups saying why.
  // `max_processes` is each run's pids.max (> 0).
  static std::shared_ptr<ToolCgroups> Create(const std::string& root, int64_t max_processes);
  // Removes the parent group (empty by then: every run's group is gone with its run).
  ~ToolCgroups();
  ToolCgroups(const ToolCgroups&) = delete;
  ToolCgroups& operator=(const ToolCgroups&) = delete;

  bool available() const { return !parent_.empty(); }
  // Why not available ("" when available).
  const std::string& unavailable_reason() const { return unavailable_; }
  // "cgroup v1 pids (/sys/fs/cgroup/pids/troupe-42-0), pids.max 2048 per tool run", or why not.
  std::string Describe() const;
  int64_t max_processes() const { return max_processes_; }

  // A fresh group for one run with pids.max set. An error (IoError) when it cannot be made now;
  // callers then run without one and say so.
  Result<std::shared_ptr<const ToolCgroup>> ForRun();

 private:
  ToolCgroups() = default;
  // Groups an earlier troupe left under `own` (killed, or gone without destroying its
  // ToolCgroups): "troupe-<pid>-<n>" of a process that no longer exists. Their members are
  // killed, then the groups removed.
  static void RemoveStaleParents(const std::string& own);

  std::string parent_;  // "" when unavailable
  bool v2_ = false;
  int64_t max_processes_ = 0;
  std::string unavailable_;
  std::atomic<uint64_t> next_{0};
};

}  // namespace troupe
