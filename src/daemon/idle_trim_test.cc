#include "daemon/idle_trim.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <vector>

#include "core/fake_clock.h"
#include "store/records.h"

namespace troupe {
namespace {

class IdleTrimTest : public ::testing::Test {
 protected:
  IdleTrimTest() {
    IdleTrimOptions options;
    options.quiet_ms = 2000;
    options.active_tasks = [this] { return active_; };
    options.trim = [this] { ++trimmed_; };
    trimmer_ = std::make_unique<IdleTrimmer>(&clock_, &bus_, std::move(options));
  }

  void Change(TaskState to) {
    TaskRecord task;
    task.id = "bg_1";
    task.state = to;
    EngineEvent e;
    e.kind = EngineEvent::Kind::kState;
    e.task = &task;
    bus_.Publish(e);
  }

  FakeClock clock_;
  EventBus bus_;
  size_t active_ = 0;
  int trimmed_ = 0;
  std::unique_ptr<IdleTrimmer> trimmer_;
};

TEST_F(IdleTrimTest, NothingHappenedNothingTrimmed) {
  clock_.AdvanceMs(60'000);
  EXPECT_EQ(trimmed_, 0);
}

TEST_F(IdleTrimTest, TrimsOnceWhenQuietAfterTheLastTaskEnds) {
  active_ = 1;
  Change(TaskState::kRunning);
  clock_.AdvanceMs(1000);
  active_ = 0;
  Change(TaskState::kCompleted);
  clock_.AdvanceMs(999);
  EXPECT_EQ(trimmed_, 0);
  clock_.AdvanceMs(1);  // 2 s after the first change, 1 s after the last: not quiet yet
  EXPECT_EQ(trimmed_, 0);
  clock_.AdvanceMs(999);
  EXPECT_EQ(trimmed_, 0);
  clock_.AdvanceMs(1);  // 2 s after the last change
  EXPECT_EQ(trimmed_, 1);
  clock_.AdvanceMs(600'000);
  EXPECT_EQ(trimmed_, 1) << "trims again only after another change";
  Change(TaskState::kRunning);
  Change(TaskState::kCompleted);
  clock_.AdvanceMs(2000);
  EXPECT_EQ(trimmed_, 2);
  EXPECT_EQ(trimmer_->trims(), 2);
}

TEST_F(IdleTrimTest, NeverTrimsWhileATaskIsActive) {
  active_ = 1;
  Change(TaskState::kRunning);
  clock_.AdvanceMs(600'000);
  EXPECT_EQ(trimmed_, 0);
  // The task's end arms the timer again.
  active_ = 0;
  Change(TaskState::kCompleted);
  clock_.AdvanceMs(2000);
  EXPECT_EQ(trimmed_, 1);
}

TEST_F(IdleTrimTest, ABurstOfChangesArmsOneTimerAndTrimsOnce) {
  for (int i = 0; i < 1000; ++i) {
    Change(TaskState::kRunning);
    clock_.AdvanceMs(1);
    Change(TaskState::kCompleted);
  }
  EXPECT_LE(clock_.pending_timers(), 1u);
  clock_.AdvanceMs(2000);
  EXPECT_EQ(trimmed_, 1);
}

TEST_F(IdleTrimTest, ProgressEventsAreNotActivity) {
  EngineEvent e;
  e.kind = EngineEvent::Kind::kProgress;
  bus_.Publish(e);
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(trimmed_, 0);
}

TEST_F(IdleTrimTest, DestroyedTrimmerLeavesTheBusAndTheClock) {
  Change(TaskState::kRunning);
  trimmer_.reset();
  EXPECT_EQ(bus_.subscribers(), 0u);
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(trimmed_, 0);
}

TEST(TrimHeapTest, ReturnsFreedHeapToTheSystem) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  GTEST_SKIP() << "the sanitizer's allocator replaces glibc's heap, which malloc_trim trims";
#endif
  // Many small blocks (below the mmap threshold, so they live in the heap), then all but the
  // last freed: the top of the heap cannot shrink past the last block, only malloc_trim's
  // page release gives the middle back.
  constexpr int kBlocks = 200'000;
  std::vector<char*> blocks;
  blocks.reserve(kBlocks);
  for (int i = 0; i < kBlocks; ++i) {
    char* b = new char[1000];
    std::fill(b, b + 1000, static_cast<char>(i));
    blocks.push_back(b);
  }
  for (int i = 0; i + 1 < kBlocks; ++i) delete[] blocks[i];
  const int64_t before = ResidentBytes();
  TrimHeap();
  const int64_t after = ResidentBytes();
  delete[] blocks.back();
  ASSERT_GT(before, 0);
  // ~200 MB were freed; at least half of it leaves the resident set.
  EXPECT_LT(after, before - 100'000'000) << "before " << before << " after " << after;
}

}  // namespace
}  // namespace troupe
