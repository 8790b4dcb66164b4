// What the daemon's tools may see: the sandbox policy tool processes run under (the config's
// `sandbox` section plus the daemon's own files to hide) and the secrets kept out of what tools
// and providers report.
#pragma once

#include <string>

#include "agent/sandbox.h"
#include "config/config.h"
#include "core/secret_redactor.h"
#include "daemon/daemon_paths.h"
#include "llm/provider_registry.h"

namespace troupe {

// `config` as a SandboxPolicy: "~/" in hidden paths expanded with $HOME, and hidden besides
// them the daemon's data directory, its token, its socket (the directory when it is troupe's
// own), and DefaultHiddenPaths.
SandboxPolicy DaemonSandboxPolicy(const SandboxConfig& config, const DaemonPaths& paths,
                                  const GetEnv& getenv);

// The values of the providers' API key variables and the daemon's token.
SecretRedactor DaemonSecrets(const ProviderRegistry& providers, const std::string& token,
                             const GetEnv& getenv);

}  // namespace troupe
