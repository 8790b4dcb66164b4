// McpWaitProgress on a fake clock, fed engine events by hand: which events are steps, how they
// are spaced, and that nothing follows the end of the wait.
#include "mcp/mcp_wait_progress.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/fake_clock.h"

namespace troupe {
namespace {

struct Sent {
  int64_t at_ms;
  double progress;
  std::string message;
};

class McpWaitProgressTest : public ::testing::Test {
 protected:
  McpWaitProgress::Report Recorder() {
    return [this](double progress, std::optional<double> total, const std::string& message) {
      EXPECT_FALSE(total.has_value());
      sent_.push_back({clock_.NowMs(), progress, message});
    };
  }

  void State(McpWaitProgress& p, const std::string& id, TaskState from, TaskState to) {
    TaskRecord task;
    task.id = id;
    task.state = to;
    EngineEvent e;
    e.kind = EngineEvent::Kind::kState;
    e.from = from;
    e.task = &task;
    p.OnEvent(e);
  }

  void Progress(McpWaitProgress& p, const std::string& id, const ProgressUpdate& update) {
    TaskRecord task;
    task.id = id;
    task.state = TaskState::kRunning;
    EngineEvent e;
    e.kind = EngineEvent::Kind::kProgress;
    e.from = TaskState::kRunning;
    e.task = &task;
    e.progress = &update;
    p.OnEvent(e);
  }

  static ProgressUpdate Tool(const std::string& name) {
    ProgressUpdate u;
    u.tool_calls = 1;
    u.tool = name;
    return u;
  }

  FakeClock clock_;
  std::vector<Sent> sent_;
};

TEST_F(McpWaitProgressTest, StreamedTokensAndTurnsAreNoSteps) {
  McpWaitProgress p(&clock_, Recorder(), {"bg_1"}, 1);
  p.Begin("waiting for bg_1 running");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].message, "waiting for bg_1 running");
  EXPECT_EQ(sent_[0].progress, 1);
  for (int i = 0; i < 200; ++i) {
    ProgressUpdate chunk;
    chunk.bytes = 40;
    chunk.output_tokens = 1;
    if (i % 50 == 0) chunk.turns = 1;
    Progress(p, "bg_1", chunk);
    clock_.AdvanceMs(10);
  }
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(p.steps(), 1u);
}

TEST_F(McpWaitProgressTest, ToolCallsAreCoalescedToOneEveryInterval) {
  McpWaitProgress p(&clock_, Recorder(), {"bg_1"}, 1);
  const int64_t t0 = clock_.NowMs();
  p.Begin("waiting for bg_1 running");
  Progress(p, "bg_1", Tool("grep"));
  clock_.AdvanceMs(100);
  Progress(p, "bg_1", Tool("read"));
  clock_.AdvanceMs(100);
  Progress(p, "bg_1", Tool("glob"));
  EXPECT_EQ(sent_.size(), 1u);  // held until the interval ends
  clock_.AdvanceMs(299);
  EXPECT_EQ(sent_.size(), 1u);
  clock_.AdvanceMs(1);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].at_ms, t0 + kMcpProgressIntervalMs);
  EXPECT_EQ(sent_[1].message, "bg_1 running glob");  // the latest of the three
  EXPECT_EQ(sent_[1].progress, 4);                   // every step counts

  // A step long after the last notification goes at once.
  clock_.AdvanceMs(2'000);
  Progress(p, "bg_1", Tool("bash"));
  ASSERT_EQ(sent_.size(), 3u);
  EXPECT_EQ(sent_[2].at_ms, t0 + 2'500);
  EXPECT_EQ(sent_[2].message, "bg_1 running bash");

  // A burst of 100 tool calls over a second: at most one notification per interval.
  for (int i = 0; i < 100; ++i) {
    Progress(p, "bg_1", Tool("t" + std::to_string(i)));
    clock_.AdvanceMs(10);
  }
  clock_.AdvanceMs(1'000);
  EXPECT_LE(sent_.size(), 3u + 3u);
  for (size_t i = 1; i < sent_.size(); ++i) {
    EXPECT_GE(sent_[i].at_ms - sent_[i - 1].at_ms, kMcpProgressIntervalMs) << i;
    EXPECT_GT(sent_[i].progress, sent_[i - 1].progress) << i;
  }
  EXPECT_EQ(sent_.back().message, "bg_1 running t99");
  EXPECT_EQ(sent_.back().progress, 105);
}

TEST_F(McpWaitProgressTest, TheEndOfTheWaitSendsNothingAndDropsWhatWasHeld) {
  McpWaitProgress p(&clock_, Recorder(), {"bg_1"}, 1);
  p.Begin("waiting for bg_1 pending");
  State(p, "bg_1", TaskState::kPending, TaskState::kRunning);  // held: within the interval
  EXPECT_EQ(sent_.size(), 1u);
  State(p, "bg_1", TaskState::kRunning, TaskState::kCompleted);  // ends the wait
  EXPECT_TRUE(p.stopped());
  clock_.AdvanceMs(60'000);
  Progress(p, "bg_1", Tool("grep"));
  EXPECT_EQ(sent_.size(), 1u);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(McpWaitProgressTest, StopDropsAHeldStep) {
  McpWaitProgress p(&clock_, Recorder(), {"bg_1"}, 1);
  p.Begin("waiting");
  Progress(p, "bg_1", Tool("grep"));
  p.Stop();
  clock_.AdvanceMs(1'000);
  Progress(p, "bg_1", Tool("read"));
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(McpWaitProgressTest, StateChangesOfSeveralTasksUntilTheWaitEnds) {
  // All of three, one of which had ended before the wait.
  McpWaitProgress all(&clock_, Recorder(), {"bg_a", "bg_b"}, 3);
  State(all, "bg_a", TaskState::kPending, TaskState::kPending);  // a launch: no change
  State(all, "bg_a", TaskState::kPending, TaskState::kRunning);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].message, "bg_a running");
  clock_.AdvanceMs(1'000);
  State(all, "bg_a", TaskState::kRunning, TaskState::kCompleted);
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1].message, "bg_a completed (2 of 3 finished)");
  clock_.AdvanceMs(1'000);
  Progress(all, "bg_other", Tool("grep"));  // not waited for
  EXPECT_EQ(sent_.size(), 2u);
  State(all, "bg_b", TaskState::kRunning, TaskState::kError);
  EXPECT_TRUE(all.stopped());
  EXPECT_EQ(sent_.size(), 2u);

  // Any of two: the first end is the end.
  sent_.clear();
  McpWaitProgressOptions any_options;
  any_options.mode = WaitMode::kAny;
  McpWaitProgress any(&clock_, Recorder(), {"bg_c", "bg_d"}, 2, any_options);
  State(any, "bg_d", TaskState::kRunning, TaskState::kCancelled);
  EXPECT_TRUE(any.stopped());
  EXPECT_TRUE(sent_.empty());
}

TEST_F(McpWaitProgressTest, InterruptedEndsAWatchButNotTasksResult) {
  McpWaitProgress watch(&clock_, Recorder(), {"bg_1"}, 1);
  State(watch, "bg_1", TaskState::kRunning, TaskState::kInterrupted);
  EXPECT_TRUE(watch.stopped());
  EXPECT_TRUE(sent_.empty());

  McpWaitProgressOptions options;
  options.interrupted_ends = false;
  McpWaitProgress result(&clock_, Recorder(), {"bg_1"}, 1, options);
  State(result, "bg_1", TaskState::kRunning, TaskState::kInterrupted);
  EXPECT_FALSE(result.stopped());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].message, "bg_1 interrupted");
}

TEST_F(McpWaitProgressTest, NotesOfTheRunAreSteps) {
  McpWaitProgress p(&clock_, Recorder(), {"bg_1"}, 1);
  ProgressUpdate retry;
  retry.note = "retrying in 500 ms: HTTP 429";
  Progress(p, "bg_1", retry);
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0].message, "bg_1: retrying in 500 ms: HTTP 429");
}

}  // namespace
}  // namespace troupe
