#include "cli/cli_io.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <iostream>

namespace troupe {
namespace {

bool ColorAllowed() {
  const char* no_color = std::getenv("NO_COLOR");
  if (no_color != nullptr && *no_color != '\0') return false;
  const char* term = std::getenv("TERM");
  return term == nullptr || std::strcmp(term, "dumb") != 0;
}

}  // namespace

CliIo CliIo::Process() {
  CliIo io;
  io.in = &std::cin;
  io.out = &std::cout;
  io.err = &std::cerr;
  io.in_tty = ::isatty(STDIN_FILENO) != 0;
  io.out_tty = ::isatty(STDOUT_FILENO) != 0;
  io.err_tty = ::isatty(STDERR_FILENO) != 0;
  if (io.out_tty) {
    struct winsize ws;
    if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) io.width = ws.ws_col;
  }
  return io;
}

int CliIo::Width() const {
  if (width > 0) return width;
  if (const char* columns = std::getenv("COLUMNS")) {
    const int n = std::atoi(columns);
    if (n >= 20 && n <= 10000) return n;
  }
  return 0;  // a pipe or file: whole lines, for grep and awk
}

bool CliIo::OutColor() const { return out_tty && ColorAllowed(); }
bool CliIo::ErrColor() const { return err_tty && ColorAllowed(); }

}  // namespace troupe
