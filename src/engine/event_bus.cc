#include "engine/event_bus.h"

namespace troupe {

EventBus::SubscriptionId EventBus::Subscribe(Callback callback) {
  SubscriptionId id = next_id_++;
  callbacks_.emplace(id, std::move(callback));
  return id;
}

void EventBus::Unsubscribe(SubscriptionId id) { callbacks_.erase(id); }

void EventBus::Publish(const EngineEvent& event) {
  // Walk by id so callbacks may change the map: removed ones are skipped, added ones (with larger
  // ids than `last`) wait for the next event.
  const SubscriptionId last = next_id_;
  for (auto it = callbacks_.begin(); it != callbacks_.end() && it->first < last;) {
    const SubscriptionId id = it->first;
    Callback callback = it->second;  // copy: the callback may unsubscribe itself
    callback(event);
    it = callbacks_.upper_bound(id);
  }
}

}  // namespace troupe
