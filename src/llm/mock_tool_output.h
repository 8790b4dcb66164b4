// How the mock agent (llm/mock_agent.h) reads a tool result's text: grep matches, file paths, and
// what a read file declares. Heuristic and tolerant: tool results are free text in whatever shape
// a tool prints, and any of it may be missing. Pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

struct MockToolMatch {
  std::string path;  // empty for a declaration of a read file
  int64_t line = 0;
  std::string text;
};

struct MockToolOutput {
  // Lines `path:line:text` (grep), or `line:text` under a line that is a bare path (grep's
  // heading style). The first kMockKeptItems, and how many there were.
  std::vector<MockToolMatch> matches;
  size_t match_count = 0;
  // Distinct files named by matches or by bare-path lines (glob, list, grep's files mode), in
  // order of appearance; the first kMockKeptItems, and how many there were. Directories (a path
  // ending in '/') are left out.
  std::vector<std::string> files;
  size_t file_count = 0;
  // Lines that declare something (`class `, `struct `, `def `, `fn `, `# Heading`, ...), with
  // the line number printed before them (`  12\t`, `12: `, `12→`) or else their position.
  std::vector<MockToolMatch> declarations;
  // The first three non-blank lines, trimmed, line-number prefixes removed.
  std::vector<std::string> first_lines;
  size_t line_count = 0;
};

inline constexpr size_t kMockKeptItems = 50;

MockToolOutput ReadMockToolOutput(std::string_view text);

// `text` without surrounding whitespace.
std::string MockTrimmed(std::string_view text);

}  // namespace troupe
