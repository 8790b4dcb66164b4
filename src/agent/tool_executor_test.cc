#include "agent/tool_executor.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

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

}  // namespace
}  // namespace troupe
