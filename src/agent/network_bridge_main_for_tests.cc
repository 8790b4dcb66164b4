// `troupe __net-bridge ...` without the rest of troupe, for tests of the sandbox's allow-list.
#include <string>
#include <vector>

#include "agent/network_bridge.h"

int main(int argc, char** argv) {
  if (argc < 2 || argv[1] != troupe::kNetworkBridgeCommand) return 125;
  return troupe::RunNetworkBridge(std::vector<std::string>(argv + 2, argv + argc));
}
