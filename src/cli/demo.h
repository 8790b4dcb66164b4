// `troupe demo`: troupe as a user meets it. It starts a private daemon (its own data directory
// and socket), launches explore, librarian and oracle in parallel on a repository with a pool
// limit of two (so one waits), shows the live table going pending → running → completed from
// the daemon's event stream, prints each result, and ends with the measured parallel time
// against the sum of the tasks' own run times. Then it stops the daemon.
//
// The model: the private daemon's default, chosen as every daemon chooses it
// (llm/default_model.h) — a real provider when ANTHROPIC_API_KEY or OPENAI_API_KEY is set,
// otherwise the built-in offline `mock` model, which searches the repository with the real tools
// and paces its replies like a real model.
#pragma once

#include <string>

namespace troupe {

struct DemoOptions {
  std::string workspace = ".";  // the repository the agents look at
  std::string data_dir;         // empty: a fresh temporary directory, removed afterwards
  std::string model;            // empty: the daemon's default (from the API keys present)
  double speed = 1.0;           // >1 paces the offline model N times faster (tests use it)
  int64_t timeout_ms = 300'000;
  bool color = false;  // ANSI colours and an in-place table (a terminal)
};

// Returns the process exit code: 0 when all three tasks completed.
int RunDemo(const DemoOptions& options);

}  // namespace troupe
