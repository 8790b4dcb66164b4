// The end-to-end benchmarks of issue 7. Each starts a fresh MockedDaemon, drives it through its
// API, and returns the figures of one run; e2e_bench.cc repeats them and takes medians.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "e2e/report.h"

namespace troupe::bench {

struct BenchSettings {
  std::string troupe_binary;
  std::string protocol = "openai";  // of the provider in front of mock-llm
};

// N tasks of `turns` model turns each, every turn answered after `turn_ms`, under a pool of K.
// Makespan against ideal = ceil(N/K) * turns * turn_ms; the dispatch gaps (a task's final model
// byte -> the first request byte of the task its slot went to, both at the mock) and the
// completion events' delay on /v1/events come from the same run.
struct MakespanCase {
  std::string key;  // "20x5x1000ms"
  int tasks = 20;
  int pool = 5;
  int64_t turn_ms = 1000;
  int turns = 1;
  // > 0: task i's turns take turn_ms + (i * 7919) % (jitter_ms + 1) instead, so completions do not
  // coincide (the dispatch-gap case); no ideal is reported then.
  int64_t jitter_ms = 0;
};
Result<std::vector<Figure>> RunMakespan(const BenchSettings& settings, const MakespanCase& c);

// Tasks launched over MCP (delegate_task, background) under a pool of `pool`, with spread
// completions: from each task's final model byte to (a) its completion event on /v1/events and
// (b) the notifications/message on the MCP session's GET stream, pushed when the notice becomes
// claimable by the session's next tool call.
Result<std::vector<Figure>> RunNoticeLatency(const BenchSettings& settings, int tasks, int pool);

// `tasks` tasks running at once (pool and global limit = tasks), each a stream of one token per
// second for `stream_s` seconds: the daemon's memory and CPU, and that every task completes.
Result<std::vector<Figure>> RunScale(const BenchSettings& settings, int tasks, int stream_s);

// `tasks` zero-latency tasks launched from `clients` threads, persistence on: completed per second;
// then the footprint: idle memory before and after, `troupe ps` with the tasks stored.
Result<std::vector<Figure>> RunThroughput(const BenchSettings& settings, int tasks, int clients);

}  // namespace troupe::bench
