// libFuzzer target for the SSE parser. The first input byte picks limits, the rest is the stream.
// Beyond "no crash, no sanitizer report" it checks that:
//  - feeding the stream whole, in 1-byte chunks and in chunks of sizes derived from the input
//    gives the same events, last event id, retry, partial-event flag and status;
//  - events are well-formed (no line ends in names, ids or data; no NUL in ids; limits held);
//  - with the default limits, the events equal those of a naive whole-buffer implementation of
//    the standard's algorithm written independently below.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "wire/sse_parser.h"

namespace {

using troupe::SseEvent;
using troupe::SseParser;
using troupe::SseParserOptions;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

struct Outcome {
  std::vector<SseEvent> events;
  bool partial = false;
  std::string last_event_id;
  std::optional<int64_t> retry_ms;
  troupe::Status status;
  friend bool operator==(const Outcome&, const Outcome&) = default;
};

// Feeds `stream` in chunks whose sizes come from `next_size` (0 means an empty chunk).
template <typename NextSize>
Outcome Run(std::string_view stream, const SseParserOptions& options, NextSize next_size) {
  SseParser parser(options);
  Outcome o;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = next_size();
    parser.Feed(stream.substr(pos, n), &o.events);
    pos += n;
  }
  parser.Finish(&o.events);
  o.partial = parser.has_partial_event();
  o.last_event_id = parser.last_event_id();
  o.retry_ms = parser.retry_ms();
  o.status = parser.status();
  return o;
}

// The standard's algorithm over a complete buffer, without chunking or limits.
std::vector<SseEvent> Reference(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  std::vector<SseEvent> events;
  std::string data, type, id_buffer;
  while (true) {
    const size_t end = s.find_first_of("\r\n");
    if (end == std::string_view::npos) break;  // an unterminated line is discarded
    const std::string_view line = s.substr(0, end);
    s.remove_prefix(end + ((s[end] == '\r' && end + 1 < s.size() && s[end + 1] == '\n') ? 2 : 1));
    if (line.empty()) {
      if (!data.empty()) {
        data.pop_back();
        events.push_back({type.empty() ? "message" : type, data, id_buffer});
      }
      data.clear();
      type.clear();
      continue;
    }
    if (line[0] == ':') continue;
    const size_t colon = line.find(':');
    const std::string_view name = line.substr(0, colon);
    std::string_view value = colon == std::string_view::npos ? "" : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.remove_prefix(1);
    if (name == "data") {
      data += value;
      data += '\n';
    } else if (name == "event") {
      type = value;
    } else if (name == "id" && value.find('\0') == std::string_view::npos) {
      id_buffer = value;
    }
  }
  return events;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  SseParserOptions options;
  const uint8_t config = data[0];
  const bool small_limits = (config & 1) != 0;
  if (small_limits) {
    options.max_line_bytes = 1 + (config >> 1) % 48;
    options.max_event_bytes = 1 + (config >> 3) % 96;
  }
  const std::string_view stream(reinterpret_cast<const char*>(data) + 1, size - 1);

  const Outcome whole = Run(stream, options, [&] { return stream.size(); });
  const Outcome bytes = Run(stream, options, [] { return size_t{1}; });
  uint64_t state = 0x9E3779B97F4A7C15ull ^ (uint64_t{config} << 32) ^ stream.size();
  for (unsigned char c : stream) state = (state ^ c) * 0x100000001B3ull;
  if (state == 0) state = 1;  // xorshift never leaves 0
  const Outcome random = Run(stream, options, [&] {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return size_t(state % 9 == 0 ? state % 64 : state % 6);  // mostly tiny, some empty
  });
  Check(whole == bytes);
  Check(whole == random);

  for (const SseEvent& e : whole.events) {
    Check(!e.event.empty());
    Check(e.event.find_first_of("\r\n") == std::string::npos);
    Check(e.id.find_first_of(std::string_view("\r\n\0", 3)) == std::string::npos);
    Check(e.data.find('\r') == std::string::npos);
    if (small_limits) Check(e.data.size() <= options.max_event_bytes);
  }
  Check(whole.last_event_id.find('\0') == std::string::npos);
  if (stream.empty()) Check(whole.events.empty() && !whole.partial);

  if (!small_limits) {
    Check(whole.status.ok());
    Check(whole.events == Reference(stream));
  } else if (!whole.status.ok()) {
    Check(whole.status.code() == troupe::StatusCode::kResourceExhausted);
  }
  return 0;
}
