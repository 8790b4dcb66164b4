#include "core/clock.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/fake_clock.h"

namespace troupe {
namespace {

TEST(FakeClockTest, FiresTimersInDeadlineOrderAtTheirDeadline) {
  FakeClock clock(0);
  std::vector<std::pair<int, int64_t>> fired;
  clock.StartTimer(30, [&] { fired.push_back({3, clock.NowMs()}); });
  clock.StartTimer(10, [&] { fired.push_back({1, clock.NowMs()}); });
  clock.StartTimer(10, [&] { fired.push_back({2, clock.NowMs()}); });  // tie: start order
  clock.AdvanceMs(9);
  EXPECT_TRUE(fired.empty());
  clock.AdvanceMs(25);
  ASSERT_EQ(fired.size(), 3u);
  EXPECT_EQ(fired[0], (std::pair<int, int64_t>{1, 10}));
  EXPECT_EQ(fired[1], (std::pair<int, int64_t>{2, 10}));
  EXPECT_EQ(fired[2], (std::pair<int, int64_t>{3, 30}));
  EXPECT_EQ(clock.NowMs(), 34);
}

TEST(FakeClockTest, CancelledTimerNeverFiresAndTimersStartedWhileFiringAreHonoured) {
  FakeClock clock(0);
  int a = 0, b = 0, c = 0;
  TimerId id = clock.StartTimer(5, [&] { ++a; });
  clock.StartTimer(5, [&] {
    ++b;
    clock.StartTimer(5, [&] { ++c; });  // due at 10, inside the same advance
  });
  clock.CancelTimer(id);
  clock.CancelTimer(id);     // twice: ignored
  clock.CancelTimer(12345);  // unknown: ignored
  clock.AdvanceMs(10);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
  EXPECT_EQ(c, 1);
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST(FakeClockTest, WallTimeMovesWithMonotonicTime) {
  FakeClock clock(100, 5000);
  EXPECT_EQ(clock.WallMs(), 5000);
  clock.AdvanceMs(250);
  EXPECT_EQ(clock.NowMs(), 350);
  EXPECT_EQ(clock.WallMs(), 5250);
}

TEST(TimerTest, RearmingReplacesThePendingFiringAndDestructionCancels) {
  FakeClock clock(0);
  int fired = 0;
  {
    Timer t(&clock);
    t.Start(10, [&] { fired += 1; });
    t.Start(20, [&] { fired += 10; });
    EXPECT_TRUE(t.armed());
    clock.AdvanceMs(15);
    EXPECT_EQ(fired, 0);
    clock.AdvanceMs(5);
    EXPECT_EQ(fired, 10);
    EXPECT_FALSE(t.armed());
    t.Start(5, [&] { fired += 100; });
  }
  clock.AdvanceMs(100);
  EXPECT_EQ(fired, 10);
}

TEST(TimerTest, CallbackMayRearmItsOwnTimer) {
  FakeClock clock(0);
  Timer t(&clock);
  int fired = 0;
  std::function<void()> tick = [&] {
    if (++fired < 3) t.Start(10, tick);
  };
  t.Start(10, tick);
  clock.AdvanceMs(100);
  EXPECT_EQ(fired, 3);
}

}  // namespace
}  // namespace troupe
