// In-process publication of engine events (task state changes and progress). The daemon's SSE
// stream, watchers and the CLI's live views subscribe here.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "engine/agent_runner.h"
#include "store/records.h"

namespace troupe {

struct EngineEvent {
  enum class Kind { kState, kProgress };
  Kind kind = Kind::kState;
  // Durable id from the store's event log for state changes (resumable); 0 for progress.
  int64_t id = 0;
  TaskState from = TaskState::kPending;  // state changes: the previous state (== to on launch)
  // The task after the change. Valid only during the callback: copy what you keep.
  const TaskRecord* task = nullptr;
  const ProgressUpdate* progress = nullptr;  // progress events: what changed
  // Progress events of a model request: its usage and cost (PriceTable::Charge); else null.
  const UsageTotals* request = nullptr;
  std::string payload;                       // state changes: JSON text as stored in the event log
};

// Not thread-safe: loop thread only. Subscribers may subscribe or unsubscribe (themselves or
// others) from inside a callback; a subscriber added during a publish sees the next event.
class EventBus {
 public:
  using Callback = std::function<void(const EngineEvent&)>;
  using SubscriptionId = uint64_t;

  SubscriptionId Subscribe(Callback callback);
  void Unsubscribe(SubscriptionId id);
  void Publish(const EngineEvent& event);
  size_t subscribers() const { return callbacks_.size(); }

 private:
  SubscriptionId next_id_ = 1;
  std::map<SubscriptionId, Callback> callbacks_;
};

}  // namespace troupe
