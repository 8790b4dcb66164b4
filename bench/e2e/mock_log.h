// What `troupe mock-llm` logged (mock_llm/request_log.h, one JSON line per request), gathered per
// benchmark task: each task's prompt carries `#mock id=<marker>`, so every request of the task's
// turns carries its marker.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace troupe::bench {

// One task's requests, on the mock's CLOCK_MONOTONIC microseconds.
struct ModelTimes {
  int requests = 0;
  int completed = 0;              // requests answered in full
  int64_t first_request_us = -1;  // head of the first request read
  int64_t final_byte_us = -1;     // last write of the last request started
  int64_t deltas = 0;             // deltas sent over all its requests
  // Between consecutive requests of the task (the agent loop's turn: the reply decoded and
  // stored, its tool calls run, the next request sent): next head read - previous last write.
  std::vector<int64_t> turn_gaps_us;
};

// Reads the log at `path` into marker -> times (requests without a marker are left out).
Result<std::unordered_map<std::string, ModelTimes>> ReadMockLog(const std::string& path);

}  // namespace troupe::bench
