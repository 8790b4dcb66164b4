// `troupe config check`: loads the configuration the way the daemon will, and says what it found.
#pragma once

#include <string>
#include <vector>

namespace troupe {

struct ConfigCheckOptions {
  std::string workspace = ".";
  std::vector<std::string> files;  // explicit files instead of the default user + project pair
  bool json = false;
};

// Prints the files read, every warning, and the effective limits. Exit code: 0 valid (warnings
// allowed), 1 invalid.
int RunConfigCheck(const ConfigCheckOptions& options);

}  // namespace troupe
