#include "daemon/tool_policy.h"

#include <filesystem>

namespace troupe {

SandboxPolicy DaemonSandboxPolicy(const SandboxConfig& config, const DaemonPaths& paths,
                                  const GetEnv& getenv) {
  SandboxPolicy policy;
  policy.mode = config.mode == "none" ? SandboxMode::kNone : SandboxMode::kBubblewrap;
  policy.network = config.network;
  policy.limits = {config.max_processes, config.cpu_seconds, config.memory_mb, config.file_size_mb};
  policy.bwrap = config.bwrap;
  const std::string home = getenv("HOME").value_or("");
  for (const std::string& path : config.hide) {
    if (path.starts_with("~/")) {
      if (!home.empty()) policy.hidden.push_back(home + path.substr(1));
    } else {
      policy.hidden.push_back(path);
    }
  }
  policy.hidden.push_back(paths.data_dir);
  policy.hidden.push_back(paths.token);
  const std::filesystem::path socket_dir = std::filesystem::path(paths.socket).parent_path();
  policy.hidden.push_back(socket_dir.filename().string().starts_with("troupe") ? socket_dir.string()
                                                                               : paths.socket);
  for (std::string& path : DefaultHiddenPaths(home, getenv("XDG_RUNTIME_DIR").value_or(""))) {
    policy.hidden.push_back(std::move(path));
  }
  return policy;
}

SecretRedactor DaemonSecrets(const ProviderRegistry& providers, const std::string& token,
                             const GetEnv& getenv) {
  SecretRedactor secrets;
  secrets.Add(token);
  for (const ProviderInfo& info : providers.List()) {
    if (info.api_key_env.empty()) continue;
    if (std::optional<std::string> key = getenv(info.api_key_env)) secrets.Add(*key);
  }
  return secrets;
}

}  // namespace troupe
