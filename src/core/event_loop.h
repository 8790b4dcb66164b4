// The event loop glue: one Boost.Asio io_context that owns the engine's thread, and a Clock whose
// timers are Asio steady timers on it.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <unordered_map>

#include "core/clock.h"

namespace troupe {

// A Clock backed by std::chrono::steady_clock/system_clock and Asio timers. Timers fire on the
// thread running `io`. Not thread-safe: use from the loop thread only.
class LoopClock : public Clock {
 public:
  explicit LoopClock(boost::asio::io_context& io) : io_(io) {}
  ~LoopClock() override;

  int64_t NowMs() const override;
  int64_t WallMs() const override;
  TimerId StartTimer(int64_t delay_ms, std::function<void()> fire) override;
  void CancelTimer(TimerId id) override;

  // Microsecond monotonic time, for measurements that need finer resolution than NowMs.
  static int64_t SteadyNowUs();

 private:
  boost::asio::io_context& io_;
  TimerId next_id_ = 1;
  std::unordered_map<TimerId, std::unique_ptr<boost::asio::steady_timer>> timers_;
};

// Runs `fn` on the loop thread of `io` after the current handler returns. Thread-safe.
void PostToLoop(boost::asio::io_context& io, std::function<void()> fn);

}  // namespace troupe
