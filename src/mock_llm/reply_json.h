// JSON and SSE text helpers shared by the reply encoders of `troupe mock-llm`.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace troupe::reply_json {

// Compact JSON text; invalid UTF-8 in strings is replaced (U+FFFD) instead of throwing.
inline std::string Dump(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// One SSE event: "event: <name>\n" (left out when `name` is empty), "data: <data>\n", "\n".
// `data` must not contain a line break.
inline std::string SseEvent(std::string_view name, std::string_view data) {
  std::string out;
  out.reserve(name.size() + data.size() + 16);
  if (!name.empty()) {
    out += "event: ";
    out += name;
    out += '\n';
  }
  out += "data: ";
  out += data;
  out += "\n\n";
  return out;
}

}  // namespace troupe::reply_json
