// Follows one server-sent event stream of the daemon (GET over its Unix socket) on a thread of
// its own and stamps every event with the time its bytes arrived (NowUs, CLOCK_MONOTONIC): the
// benchmarks' view of /v1/events and of an MCP session's GET stream.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "wire/sse_parser.h"

namespace troupe::bench {

class SseFollower {
 public:
  // Called on the follower's thread for every event, with when the bytes that completed it were
  // read.
  using OnEvent = std::function<void(const SseEvent& event, int64_t arrival_us)>;

  // Opens GET `target` on `socket` with `headers` ("Name: value"), and returns once the daemon
  // answered 200 (the stream is registered: later events reach it), or with the error.
  static Result<std::unique_ptr<SseFollower>> Open(const std::string& socket,
                                                   const std::string& target,
                                                   std::vector<std::string> headers,
                                                   OnEvent on_event);
  // Stops following (within about a second) and joins the thread.
  ~SseFollower();
  SseFollower(const SseFollower&) = delete;
  SseFollower& operator=(const SseFollower&) = delete;

 private:
  SseFollower() = default;
  void Run(std::string url, std::string socket, std::vector<std::string> headers);

  static size_t OnHeaderLine(char* data, size_t size, size_t n, void* self);
  static size_t OnBody(char* data, size_t size, size_t n, void* self);
  static int OnProgress(void* self, int64_t, int64_t, int64_t, int64_t);  // curl_off_t

  OnEvent on_event_;
  SseParser parser_;
  std::vector<SseEvent> parsed_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;
  std::condition_variable cv_;
  int http_status_ = 0;
  bool opened_ = false;  // the head arrived
  bool ended_ = false;   // the transfer is over
  std::string error_;
  std::thread thread_;
};

}  // namespace troupe::bench
