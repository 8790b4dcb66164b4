// The troupe command line: every subcommand registered with CLI11, parsed, and run with `io`
// (the process's streams in main(), strings in tests). Returns the exit code (cli/exit_codes.h).
#pragma once

#include "cli/cli_io.h"

namespace troupe {

int RunTroupeCli(int argc, const char* const* argv, CliIo& io);

}  // namespace troupe
