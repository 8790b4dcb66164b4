// The benchmarks' side of the daemon's REST API: launching tasks whose prompt scripts the mock
// model, and following the state events of /v1/events with the time each arrived.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "e2e/mocked_daemon.h"
#include "e2e/sse_follower.h"

namespace troupe::bench {

// A prompt whose first line scripts the mock model: `#mock id=<marker> <directives>`.
std::string MockPrompt(const std::string& marker, const std::string& directives);

// Launches `count` tasks (agent "general") on `threads` clients at once; task i gets
// prompt(i). Returns the task ids by index, or the first error. With one thread the tasks are
// launched — and queued — in index order.
Result<std::vector<std::string>> LaunchTasks(MockedDaemon& daemon, int count, int threads,
                                             const std::function<std::string(int)>& prompt);

bool IsFinalState(const std::string& state);

struct StateEvent {
  int64_t id = 0;  // the event log's id
  std::string task_id;
  std::string state;
  int64_t arrival_us = 0;  // NowUs when its bytes arrived here
};

// Follows GET /v1/events?progress=0 from the moment Follow returns.
class StateEventLog {
 public:
  static Result<std::unique_ptr<StateEventLog>> Follow(const MockedDaemon& daemon);

  // Waits until `count` tasks reached a final state (or `timeout_ms` passed); the count reached.
  int WaitFinal(int count, int64_t timeout_ms);
  // The events so far, in log order.
  std::vector<StateEvent> Events() const;

 private:
  StateEventLog() = default;
  void Add(const SseEvent& event, int64_t arrival_us);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<StateEvent> events_;
  int final_ = 0;
  std::unique_ptr<SseFollower> follower_;
};

}  // namespace troupe::bench
