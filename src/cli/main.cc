// The troupe command line (every subcommand is registered in cli/cli_app.cc).
#include "build_stamp.h"  // generated at build time by packaging/build_info.cmake
#include "cli/cli_app.h"
#include "cli/cli_io.h"

int main(int argc, char** argv) {
  troupe::CliIo io = troupe::CliIo::Process();
  const troupe::BuildInfo build{TROUPE_VERSION, TROUPE_GIT_COMMIT, TROUPE_GIT_DIRTY};
  return troupe::RunTroupeCli(argc, argv, io, build);
}
