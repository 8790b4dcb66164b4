#include "wire/sse_parser.h"

#include <string>
#include <utility>

namespace troupe {

namespace {

constexpr std::string_view kByteOrderMark = "\xEF\xBB\xBF";

// The standard's "only ASCII digits" test for `retry:`; nullopt also when the value does not fit.
std::optional<int64_t> ParseDigits(std::string_view value) {
  if (value.empty()) return std::nullopt;
  int64_t result = 0;
  for (char c : value) {
    if (c < '0' || c > '9') return std::nullopt;
    if (__builtin_mul_overflow(result, 10, &result) ||
        __builtin_add_overflow(result, c - '0', &result)) {
      return std::nullopt;
    }
  }
  return result;
}

}  // namespace

SseParser::SseParser(SseParserOptions options) : options_(options) {}

void SseParser::Feed(std::string_view bytes, std::vector<SseEvent>* out) {
  if (finished_ || !status_.ok()) return;
  // The byte order mark may itself be split across chunks: hold back a matching prefix until the
  // mark is complete (dropped) or a byte differs (the held bytes were ordinary data).
  while (bom_bytes_seen_ >= 0 && !bytes.empty()) {
    if (bytes.front() == kByteOrderMark[bom_bytes_seen_]) {
      bytes.remove_prefix(1);
      if (++bom_bytes_seen_ == static_cast<int>(kByteOrderMark.size())) bom_bytes_seen_ = -1;
    } else {
      const int seen = bom_bytes_seen_;
      bom_bytes_seen_ = -1;
      FeedLines(kByteOrderMark.substr(0, seen), out);
    }
  }
  FeedLines(bytes, out);
}

void SseParser::Finish(std::vector<SseEvent>* out) {
  if (finished_) return;
  if (bom_bytes_seen_ > 0 && status_.ok()) {
    // The stream ended inside what looked like a byte order mark: those bytes were a line.
    const int seen = bom_bytes_seen_;
    bom_bytes_seen_ = -1;
    FeedLines(kByteOrderMark.substr(0, seen), out);
  }
  finished_ = true;
}

bool SseParser::has_partial_event() const {
  return in_event_ || bom_bytes_seen_ > 0 || (!line_.empty() && line_.front() != ':');
}

void SseParser::FeedLines(std::string_view bytes, std::vector<SseEvent>* out) {
  size_t pos = 0;
  if (skip_lf_ && !bytes.empty()) {
    if (bytes.front() == '\n') pos = 1;
    skip_lf_ = false;
  }
  while (pos < bytes.size() && status_.ok()) {
    const size_t end = bytes.find_first_of("\r\n", pos);
    const std::string_view piece =
        bytes.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
    if (line_.size() + piece.size() > options_.max_line_bytes) {
      Fail(Status::ResourceExhausted(
          "SSE line longer than " + std::to_string(options_.max_line_bytes) +
          " bytes (SseParserOptions::max_line_bytes); the response is not an event stream, or "
          "the limit is too low for it"));
      return;
    }
    if (end == std::string_view::npos) {
      line_.append(piece);  // the line continues in the next chunk
      return;
    }
    if (line_.empty()) {
      ProcessLine(piece, out);
    } else {
      line_.append(piece);
      ProcessLine(line_, out);
      line_.clear();
    }
    pos = end + 1;
    if (bytes[end] == '\r') {
      // CRLF is one line ending, also when the LF comes in the next chunk.
      if (pos == bytes.size()) {
        skip_lf_ = true;
      } else if (bytes[pos] == '\n') {
        ++pos;
      }
    }
  }
}

void SseParser::ProcessLine(std::string_view line, std::vector<SseEvent>* out) {
  if (line.empty()) {
    DispatchEvent(out);
    return;
  }
  if (line.front() == ':') return;  // comment, e.g. a keep-alive ": ping"
  in_event_ = true;
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    ProcessField(line, {});
    return;
  }
  std::string_view value = line.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  ProcessField(line.substr(0, colon), value);
}

void SseParser::ProcessField(std::string_view name, std::string_view value) {
  if (name == "data") {
    if (data_.size() + value.size() > options_.max_event_bytes) {
      Fail(Status::ResourceExhausted(
          "SSE event data longer than " + std::to_string(options_.max_event_bytes) +
          " bytes (SseParserOptions::max_event_bytes); the response is not an event stream, or "
          "the limit is too low for it"));
      return;
    }
    data_.append(value);
    data_.push_back('\n');
  } else if (name == "event") {
    event_type_.assign(value);
  } else if (name == "id") {
    if (value.find('\0') == std::string_view::npos) last_event_id_buffer_.assign(value);
  } else if (name == "retry") {
    if (std::optional<int64_t> ms = ParseDigits(value)) retry_ms_ = ms;
  }
  // Any other field is ignored, as the standard says.
}

void SseParser::DispatchEvent(std::vector<SseEvent>* out) {
  in_event_ = false;
  last_event_id_ = last_event_id_buffer_;
  if (data_.empty()) {
    event_type_.clear();
    return;
  }
  data_.pop_back();  // the '\n' appended after the last data line
  out->push_back(SseEvent{event_type_.empty() ? std::string("message") : std::move(event_type_),
                          std::move(data_), last_event_id_});
  data_.clear();
  event_type_.clear();
}

void SseParser::Fail(Status status) {
  status_ = std::move(status);
  line_.clear();
  line_.shrink_to_fit();
  data_.clear();
  data_.shrink_to_fit();
}

}  // namespace troupe
