// Server-Sent Events (text/event-stream) as the WHATWG HTML standard defines them ("Parsing an
// event stream", "Interpreting an event stream"): bytes in, events out, no sockets. Both provider
// APIs stream their responses in this format.
//
// The parser is a small state machine, so the bytes may arrive in chunks split anywhere: inside a
// field, between the CR and the LF of a CRLF, or inside a multi-byte UTF-8 character. The events
// it produces do not depend on how the stream was chunked. Bytes are passed through unchanged (no
// UTF-8 validation or replacement); one leading UTF-8 byte order mark is dropped.
//
// Memory is bounded: a line longer than SseParserOptions::max_line_bytes, or the data of one event
// growing past max_event_bytes, stops the parser with a ResourceExhausted status.
//
// Threading: a parser is a plain value; use one per stream from one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace troupe {

struct SseEvent {
  std::string event;  // the `event:` field, or "message" when the event had none
  std::string data;   // the `data:` lines joined with '\n'
  std::string id;     // the last event ID after this event (the stream's, not only this event's)

  friend bool operator==(const SseEvent&, const SseEvent&) = default;
};

struct SseParserOptions {
  // Longest line accepted, without its line ending.
  size_t max_line_bytes = size_t{8} << 20;
  // Most data one event may carry (the joined `data:` values, with their separating '\n's).
  size_t max_event_bytes = size_t{16} << 20;
};

class SseParser {
 public:
  SseParser() : SseParser(SseParserOptions{}) {}
  explicit SseParser(SseParserOptions options);

  // Consumes the next bytes of the stream and appends every event they complete to `*out`, in
  // stream order. After an error (see status()) or after Finish, does nothing.
  void Feed(std::string_view bytes, std::vector<SseEvent>* out);

  // Marks the end of the stream. As the standard says, an event whose blank line has not arrived
  // is discarded, so nothing is appended to `*out`; has_partial_event() tells whether that
  // happened. Idempotent.
  void Finish(std::vector<SseEvent>* out);

  // True when the bytes fed so far end inside an event: a field line (complete or not) arrived
  // after the last blank line. Comment lines do not count. After Finish: whether the stream was
  // cut in the middle of an event.
  bool has_partial_event() const;

  // The last event ID as an EventSource would send it in `Last-Event-ID` when reconnecting: the
  // `id:` value in force at the most recent dispatch ("" until then, or after an empty `id:`).
  const std::string& last_event_id() const { return last_event_id_; }

  // The most recent valid `retry:` value (reconnection time in ms), if any.
  std::optional<int64_t> retry_ms() const { return retry_ms_; }

  // OK, or ResourceExhausted once a limit of SseParserOptions was exceeded; the parser then
  // ignores all further input. Events dispatched before the offending line stay valid.
  const Status& status() const { return status_; }

 private:
  // Handles bytes after the byte order mark check.
  void FeedLines(std::string_view bytes, std::vector<SseEvent>* out);
  // Handles one complete line, without its line ending.
  void ProcessLine(std::string_view line, std::vector<SseEvent>* out);
  void ProcessField(std::string_view name, std::string_view value);
  void DispatchEvent(std::vector<SseEvent>* out);
  void Fail(Status status);

  SseParserOptions options_;
  Status status_;
  bool finished_ = false;

  // How many bytes of the UTF-8 byte order mark the stream has started with so far; -1 once the
  // check is over (the mark was dropped, or the stream began otherwise).
  int bom_bytes_seen_ = 0;

  std::string line_;       // the current line's bytes so far, when it spans chunks
  bool skip_lf_ = false;   // the previous byte was a CR: an LF right after it ends no new line
  bool in_event_ = false;  // a field line arrived since the last blank line

  // The standard's buffers.
  std::string data_;
  std::string event_type_;
  std::string last_event_id_buffer_;
  std::string last_event_id_;
  std::optional<int64_t> retry_ms_;
};

}  // namespace troupe
