#include "core/http_head_parser.h"

#include <cctype>

#include "core/text_case.h"
#include "core/text_trim.h"

namespace troupe {
namespace {

bool IsFinal(const HttpResponseHead& head, bool follows_redirects) {
  if (head.status < 200) return false;  // 1xx: the real response follows
  if (follows_redirects && head.status >= 300 && head.status < 400 && head.Header("location")) {
    return false;  // libcurl follows it (or fails with too many redirects)
  }
  return true;
}

}  // namespace

int ParseHttpStatusLine(std::string_view line) {
  if (line.substr(0, 5) != "HTTP/") return 0;
  size_t space = line.find(' ');
  if (space == std::string_view::npos) return 0;
  std::string_view rest = line.substr(space + 1);
  if (rest.size() < 3) return 0;
  int status = 0;
  for (int i = 0; i < 3; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i]))) return 0;
    status = status * 10 + (rest[i] - '0');
  }
  if (rest.size() > 3 && rest[3] != ' ' && rest[3] != '\r' && rest[3] != '\n') return 0;
  return status >= 100 ? status : 0;
}

bool HttpHeadParser::AddLine(std::string_view line) {
  if (complete_) return false;  // trailers
  std::string_view content = TrimAsciiSpace(line);
  if (int status = ParseHttpStatusLine(line); status != 0) {
    head_ = HttpResponseHead{status, {}};
    in_head_ = true;
    return false;
  }
  if (!in_head_) return false;  // noise before any status line
  if (content.empty()) {        // the blank line ending a head
    in_head_ = false;
    if (!IsFinal(head_, follows_redirects_)) return false;
    complete_ = true;
    return true;
  }
  if ((line.front() == ' ' || line.front() == '\t') && !head_.headers.empty()) {
    std::string& value = head_.headers.back().value;  // obsolete line folding
    if (!value.empty()) value += ' ';
    value += content;
    return false;
  }
  size_t colon = content.find(':');
  if (colon == std::string_view::npos || colon == 0) return false;  // malformed: dropped
  head_.headers.push_back({AsciiLowercase(TrimAsciiSpace(content.substr(0, colon))),
                           std::string(TrimAsciiSpace(content.substr(colon + 1)))});
  return false;
}

}  // namespace troupe
