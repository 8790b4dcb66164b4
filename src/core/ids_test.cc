#include "core/ids.h"

#include <gtest/gtest.h>

#include <set>

#include "core/fake_clock.h"

namespace troupe {
namespace {

TEST(IdGeneratorTest, IdsHaveTheirPrefixAndAreWellFormed) {
  FakeClock clock;
  IdGenerator ids(&clock, 42);
  std::string task = ids.NewTaskId();
  std::string session = ids.NewSessionId();
  EXPECT_TRUE(IsWellFormedId(task, "bg_")) << task;
  EXPECT_TRUE(IsWellFormedId(session, "ses_")) << session;
  EXPECT_FALSE(IsWellFormedId(task, "ses_"));
  EXPECT_FALSE(IsWellFormedId("bg_short", "bg_"));
  EXPECT_FALSE(IsWellFormedId("bg_0000000000000000u!", "bg_"));
}

TEST(IdGeneratorTest, IdsAreUniqueAndSortByCreationWithinAndAcrossMilliseconds) {
  FakeClock clock;
  IdGenerator ids(&clock, 7);
  std::string prev = ids.NewTaskId();
  std::set<std::string> seen{prev};
  for (int i = 0; i < 20000; ++i) {
    if (i % 1000 == 0) clock.AdvanceMs(1);
    std::string next = ids.NewTaskId();
    EXPECT_LT(prev, next);
    EXPECT_TRUE(seen.insert(next).second);
    prev = next;
  }
}

TEST(IdGeneratorTest, OrderHoldsWhenTheWallClockStepsBack) {
  // A FakeClock cannot go back; a clock whose wall time drops shows the generator keeps order.
  struct SteppingClock : Clock {
    int64_t wall = 2'000'000;
    int64_t NowMs() const override { return 0; }
    int64_t WallMs() const override { return wall; }
    TimerId StartTimer(int64_t, std::function<void()>) override { return 0; }
    void CancelTimer(TimerId) override {}
  } clock;
  IdGenerator ids(&clock, 1);
  std::string a = ids.NewTaskId();
  clock.wall -= 5000;
  std::string b = ids.NewTaskId();
  EXPECT_LT(a, b);
}

TEST(IdGeneratorTest, GeneratorsWithDifferentSeedsDoNotCollide) {
  FakeClock clock;
  IdGenerator a(&clock, 1), b(&clock, 2);
  EXPECT_NE(a.NewTaskId(), b.NewTaskId());
}

}  // namespace
}  // namespace troupe
