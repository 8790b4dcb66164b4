// The troupe command line (every subcommand is registered in cli/cli_app.cc).
#include "cli/cli_app.h"
#include "cli/cli_io.h"

int main(int argc, char** argv) {
  troupe::CliIo io = troupe::CliIo::Process();
  return troupe::RunTroupeCli(argc, argv, io);
}
