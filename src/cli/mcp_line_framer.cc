#include "cli/mcp_line_framer.h"

namespace troupe {
namespace {

bool IsBlank(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

}  // namespace

void McpLineFramer::Feed(std::string_view bytes, std::vector<McpStdinLine>* out) {
  if (finished_) return;
  while (!bytes.empty()) {
    const size_t newline = bytes.find('\n');
    const std::string_view chunk = bytes.substr(0, newline);
    if (dropping_) {
      dropped_bytes_ += chunk.size();
      if (!chunk.empty()) dropped_cr_ = chunk.back() == '\r';
    } else if (line_.size() + chunk.size() > max_line_bytes_ + 1) {
      // One byte of slack for the '\r' of a CRLF; EndLine judges a line of exactly
      // max_line_bytes + 1 bytes once it knows whether that byte is a '\r'.
      dropping_ = true;
      dropped_bytes_ = line_.size() + chunk.size();
      dropped_cr_ = chunk.back() == '\r';  // not empty: the line only grows with it
      std::string().swap(line_);
    } else {
      line_.append(chunk);
    }
    if (newline == std::string_view::npos) return;
    EndLine(out);
    bytes.remove_prefix(newline + 1);
  }
}

void McpLineFramer::Finish(std::vector<McpStdinLine>* out) {
  if (finished_) return;
  finished_ = true;
  if (dropping_ || !line_.empty()) EndLine(out);
}

void McpLineFramer::EndLine(std::vector<McpStdinLine>* out) {
  if (dropping_) {
    out->push_back(McpStdinLine{"", dropped_bytes_ - (dropped_cr_ ? 1 : 0)});
    dropping_ = false;
    dropped_bytes_ = 0;
    dropped_cr_ = false;
    return;
  }
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  if (line_.size() > max_line_bytes_) {
    out->push_back(McpStdinLine{"", line_.size()});
  } else if (!IsBlank(line_)) {
    out->push_back(McpStdinLine{std::move(line_), 0});
  }
  line_ = std::string();
}

}  // namespace troupe
