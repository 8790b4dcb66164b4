// ScanJsonc: the JSONC pre-pass, a single forward walk over the text with a stack of open
// objects and arrays.
#include <algorithm>
#include <cctype>
#include <cstdint>
#include <unordered_set>
#include <utility>

#include "config/jsonc.h"
#include "config/message_text.h"

namespace troupe {

namespace {

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsJsonWhitespace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

std::string PositionText(TextPosition p) {
  return std::to_string(p.line) + ":" + std::to_string(p.column);
}

// Appends code point `cp` to `out` as UTF-8.
void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Reads 4 hex digits at raw[i..i+4) into *out.
bool ReadHex4(std::string_view raw, size_t i, uint32_t* out) {
  if (i + 4 > raw.size()) return false;
  uint32_t v = 0;
  for (size_t k = i; k < i + 4; ++k) {
    const char c = raw[k];
    v <<= 4;
    if (IsDigit(c)) {
      v |= static_cast<uint32_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint32_t>(c - 'a' + 10);
    } else if (c >= 'A' && c <= 'F') {
      v |= static_cast<uint32_t>(c - 'A' + 10);
    } else {
      return false;
    }
  }
  *out = v;
  return true;
}

// Decodes the body of a JSON string (between the quotes) as nlohmann does for valid strings.
// Invalid escapes are kept as written; ParseJsonc reports them.
std::string DecodeJsonString(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 == raw.size()) {
      out += raw[i];
      continue;
    }
    const char e = raw[++i];
    switch (e) {
      case '"':
        out += '"';
        break;
      case '\\':
        out += '\\';
        break;
      case '/':
        out += '/';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'n':
        out += '\n';
        break;
      case 'r':
        out += '\r';
        break;
      case 't':
        out += '\t';
        break;
      case 'u': {
        uint32_t cp = 0;
        if (!ReadHex4(raw, i + 1, &cp)) {
          out += "\\u";
          break;
        }
        i += 4;
        uint32_t low = 0;
        if (cp >= 0xD800 && cp <= 0xDBFF && i + 2 < raw.size() && raw[i + 1] == '\\' &&
            raw[i + 2] == 'u' && ReadHex4(raw, i + 3, &low) && low >= 0xDC00 && low <= 0xDFFF) {
          cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          i += 6;
        }
        AppendUtf8(cp, &out);
        break;
      }
      default:
        out += '\\';
        out += e;
    }
  }
  return out;
}

// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
bool IsJsonNumber(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && IsDigit(s[i])) ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

// The structural pass behind ScanJsonc: a single forward walk with a stack of open containers.
class Scanner {
 public:
  explicit Scanner(std::string_view text) : text_(text) { out_.json.assign(text); }

  JsoncScan Run() {
    if (text_.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) {
      out_.json.replace(0, kUtf8ByteOrderMark.size(), kUtf8ByteOrderMark.size(), ' ');
      pos_ = kUtf8ByteOrderMark.size();  // not counted as a column
    }
    while (!out_.error) {
      if (!SkipWhitespaceAndComments()) break;
      if (pos_ == text_.size()) {
        AtEnd();
        break;
      }
      Step();
    }
    return std::move(out_);
  }

 private:
  enum class Expect {
    kValue,       // at the top level, or after ':'
    kKeyOrEnd,    // in an object, after '{' or ','
    kColon,       // in an object, after a key
    kValueOrEnd,  // in an array, after '[' or ','
    kCommaOrEnd,  // in an object or array, after a member
    kEndOfText,   // after the top-level value
  };
  struct Frame {
    bool is_object = false;
    std::string pointer;
    TextPosition opened_at;
    std::string key;              // objects: the current member's key
    std::string key_pointer;      // objects: the current member's pointer
    size_t index = 0;             // arrays: index of the next element
    std::optional<size_t> comma;  // offset of a ',' not yet followed by a member
    std::unordered_set<std::string> seen_keys;
  };
  // A token as read, for messages.
  enum class Token { kPunct, kString, kWord };

  char Peek(size_t ahead = 0) const {
    return pos_ + ahead < text_.size() ? text_[pos_ + ahead] : '\0';
  }
  TextPosition Here() const { return {line_, column_}; }

  void Advance() {
    const auto c = static_cast<unsigned char>(text_[pos_++]);
    if (c == '\n') {
      ++line_;
      column_ = 1;
    } else if (!IsContinuationByte(c)) {
      ++column_;
    }
  }

  void Fail(size_t offset, TextPosition at, std::string message) {
    out_.error = JsoncError{offset, at, std::move(message)};
  }

  // Skips whitespace and comments, blanking comments in `json`. False on an unterminated comment.
  bool SkipWhitespaceAndComments() {
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (IsJsonWhitespace(c)) {
        Advance();
      } else if (c == '/' && Peek(1) == '/') {
        while (pos_ < text_.size() && text_[pos_] != '\n') {
          if (text_[pos_] != '\r') out_.json[pos_] = ' ';
          Advance();
        }
      } else if (c == '/' && Peek(1) == '*') {
        const size_t start = pos_;
        const TextPosition at = Here();
        const size_t end = text_.find("*/", pos_ + 2);
        if (end == std::string_view::npos) {
          Fail(start, at, "unterminated comment: '/*' has no matching '*/'");
          return false;
        }
        while (pos_ < end + 2) {
          if (text_[pos_] != '\n' && text_[pos_] != '\r') out_.json[pos_] = ' ';
          Advance();
        }
      } else {
        break;
      }
    }
    return true;
  }

  // Reads the string starting at pos_ (a '"'); returns its body (without quotes, escapes kept).
  std::optional<std::string_view> ReadString() {
    const size_t start = pos_;
    const TextPosition at = Here();
    Advance();
    bool line_end = false;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (c == '"') {
        Advance();
        return text_.substr(start + 1, pos_ - start - 2);
      }
      if (c == '\\' && pos_ + 1 < text_.size()) Advance();  // the escaped byte is not special
      if (text_[pos_] == '\n' || text_[pos_] == '\r') {
        line_end = true;
        break;
      }
      Advance();
    }
    Fail(start, at,
         !line_end
             ? "unterminated string: the closing '\"' is missing"
             : "unterminated string: a string must end on the line it starts (write \\n for a "
               "line break)");
    return std::nullopt;
  }

  // Reads a bare word (literal or number, valid or not) starting at pos_.
  std::string_view ReadWord() {
    const size_t start = pos_;
    while (pos_ < text_.size()) {
      const char c = text_[pos_];
      if (IsJsonWhitespace(c) || c == '{' || c == '}' || c == '[' || c == ']' || c == ':' ||
          c == ',' || c == '"' || (c == '/' && (Peek(1) == '/' || Peek(1) == '*'))) {
        break;
      }
      Advance();
    }
    return text_.substr(start, pos_ - start);
  }

  // What the scanner expects now, for messages.
  std::string Expected() const {
    switch (expect_) {
      case Expect::kValue:
        return stack_.empty() ? "expected a value"
                              : "expected a value for \"" + Snippet(stack_.back().key) + "\"";
      case Expect::kKeyOrEnd:
        return "expected a key in double quotes or '}'";
      case Expect::kColon:
        return "expected ':' after the key \"" + Snippet(stack_.back().key) + "\"";
      case Expect::kValueOrEnd:
        return "expected a value or ']'";
      case Expect::kCommaOrEnd:
        return stack_.back().is_object
                   ? "expected ',' or '}' after the value of \"" + Snippet(stack_.back().key) + "\""
                   : "expected ',' or ']' after an array element";
      case Expect::kEndOfText:
        return "expected the end of the file after the top-level value";
    }
    return "";
  }

  void Unexpected(size_t start, TextPosition at, Token token, std::string_view text) {
    std::string found;
    switch (token) {
      case Token::kPunct:
        found = "'" + std::string(text) + "'";
        break;
      case Token::kString:
        found = "the string \"" + Snippet(text) + "\"";
        break;
      case Token::kWord:
        found = "'" + Snippet(text) + "'";
        break;
    }
    std::string message = Expected() + ", found " + found;
    const bool closer = token == Token::kPunct && (text == "}" || text == "]");
    if (closer && !stack_.empty()) {
      const Frame& top = stack_.back();
      message += std::string(" (the '") + (top.is_object ? "{" : "[") + "' at " +
                 PositionText(top.opened_at) + " is not closed)";
    } else if (expect_ == Expect::kCommaOrEnd && !closer && text != ":") {
      message += " (is a ',' missing before it?)";
    } else if (expect_ == Expect::kKeyOrEnd && token == Token::kWord) {
      message += " (keys must be in double quotes: \"" + Snippet(text) + "\")";
    }
    Fail(start, at, std::move(message));
  }

  // Called when a value starts at `at`; returns its pointer, or nullopt (after failing) when no
  // value may start here.
  std::optional<std::string> BeginValue(size_t start, TextPosition at, Token token,
                                        std::string_view text) {
    std::string pointer;
    if (expect_ == Expect::kValue) {
      if (!stack_.empty()) pointer = stack_.back().key_pointer;
    } else if (expect_ == Expect::kValueOrEnd) {
      Frame& top = stack_.back();
      pointer = AppendJsonPointer(top.pointer, std::to_string(top.index));
      top.comma.reset();
    } else {
      Unexpected(start, at, token, text);
      return std::nullopt;
    }
    out_.values[pointer] = at;
    out_.empty = false;
    return pointer;
  }

  // Called when a value (scalar or closed container) ends.
  void EndValue() {
    if (stack_.empty()) {
      expect_ = Expect::kEndOfText;
      return;
    }
    if (!stack_.back().is_object) ++stack_.back().index;
    expect_ = Expect::kCommaOrEnd;
  }

  void Step() {
    const size_t start = pos_;
    const TextPosition at = Here();
    const char c = text_[pos_];
    switch (c) {
      case '{':
      case '[': {
        std::optional<std::string> pointer = BeginValue(start, at, Token::kPunct, {&c, 1});
        if (!pointer) return;
        if (stack_.size() >= static_cast<size_t>(kMaxJsoncDepth)) {
          Fail(start, at,
               "nested too deeply: more than " + std::to_string(kMaxJsoncDepth) +
                   " levels of objects and arrays");
          return;
        }
        Advance();
        Frame frame;
        frame.is_object = c == '{';
        frame.pointer = std::move(*pointer);
        frame.opened_at = at;
        stack_.push_back(std::move(frame));
        expect_ = c == '{' ? Expect::kKeyOrEnd : Expect::kValueOrEnd;
        return;
      }
      case '}':
      case ']': {
        const bool object = c == '}';
        const bool may_close = !stack_.empty() && stack_.back().is_object == object &&
                               (expect_ == Expect::kCommaOrEnd ||
                                expect_ == (object ? Expect::kKeyOrEnd : Expect::kValueOrEnd));
        if (!may_close) return Unexpected(start, at, Token::kPunct, {&c, 1});
        // A ',' directly before the closing bracket is a trailing comma: blank it.
        if (stack_.back().comma) out_.json[*stack_.back().comma] = ' ';
        stack_.pop_back();
        Advance();
        EndValue();
        return;
      }
      case ':':
        if (expect_ != Expect::kColon) return Unexpected(start, at, Token::kPunct, ":");
        Advance();
        expect_ = Expect::kValue;
        return;
      case ',':
        if (expect_ != Expect::kCommaOrEnd) return Unexpected(start, at, Token::kPunct, ",");
        Advance();
        stack_.back().comma = start;
        expect_ = stack_.back().is_object ? Expect::kKeyOrEnd : Expect::kValueOrEnd;
        return;
      case '"': {
        std::optional<std::string_view> body = ReadString();
        if (!body) return;
        if (expect_ == Expect::kKeyOrEnd) return Key(*body, at);
        if (BeginValue(start, at, Token::kString, *body)) EndValue();
        return;
      }
      default: {
        const std::string_view word = ReadWord();
        if (expect_ != Expect::kValue && expect_ != Expect::kValueOrEnd) {
          return Unexpected(start, at, Token::kWord, word);
        }
        if (word != "true" && word != "false" && word != "null" && !IsJsonNumber(word)) {
          std::string message = "invalid value '" + Snippet(word) +
                                "' (expected a string in double quotes, a number, true, false, "
                                "null, an object or an array)";
          if (word.front() == '\'') {
            message += "; strings must be in double quotes";
          } else if (EqualsIgnoringCase(word, "true") || EqualsIgnoringCase(word, "false") ||
                     EqualsIgnoringCase(word, "null")) {
            message += "; true, false and null are written in lowercase";
          }
          return Fail(start, at, std::move(message));
        }
        if (BeginValue(start, at, Token::kWord, word)) EndValue();
        return;
      }
    }
  }

  void Key(std::string_view body, TextPosition at) {
    Frame& top = stack_.back();
    top.comma.reset();
    top.key = DecodeJsonString(body);
    top.key_pointer = AppendJsonPointer(top.pointer, top.key);
    if (!top.seen_keys.insert(top.key).second) out_.duplicate_keys.push_back(top.key_pointer);
    out_.keys[top.key_pointer] = at;
    expect_ = Expect::kColon;
  }

  void AtEnd() {
    if (!stack_.empty()) {
      const Frame& top = stack_.back();
      Fail(pos_, Here(),
           std::string("unexpected end of file: the '") + (top.is_object ? "{" : "[") + "' at " +
               PositionText(top.opened_at) + " is not closed");
    }
  }

  std::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
  int column_ = 1;
  Expect expect_ = Expect::kValue;
  std::vector<Frame> stack_;
  JsoncScan out_;
};

}  // namespace

JsoncScan ScanJsonc(std::string_view text) { return Scanner(text).Run(); }

}  // namespace troupe
