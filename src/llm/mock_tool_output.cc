#include "llm/mock_tool_output.h"

#include <cctype>
#include <optional>
#include <unordered_set>

namespace troupe {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

bool IsPathChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ||
         c == '/' || c == '+' || c == '@' || c == '~' || static_cast<unsigned char>(c) >= 0x80;
}

// A token that names a file or directory: path characters only, with a '/' or a file
// extension, and not just a number ("1.5").
bool LooksLikePath(std::string_view s) {
  if (s.empty() || s.size() > 1024) return false;
  bool has_alpha = false;
  for (char c : s) {
    if (!IsPathChar(c)) return false;
    has_alpha |= std::isalpha(static_cast<unsigned char>(c)) != 0;
  }
  if (!has_alpha) return false;
  if (s.find('/') != std::string_view::npos) return true;
  const size_t dot = s.rfind('.');
  return dot != std::string_view::npos && dot > 0 && dot + 1 < s.size();
}

// Parses "<digits><sep>" at the start of `s`: the number and the rest after the separator.
// Separators: '\t', ':', '|' and '→'.
std::optional<std::pair<int64_t, std::string_view>> NumberPrefix(std::string_view s) {
  size_t i = 0;
  while (i < s.size() && s[i] == ' ') ++i;
  const size_t start = i;
  int64_t n = 0;
  while (i < s.size() && IsDigit(s[i]) && i - start < 12) n = n * 10 + (s[i++] - '0');
  if (i == start || i >= s.size()) return std::nullopt;
  constexpr std::string_view kArrow = "\xE2\x86\x92";  // →
  if (s.substr(i, kArrow.size()) == kArrow) return std::make_pair(n, s.substr(i + kArrow.size()));
  if (s[i] == '\t' || s[i] == ':' || s[i] == '|') {
    std::string_view rest = s.substr(i + 1);
    if (!rest.empty() && rest.front() == ' ' && s[i] != '\t') rest.remove_prefix(1);
    return std::make_pair(n, rest);
  }
  return std::nullopt;
}

// "path:12:text": the first ":<digits>:" after a non-empty path.
std::optional<MockToolMatch> GrepLine(std::string_view line) {
  for (size_t p = line.find(':'); p != std::string_view::npos; p = line.find(':', p + 1)) {
    if (p == 0) continue;
    size_t q = p + 1;
    int64_t n = 0;
    while (q < line.size() && IsDigit(line[q]) && q - p < 12) n = n * 10 + (line[q++] - '0');
    if (q == p + 1 || q >= line.size() || line[q] != ':') continue;
    const std::string_view path = line.substr(0, p);
    bool has_alpha = false;
    for (char c : path) has_alpha |= std::isalpha(static_cast<unsigned char>(c)) != 0;
    if (!has_alpha || path.find_first_of(" \t") != std::string_view::npos) return std::nullopt;
    return MockToolMatch{std::string(path), n, std::string(line.substr(q + 1))};
  }
  return std::nullopt;
}

bool IsDeclaration(std::string_view line) {
  static constexpr std::string_view kStarts[] = {
      "class ",      "struct ",    "enum ",      "union ",          "interface ", "namespace ",
      "def ",        "async def ", "function ",  "async function ", "fn ",        "pub fn ",
      "pub struct ", "pub enum ",  "pub trait ", "trait ",          "impl ",      "func ",
      "type ",       "export ",    "module ",    "template <",      "#define ",   "# ",
      "## ",         "### ",       "#### ",      "using ",          "typedef "};
  for (std::string_view start : kStarts) {
    if (line.substr(0, start.size()) == start) return true;
  }
  return false;
}

}  // namespace

std::string MockTrimmed(std::string_view text) {
  constexpr std::string_view kSpace = " \t\r\n";
  const size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return "";
  return std::string(text.substr(begin, text.find_last_not_of(kSpace) - begin + 1));
}

MockToolOutput ReadMockToolOutput(std::string_view text) {
  MockToolOutput out;
  std::unordered_set<std::string> seen_files;
  auto add_file = [&](const std::string& path) {
    if (!seen_files.insert(path).second) return;
    ++out.file_count;
    if (out.files.size() < kMockKeptItems) out.files.push_back(path);
  };
  auto add_match = [&](MockToolMatch m) {
    add_file(m.path);
    ++out.match_count;
    if (out.matches.size() < kMockKeptItems) out.matches.push_back(std::move(m));
  };
  std::string heading_file;  // grep's heading style: matches follow a line naming the file
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view raw = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    ++out.line_count;
    const std::string line = MockTrimmed(raw);
    if (line.empty()) {
      heading_file.clear();
      continue;
    }
    if (std::optional<MockToolMatch> match = GrepLine(line)) {
      add_match(std::move(*match));
      continue;
    }
    if (LooksLikePath(line)) {
      if (line.back() != '/') {
        add_file(line);
        heading_file = line;
      }
      continue;
    }
    const auto numbered = NumberPrefix(raw);
    if (numbered && !heading_file.empty()) {
      add_match({heading_file, numbered->first, std::string(numbered->second)});
      continue;
    }
    const std::string content = numbered ? MockTrimmed(numbered->second) : line;
    if (content.empty()) continue;
    if (out.first_lines.size() < 3) out.first_lines.push_back(content);
    if (IsDeclaration(content) && out.declarations.size() < kMockKeptItems) {
      const int64_t number = numbered ? numbered->first : static_cast<int64_t>(out.line_count);
      out.declarations.push_back({"", number, content});
    }
  }
  return out;
}

}  // namespace troupe
