#include "cli/table.h"

#include <algorithm>
#include <cstdint>
#include <iterator>

namespace troupe {
namespace {

// One character of `text` at `pos`: its code point (-1 for a byte that does not start valid
// UTF-8) and its length in bytes.
struct Utf8Char {
  int32_t code_point;
  size_t length;
};

Utf8Char DecodeAt(std::string_view text, size_t pos) {
  const auto b0 = static_cast<unsigned char>(text[pos]);
  if (b0 < 0x80) return {b0, 1};
  size_t length;
  int32_t cp;
  if ((b0 & 0xE0) == 0xC0) {
    length = 2;
    cp = b0 & 0x1F;
  } else if ((b0 & 0xF0) == 0xE0) {
    length = 3;
    cp = b0 & 0x0F;
  } else if ((b0 & 0xF8) == 0xF0) {
    length = 4;
    cp = b0 & 0x07;
  } else {
    return {-1, 1};
  }
  if (pos + length > text.size()) return {-1, 1};
  for (size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(text[pos + i]);
    if ((b & 0xC0) != 0x80) return {-1, 1};
    cp = (cp << 6) | (b & 0x3F);
  }
  // Overlong forms, surrogates and values past U+10FFFF are not valid UTF-8.
  static constexpr int32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[length] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return {-1, 1};
  return {cp, length};
}

bool InRanges(int32_t cp, const int32_t (*ranges)[2], size_t count) {
  for (size_t i = 0; i < count; ++i) {
    if (cp >= ranges[i][0] && cp <= ranges[i][1]) return true;
  }
  return false;
}

// Columns of one code point, as terminals show it (a small wcwidth).
int CharWidth(int32_t cp) {
  if (cp < 0) return 1;
  if (cp < 0x20 || (cp >= 0x7F && cp < 0xA0)) return 0;
  // Below the first range of either table: one column. Most text (and every table cell of
  // ASCII) ends here, before the two linear scans.
  if (cp < 0x0300) return 1;
  static constexpr int32_t kZero[][2] = {
      {0x0300, 0x036F}, {0x0483, 0x0489},  {0x0591, 0x05BD}, {0x0610, 0x061A}, {0x064B, 0x065F},
      {0x0E31, 0x0E31}, {0x0E34, 0x0E3A},  {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF}, {0x200B, 0x200F},
      {0x202A, 0x202E}, {0x2060, 0x2064},  {0x20D0, 0x20FF}, {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F},
      {0xFEFF, 0xFEFF}, {0xE0100, 0xE01EF}};
  if (InRanges(cp, kZero, std::size(kZero))) return 0;
  static constexpr int32_t kWide[][2] = {
      {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
      {0x2614, 0x2615},   {0x2648, 0x2653},   {0x26A1, 0x26A1},   {0x26AA, 0x26AB},
      {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26D4, 0x26D4},   {0x26EA, 0x26EA},
      {0x26F2, 0x26F5},   {0x26FA, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
      {0x2728, 0x2728},   {0x274C, 0x274C},   {0x2753, 0x2755},   {0x2757, 0x2757},
      {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},   {0x2B1B, 0x2B1C},
      {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},   {0x3041, 0x33FF},
      {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xA960, 0xA97F},
      {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},   {0xFE30, 0xFE6F},
      {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF},
      {0x1F18E, 0x1F18E}, {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F},
      {0x1F680, 0x1F6FF}, {0x1F7E0, 0x1F7EB}, {0x1F90C, 0x1F9FF}, {0x1FA70, 0x1FAFF},
      {0x20000, 0x3FFFD}};
  if (InRanges(cp, kWide, std::size(kWide))) return 2;
  return 1;
}

constexpr std::string_view kEllipsis = "…";

}  // namespace

int DisplayWidth(std::string_view text) {
  int width = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeAt(text, pos);
    width += CharWidth(c.code_point);
    pos += c.length;
  }
  return width;
}

std::string CutToWidth(std::string_view text, int width) {
  if (DisplayWidth(text) <= width) return std::string(text);
  if (width <= 0) return "";
  const int budget = width - 1;  // the ellipsis takes one column
  std::string out;
  int used = 0;
  for (size_t pos = 0; pos < text.size();) {
    const Utf8Char c = DecodeAt(text, pos);
    const int w = CharWidth(c.code_point);
    if (used + w > budget) break;
    used += w;
    out.append(text.substr(pos, c.length));
    pos += c.length;
  }
  // Combining marks that follow the last character kept belong to it; width 0, so they were
  // kept above. Trailing blanks before the ellipsis look odd: drop them.
  while (!out.empty() && out.back() == ' ') out.pop_back();
  out.append(kEllipsis);
  return out;
}

std::string OneLine(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7F) c = ' ';
  }
  return out;
}

std::string Paint(std::string_view text, std::string_view sgr, bool enabled) {
  if (!enabled || sgr.empty()) return std::string(text);
  std::string out = "\x1b[";
  out.append(sgr);
  out.push_back('m');
  out.append(text);
  out.append("\x1b[0m");
  return out;
}

std::string RenderTable(const std::vector<TableColumn>& columns,
                        const std::vector<std::vector<TableCell>>& rows,
                        const TableOptions& options) {
  const size_t n = columns.size();
  if (n == 0) return "";
  // Cells as they will be shown (one line each), and the widest of each column.
  std::vector<std::vector<std::string>> text(rows.size(), std::vector<std::string>(n));
  std::vector<int> widths(n);
  for (size_t c = 0; c < n; ++c) widths[c] = DisplayWidth(columns[c].header);
  for (size_t r = 0; r < rows.size(); ++r) {
    for (size_t c = 0; c < n && c < rows[r].size(); ++c) {
      text[r][c] = OneLine(rows[r][c].text);
      widths[c] = std::max(widths[c], DisplayWidth(text[r][c]));
    }
  }

  if (options.max_width > 0) {
    int total = options.gap * static_cast<int>(n - 1);
    for (int w : widths) total += w;
    // Shrink the shrinkable columns, last first, down to their minimum.
    for (size_t i = n; i-- > 0 && total > options.max_width;) {
      if (!columns[i].shrink) continue;
      const int floor = std::max(columns[i].min_width, DisplayWidth(columns[i].header));
      const int give = std::min(total - options.max_width, widths[i] - floor);
      if (give <= 0) continue;
      widths[i] -= give;
      total -= give;
    }
  }

  const std::string gap(static_cast<size_t>(std::max(0, options.gap)), ' ');
  auto line = [&](const std::vector<std::string>& cells, const std::vector<std::string>& sgrs) {
    std::string out;
    // The last column with content: trailing empty cells add no blanks.
    size_t last = n - 1;
    while (last > 0 && cells[last].empty()) --last;
    for (size_t c = 0; c <= last; ++c) {
      std::string cell = CutToWidth(cells[c], widths[c]);
      const int pad = widths[c] - DisplayWidth(cell);
      std::string painted = Paint(cell, sgrs[c], options.color);
      if (c > 0) out += gap;
      if (columns[c].align == Align::kRight) {
        out.append(static_cast<size_t>(pad), ' ');
        out += painted;
      } else {
        out += painted;
        if (c != last) out.append(static_cast<size_t>(pad), ' ');
      }
    }
    out.push_back('\n');
    return out;
  };

  std::string out;
  std::vector<std::string> headers(n);
  std::vector<std::string> bold(n, "1");
  for (size_t c = 0; c < n; ++c) headers[c] = columns[c].header;
  out += line(headers, bold);
  for (size_t r = 0; r < rows.size(); ++r) {
    std::vector<std::string> sgrs(n);
    for (size_t c = 0; c < n && c < rows[r].size(); ++c) sgrs[c] = rows[r][c].sgr;
    out += line(text[r], sgrs);
  }
  return out;
}

}  // namespace troupe
