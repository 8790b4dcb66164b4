// Exit codes of the troupe commands that talk to the daemon (docs/CLI.md "Exit codes").
#pragma once

#include "core/status.h"

namespace troupe {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;        // the API refused, or something else went wrong
inline constexpr int kExitUsage = 2;        // bad command line
inline constexpr int kExitTaskFailed = 3;   // a task ended in error, cancelled or interrupted
inline constexpr int kExitTimeout = 4;      // --timeout passed before the tasks ended
inline constexpr int kExitUnreachable = 5;  // no daemon to talk to (or it is shutting down)

// The footer of every client command's --help.
inline constexpr const char* kExitCodesHelp =
    "Exit codes: 0 ok, 1 error (API/daemon), 2 usage, 3 a task failed/cancelled/interrupted,\n"
    "4 timed out, 5 daemon unreachable.\n";

// The exit code for an error a DaemonClient returned: kUnavailable (no daemon, or one that is
// stopping) is 5, anything else 1.
inline int ExitCodeForStatus(const Status& status) {
  if (status.ok()) return kExitOk;
  return status.code() == StatusCode::kUnavailable ? kExitUnreachable : kExitError;
}

}  // namespace troupe
