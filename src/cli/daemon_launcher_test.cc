#include "cli/daemon_launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace troupe {
namespace {

TEST(ProcessRunningTest, ThisProcessRuns) { EXPECT_TRUE(ProcessRunning(getpid())); }

TEST(ProcessRunningTest, NoPidIsNotAProcess) {
  EXPECT_FALSE(ProcessRunning(0));
  EXPECT_FALSE(ProcessRunning(-1));
}

TEST(ProcessRunningTest, AnExitedChildHasExitedBeforeAndAfterItIsReaped) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) _exit(0);
  // Until it is reaped the child is a zombie: it has exited all the same.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (ProcessRunning(child) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_FALSE(ProcessRunning(child));
  EXPECT_EQ(kill(child, 0), 0);  // still there to be reaped
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(ProcessRunning(child));
}

TEST(ProcessRunningTest, ALiveChildRunsUntilKilled) {
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    pause();
    _exit(0);
  }
  EXPECT_TRUE(ProcessRunning(child));
  kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  EXPECT_FALSE(ProcessRunning(child));
}

}  // namespace
}  // namespace troupe
