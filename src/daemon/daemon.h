// `troupe serve`: the process that owns the engine. Wires the layers together on one
// io_context — store, providers, agents, tools, the task manager, the HTTP API and server —
// recovers what the store holds, serves until SIGTERM/SIGINT or POST /v1/shutdown, then stops
// gracefully: listeners closed, running tasks marked interrupted (resumed at next start), the
// store flushed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/build_info.h"

namespace troupe {

struct ServeOptions {
  std::string data_dir;         // "" = default (daemon/daemon_paths.h)
  std::string socket;           // "" = default
  std::string listen;           // "127.0.0.1:PORT" (PORT may be 0) to also serve TCP with a token
  std::string workspace = ".";  // default workspace of tasks; its .troupe/ config is read
  std::vector<std::string> config_files;  // replace the default config files when non-empty
  bool detach = false;                    // fork into the background, log to <data dir>/troupe.log
  std::string log_level = "info";
  int tool_threads = 2;
  BuildInfo build;  // reported by GET /v1/health
};

// Runs the daemon in this process until it stops. Returns the process exit code: 0 after a
// graceful stop, 1 when it could not start (the reason on stderr, one line), 3 when another
// daemon already runs for the data directory (stderr says where).
int RunServe(const ServeOptions& options);

}  // namespace troupe
