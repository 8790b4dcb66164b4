#include "config/jsonc.h"

#include <algorithm>
#include <utility>

#include "config/message_text.h"

namespace troupe {

namespace {

bool IsContinuationByte(unsigned char c) { return (c & 0xC0) == 0x80; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Builds the document from nlohmann's SAX events and records the first error, so parsing needs
// no exceptions.
class DomBuilder {
 public:
  using json = nlohmann::json;

  bool null() { return Add(json(nullptr)) != nullptr; }
  bool boolean(bool v) { return Add(json(v)) != nullptr; }
  bool number_integer(json::number_integer_t v) { return Add(json(v)) != nullptr; }
  bool number_unsigned(json::number_unsigned_t v) { return Add(json(v)) != nullptr; }
  bool number_float(json::number_float_t v, const json::string_t&) {
    return Add(json(v)) != nullptr;
  }
  bool string(json::string_t& v) { return Add(json(std::move(v))) != nullptr; }
  bool binary(json::binary_t& v) { return Add(json(std::move(v))) != nullptr; }
  bool start_object(std::size_t) {
    stack_.push_back(Add(json::object()));
    return true;
  }
  bool key(json::string_t& k) {
    key_ = std::move(k);
    return true;
  }
  bool end_object() {
    stack_.pop_back();
    return true;
  }
  bool start_array(std::size_t) {
    stack_.push_back(Add(json::array()));
    return true;
  }
  bool end_array() {
    stack_.pop_back();
    return true;
  }
  bool parse_error(std::size_t position, const std::string&, const json::exception& e) {
    error_position = position;
    error_id = e.id;
    error_what = e.what();
    return false;
  }

  json root;
  size_t error_position = 0;  // nlohmann's count of bytes read when it failed
  int error_id = 0;
  std::string error_what;

 private:
  json* Add(json v) {
    if (stack_.empty()) {
      root = std::move(v);
      return &root;
    }
    json& top = *stack_.back();
    if (top.is_object()) {
      json& slot = top[key_];  // a repeated key replaces the earlier value
      slot = std::move(v);
      return &slot;
    }
    top.push_back(std::move(v));
    return &top.back();
  }

  std::vector<json*> stack_;
  std::string key_;
};

// Turns nlohmann's failure into a JsoncError on `text`. The pre-pass has checked the structure,
// so what remains is string contents and numbers out of range.
JsoncError ParseFailure(std::string_view text, const std::string& json, const DomBuilder& b) {
  size_t offset = std::min(b.error_position, json.size());
  if (offset > 0) --offset;  // nlohmann counts the offending byte as read
  std::string message;
  if (b.error_id == 406) {  // out_of_range: number overflow; nlohmann read one byte past it
    auto is_number_byte = [&](size_t i) {
      const char c = json[i];
      return IsDigit(c) || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
    };
    if (offset > 0 && !is_number_byte(offset)) --offset;
    while (offset > 0 && is_number_byte(offset - 1)) --offset;
    size_t end = offset;
    while (end < json.size() && is_number_byte(end)) ++end;
    message = "the number " + Snippet(std::string_view(json).substr(offset, end - offset)) +
              " is too large";
  } else {
    std::string detail = b.error_what;
    const size_t dash = detail.find(" - ");
    if (dash != std::string::npos) detail = detail.substr(dash + 3);
    const size_t last_read = detail.find("; last read");
    if (last_read != std::string::npos) detail.resize(last_read);
    message = Snippet(detail, 200);
  }
  return JsoncError{offset, PositionInText(text, offset), std::move(message)};
}

}  // namespace

TextPosition PositionInText(std::string_view text, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line_start = 0;
  int line = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  }
  if (line_start == 0 && text.substr(0, kUtf8ByteOrderMark.size()) == kUtf8ByteOrderMark) {
    line_start = std::min(offset, kUtf8ByteOrderMark.size());
  }
  int column = 1;
  for (size_t i = line_start; i < offset; ++i) {
    if (!IsContinuationByte(static_cast<unsigned char>(text[i]))) ++column;
  }
  return {line, column};
}

std::string AppendJsonPointer(const std::string& pointer, std::string_view key) {
  std::string out = pointer;
  out.reserve(pointer.size() + key.size() + 1);
  out += '/';
  for (char c : key) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
  return out;
}

TextPosition JsoncDocument::KeyPosition(const std::string& pointer) const {
  auto it = scan.keys.find(pointer);
  return it == scan.keys.end() ? TextPosition{} : it->second;
}

TextPosition JsoncDocument::ValuePosition(const std::string& pointer) const {
  auto it = scan.values.find(pointer);
  return it == scan.values.end() ? TextPosition{} : it->second;
}

JsoncDocument ParseJsonc(std::string_view text) {
  JsoncDocument doc;
  doc.scan = ScanJsonc(text);
  if (doc.scan.error || doc.scan.empty) return doc;
  DomBuilder builder;
  if (nlohmann::json::sax_parse(doc.scan.json, &builder, nlohmann::json::input_format_t::json,
                                /*strict=*/true, /*ignore_comments=*/false)) {
    doc.value = std::move(builder.root);
  } else {
    doc.scan.error = ParseFailure(text, doc.scan.json, builder);
  }
  return doc;
}

}  // namespace troupe
