#include "agent/tools/bash_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using json = nlohmann::json;

class BashToolTest : public testing::ToolTest {
 protected:
  // Starts `command` without a sandbox (whose PID namespace would hide the group's id), which
  // must write its process group id ($$ of bash -c) to ./pgid, and returns that id once written.
  // The process-group kill is what is left when the config turns the sandbox off.
  pid_t StartAndWaitForPgid(const std::string& command, std::unique_ptr<ToolRun>* run,
                            bool* called) {
    *run = unconfined_.Start({{"command", command}}, context_,
                             [called](ToolResult) { *called = true; });
    const std::string file = Abs("pgid");
    EXPECT_TRUE(testing::RunLoopUntil(
        io_,
        [&] {
          return std::filesystem::exists(file) && Read("pgid").find('\n') != std::string::npos;
        },
        std::chrono::seconds(5)));
    return static_cast<pid_t>(std::atol(Read("pgid").c_str()));
  }

  BashTool bash_;
  BashTool unconfined_{"bash", std::make_shared<Sandbox>(Sandbox::Create({SandboxMode::kNone}))};
};

TEST_F(BashToolTest, CancelKillsEverythingInTheSandboxEvenAfterSetsid) {
  const std::string sleeper = std::string("sleep") + '\0' + "1004";
  bool called = false;
  std::unique_ptr<ToolRun> run = bash_.Start({{"command", "(setsid sleep 1004 &); sleep 100"}},
                                             context_, [&](ToolResult) { called = true; });
  ASSERT_TRUE(testing::RunLoopUntil(
      io_, [&] { return testing::ProcessRunning(sleeper); }, std::chrono::seconds(5)));
  run->Cancel();
  EXPECT_TRUE(testing::WaitNotRunning(sleeper));
  EXPECT_FALSE(called);
}

TEST_F(BashToolTest, TheDaemonsSecretsAreNotInTheEnvironment) {
  setenv("OPENAI_API_KEY", "sk-bash-tool-test", 1);
  ToolResult r = RunTool(bash_, {{"command", "env"}});
  unsetenv("OPENAI_API_KEY");
  EXPECT_THAT(r.content, ::testing::Not(HasSubstr("sk-bash-tool-test")));
  EXPECT_THAT(r.content, HasSubstr("TROUPE_TASK_ID=bg_test"));
}

TEST_F(BashToolTest, RunsInTheWorkspaceRootWithOutputMerged) {
  ToolResult r = RunTool(bash_, {{"command", "pwd; echo err >&2; echo $TROUPE_TASK_ID"}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_EQ(r.content, root() + "\nerr\nbg_test\n");
}

TEST_F(BashToolTest, ANonZeroExitIsAResultNotAnError) {
  ToolResult r = RunTool(bash_, {{"command", "echo failing; exit 2"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.content, "failing\nexit code 2");
  r = RunTool(bash_, {{"command", "exit 1"}});
  EXPECT_EQ(r.content, "exit code 1");
  r = RunTool(bash_, {{"command", "true"}});
  EXPECT_EQ(r.content, "(no output)");
}

TEST_F(BashToolTest, ATimeoutIsAnErrorAndKillsTheGroup) {
  // The answer itself says the timeout ended the command (ProcessRunnerTest checks the group).
  ToolResult r = RunTool(bash_, {{"command", "echo begun; sleep 5"}, {"timeout_ms", 200}});
  EXPECT_TRUE(r.is_error);
  EXPECT_EQ(r.content, "begun\nbash: timed out after 200 ms; the process group was killed");
}

TEST_F(BashToolTest, CancelKillsTheWholeProcessGroup) {
  std::unique_ptr<ToolRun> run;
  bool called = false;
  const pid_t pgid = StartAndWaitForPgid("echo $$ > pgid; sleep 100 & sleep 100", &run, &called);
  ASSERT_GT(pgid, 1);
  EXPECT_EQ(kill(-pgid, 0), 0);  // running
  run->Cancel();
  EXPECT_TRUE(testing::WaitGroupGone(pgid));
  testing::RunLoopFor(io_, std::chrono::milliseconds(100));
  EXPECT_FALSE(called);
}

TEST_F(BashToolTest, DestroyingTheRunKillsTheGroupToo) {
  std::unique_ptr<ToolRun> run;
  bool called = false;
  const pid_t pgid = StartAndWaitForPgid("echo $$ > pgid; sleep 100 & wait", &run, &called);
  ASSERT_GT(pgid, 1);
  run.reset();
  EXPECT_TRUE(testing::WaitGroupGone(pgid));
  testing::RunLoopFor(io_, std::chrono::milliseconds(100));
  EXPECT_FALSE(called);
}

TEST_F(BashToolTest, LongOutputKeepsHeadAndTail) {
  ToolResult r = RunTool(bash_, {{"command", "seq 1 100000; exit 4"}});
  EXPECT_FALSE(r.is_error);
  EXPECT_THAT(r.content, StartsWith("1\n2\n3\n"));
  EXPECT_THAT(r.content, HasSubstr(" omitted from the middle]\n"));
  EXPECT_THAT(r.content, EndsWith("99999\n100000\nexit code 4"));
  EXPECT_LT(r.content.size(), 31u * 1024);
}

TEST_F(BashToolTest, ValidatesArguments) {
  EXPECT_EQ(RunTool(bash_, json::object()).content,
            "bash: `command` is required (a shell command line)");
  EXPECT_EQ(RunTool(bash_, {{"command", "true"}, {"timeout_ms", 700000}}).content,
            "bash: `timeout_ms` must be an integer from 1 to 600000 (got a number (700000))");
  EXPECT_THAT(RunTool(bash_, {{"command", "true"}, {"cwd", "/"}}).content,
              HasSubstr("unknown argument `cwd`"));
  EXPECT_FALSE(RunTool(bash_, {{"command", "true"}, {"description", "does nothing"}}).is_error);
}

}  // namespace
}  // namespace troupe
