#include "core/text_trim.h"

namespace troupe {
namespace {

bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }
bool IsBlank(char c) { return c == ' ' || c == '\t'; }

template <typename Pred>
std::string_view TrimBy(std::string_view s, Pred strip, bool front) {
  while (!s.empty() && strip(s.back())) s.remove_suffix(1);
  while (front && !s.empty() && strip(s.front())) s.remove_prefix(1);
  return s;
}

}  // namespace

std::string_view TrimAsciiSpace(std::string_view s) { return TrimBy(s, IsAsciiSpace, true); }

std::string_view TrimRightAsciiSpace(std::string_view s) {
  return TrimBy(s, IsAsciiSpace, false);
}

std::string_view TrimBlanks(std::string_view s) { return TrimBy(s, IsBlank, true); }

}  // namespace troupe
