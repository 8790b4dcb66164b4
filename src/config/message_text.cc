#include "config/message_text.h"

#include "core/utf8.h"

namespace troupe {

std::string Snippet(std::string_view s, size_t max_chars) {
  const bool utf8 = IsValidUtf8(s);
  std::string out;
  size_t chars = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (utf8 && IsUtf8Continuation(static_cast<char>(c))) {
      out += static_cast<char>(c);
      continue;
    }
    if (chars == max_chars) {
      out += "...";
      break;
    }
    ++chars;
    if (c < 0x20 || c == 0x7F || (c >= 0x80 && !utf8)) {
      static constexpr char kHex[] = "0123456789abcdef";
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xF];
    } else {
      out += static_cast<char>(c);
    }
  }
  return out;
}

std::string DescribeJsonValue(const nlohmann::json& v) {
  if (v.is_object()) return "an object";
  if (v.is_array()) return "an array";
  std::string text = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() > 60) {
    size_t cut = 56;
    while (cut > 0 && IsUtf8Continuation(text[cut])) --cut;
    text = text.substr(0, cut) + (v.is_string() ? "...\"" : "...");
  }
  return text;
}

std::string DescribeJsonType(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_number()) return "a number";
  if (v.is_boolean()) return "a boolean";
  return DescribeJsonValue(v);  // object, array, null
}

}  // namespace troupe
