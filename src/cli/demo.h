// `troupe demo`: the engine end to end on the real event loop and a real SQLite store. Three
// agents (explore, librarian, oracle) are launched in parallel under a pool limit of two, so one
// waits; the live state changes are printed as they happen, then each result, then the measured
// parallel time against the sum of the tasks' own run times.
#pragma once

#include <string>

namespace troupe {

struct DemoOptions {
  std::string workspace = ".";  // the repository the agents look at
  std::string data_dir;         // empty: a fresh temporary directory, removed afterwards
  double speed = 1.0;           // >1 runs the scripted latencies faster (tests use it)
  bool color = false;
};

// Returns the process exit code: 0 when all three tasks completed.
int RunDemo(const DemoOptions& options);

}  // namespace troupe
