// The OS sandbox every tool process (bash, and the ripgrep behind list, glob and grep) starts in.
//
// With bubblewrap (`bwrap`, what Claude Code uses on Linux) a tool process sees:
//   - the whole file system read-only, the task's workspace writable (at its own path);
//   - the hidden paths (the daemon's data directory with its database and token, its socket,
//     ~/.ssh, ~/.config/troupe, ...) as empty directories or an empty file;
//   - a private /tmp, a minimal /dev, its own /proc of its own PID namespace (it sees no other
//     process), no network unless the policy allows it (its own network namespace: not even
//     loopback reaches the host); with an allow-list of hosts, still its own namespace, whose
//     only way out is the daemon's filtering proxy (agent/network_proxy.h) through a bridge on
//     127.0.0.1:3128 inside (agent/network_bridge.h) and the *_PROXY variables pointing at it;
//   - resource limits (processes, CPU seconds, address space, file size), set before bwrap runs,
//     so they hold for everything inside; and where the daemon may make control groups, a group
//     per run whose pids.max caps its processes, for root too (agent/tool_cgroup.h);
//   - a clean environment: an allow-list (a PATH of system directories, HOME and TMPDIR in the
//     private /tmp, LANG, LC_*, TERM) plus what the tool adds; never the daemon's variables.
// When the tool's process (bwrap's child, PID 1 of the namespace) ends or is killed, the kernel
// kills every process left in the namespace, whatever it did (setsid, double fork);
// --die-with-parent does the same when bwrap itself is killed.
//
// Where bwrap cannot run (not installed, user namespaces refused), the sandbox is unavailable
// and says why; `bash` is then refused with that reason and how to opt out (mode "none"). Mode
// "none", chosen explicitly in the config, runs tools without a sandbox: clean environment and
// limits still apply.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/network_proxy.h"
#include "agent/process_runner.h"
#include "agent/tool_cgroup.h"
#include "core/host_pattern.h"
#include "core/status.h"

namespace troupe {

enum class SandboxMode {
  kBubblewrap,  // the default
  kNone,        // no sandbox, by explicit choice
};

// "bwrap" or "none".
const char* SandboxModeName(SandboxMode mode);

// What of the file system a sandboxed process sees.
enum class SandboxView {
  // All of it read-only (compilers, interpreters, caches), the workspace writable: for bash.
  kSystem,
  // Only the system directories a program needs to run (/usr, /bin, /lib*, /etc/ld.so.*) and the
  // workspace, read-only: for ripgrep, which only reads the workspace. A directory of the
  // workspace swapped for a link to /home or /root leads nowhere.
  kWorkspaceOnly,
};

struct SandboxLimits {
  int64_t max_processes = 2048;     // RLIMIT_NPROC; see DESIGN.md for how it counts (0 = none)
  int64_t cpu_seconds = 900;        // RLIMIT_CPU of each process (0 = none)
  int64_t memory_mb = 16 * 1024;    // RLIMIT_AS of each process (0 = none)
  int64_t file_size_mb = 4 * 1024;  // RLIMIT_FSIZE: the largest file a process may write (0 = none)
};

struct SandboxPolicy {
  SandboxMode mode = SandboxMode::kBubblewrap;
  NetworkAccess network;  // the default for agents that do not say (none)
  // Absolute paths never visible inside (missing ones are skipped). Relative ones are refused by
  // the config; "~/" is expanded by the caller.
  std::vector<std::string> hidden;
  SandboxLimits limits;
  std::string bwrap;  // "" = bwrap from the system directories (kSystemPath)
  // Where each tool run gets a control group capped at limits.max_processes (tool_cgroup.h);
  // "" = none (the rlimits alone).
  std::string cgroup_root = "/sys/fs/cgroup";
  // For allow-lists: the program run inside as the bridge ("" = this very binary, from
  // /proc/self/exe; it must answer kNetworkBridgeCommand), where the proxy makes its sockets,
  // the proxy's limits, and who hears of refused hosts (once per task).
  std::string bridge_program;
  std::string proxy_socket_parent = "/tmp";
  ProxyLimits proxy_limits;
  ProxyRefusalLog log_refusal;
  // Lets an address pattern reach loopback through the proxy. Tests only: no config key sets it.
  bool proxy_allows_loopback_for_tests = false;
};

// Where the bridge listens inside a sandbox with an allow-list, and what *_PROXY name.
inline constexpr int kSandboxProxyPort = 3128;

// The PATH tools get, and where troupe looks for bwrap, bash and rg.
inline constexpr const char* kSystemPath =
    "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin";

// The hidden paths every policy gets: ~/.ssh, ~/.gnupg, ~/.aws, ~/.config/troupe,
// ~/.local/share/troupe and $XDG_RUNTIME_DIR, for `home` and `runtime_dir` ("" = skipped).
std::vector<std::string> DefaultHiddenPaths(const std::string& home,
                                            const std::string& runtime_dir);

class Sandbox {
 public:
  // Checks once that bwrap runs here (a sandboxed `true`); the result is kept. Never fails: an
  // unusable bwrap makes an unavailable sandbox that says why.
  static Sandbox Create(SandboxPolicy policy);

  const SandboxPolicy& policy() const { return policy_; }
  // False when the mode is bwrap and bwrap cannot run.
  bool available() const { return policy_.mode == SandboxMode::kNone || !bwrap_path_.empty(); }
  // Why not available, with what to do ("" when available).
  const std::string& unavailable_reason() const { return unavailable_; }
  // The per-run control groups (never null after Create; maybe unavailable, saying why).
  const ToolCgroups& cgroups() const { return *cgroups_; }
  // "bwrap (/usr/bin/bwrap)", "none (explicitly off)" or "unavailable: …", for logs.
  std::string Describe() const;

  // `options` made to run inside the sandbox with `workspace` (absolute, canonical) writable:
  // the program wrapped in bwrap, the environment replaced by the allow-list plus
  // `options.env`, the limits added, a control group of its own when cgroups() is available
  // (IoError when that group cannot be made now: a run is never silently uncapped). `network`
  // nullopt = the policy's default; an allow-list opens a proxy endpoint for this run (kept
  // in the options' keep_alive) whose refusals are logged under `network_scope` (the task id).
  // FailedPrecondition with unavailable_reason() when the sandbox is unavailable.
  Result<ProcessOptions> Wrap(ProcessOptions options, const std::string& workspace,
                              std::optional<NetworkAccess> network = std::nullopt,
                              SandboxView view = SandboxView::kSystem,
                              std::string_view network_scope = {}) const;

  // The same without bwrap (clean environment, limits and the run's control group when one can
  // be made): for programs that only read and need no confinement when no sandbox can be had.
  ProcessOptions Unconfined(ProcessOptions options) const;

 private:
  explicit Sandbox(SandboxPolicy policy) : policy_(std::move(policy)) {}

  std::vector<std::pair<std::string, std::string>> Environment(
      const std::vector<std::pair<std::string, std::string>>& extra, bool sandboxed) const;
  std::vector<ProcessLimit> Limits() const;
  // The proxy, started on first use.
  Result<std::shared_ptr<NetworkProxy>> Proxy() const;

  struct ProxyHolder {
    std::mutex mu;
    std::shared_ptr<NetworkProxy> proxy;
  };

  SandboxPolicy policy_;
  std::string bwrap_path_;  // "" when unavailable or mode none
  std::string unavailable_;
  std::shared_ptr<ToolCgroups> cgroups_;
  std::string bridge_path_;  // the bridge program, resolved; "" when it cannot be found
  std::shared_ptr<ProxyHolder> proxy_ = std::make_shared<ProxyHolder>();
};

}  // namespace troupe
