// Where a command reads and writes, and what kind of terminal it talks to; the process's own
// streams in `troupe`, strings in tests.
#pragma once

#include <iosfwd>

namespace troupe {

struct CliIo {
  std::istream* in = nullptr;
  std::ostream* out = nullptr;
  std::ostream* err = nullptr;
  bool in_tty = false;
  bool out_tty = false;
  bool err_tty = false;
  int width = 0;  // terminal columns; 0 = ask the terminal (stdout), else $COLUMNS, else 80

  // std::cin/cout/cerr and isatty() of descriptors 0, 1 and 2.
  static CliIo Process();

  // Columns tables may use: the terminal's, else $COLUMNS, else 0 = no limit (output to a pipe
  // or file is never cut).
  int Width() const;
  // Colours on stdout / stderr: a terminal, NO_COLOR unset or empty, TERM not "dumb".
  bool OutColor() const;
  bool ErrColor() const;
};

}  // namespace troupe
