#include "agent/process_runner.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;
using troupe::testing::TestDir;
using troupe::testing::WaitGroupGone;

ProcessOptions Bash(const std::string& command) {
  ProcessOptions o;
  o.argv = {"bash", "-c", command};
  o.timeout_ms = 5000;
  return o;
}

TEST(CapturedOutputTest, KeepsEverythingUnderTheLimits) {
  CapturedOutput c(10, 10);
  c.Append("hello ");
  c.Append("world");
  EXPECT_FALSE(c.truncated());
  EXPECT_EQ(c.Text(), "hello world");
  EXPECT_EQ(c.total_bytes(), 11u);
}

TEST(CapturedOutputTest, KeepsHeadAndTailAndCountsWhatWasDropped) {
  CapturedOutput c(4, 4);
  for (int i = 0; i < 10; ++i) c.Append("ab\n");  // 30 bytes, 10 lines
  EXPECT_EQ(c.head(), "ab\na");
  EXPECT_EQ(c.tail(), "\nab\n");
  EXPECT_EQ(c.dropped_bytes(), 22u);
  EXPECT_EQ(c.dropped_lines(), 7u);
  EXPECT_EQ(c.Text(),
            "ab\na\n… [truncated: 22 bytes, 7 line breaks omitted from the middle]\n\nab\n");
}

TEST(CapturedOutputTest, HeadOnlyCapturesSayWhatIsMissing) {
  CapturedOutput c(3, 0);
  c.Append("1\n2\n3\n");
  EXPECT_EQ(c.head(), "1\n2");
  EXPECT_EQ(c.dropped_lines(), 2u);
  EXPECT_THAT(c.Text(), HasSubstr("[truncated: 3 bytes, 2 line breaks more not shown]"));
}

TEST(ProcessRunnerTest, CapturesStdoutStderrAndExitCode) {
  Result<ProcessResult> r = RunProcess(Bash("echo out; echo err >&2; exit 3"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->exit_code, 3);
  EXPECT_EQ(r->term_signal, 0);
  EXPECT_EQ(r->out.Text(), "out\n");
  EXPECT_EQ(r->err.Text(), "err\n");
  EXPECT_FALSE(r->timed_out);
  EXPECT_FALSE(r->killed);
}

TEST(ProcessRunnerTest, InheritsNoDescriptorBeyondStdio) {
  // A descriptor the daemon holds open without close-on-exec (a socket, the lock file).
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // `ls` lists its own directory descriptor too: only 0, 1, 2 and that one may appear.
  Result<ProcessResult> r = RunProcess(Bash("ls /proc/self/fd | wc -l"));
  close(fds[0]);
  close(fds[1]);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->out.Text(), "4\n");
}

TEST(ProcessRunnerTest, MergesStderrInOrder) {
  ProcessOptions o = Bash("echo one; echo two >&2; echo three");
  o.merge_stderr = true;
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.Text(), "one\ntwo\nthree\n");
  EXPECT_EQ(r->err.total_bytes(), 0u);
}

TEST(ProcessRunnerTest, UsesCwdEnvAndAnEmptyStdin) {
  TestDir dir;
  ProcessOptions o = Bash("pwd; echo \"$TROUPE_X\"; cat; echo done");
  o.cwd = dir.path().string();
  o.env = {{"TROUPE_X", "forty-two"}};
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->out.Text(), dir.path().string() + "\nforty-two\ndone\n");
}

TEST(ProcessRunnerTest, RunsInItsOwnProcessGroup) {
  // Field 5 of /proc/self/stat is the process group.
  Result<ProcessResult> r = RunProcess(Bash("echo $$; cut -d' ' -f5 /proc/$$/stat"));
  ASSERT_TRUE(r.ok());
  const std::string text = r->out.Text();
  const std::string pid = text.substr(0, text.find('\n'));
  EXPECT_EQ(text, pid + "\n" + pid + "\n");
  EXPECT_EQ(std::to_string(r->pgid), pid);
  EXPECT_NE(r->pgid, getpgrp());
}

TEST(ProcessRunnerTest, ATimeoutKillsTheGroup) {
  // The child in the foreground would leave a mark when its sleep ends: a run that killed bash
  // alone, or waited for the child anyway, leaves it; killing the group at the timeout does not.
  TestDir dir;
  const std::string mark = dir.File("child finished");
  ProcessOptions o = Bash("echo started; sh -c 'sleep 5; touch \"$0\"' '" + mark + "'");
  o.timeout_ms = 200;
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->timed_out);
  EXPECT_EQ(r->term_signal, SIGKILL);
  EXPECT_EQ(r->out.Text(), "started\n");
  EXPECT_TRUE(WaitGroupGone(r->pgid));
  EXPECT_FALSE(std::filesystem::exists(mark));
}

TEST(ProcessRunnerTest, KillFromAnotherThreadStopsTheGroupAtOnce) {
  ProcessHandle handle;
  std::optional<Result<ProcessResult>> result;
  // bash says when it has started its children, so that the kill finds them running.
  TestDir dir;
  const std::string ready = dir.File("ready");
  std::thread runner([&] {
    result.emplace(
        RunProcess(Bash("sleep 100 & sleep 100 & touch '" + ready + "'; wait"), &handle));
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while ((handle.pgid() == 0 || !std::filesystem::exists(ready)) &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  const bool children_started = std::filesystem::exists(ready);
  const pid_t pgid = handle.pgid();
  handle.Kill();
  runner.join();
  ASSERT_TRUE(children_started) << "bash did not start its children";
  ASSERT_NE(pgid, 0);
  EXPECT_TRUE(WaitGroupGone(pgid));
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_TRUE((*result)->killed);
  EXPECT_EQ((*result)->term_signal, SIGKILL);
  handle.Kill();  // after the end: a no-op
}

TEST(ProcessRunnerTest, KillBeforeTheStartKeepsTheChildFromStarting) {
  ProcessHandle handle;
  handle.Kill();
  Result<ProcessResult> r = RunProcess(Bash("echo never"), &handle);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
}

TEST(ProcessRunnerTest, BackgroundChildrenDoNotOutliveTheCommand) {
  // A run that waited for the background child would end at the timeout instead.
  ProcessOptions o = Bash("sleep 1000 & echo started");
  o.timeout_ms = 60'000;
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->exit_code, 0);
  EXPECT_EQ(r->out.Text(), "started\n");
  EXPECT_TRUE(WaitGroupGone(r->pgid));
}

TEST(ProcessRunnerTest, CapsOutputKeepingHeadAndTail) {
  ProcessOptions o = Bash("seq 1 100000");
  o.stdout_head = 1000;
  o.stdout_tail = 1000;
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_TRUE(r.ok());
  const std::string text = r->out.Text();
  EXPECT_THAT(text, StartsWith("1\n2\n3\n"));
  EXPECT_THAT(text, ::testing::EndsWith("99999\n100000\n"));
  EXPECT_THAT(text, HasSubstr("omitted from the middle]"));
  EXPECT_EQ(r->out.dropped_bytes(), r->out.total_bytes() - 2000);
  EXPECT_LT(text.size(), 2200u);
}

TEST(ProcessRunnerTest, ReportsTheSignalThatEndedTheChild) {
  Result<ProcessResult> r = RunProcess(Bash("kill -TERM $$"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, -1);
  EXPECT_EQ(r->term_signal, SIGTERM);
  EXPECT_EQ(DescribeSignal(SIGTERM), "killed by signal 15 (SIGTERM)");
}

TEST(ProcessRunnerTest, ChildrenGetDefaultSignalDispositions) {
  // With SIGPIPE ignored here (as a daemon does), `yes | head` still ends because the child
  // resets it.
  struct sigaction ignore {
  }, old{};
  ignore.sa_handler = SIG_IGN;
  sigaction(SIGPIPE, &ignore, &old);
  Result<ProcessResult> r = RunProcess(Bash("yes | head -n 2"));
  sigaction(SIGPIPE, &old, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->timed_out);
  EXPECT_EQ(r->out.Text(), "y\ny\n");
}

TEST(ProcessRunnerTest, AMissingProgramIsAnError) {
  ProcessOptions o;
  o.argv = {"troupe-no-such-program"};
  Result<ProcessResult> r = RunProcess(o);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("cannot start troupe-no-such-program"));
  ProcessOptions bad_cwd = Bash("true");
  bad_cwd.cwd = "/nonexistent/troupe";
  EXPECT_FALSE(RunProcess(bad_cwd).ok());
}

}  // namespace
}  // namespace troupe
