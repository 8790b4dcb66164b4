// Plain-text tables for the terminal: columns as wide as their content, one column that shrinks
// (cut with "…") when the table is wider than the terminal, optional ANSI colours. Widths are
// display widths: UTF-8 is decoded, combining marks count 0 columns, East Asian wide characters
// and emoji 2, and cuts never split a character. Pure functions: text in, text out.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace troupe {

// Columns a string takes on a terminal. Invalid UTF-8 bytes count one column each.
int DisplayWidth(std::string_view text);

// `text` if it fits in `width` columns, else its longest prefix that fits with "…" after it.
std::string CutToWidth(std::string_view text, int width);

// Control characters (C0, DEL; newlines and tabs included) replaced with a space, so that a
// value cannot break a table's lines or send escape sequences to the terminal.
std::string OneLine(std::string_view text);

// `text` wrapped in the ANSI SGR sequence `sgr` ("32" green, "1" bold, "2;31", ...) and a reset;
// `text` unchanged when `sgr` is empty or `enabled` is false.
std::string Paint(std::string_view text, std::string_view sgr, bool enabled);

enum class Align { kLeft, kRight };

struct TableColumn {
  std::string header;
  Align align = Align::kLeft;
  // Cut when the table is wider than TableOptions::max_width (the last such column first).
  bool shrink = false;
  int min_width = 8;  // a shrinking column keeps at least this (or its header's width)
};

struct TableCell {
  std::string text;  // passed through OneLine
  std::string sgr;   // colour when TableOptions::color; "" = none
  TableCell(std::string t = "", std::string s = "") : text(std::move(t)), sgr(std::move(s)) {}
  TableCell(const char* t) : text(t) {}  // NOLINT: implicit by design
};

struct TableOptions {
  int max_width = 0;  // terminal width; 0 = never cut
  bool color = false;
  int gap = 2;  // spaces between columns
};

// The header line, then one line per row, each ending with '\n'. The last column is not padded.
std::string RenderTable(const std::vector<TableColumn>& columns,
                        const std::vector<std::vector<TableCell>>& rows,
                        const TableOptions& options);

}  // namespace troupe
