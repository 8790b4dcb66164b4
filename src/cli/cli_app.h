// The troupe command line: every subcommand registered with CLI11, parsed, and run with `io`
// (the process's streams in main(), strings in tests). Returns the exit code (cli/exit_codes.h).
#pragma once

#include "cli/cli_io.h"
#include "core/build_info.h"

namespace troupe {

// `build` is what `troupe --version` prints and what `troupe serve` reports (GET /v1/health).
int RunTroupeCli(int argc, const char* const* argv, CliIo& io, const BuildInfo& build);

}  // namespace troupe
