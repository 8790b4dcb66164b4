// Time and timers, injected. The engine never reads the system clock or sleeps: it asks a Clock,
// so tests drive time with FakeClock and production uses LoopClock on the event loop.
#pragma once

#include <cstdint>
#include <functional>

namespace troupe {

using TimerId = uint64_t;

class Clock {
 public:
  virtual ~Clock() = default;

  // Monotonic milliseconds from an arbitrary origin; never goes backwards. For durations and
  // deadlines.
  virtual int64_t NowMs() const = 0;
  // Milliseconds since the Unix epoch. For timestamps that are stored and shown.
  virtual int64_t WallMs() const = 0;

  // Calls `fire` once, on the loop thread, when NowMs() has reached NowMs() + delay_ms (a
  // negative delay counts as 0). Never calls it from inside StartTimer. Returns an id that
  // CancelTimer accepts.
  virtual TimerId StartTimer(int64_t delay_ms, std::function<void()> fire) = 0;
  // After this returns the timer will not fire. Unknown, fired or cancelled ids are ignored.
  virtual void CancelTimer(TimerId id) = 0;
};

// Owns at most one pending timer on a Clock; cancels it when re-armed or destroyed.
class Timer {
 public:
  explicit Timer(Clock* clock) : clock_(clock) {}
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;
  ~Timer() { Cancel(); }

  // Cancels any pending firing and arms a new one.
  void Start(int64_t delay_ms, std::function<void()> fire);
  void Cancel();
  bool armed() const { return id_ != 0; }

 private:
  Clock* clock_;
  TimerId id_ = 0;
};

}  // namespace troupe
