#include "core/build_info.h"

#include <fmt/format.h>

namespace troupe {

std::string DescribeBuild(const BuildInfo& build) {
  if (build.commit.empty()) return fmt::format("{} (commit unknown)", build.version);
  return fmt::format("{} (commit {}{})", build.version, build.commit, build.dirty ? ", dirty" : "");
}

}  // namespace troupe
