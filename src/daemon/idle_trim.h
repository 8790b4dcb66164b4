// Gives memory back to the system once the engine has been idle for a while. After a burst of
// thousands of tasks glibc keeps the freed heap mapped, so an idle daemon would go on holding
// its peak (hundreds of MiB); malloc_trim returns the free pages of every arena.
//
// IdleTrimmer watches the engine's state changes: a change arms one timer (unless it is armed);
// when it fires with no task active and no change for `quiet_ms`, it trims once, and again only
// after the next change. It never trims while a task is active, and a burst of changes costs one
// timer.
#pragma once

#include <cstdint>
#include <functional>

#include "core/clock.h"
#include "engine/event_bus.h"

namespace troupe {

struct IdleTrimOptions {
  int64_t quiet_ms = 2000;
  std::function<size_t()> active_tasks;  // tasks pending or running now
  std::function<void()> trim;            // default: TrimHeap
};

// malloc_trim(0), logging at debug level the resident set before and after.
void TrimHeap();

// The resident set size of this process in bytes (/proc/self/statm), 0 when unknown.
int64_t ResidentBytes();

// Threading: the loop thread only (the bus's and the clock's).
class IdleTrimmer {
 public:
  IdleTrimmer(Clock* clock, EventBus* events, IdleTrimOptions options);
  IdleTrimmer(const IdleTrimmer&) = delete;
  IdleTrimmer& operator=(const IdleTrimmer&) = delete;
  ~IdleTrimmer();

  int64_t trims() const { return trims_; }

 private:
  void OnEvent(const EngineEvent& e);
  void OnTimer();

  Clock* clock_;
  EventBus* events_;
  IdleTrimOptions options_;
  EventBus::SubscriptionId subscription_ = 0;
  Timer timer_;
  int64_t last_change_ms_ = 0;
  int64_t trims_ = 0;
};

}  // namespace troupe
