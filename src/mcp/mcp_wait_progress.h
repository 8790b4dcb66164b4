// What a blocking MCP tool call (background_output with block, background_wait, delegate_task
// with background=false, tasks/result) reports while it waits for tasks: a few steps a person or
// a model can follow, as notifications/progress — not the engine's every event. A run reports
// progress for each streamed chunk (it feeds the stale timer); forwarded as they came, that was
// a hundred notifications in two seconds, the last ones right before the answer, and clients
// that stop listening to a progress token when its request ends (answered, timed out or
// cancelled) report each late one as an error (the TypeScript SDK: "progress notification for
// an unknown token").
//
// - Steps: the start of the wait (what it waits for); a task's state change that does not end
//   the wait ("bg_… running", "bg_… completed (1 of 3 finished)"); a tool call starting
//   ("bg_… running grep"); a note of the run (a retry, waiting for a tool). Not steps: streamed
//   bytes, token counts, the end of a model turn, and the change that ends the wait (the answer
//   follows at once).
// - At most one notification per `interval_ms` of the Clock: a step inside the interval is
//   held, replaced by any later one, and sent when the interval ends.
// - Each notification's `progress` is the number of steps seen so far, so it increases.
// - Stop(): nothing is sent any more, a held step is dropped. Called when the answer is about to
//   be queued or the call is cancelled; the wait's end stops it by itself.
//
// Threading: loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/clock.h"
#include "engine/event_bus.h"
#include "engine/task_manager.h"

namespace troupe {

// The shortest time between two progress notifications of one call: at most two a second.
inline constexpr int64_t kMcpProgressIntervalMs = 500;

struct McpWaitProgressOptions {
  // The wait ends when the first (kAny) or the last (kAll) of the open tasks ends.
  WaitMode mode = WaitMode::kAll;
  // A task that becomes interrupted ends the wait too (TaskManager::Watch); tasks/result waits
  // for a final state only.
  bool interrupted_ends = true;
  int64_t interval_ms = kMcpProgressIntervalMs;
};

class McpWaitProgress {
 public:
  // McpCallContext::progress's shape.
  using Report =
      std::function<void(double progress, std::optional<double> total, const std::string& message)>;

  // `open_ids`: the tasks waited for that had not ended when the wait began; `total`: all the
  // tasks waited for (for "1 of 3 finished"). `clock` must outlive this; `report` is not called
  // after Stop() or destruction, and may call Stop().
  McpWaitProgress(Clock* clock, Report report, const std::vector<std::string>& open_ids,
                  size_t total, McpWaitProgressOptions options = {});
  McpWaitProgress(const McpWaitProgress&) = delete;
  McpWaitProgress& operator=(const McpWaitProgress&) = delete;

  // The first step, e.g. "waiting for bg_… (running)".
  void Begin(const std::string& message);
  // An engine event; those of other tasks are ignored.
  void OnEvent(const EngineEvent& event);
  void Stop();

  bool stopped() const { return stopped_; }
  // Steps seen so far (sent or not).
  size_t steps() const { return steps_; }

 private:
  void Step(std::string message);
  void Flush();
  bool Ends(TaskState state) const;

  Clock* clock_;
  Report report_;
  McpWaitProgressOptions options_;
  std::set<std::string> open_;
  size_t total_;
  size_t ended_ = 0;
  size_t steps_ = 0;
  bool stopped_ = false;
  bool sent_any_ = false;
  int64_t last_sent_ms_ = 0;
  std::optional<std::string> held_;
  Timer timer_;
};

}  // namespace troupe
