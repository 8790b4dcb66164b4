#include "agent/tool_output.h"

namespace troupe {
namespace {

// Length of the well-formed UTF-8 sequence starting at text[i], or 0 when there is none
// (rejects overlong forms, surrogates and code points above U+10FFFF, as RFC 3629 does).
size_t SequenceLength(std::string_view text, size_t i) {
  const auto byte = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  size_t length;
  unsigned char lo = 0x80;
  unsigned char hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    length = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    length = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    length = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + length > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < length; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return length;
}

bool IsContinuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace

std::string ToValidUtf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t i = 0;
  while (i < text.size()) {
    size_t n = SequenceLength(text, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";  // U+FFFD
      ++i;
    } else {
      out.append(text.substr(i, n));
      i += n;
    }
  }
  return out;
}

std::string_view Utf8Prefix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t end = max_bytes;
  // Back up over at most three continuation bytes to the start of the cut sequence.
  for (int k = 0; k < 3 && end > 0 && IsContinuation(text[end]); ++k) --end;
  if (IsContinuation(text[end])) end = max_bytes;  // not UTF-8 anyway; cut where asked
  return text.substr(0, end);
}

std::string_view Utf8Suffix(std::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t start = text.size() - max_bytes;
  for (int k = 0; k < 3 && start < text.size() && IsContinuation(text[start]); ++k) ++start;
  return text.substr(start);
}

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

}  // namespace troupe
