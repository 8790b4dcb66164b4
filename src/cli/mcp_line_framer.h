// The framing of MCP's stdio transport as `troupe mcp` reads it: one JSON-RPC message per line of
// stdin. Bytes in (chunks split anywhere, even between the CR and the LF of a CRLF), lines out —
// no I/O, no JSON.
//
// - A line ends at '\n'; one '\r' before it is dropped (CRLF tolerated). A final line without a
//   newline is delivered by Finish (stdin ended).
// - Blank lines (nothing but spaces, tabs and CRs) are skipped.
// - A line longer than max_line_bytes is never buffered whole: its bytes are counted and dropped up
//   to its newline, and it comes out as a too-long line carrying only its length, so the caller
//   can answer it and carry on with the next line. Memory stays below max_line_bytes + 1.
//
// Threading: a plain value; one thread at a time.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "wire/jsonrpc.h"

namespace troupe {

struct McpStdinLine {
  std::string text;           // the line without its line ending; empty for a too-long line
  size_t too_long_bytes = 0;  // > 0: a line of this many bytes was dropped (above the limit)

  bool too_long() const { return too_long_bytes > 0; }
  friend bool operator==(const McpStdinLine&, const McpStdinLine&) = default;
};

class McpLineFramer {
 public:
  McpLineFramer() : McpLineFramer(jsonrpc::kMaxMessageBytes) {}
  explicit McpLineFramer(size_t max_line_bytes) : max_line_bytes_(max_line_bytes) {}

  // Consumes the next bytes of stdin and appends every line they complete to `*out`, in order.
  // Does nothing after Finish.
  void Feed(std::string_view bytes, std::vector<McpStdinLine>* out);

  // stdin ended: appends the last line if it had no newline. Idempotent.
  void Finish(std::vector<McpStdinLine>* out);

 private:
  void EndLine(std::vector<McpStdinLine>* out);

  size_t max_line_bytes_;
  bool finished_ = false;
  std::string line_;          // the current line so far (while not dropping)
  bool dropping_ = false;     // the current line went over the limit
  size_t dropped_bytes_ = 0;  // its length so far, while dropping
  bool dropped_cr_ = false;   // while dropping: its last byte so far was '\r'
};

}  // namespace troupe
