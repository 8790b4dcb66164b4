#include "agent/sandbox.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <mutex>
#include <string_view>

#include "agent/network_bridge.h"
#include "agent/workspace.h"

extern char** environ;

namespace troupe {
namespace {

constexpr int64_t kProbeTimeoutMs = 10'000;

// What kWorkspaceOnly binds (read-only, those that exist): enough to run a program.
constexpr const char* kSystemDirs[] = {"/usr",
                                       "/bin",
                                       "/sbin",
                                       "/lib",
                                       "/lib32",
                                       "/lib64",
                                       "/libx32",
                                       "/etc/ld.so.cache",
                                       "/etc/ld.so.conf",
                                       "/etc/ld.so.conf.d"};

bool Exists(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0;
}

// Namespaces and mounts every sandboxed run gets (the probe too).
std::vector<std::string> BaseArgs(const std::string& bwrap, bool all_network,
                                  SandboxView view = SandboxView::kSystem) {
  std::vector<std::string> args = {
      bwrap,           "--die-with-parent", "--new-session",       "--unshare-pid",
      "--unshare-ipc", "--unshare-uts",     "--unshare-cgroup-try"};
  if (!all_network) args.push_back("--unshare-net");
  if (view == SandboxView::kSystem) {
    args.insert(args.end(), {"--ro-bind", "/", "/"});
  } else {
    for (const char* dir : kSystemDirs) {
      // /bin and /lib are links to /usr/... on merged-/usr systems: made as links.
      struct stat st {};
      if (lstat(dir, &st) != 0) continue;
      if (S_ISLNK(st.st_mode)) {
        char target[4096];
        const ssize_t n = readlink(dir, target, sizeof target - 1);
        if (n <= 0) continue;
        args.insert(args.end(), {"--symlink", std::string(target, static_cast<size_t>(n)), dir});
      } else {
        args.insert(args.end(), {"--ro-bind", dir, dir});
      }
    }
  }
  for (const char* a : {"--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"}) {
    args.emplace_back(a);
  }
  return args;
}

// The probe's verdict for one bwrap binary: "" when it runs, else why not. Kept for the life of
// the process: the kernel's answer does not change while we run, and ToolSets are built often
// in tests.
std::string ProbeBubblewrap(const std::string& bwrap) {
  static std::mutex mu;
  static std::map<std::string, std::string>* const verdicts =
      new std::map<std::string, std::string>;
  std::lock_guard<std::mutex> lock(mu);
  if (auto it = verdicts->find(bwrap); it != verdicts->end()) return it->second;
  ProcessOptions probe;
  probe.argv = BaseArgs(bwrap, /*all_network=*/false);
  probe.argv.insert(probe.argv.end(), {"--", FindExecutable("true", kSystemPath)});
  probe.inherit_environment = false;
  probe.env = {{"PATH", kSystemPath}};
  probe.timeout_ms = kProbeTimeoutMs;
  Result<ProcessResult> run = RunProcess(probe);
  std::string verdict;
  if (!run.ok()) {
    verdict = run.status().message();
  } else if (run->exit_code != 0) {
    std::string err = run->err.Text();
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    verdict = err.empty() ? "it exited with status " + std::to_string(run->exit_code) : err;
    if (err.find("uid map") != std::string::npos || err.find("namespace") != std::string::npos ||
        err.find("Operation not permitted") != std::string::npos) {
      verdict +=
          " (unprivileged user namespaces seem to be refused: see "
          "kernel.unprivileged_userns_clone or the AppArmor restriction "
          "kernel.apparmor_restrict_unprivileged_userns)";
    }
  }
  (*verdicts)[bwrap] = verdict;
  return verdict;
}

bool IsDirectory(const std::string& path) {
  struct stat st {};
  return stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// bwrap arguments that hide `path`: an empty read-only directory over a directory, an empty
// file over anything else.
void HideArgs(const std::string& path, std::vector<std::string>& args) {
  if (IsDirectory(path)) {
    args.insert(args.end(), {"--tmpfs", path, "--remount-ro", path});
  } else {
    args.insert(args.end(), {"--ro-bind", "/dev/null", path});
  }
}

// Where the bridge and the proxy's socket appear inside a sandbox with an allow-list: in its
// private /tmp, where bwrap may make mount points (the rest of / is read-only).
constexpr const char* kBridgeInside = "/tmp/.troupe-net/troupe";
constexpr const char* kProxySocketInside = "/tmp/.troupe-net/proxy.sock";

bool AllowedVariable(std::string_view key) {
  return key == "LANG" || key == "LANGUAGE" || key == "TERM" || key == "TZ" || key == "USER" ||
         key == "LOGNAME" || key.substr(0, 3) == "LC_";
}

}  // namespace

const char* SandboxModeName(SandboxMode mode) {
  return mode == SandboxMode::kNone ? "none" : "bwrap";
}

std::vector<std::string> DefaultHiddenPaths(const std::string& home,
                                            const std::string& runtime_dir) {
  std::vector<std::string> out;
  if (!home.empty()) {
    for (const char* sub :
         {"/.ssh", "/.gnupg", "/.aws", "/.config/troupe", "/.local/share/troupe"}) {
      out.push_back(home + sub);
    }
  }
  if (!runtime_dir.empty()) out.push_back(runtime_dir);
  return out;
}

Sandbox Sandbox::Create(SandboxPolicy policy) {
  Sandbox sandbox(std::move(policy));
  sandbox.cgroups_ =
      ToolCgroups::Create(sandbox.policy_.cgroup_root, sandbox.policy_.limits.max_processes);
  if (sandbox.policy_.mode == SandboxMode::kNone) return sandbox;
  const std::string& configured = sandbox.policy_.bwrap;
  std::string path = FindExecutable(configured.empty() ? "bwrap" : configured, kSystemPath);
  const std::string opt_out =
      "; to run tools without a sandbox, set \"sandbox\": {\"mode\": \"none\"} in troupe.jsonc "
      "(see docs/CONFIG.md)";
  if (path.empty()) {
    sandbox.unavailable_ = "no sandbox: bubblewrap (bwrap) is not installed in " +
                           std::string(kSystemPath) +
                           "; install it (Debian/Ubuntu: apt install bubblewrap)" + opt_out;
    return sandbox;
  }
  if (std::string verdict = ProbeBubblewrap(path); !verdict.empty()) {
    sandbox.unavailable_ =
        "no sandbox: " + path + " cannot create a sandbox here: " + verdict + opt_out;
    return sandbox;
  }
  sandbox.bwrap_path_ = std::move(path);
  if (sandbox.policy_.bridge_program.empty()) {
    std::error_code ec;
    std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (!ec) sandbox.bridge_path_ = self.string();
  } else {
    sandbox.bridge_path_ = sandbox.policy_.bridge_program;
  }
  return sandbox;
}

std::string Sandbox::Describe() const {
  const std::string processes = "; processes: " + cgroups_->Describe();
  if (policy_.mode == SandboxMode::kNone) return "none (explicitly off in the config)" + processes;
  if (!available()) return "unavailable: " + unavailable_;
  return "bwrap (" + bwrap_path_ + "), network " + DescribeNetworkAccess(policy_.network) +
         processes;
}

std::vector<std::pair<std::string, std::string>> Sandbox::Environment(
    const std::vector<std::pair<std::string, std::string>>& extra, bool sandboxed) const {
  std::vector<std::pair<std::string, std::string>> env = {{"PATH", kSystemPath}};
  if (sandboxed) {
    env.emplace_back("HOME", "/tmp");
    env.emplace_back("TMPDIR", "/tmp");
  } else if (const char* home = getenv("HOME"); home != nullptr) {
    env.emplace_back("HOME", home);
  }
  bool term = false;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    std::string_view entry(*e);
    const size_t eq = entry.find('=');
    if (eq == std::string_view::npos || !AllowedVariable(entry.substr(0, eq))) continue;
    term = term || entry.substr(0, eq) == "TERM";
    env.emplace_back(std::string(entry.substr(0, eq)), std::string(entry.substr(eq + 1)));
  }
  if (!term) env.emplace_back("TERM", "dumb");
  for (const auto& variable : extra) {
    // Not a structured binding: clang 14 (the fuzz build) cannot capture one.
    const std::string& name = variable.first;
    std::erase_if(env, [&name](const auto& kv) { return kv.first == name; });
    env.push_back(variable);
  }
  return env;
}

std::vector<ProcessLimit> Sandbox::Limits() const {
  const SandboxLimits& l = policy_.limits;
  std::vector<ProcessLimit> out;
  auto add = [&out](int resource, int64_t value, rlim_t unit) {
    if (value > 0) out.push_back({resource, static_cast<rlim_t>(value) * unit});
  };
  add(RLIMIT_NPROC, l.max_processes, 1);
  add(RLIMIT_CPU, l.cpu_seconds, 1);
  add(RLIMIT_AS, l.memory_mb, 1024 * 1024);
  add(RLIMIT_FSIZE, l.file_size_mb, 1024 * 1024);
  return out;
}

ProcessOptions Sandbox::Unconfined(ProcessOptions options) const {
  options.env = Environment(options.env, /*sandboxed=*/false);
  options.inherit_environment = false;
  std::vector<ProcessLimit> limits = Limits();
  options.limits.insert(options.limits.end(), limits.begin(), limits.end());
  if (cgroups_->available() && options.cgroup == nullptr) {
    // Read-only programs: without a group now they still have the rlimits.
    if (auto group = cgroups_->ForRun(); group.ok()) options.cgroup = std::move(*group);
  }
  // Found in the system directories, as inside the sandbox.
  if (std::string program = FindExecutable(options.argv.at(0), kSystemPath); !program.empty()) {
    options.argv[0] = std::move(program);
  }
  return options;
}

Result<std::shared_ptr<NetworkProxy>> Sandbox::Proxy() const {
  std::lock_guard<std::mutex> lock(proxy_->mu);
  if (proxy_->proxy == nullptr) {
    TROUPE_ASSIGN_OR_RETURN(proxy_->proxy,
                            NetworkProxy::Start(policy_.proxy_socket_parent, policy_.proxy_limits,
                                                policy_.log_refusal));
  }
  return proxy_->proxy;
}

Result<ProcessOptions> Sandbox::Wrap(ProcessOptions options, const std::string& workspace,
                                     std::optional<NetworkAccess> network, SandboxView view,
                                     std::string_view network_scope) const {
  if (!available()) return Status::FailedPrecondition(unavailable_);
  if (cgroups_->available() && options.cgroup == nullptr) {
    TROUPE_ASSIGN_OR_RETURN(options.cgroup, cgroups_->ForRun());
  }
  // Mode none confines nothing, the network included: an allow-list cannot hold there.
  if (policy_.mode == SandboxMode::kNone) return Unconfined(std::move(options));
  const NetworkAccess& access = network ? *network : policy_.network;
  std::shared_ptr<ProxyEndpoint> endpoint;
  if (access.filtered()) {
    if (bridge_path_.empty()) {
      return Status::Unavailable(
          "cannot apply the network allow-list: the troupe binary (/proc/self/exe) cannot be "
          "found to run as the sandbox's bridge");
    }
    TROUPE_ASSIGN_OR_RETURN(std::shared_ptr<NetworkProxy> proxy, Proxy());
    ProxyRules rules;
    rules.hosts = access.hosts;
    rules.allow_loopback_for_tests = policy_.proxy_allows_loopback_for_tests;
    TROUPE_ASSIGN_OR_RETURN(endpoint, proxy->Open(std::move(rules), std::string(network_scope)));
  }
  std::vector<std::string> args = BaseArgs(bwrap_path_, access.all, view);
  // A hidden directory that holds the workspace is hidden first, so the workspace bound after
  // it stays visible; every other hidden path is hidden after, even inside the workspace.
  std::vector<std::string> after;
  auto already_hidden = [&](const std::string& path) {
    // /tmp is private, and kWorkspaceOnly shows nothing outside the workspace but system
    // directories; a path inside another hidden one is gone with it.
    if (PathIsInside(path, "/tmp") && !PathIsInside(path, workspace)) return true;
    if (view == SandboxView::kWorkspaceOnly && !PathIsInside(path, workspace)) return true;
    for (const std::string& other : policy_.hidden) {
      if (other != path && PathIsInside(path, other) && !PathIsInside(workspace, other)) {
        return true;
      }
    }
    return false;
  };
  for (const std::string& path : policy_.hidden) {
    if (path.empty() || path[0] != '/' || !Exists(path) || already_hidden(path)) continue;
    if (PathIsInside(workspace, path)) {
      HideArgs(path, args);
    } else {
      HideArgs(path, after);
    }
  }
  args.insert(args.end(),
              {view == SandboxView::kSystem ? "--bind" : "--ro-bind", workspace, workspace});
  args.insert(args.end(), after.begin(), after.end());
  // The program is found in the system directories, never in the workspace or the daemon's
  // PATH.
  std::string program = FindExecutable(options.argv.at(0), kSystemPath);
  if (program.empty()) {
    return Status::Unavailable("cannot run " + options.argv[0] + ": it is not in " +
                               std::string(kSystemPath));
  }
  if (view == SandboxView::kWorkspaceOnly && !program.starts_with("/usr/") &&
      !program.starts_with("/bin/") && !program.starts_with("/sbin/")) {
    // A program configured elsewhere (rg in /opt/...): its own file, read-only.
    args.insert(args.end(), {"--ro-bind", program, program});
  }
  if (endpoint != nullptr) {
    args.insert(args.end(), {"--ro-bind", bridge_path_, kBridgeInside, "--bind",
                             endpoint->socket_path(), kProxySocketInside});
  }
  args.insert(args.end(), {"--chdir", options.cwd.empty() ? workspace : options.cwd, "--"});
  if (endpoint != nullptr) {
    // The bridge runs the program once it listens, and exits with its status.
    args.insert(args.end(), {kBridgeInside, std::string(kNetworkBridgeCommand),
                             std::to_string(kSandboxProxyPort), kProxySocketInside, "--"});
    const std::string url = "http://127.0.0.1:" + std::to_string(kSandboxProxyPort);
    for (const char* name :
         {"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"}) {
      options.env.emplace_back(name, url);
    }
    options.env.emplace_back("NO_PROXY", "");
    options.env.emplace_back("no_proxy", "");
    options.keep_alive.push_back(std::move(endpoint));
  }
  args.push_back(std::move(program));
  args.insert(args.end(), options.argv.begin() + 1, options.argv.end());
  options.env = Environment(options.env, /*sandboxed=*/true);
  options.inherit_environment = false;
  std::vector<ProcessLimit> limits = Limits();
  options.limits.insert(options.limits.end(), limits.begin(), limits.end());
  options.argv = std::move(args);
  options.cwd.clear();
  return options;
}

}  // namespace troupe
