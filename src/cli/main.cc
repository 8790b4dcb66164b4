// The troupe command line (every subcommand is registered in cli/cli_app.cc).
#include <string>
#include <vector>

#include "agent/network_bridge.h"
#include "build_stamp.h"  // generated at build time by packaging/build_info.cmake
#include "cli/cli_app.h"
#include "cli/cli_io.h"

int main(int argc, char** argv) {
  // Hidden: the bridge inside a sandbox whose network is an allow-list (agent/network_bridge.h).
  if (argc >= 2 && argv[1] == troupe::kNetworkBridgeCommand) {
    return troupe::RunNetworkBridge(std::vector<std::string>(argv + 2, argv + argc));
  }
  troupe::CliIo io = troupe::CliIo::Process();
  const troupe::BuildInfo build{TROUPE_VERSION, TROUPE_GIT_COMMIT, TROUPE_GIT_DIRTY};
  return troupe::RunTroupeCli(argc, argv, io, build);
}
