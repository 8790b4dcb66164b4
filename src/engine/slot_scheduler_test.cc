#include "engine/slot_scheduler.h"

#include <gtest/gtest.h>

#include <vector>

#include "core/fake_clock.h"

namespace troupe {
namespace {

class SlotSchedulerTest : public ::testing::Test {
 protected:
  void Build(BackgroundTaskConfig config) {
    scheduler_ =
        std::make_unique<SlotScheduler>(&clock_, ConcurrencyPolicy(config, {}), [this](Ticket t) {
          granted_.push_back(t);
          if (on_grant_) on_grant_(t);
        });
  }
  void Check() {
    ASSERT_TRUE(scheduler_->CheckInvariants().ok()) << scheduler_->CheckInvariants().message();
  }

  FakeClock clock_;
  std::unique_ptr<SlotScheduler> scheduler_;
  std::vector<Ticket> granted_;
  std::function<void(Ticket)> on_grant_;
};

TEST_F(SlotSchedulerTest, PoolRunsAtMostItsLimitAndQueuesTheRestInFifoOrder) {
  BackgroundTaskConfig c;
  c.model_concurrency = {{"p/m", 2}};
  Build(c);
  for (Ticket t = 1; t <= 5; ++t) scheduler_->Request(t, "p/m");
  Check();
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2}));
  EXPECT_EQ(scheduler_->Describe(3).position, 1);
  EXPECT_EQ(scheduler_->Describe(5).position, 3);
  EXPECT_EQ(scheduler_->Describe(5).reason, "pool model:p/m full (2/2 running), position 3");
  scheduler_->Release(2);
  // The freed slot went to the next waiter before Release returned.
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2, 3}));
  scheduler_->Release(1);
  scheduler_->Release(3);
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2, 3, 4, 5}));
  Check();
}

TEST_F(SlotSchedulerTest, AFullPoolNeverDelaysAnotherPool) {
  BackgroundTaskConfig c;
  c.model_concurrency = {{"a/slow", 1}};
  c.default_concurrency = 2;
  Build(c);
  scheduler_->Request(1, "a/slow");
  scheduler_->Request(2, "a/slow");  // waits
  scheduler_->Request(3, "b/fast");
  scheduler_->Request(4, "b/fast");
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 3, 4}));
  EXPECT_TRUE(scheduler_->IsWaiting(2));
  Check();
}

TEST_F(SlotSchedulerTest, ProviderLimitIsSharedByItsModels) {
  BackgroundTaskConfig c;
  c.provider_concurrency = {{"anthropic", 2}};
  Build(c);
  scheduler_->Request(1, "anthropic/opus");
  scheduler_->Request(2, "anthropic/sonnet");
  scheduler_->Request(3, "anthropic/haiku");
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2}));
  EXPECT_EQ(scheduler_->PoolOf(3), "provider:anthropic");
  Check();
}

TEST_F(SlotSchedulerTest, ZeroMeansUnlimited) {
  BackgroundTaskConfig c;
  c.default_concurrency = 0;
  Build(c);
  for (Ticket t = 1; t <= 100; ++t) scheduler_->Request(t, "x/y");
  EXPECT_EQ(granted_.size(), 100u);
  Check();
}

TEST_F(SlotSchedulerTest, WithdrawnWaiterIsNeverGranted) {
  BackgroundTaskConfig c;
  c.default_concurrency = 1;
  Build(c);
  scheduler_->Request(1, "x/y");
  scheduler_->Request(2, "x/y");
  scheduler_->Request(3, "x/y");
  EXPECT_TRUE(scheduler_->Withdraw(2));
  EXPECT_FALSE(scheduler_->Withdraw(2));
  EXPECT_FALSE(scheduler_->Withdraw(1));  // holding, not waiting
  EXPECT_EQ(scheduler_->Describe(3).position, 1);
  scheduler_->Release(1);
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 3}));
  Check();
}

TEST_F(SlotSchedulerTest, GlobalCapGoesToTheLongestWaitingEligibleTask) {
  BackgroundTaskConfig c;
  c.default_concurrency = 5;
  c.global_concurrency = 2;
  Build(c);
  scheduler_->Request(1, "a/m");
  scheduler_->Request(2, "b/m");
  scheduler_->Request(3, "b/m");
  scheduler_->Request(4, "a/m");
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2}));
  EXPECT_EQ(scheduler_->Describe(3).reason, "globalConcurrency reached (2/2 running), position 1");
  scheduler_->Release(1);  // 3 waited longer than 4, though 4 is in the pool that freed a slot
  EXPECT_EQ(granted_, (std::vector<Ticket>{1, 2, 3}));
  Check();
}

TEST_F(SlotSchedulerTest, GrantCallbackMayReleaseAndRequestWithoutDeepRecursion) {
  BackgroundTaskConfig c;
  c.default_concurrency = 1;
  Build(c);
  // Every grant finishes at once (an instant task): 100k tasks hand the single slot along a
  // chain; the dispatcher loops instead of recursing.
  on_grant_ = [this](Ticket t) { scheduler_->Release(t); };
  scheduler_->SetPaused(true);
  for (Ticket t = 1; t <= 100000; ++t) scheduler_->Request(t, "x/y");
  scheduler_->SetPaused(false);
  EXPECT_EQ(granted_.size(), 100000u);
  EXPECT_EQ(scheduler_->running(), 0);
  EXPECT_EQ(scheduler_->waiting(), 0u);
  for (size_t i = 0; i < granted_.size(); ++i) ASSERT_EQ(granted_[i], i + 1);
  Check();
}

TEST_F(SlotSchedulerTest, CooldownHoldsNewStartsOfThatProviderOnlyUntilItEnds) {
  BackgroundTaskConfig c;
  c.default_concurrency = 5;
  Build(c);
  scheduler_->CoolDownProvider("anthropic", clock_.NowMs() + 1000);
  scheduler_->Request(1, "anthropic/opus");
  scheduler_->Request(2, "openai/gpt");
  EXPECT_EQ(granted_, (std::vector<Ticket>{2}));
  EXPECT_NE(scheduler_->Describe(1).reason.find("cooling down"), std::string::npos);
  auto snap = scheduler_->Snapshot();
  bool seen = false;
  for (const auto& p : snap) {
    if (p.provider == "anthropic") {
      seen = true;
      EXPECT_GT(p.cooldown_until_wall_ms, 0);
    }
  }
  EXPECT_TRUE(seen);
  Check();
  clock_.AdvanceMs(999);
  EXPECT_EQ(granted_.size(), 1u);
  clock_.AdvanceMs(1);
  EXPECT_EQ(granted_, (std::vector<Ticket>{2, 1}));
  Check();
}

TEST_F(SlotSchedulerTest, PausedSchedulerGrantsNothingUntilResumed) {
  BackgroundTaskConfig c;
  Build(c);
  scheduler_->SetPaused(true);
  scheduler_->Request(1, "x/y");
  EXPECT_TRUE(granted_.empty());
  EXPECT_EQ(scheduler_->Describe(1).reason, "daemon is shutting down");
  Check();
  scheduler_->SetPaused(false);
  EXPECT_EQ(granted_, (std::vector<Ticket>{1}));
}

TEST_F(SlotSchedulerTest, SnapshotShowsLimitsOccupancyAndQueues) {
  BackgroundTaskConfig c;
  c.model_concurrency = {{"p/m", 1}};
  c.global_concurrency = 10;
  Build(c);
  scheduler_->Request(1, "p/m");
  scheduler_->Request(2, "p/m");
  auto snap = scheduler_->Snapshot();
  ASSERT_EQ(snap.size(), 2u);
  EXPECT_EQ(snap[0].key, "model:p/m");
  EXPECT_EQ(snap[0].level, "model");
  EXPECT_EQ(snap[0].limit, 1);
  EXPECT_EQ(snap[0].in_use, 1);
  EXPECT_EQ(snap[0].queued, 1);
  EXPECT_EQ(snap[1].key, "global");
  EXPECT_EQ(snap[1].limit, 10);
  EXPECT_EQ(snap[1].in_use, 1);
}

}  // namespace
}  // namespace troupe
