#include "core/testing/loop_runner.h"

#include <thread>

namespace troupe::testing {

bool RunLoopUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                  std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(std::chrono::milliseconds(10)) == 0 && io.stopped()) {
      // Out of work: nothing can make done() true but time passing elsewhere.
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  return true;
}

void RunLoopFor(boost::asio::io_context& io, std::chrono::milliseconds duration) {
  RunLoopUntil(
      io, [] { return false; }, duration);
}

}  // namespace troupe::testing
