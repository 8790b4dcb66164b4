// What `troupe mock-llm` was asked and how it answered: one entry per request, kept in memory in
// a bounded ring (the oldest entries go first) and, when a file is given, appended to it as one
// JSON line per request once the request is over. Tests read it in process (Snapshot) or over
// HTTP (GET /v1/mock/requests); benchmarks read the file.
//
// An entry is created when a request has been read and is updated in place while its response is
// played (the server holds a shared_ptr to it), so a snapshot shows requests in progress with
// outcome "in_progress". Entries are in the order their requests arrived; lines in the file are in
// the order the requests ended.
//
// Threading: not thread-safe; used from the server's loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

struct RequestLogEntry {
  uint64_t id = 0;          // 1, 2, …: order of arrival (assigned by RequestLog::Add)
  uint64_t connection = 0;  // the connection it came on: keep-alive requests share one
  int64_t wall_ms = 0;      // when it was read, Unix milliseconds
  int64_t received_ms = 0;  // when it was read, on the server's monotonic clock
  std::string method;
  std::string path;      // the request target, query included
  std::string protocol;  // "openai", "openai-responses", "anthropic", or "" for other routes
  std::string model;
  bool stream = false;
  std::string marker;              // MockPlan::marker
  std::string task;                // the x-troupe-task header, if sent
  int messages = 0;                // messages in the request (the system prompt not counted)
  std::vector<std::string> tools;  // names of the tools offered
  int status = 0;                  // HTTP status answered; 0 when none was
  int64_t first_byte_ms = -1;      // monotonic time the first response byte was written; -1: none
  int64_t last_byte_ms = -1;       // … and the last one
  // Microsecond times for latency measurements (benchmarks), on the server's microsecond clock
  // (MockLlmServerOptions::now_us: CLOCK_MONOTONIC in `troupe mock-llm`, so another process on
  // the machine can compare its own steady_clock readings with them); -1: none.
  int64_t head_received_us = -1;  // the request's head had been read (its first bytes arrived)
  int64_t first_write_us = -1;    // the response's first write was started
  int64_t last_write_us = -1;     // its last write was started (loopback: the bytes left then)
  int64_t deltas_sent = 0;        // deltas of the plan written (all of them for a non-stream reply)
  // "in_progress", then one of: "completed" (answered in full), "http_error" (the plan's HTTP
  // error), "error_event" (the plan's error event ended the stream), "dropped" (the plan's
  // kDrop fault reset the connection), "truncated" (the plan's kTruncate fault ended the reply
  // short), "client_closed" (the client left before the end),
  // "bad_request" (refused by the server itself: 400, 401, 404, 405, 413),
  // "server_stopped" (the server shut down first).
  std::string outcome = "in_progress";
  std::string error;  // for bad_request: the message sent back
  // The usage the reply reports (the prompt-cache split included, mock_llm/prompt_cache.h);
  // zero for a request answered with an error status.
  Usage usage;
  // What the model was shown, as decoded (ConversationJson); null unless the server keeps
  // conversations (MockLlmServerOptions::log_conversations).
  nlohmann::json conversation;
  // The request body as sent, parsed; null unless the server keeps bodies
  // (MockLlmServerOptions::log_bodies).
  nlohmann::json body;
};

// Every field of `entry`; `conversation` only when it was kept.
nlohmann::json ToJson(const RequestLogEntry& entry);

// A decoded request as the model reads it, in one shape for both wire protocols:
//   {"system": "…", "messages": [{"role": "user"|"assistant"|"tool", "text": "…",
//     (assistant) "reasoning": "…", "tool_calls": [{"id", "name", "arguments"}],
//     (tool) "tool_call_id", "tool_name", "is_error"}]}
// Empty `reasoning` and `tool_calls` are left out. So a test can check what a client (e.g. an
// MCP client's tool results) put in front of the model.
nlohmann::json ConversationJson(const ChatRequest& request);

class RequestLog {
 public:
  static constexpr size_t kDefaultCapacity = 100'000;

  explicit RequestLog(size_t capacity = kDefaultCapacity);
  ~RequestLog();
  RequestLog(const RequestLog&) = delete;
  RequestLog& operator=(const RequestLog&) = delete;

  // Appends a JSON line to `path` (created when missing) for every request that ends from now on.
  Status OpenFile(const std::string& path);

  // Records a new request: assigns its id and returns the entry to update.
  std::shared_ptr<RequestLogEntry> Add(RequestLogEntry entry);
  // The request of `entry` is over (its outcome is set): writes its line to the file, if any.
  void Complete(const RequestLogEntry& entry);

  // Copies of the entries held, oldest first.
  std::vector<RequestLogEntry> Snapshot() const;
  // The entries held as a JSON array, oldest first.
  nlohmann::json ToJson() const;
  // Forgets every entry held (requests in progress still get their file line when they end).
  void Clear();
  size_t size() const { return entries_.size(); }

 private:
  size_t capacity_;
  uint64_t next_id_ = 1;
  std::deque<std::shared_ptr<RequestLogEntry>> entries_;
  std::FILE* file_ = nullptr;
};

}  // namespace troupe
