// The demo's stand-in agents. Until the agent loop exists (issue 4) the demo runs each agent as a
// script of timed steps, but what each one reports is computed for real from the workspace:
//   explore   - source files per top-level folder;
//   librarian - the documents and their headings;
//   oracle    - the largest source files, flagged past the style guide's ~600-line mark.
#pragma once

#include <string>

#include "engine/scripted_runner.h"

namespace troupe {

// The script for `agent` working on `workspace`; latencies are divided by `speed`.
Script DemoScript(const std::string& agent, const std::string& workspace, double speed);

}  // namespace troupe
