#include "core/fake_clock.h"

#include <algorithm>

namespace troupe {

TimerId FakeClock::StartTimer(int64_t delay_ms, std::function<void()> fire) {
  TimerId id = next_id_++;
  Key key{now_ms_ + std::max<int64_t>(delay_ms, 0), id};
  timers_.emplace(key, std::move(fire));
  by_id_.emplace(id, key);
  return id;
}

void FakeClock::CancelTimer(TimerId id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  timers_.erase(it->second);
  by_id_.erase(it);
}

void FakeClock::AdvanceMs(int64_t ms) {
  const int64_t target = now_ms_ + std::max<int64_t>(ms, 0);
  while (!timers_.empty() && timers_.begin()->first.first <= target) {
    auto node = timers_.extract(timers_.begin());
    by_id_.erase(node.key().second);
    now_ms_ = std::max(now_ms_, node.key().first);
    node.mapped()();
  }
  now_ms_ = target;
}

bool FakeClock::AdvanceToNextTimer() {
  if (timers_.empty()) return false;
  AdvanceMs(timers_.begin()->first.first - now_ms_);
  return true;
}

int64_t FakeClock::next_deadline_ms() const {
  return timers_.empty() ? -1 : timers_.begin()->first.first;
}

}  // namespace troupe
