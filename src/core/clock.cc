#include "core/clock.h"

#include <utility>

namespace troupe {

void Timer::Start(int64_t delay_ms, std::function<void()> fire) {
  Cancel();
  // The id is cleared before the callback runs so the callback may re-arm this timer.
  id_ = clock_->StartTimer(delay_ms, [this, fire = std::move(fire)] {
    id_ = 0;
    fire();
  });
}

void Timer::Cancel() {
  if (id_ != 0) {
    clock_->CancelTimer(id_);
    id_ = 0;
  }
}

}  // namespace troupe
