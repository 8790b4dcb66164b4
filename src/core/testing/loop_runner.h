// Running an event loop from a test until something happened, with a bound, so that a hang fails
// one test instead of stalling the whole binary.
#pragma once

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>

namespace troupe::testing {

// Runs handlers of `io` until `done()` returns true or `limit` has passed. Returns done().
bool RunLoopUntil(boost::asio::io_context& io, const std::function<bool()>& done,
                  std::chrono::milliseconds limit = std::chrono::seconds(10));

// Runs handlers of `io` for `duration`.
void RunLoopFor(boost::asio::io_context& io, std::chrono::milliseconds duration);

}  // namespace troupe::testing
