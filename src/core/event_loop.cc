#include "core/event_loop.h"

#include <boost/asio/post.hpp>
#include <chrono>

namespace troupe {

LoopClock::~LoopClock() {
  for (auto& [id, timer] : timers_) timer->cancel();
}

int64_t LoopClock::NowMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

int64_t LoopClock::WallMs() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

int64_t LoopClock::SteadyNowUs() {
  using namespace std::chrono;
  return duration_cast<microseconds>(steady_clock::now().time_since_epoch()).count();
}

TimerId LoopClock::StartTimer(int64_t delay_ms, std::function<void()> fire) {
  TimerId id = next_id_++;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_);
  timer->expires_after(std::chrono::milliseconds(delay_ms < 0 ? 0 : delay_ms));
  timer->async_wait([this, id, fire = std::move(fire)](const boost::system::error_code& ec) {
    if (ec) return;  // cancelled
    auto it = timers_.find(id);
    if (it == timers_.end()) return;
    // Keep the timer object alive until its handler has returned.
    auto keep = std::move(it->second);
    timers_.erase(it);
    fire();
  });
  timers_.emplace(id, std::move(timer));
  return id;
}

void LoopClock::CancelTimer(TimerId id) {
  auto it = timers_.find(id);
  if (it == timers_.end()) return;
  it->second->cancel();
  timers_.erase(it);
}

void PostToLoop(boost::asio::io_context& io, std::function<void()> fn) {
  boost::asio::post(io, std::move(fn));
}

}  // namespace troupe
