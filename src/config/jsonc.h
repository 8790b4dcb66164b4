// JSONC: JSON with `//` and `/* */` comments and trailing commas, as troupe's config files are
// written. A pure pre-pass (ScanJsonc) turns JSONC into plain JSON of the same length and records
// where every key and value is; ParseJsonc then builds the nlohmann::json value. Neither throws.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace troupe {

// A place in a text: 1-based line, and 1-based column counted in characters (UTF-8 code points,
// so a tab or a multi-byte character counts as one). Lines end at '\n' (a "\r\n" pair is one
// line end). {0, 0} means "unknown".
struct TextPosition {
  int line = 0;
  int column = 0;
  friend bool operator==(const TextPosition&, const TextPosition&) = default;
};

// Returns the position of byte `offset` of `text` (offset == text.size() is the end of the
// text). A UTF-8 byte order mark at the start is not counted.
TextPosition PositionInText(std::string_view text, size_t offset);

// The first syntax error of a JSONC text.
struct JsoncError {
  size_t offset = 0;  // byte offset in the text
  TextPosition position;
  std::string
      message;  // human-readable, without position, e.g. "expected ',' or '}' ..., found ..."
};

// Output of the pre-pass.
struct JsoncScan {
  // The input with comments, trailing commas and a leading byte order mark replaced by spaces.
  // Line ends ('\n' and '\r') are kept, so `json` has the input's length, byte offsets and lines.
  std::string json;
  // True when the input holds no value: empty, or only whitespace and comments.
  bool empty = true;
  // JSON pointer (RFC 6901, e.g. "/background_task/modelConcurrency/openai~1gpt-4o") of every
  // object member -> position of its key's opening quote.
  std::unordered_map<std::string, TextPosition> keys;
  // JSON pointer of every value, including "" for the top-level value and "/tools/0" for array
  // elements -> position of the value's first character.
  std::unordered_map<std::string, TextPosition> values;
  // Pointers of members whose key appeared earlier in the same object (the last one wins, and
  // `keys`/`values` hold its position).
  std::vector<std::string> duplicate_keys;
  // Set when the input is not valid JSONC; the other fields are then incomplete.
  std::optional<JsoncError> error;
};

// The pre-pass. Checks the structure of `text` (brackets, colons, commas, string and comment
// termination, literal and number syntax; not the contents of strings, which ParseJsonc checks)
// and stops at the first error. Nesting deeper than kMaxJsoncDepth is an error.
JsoncScan ScanJsonc(std::string_view text);

inline constexpr int kMaxJsoncDepth = 128;
inline constexpr std::string_view kUtf8ByteOrderMark = "\xEF\xBB\xBF";

// A parsed JSONC text.
struct JsoncDocument {
  nlohmann::json value;  // null when the text is empty or has an error
  JsoncScan scan;        // positions, `empty` and the first error

  bool ok() const { return !scan.error.has_value(); }
  // Position of the key of the member at `pointer`, else {0, 0}.
  TextPosition KeyPosition(const std::string& pointer) const;
  // Position of the value at `pointer`, else {0, 0}.
  TextPosition ValuePosition(const std::string& pointer) const;
};

// Runs the pre-pass, then parses the result with nlohmann::json. Errors of either step (invalid
// escapes, control characters or ill-formed UTF-8 in strings, numbers too large for a double)
// are reported in `scan.error` with their position in `text`.
JsoncDocument ParseJsonc(std::string_view text);

// Appends `key` to JSON pointer `pointer`, escaping '~' and '/' as RFC 6901 requires.
std::string AppendJsonPointer(const std::string& pointer, std::string_view key);

}  // namespace troupe
