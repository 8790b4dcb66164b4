#include "agent/tool_output.h"

namespace troupe {

std::string FormatCount(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string CountOf(uint64_t n, std::string_view noun, std::string_view plural) {
  return FormatCount(n) + " " + std::string(n == 1 ? noun : plural);
}

std::string FormatBytes(uint64_t n) {
  if (n < 1024) return CountOf(n, "byte", "bytes");
  if (n < 1024 * 1024) return FormatCount(n / 1024) + " KiB";
  return FormatCount(n / (1024 * 1024)) + " MiB";
}

std::string TruncationMarker(std::string_view what) {
  return "… [truncated: " + std::string(what) + "]";
}

std::string CapToolText(std::string_view text, size_t max_bytes, std::string_view what) {
  if (text.size() <= max_bytes) return ToValidUtf8(text);
  const std::string_view head = Utf8Prefix(text, max_bytes);
  return ToValidUtf8(head) + "\n" +
         TruncationMarker(FormatBytes(text.size() - head.size()) + " more of " + std::string(what));
}

}  // namespace troupe
