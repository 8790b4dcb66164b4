#include "core/event_loop.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace troupe {
namespace {

TEST(LoopClockTest, TimersFireInOrderOnTheLoopAndCancelledOnesDoNot) {
  boost::asio::io_context io;
  LoopClock clock(io);
  std::vector<int> fired;
  // Read before arming: the 20 ms count from StartTimer, which may itself take a while (TSan).
  const int64_t before_arming = clock.NowMs();
  int64_t second_fired_at = 0;
  clock.StartTimer(20, [&] {
    fired.push_back(2);
    second_fired_at = clock.NowMs();
  });
  clock.StartTimer(1, [&] { fired.push_back(1); });
  TimerId cancelled = clock.StartTimer(5, [&] { fired.push_back(99); });
  clock.CancelTimer(cancelled);
  io.run();
  EXPECT_EQ(fired, (std::vector<int>{1, 2}));
  EXPECT_GE(second_fired_at - before_arming, 20);  // never early
  EXPECT_GT(clock.WallMs(), 1'700'000'000'000);    // after 2023: a real epoch time
}

TEST(LoopClockTest, CancelFromAnotherTimersCallbackSuppressesADueTimer) {
  boost::asio::io_context io;
  LoopClock clock(io);
  int late = 0;
  TimerId second = 0;
  clock.StartTimer(0, [&] { clock.CancelTimer(second); });
  second = clock.StartTimer(0, [&] { ++late; });
  io.run();
  EXPECT_EQ(late, 0);
}

TEST(PostToLoopTest, RunsWorkPostedFromOtherThreadsOnTheLoopThread) {
  boost::asio::io_context io;
  auto guard = boost::asio::make_work_guard(io);
  std::thread::id loop_thread;
  std::vector<std::thread::id> seen;
  std::thread poster([&] {
    for (int i = 0; i < 3; ++i) PostToLoop(io, [&] { seen.push_back(std::this_thread::get_id()); });
    PostToLoop(io, [&] { guard.reset(); });
  });
  loop_thread = std::this_thread::get_id();
  io.run();
  poster.join();
  ASSERT_EQ(seen.size(), 3u);
  for (auto id : seen) EXPECT_EQ(id, loop_thread);
}

}  // namespace
}  // namespace troupe
