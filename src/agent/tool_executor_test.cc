#include "agent/tool_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "agent/pending_tool_run.h"
#include "core/testing/loop_runner.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using troupe::testing::RunLoopFor;
using troupe::testing::RunLoopUntil;

TEST(ThreadPoolExecutorTest, RunsWorkOnAWorkerAndDeliversOnTheLoopLater) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, 2);
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id work_thread;
  std::thread::id done_thread;
  std::optional<ToolResult> result;
  executor.Run(
      [&] {
        work_thread = std::this_thread::get_id();
        return ToolResult::Ok("hi");
      },
      [&](ToolResult r) {
        done_thread = std::this_thread::get_id();
        result = std::move(r);
      });
  EXPECT_FALSE(result.has_value());
  ASSERT_TRUE(RunLoopUntil(io, [&] { return result.has_value(); }));
  EXPECT_EQ(result->content, "hi");
  EXPECT_NE(work_thread, loop_thread);
  EXPECT_EQ(done_thread, loop_thread);
}

TEST(ThreadPoolExecutorTest, AnExceptionInWorkBecomesAToolError) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, 1);
  std::optional<ToolResult> result;
  executor.Run([]() -> ToolResult { throw std::runtime_error("boom"); },
               [&](ToolResult r) { result = std::move(r); });
  ASSERT_TRUE(RunLoopUntil(io, [&] { return result.has_value(); }));
  EXPECT_TRUE(result->is_error);
  EXPECT_THAT(result->content, HasSubstr("boom"));
}

TEST(ThreadPoolExecutorTest, DeliversEveryResult) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, 3);
  int delivered = 0;
  for (int i = 0; i < 50; ++i) {
    executor.Run([i] { return ToolResult::Ok(std::to_string(i)); },
                 [&](ToolResult) { ++delivered; });
  }
  ASSERT_TRUE(RunLoopUntil(io, [&] { return delivered == 50; }));
}

TEST(ThreadPoolExecutorTest, ResultsArrivingAfterDestructionAreDropped) {
  boost::asio::io_context io;
  std::atomic<int> started{0};
  bool delivered = false;
  {
    ThreadPoolExecutor executor(io, 1);
    // The first one is running when the executor goes away; the second has not started.
    executor.Run(
        [&] {
          ++started;
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          return ToolResult::Ok("late");
        },
        [&](ToolResult) { delivered = true; });
    executor.Run(
        [&] {
          ++started;
          return ToolResult::Ok("never");
        },
        [&](ToolResult) { delivered = true; });
    while (started == 0) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RunLoopFor(io, std::chrono::milliseconds(50));
  EXPECT_FALSE(delivered);
  EXPECT_EQ(started.load(), 1);
}

// Work that blocks its worker until `gate` opens, counting itself in `running` meanwhile.
std::function<ToolResult()> Held(std::atomic<bool>& gate, std::atomic<int>& running,
                                 std::string text) {
  return [&gate, &running, text = std::move(text)] {
    ++running;
    while (!gate.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    --running;
    return ToolResult::Ok(text);
  };
}

BlockingWork Waiting(std::string owner) {
  BlockingWork what;
  what.owner = std::move(owner);
  what.waits = true;
  return what;
}

TEST(ThreadPoolExecutorTest, WaitingWorkDoesNotHoldUpQuickWork) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, /*threads=*/1, /*waiting_threads=*/4);
  std::atomic<bool> gate{false};
  std::atomic<int> running{0};
  int slow_done = 0;
  // Two tasks' slow commands, more than the quick lane has threads.
  executor.RunFor(Waiting("t1"), Held(gate, running, "slow"), [&](ToolResult) { ++slow_done; });
  executor.RunFor(Waiting("t2"), Held(gate, running, "slow"), [&](ToolResult) { ++slow_done; });
  ASSERT_TRUE(RunLoopUntil(io, [&] { return running.load() == 2; }));  // side by side
  std::optional<ToolResult> read;
  BlockingWork quick;
  quick.owner = "t3";
  executor.RunFor(quick, [] { return ToolResult::Ok("read"); },
                  [&](ToolResult r) { read = std::move(r); });
  ASSERT_TRUE(RunLoopUntil(io, [&] { return read.has_value(); }));
  EXPECT_EQ(read->content, "read");
  EXPECT_EQ(running.load(), 2);  // both slow ones still running
  EXPECT_EQ(slow_done, 0);
  gate = true;
  ASSERT_TRUE(RunLoopUntil(io, [&] { return slow_done == 2; }));
}

TEST(ThreadPoolExecutorTest, WaitingWorkRunsSideBySideUpToItsCap) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, /*threads=*/1, /*waiting_threads=*/3);
  std::atomic<bool> gate{false};
  std::atomic<int> running{0};
  int done = 0;
  for (int i = 0; i < 5; ++i) {
    executor.RunFor(Waiting("t" + std::to_string(i)), Held(gate, running, "x"),
                    [&](ToolResult) { ++done; });
  }
  ASSERT_TRUE(RunLoopUntil(io, [&] { return running.load() == 3; }));
  RunLoopFor(io, std::chrono::milliseconds(30));
  EXPECT_EQ(running.load(), 3);  // the cap holds; two wait their turn
  gate = true;
  ASSERT_TRUE(RunLoopUntil(io, [&] { return done == 5; }));
}

TEST(ThreadPoolExecutorTest, TasksTakeTurnsForTheThreads) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, /*threads=*/1);
  std::atomic<bool> gate{false};
  std::atomic<int> running{0};
  std::vector<std::string> order;  // appended on the loop, in delivery order
  auto record = [&](ToolResult r) { order.push_back(r.content); };
  BlockingWork a;
  a.owner = "a";
  BlockingWork b;
  b.owner = "b";
  executor.RunFor(a, Held(gate, running, "a1"), record);
  ASSERT_TRUE(RunLoopUntil(io, [&] { return running.load() == 1; }));
  for (const char* text : {"a2", "a3", "a4"}) {
    executor.RunFor(a, [text] { return ToolResult::Ok(text); }, record);
  }
  executor.RunFor(b, [] { return ToolResult::Ok("b1"); }, record);
  gate = true;
  ASSERT_TRUE(RunLoopUntil(io, [&] { return order.size() == 5; }));
  // b's only call waits for one of a's queued calls, not for all three.
  EXPECT_EQ(order, (std::vector<std::string>{"a1", "a2", "b1", "a3", "a4"}));
}

TEST(ThreadPoolExecutorTest, CancelledWorkThatHasNotStartedNeverStarts) {
  boost::asio::io_context io;
  ThreadPoolExecutor executor(io, /*threads=*/1);
  std::atomic<bool> gate{false};
  std::atomic<int> running{0};
  bool first_done = false;
  executor.Run(Held(gate, running, "first"), [&](ToolResult) { first_done = true; });
  ASSERT_TRUE(RunLoopUntil(io, [&] { return running.load() == 1; }));

  // A write queued behind it, then cancelled (the task was cancelled) before a thread is free.
  ToolContext context;
  context.task_id = "t1";
  context.executor = &executor;
  std::atomic<bool> wrote{false};
  bool delivered = false;
  std::unique_ptr<ToolRun> run = PendingToolRun::Blocking(
      context,
      [&wrote] {
        wrote = true;
        return ToolResult::Ok("written");
      },
      [&](ToolResult) { delivered = true; });
  run->Cancel();
  gate = true;
  ASSERT_TRUE(RunLoopUntil(io, [&] { return first_done; }));
  // Another call through the one thread proves the cancelled one had its turn meanwhile.
  bool after = false;
  executor.Run([] { return ToolResult::Ok("after"); }, [&](ToolResult) { after = true; });
  ASSERT_TRUE(RunLoopUntil(io, [&] { return after; }));
  EXPECT_FALSE(wrote.load());
  EXPECT_FALSE(delivered);
}

}  // namespace
}  // namespace troupe
