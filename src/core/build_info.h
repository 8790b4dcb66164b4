// What a troupe binary was built from: the version and the git commit of its sources. The values
// are stamped into the `troupe` executable at build time (src/cli/main.cc, from the header
// packaging/build_info.cmake writes) and handed down from there, so a new commit recompiles one
// file rather than every library that shows the version.
#pragma once

#include <string>

namespace troupe {

struct BuildInfo {
  std::string version;  // the project's version (CMakeLists.txt), e.g. "0.1.0"
  std::string commit;   // abbreviated hash of the checkout's HEAD; "" when not built from git
  bool dirty = false;   // tracked files differed from that commit
};

// "0.1.0 (commit 0123456789ab)", "0.1.0 (commit 0123456789ab, dirty)", "0.1.0 (commit unknown)".
std::string DescribeBuild(const BuildInfo& build);

}  // namespace troupe
