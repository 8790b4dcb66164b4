// A Clock whose time moves only when a test says so. Timers fire inside Advance*, in deadline
// order (ties in the order they were started), each seeing NowMs() equal to its own deadline.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <utility>

#include "core/clock.h"

namespace troupe {

class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'000'000, int64_t wall_start_ms = 1'767'225'600'000)
      : now_ms_(start_ms), wall_offset_ms_(wall_start_ms - start_ms) {}

  int64_t NowMs() const override { return now_ms_; }
  int64_t WallMs() const override { return now_ms_ + wall_offset_ms_; }
  TimerId StartTimer(int64_t delay_ms, std::function<void()> fire) override;
  void CancelTimer(TimerId id) override;

  // Moves time forward by `ms`, firing every timer that falls due on the way, including timers
  // started by those callbacks if they fall due before the end.
  void AdvanceMs(int64_t ms);
  // Fires timers due now (delay 0) without moving time.
  void RunDue() { AdvanceMs(0); }
  // Moves to the next pending deadline and fires what is due there. False if none is pending.
  bool AdvanceToNextTimer();

  size_t pending_timers() const { return by_id_.size(); }
  // Deadline of the earliest pending timer, or -1.
  int64_t next_deadline_ms() const;

 private:
  using Key = std::pair<int64_t, TimerId>;  // deadline, sequence
  int64_t now_ms_;
  int64_t wall_offset_ms_;
  TimerId next_id_ = 1;
  std::map<Key, std::function<void()>> timers_;
  std::unordered_map<TimerId, Key> by_id_;
};

}  // namespace troupe
