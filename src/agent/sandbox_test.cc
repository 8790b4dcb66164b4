// Escape attempts from a sandboxed bash, against real processes: reading and writing outside
// the workspace, hidden paths, the environment, the network, other processes, survivors, a
// fork bomb. Each one succeeds without the sandbox.
#include "agent/sandbox.h"

#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "agent/tools/tool_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using troupe::testing::OutsideDir;
using troupe::testing::ProcessRunning;
using troupe::testing::TestDir;
using troupe::testing::WaitNotRunning;

class SandboxTest : public ::testing::Test {
 protected:
  SandboxTest() : sandbox_(Sandbox::Create(Policy())) {}

  SandboxPolicy Policy() {
    SandboxPolicy p;
    p.hidden = {secret_.path(), secret_.path() + "/token", token_.path() + "/token"};
    return p;
  }

  // `command` run by bash in the sandbox, stdout and stderr merged.
  ProcessResult Bash(const Sandbox& sandbox, const std::string& command,
                     std::optional<bool> network = std::nullopt, ProcessHandle* handle = nullptr) {
    ProcessOptions o;
    o.argv = {"bash", "-c", command};
    o.merge_stderr = true;
    o.timeout_ms = 20'000;
    Result<ProcessOptions> wrapped = sandbox.Wrap(o, workspace_.path().string(), network);
    EXPECT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    if (!wrapped.ok()) return {};
    Result<ProcessResult> r = RunProcess(*wrapped, handle);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : ProcessResult{};
  }
  ProcessResult Bash(const std::string& command, std::optional<bool> network = std::nullopt) {
    return Bash(sandbox_, command, network);
  }

  TestDir workspace_;
  OutsideDir secret_;  // a hidden directory: the daemon's data directory
  OutsideDir token_;   // holds a hidden file: the token
  Sandbox sandbox_;
};

TEST_F(SandboxTest, IsAvailableHere) {
  // The machines troupe is built and tested on have bubblewrap (scripts/install-deps.sh).
  ASSERT_TRUE(sandbox_.available()) << sandbox_.unavailable_reason();
  EXPECT_THAT(sandbox_.Describe(), HasSubstr("bwrap"));
}

TEST_F(SandboxTest, TheWorkspaceIsWritableAndTheRestIsNot) {
  // Outside the workspace and outside /tmp (which is private): see OutsideDir.
  OutsideDir dir;
  const std::string& outside = dir.path();
  ProcessResult r = Bash("echo in > inside.txt && cat inside.txt; echo out > '" + outside +
                         "/escaped.txt'; echo status $?");
  EXPECT_THAT(r.out.Text(), HasSubstr("in\n"));
  EXPECT_THAT(r.out.Text(), HasSubstr("Read-only file system"));
  EXPECT_EQ(troupe::testing::ReadText(workspace_.File("inside.txt")), "in\n");
  EXPECT_FALSE(std::filesystem::exists(outside + "/escaped.txt"));
}

TEST_F(SandboxTest, HiddenPathsAreEmptyAndTmpIsPrivate) {
  const std::string db = secret_.Write("db/troupe.db", "the database");
  const std::string token = token_.Write("token", "tok-secret-123");
  token_.Write("other", "visible");
  const std::string host_tmp =
      ::testing::TempDir() + "/sandbox-host-tmp-" + std::to_string(getpid());
  troupe::testing::WriteText(host_tmp, "host tmp file");
  ProcessResult r =
      Bash("echo hidden=$(ls -A '" + secret_.path() + "' | wc -l); cat '" + db + "' '" + token +
           "' '" + token_.path() + "/other' '" + host_tmp + "'; echo; echo tmp=$(ls -A /tmp)");
  const std::string out = r.out.Text();
  EXPECT_THAT(out, HasSubstr("hidden=0\n"));
  EXPECT_THAT(out, Not(HasSubstr("the database")));
  EXPECT_THAT(out, Not(HasSubstr("tok-secret-123")));
  EXPECT_THAT(out, HasSubstr("visible"));
  EXPECT_THAT(out, Not(HasSubstr("host tmp file")));
  // Only the workspace's own mount point, when the workspace is under /tmp.
  const std::filesystem::path ws = workspace_.path();
  const std::string expected_tmp =
      ws.parent_path() == "/tmp" ? ws.filename().string() : std::string();
  EXPECT_THAT(out, HasSubstr("tmp=" + expected_tmp + "\n"));
  std::filesystem::remove(host_tmp);
}

TEST_F(SandboxTest, TheEnvironmentIsAnAllowList) {
  setenv("OPENAI_API_KEY", "sk-test-not-for-tools", 1);
  setenv("TROUPE_TOKEN", "tok-not-for-tools", 1);
  ProcessResult r = Bash("env");
  unsetenv("OPENAI_API_KEY");
  unsetenv("TROUPE_TOKEN");
  const std::string out = r.out.Text();
  EXPECT_THAT(out, Not(HasSubstr("sk-test-not-for-tools")));
  EXPECT_THAT(out, Not(HasSubstr("tok-not-for-tools")));
  EXPECT_THAT(out, HasSubstr(std::string("PATH=") + kSystemPath + "\n"));
  EXPECT_THAT(out, HasSubstr("HOME=/tmp\n"));
}

TEST_F(SandboxTest, NoNetworkUnlessAllowed) {
  const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(listener, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(listen(listener, 4), 0);
  socklen_t len = sizeof addr;
  getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string connect = "exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(ntohs(addr.sin_port)) +
                              " && echo connected || echo refused";
  EXPECT_THAT(Bash(connect).out.Text(), HasSubstr("refused"));
  EXPECT_THAT(Bash(connect, /*network=*/true).out.Text(), HasSubstr("connected"));
  close(listener);
}

TEST_F(SandboxTest, OtherProcessesAreNotVisible) {
  ProcessResult r = Bash("ls /proc | grep -c '^[0-9]'; cat /proc/*/cmdline | tr '\\0' ' '");
  const std::string out = r.out.Text();
  // bwrap's init, bash, and the pipeline's commands; never this test.
  EXPECT_LE(std::stoi(out), 6) << out;
  EXPECT_THAT(out, Not(HasSubstr("agent_tools_test")));
}

TEST_F(SandboxTest, NothingSurvivesTheEndOfTheCommand) {
  ProcessResult r = Bash("setsid sleep 1001 & (setsid sleep 1002 &) & disown -a; echo started");
  EXPECT_THAT(r.out.Text(), HasSubstr("started"));
  EXPECT_LT(r.elapsed_ms, 5000);
  EXPECT_TRUE(WaitNotRunning(std::string("sleep") + '\0' + "1001"));
  EXPECT_TRUE(WaitNotRunning(std::string("sleep") + '\0' + "1002"));
}

TEST_F(SandboxTest, NothingSurvivesAKill) {
  ProcessHandle handle;
  std::thread killer([&] {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!ProcessRunning(std::string("sleep") + '\0' + "1003") &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    handle.Kill();
  });
  ProcessResult r = Bash(sandbox_, "(setsid sleep 1003 &) ; sleep 30", std::nullopt, &handle);
  killer.join();
  EXPECT_TRUE(r.killed);
  EXPECT_LT(r.elapsed_ms, 15'000);
  EXPECT_TRUE(WaitNotRunning(std::string("sleep") + '\0' + "1003"));
}

// RLIMIT_NPROC binds users other than root (the kernel exempts root), so the fork bomb runs as
// `nobody` when the test runs as root: in a forked child that drops to it.
TEST_F(SandboxTest, AForkBombIsStoppedByTheProcessLimit) {
  std::filesystem::permissions(workspace_.path(), std::filesystem::perms::all);
  const std::string workspace = workspace_.path().string();
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(10);
    SandboxPolicy policy;
    policy.limits.max_processes = 40;
    Sandbox sandbox = Sandbox::Create(policy);
    if (!sandbox.available()) _exit(11);
    ProcessOptions o;
    // dash, not bash: bash retries a failed fork for 16 s before giving up.
    o.argv = {"bash", "-c",
              "sh -c 'n=0; for i in $(seq 300); do sleep 20 & n=$((n+1)); echo $n > count; "
              "done'; echo started=$(cat count)"};
    o.merge_stderr = true;
    o.timeout_ms = 30'000;
    Result<ProcessOptions> wrapped = sandbox.Wrap(o, workspace);
    if (!wrapped.ok()) _exit(12);
    Result<ProcessResult> r = RunProcess(*wrapped);
    if (!r.ok()) _exit(13);
    // Fewer than the limit started; the shell gave up at once.
    const std::string out = r->out.Text();
    const size_t at = out.find("started=");
    const int running = at == std::string::npos ? -1 : std::atoi(out.c_str() + at + 8);
    if (out.find("fork") == std::string::npos) _exit(15);
    _exit(running > 0 && running < 40 && r->elapsed_ms < 25'000 ? 0 : 14);
  }
  int status = 0;
  ASSERT_EQ(waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "10: setuid, 11: no sandbox, 12: wrap, 13: run, "
                                       "14: the bomb was not bounded, 15: no fork failure";
}

// As root RLIMIT_NPROC holds nothing back; the run's control group does (where this machine
// lets root make one). Without the group the same bomb starts all its 300 processes, which
// shows the test can fail; bounded by the 20 s sleeps and the run's timeout either way.
TEST_F(SandboxTest, AsRootAForkBombIsStoppedByTheRunsCgroup) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root (as a user RLIMIT_NPROC holds, tested above)";
  auto bomb = [&](const std::string& cgroup_root) {
    SandboxPolicy policy;
    policy.limits.max_processes = 40;
    policy.cgroup_root = cgroup_root;
    Sandbox sandbox = Sandbox::Create(policy);
    ProcessResult r = Bash(sandbox,
                           "sh -c 'n=0; for i in $(seq 300); do sleep 20 & n=$((n+1)); "
                           "echo $n > count; done'; echo started=$(cat count)");
    const std::string out = r.out.Text();
    const size_t at = out.find("started=");
    EXPECT_LT(r.elapsed_ms, 25'000);
    return std::make_pair(at == std::string::npos ? -1 : std::atoi(out.c_str() + at + 8), out);
  };
  SandboxPolicy probe;
  probe.limits.max_processes = 40;
  Sandbox with_groups = Sandbox::Create(probe);
  if (!with_groups.cgroups().available()) {
    GTEST_SKIP() << with_groups.cgroups().unavailable_reason();
  }
  EXPECT_THAT(with_groups.Describe(), HasSubstr("pids.max 40 per tool run"));
  const auto [capped, capped_out] = bomb("/sys/fs/cgroup");
  EXPECT_GT(capped, 0) << capped_out;
  EXPECT_LT(capped, 40) << capped_out;
  EXPECT_THAT(capped_out, HasSubstr("fork"));
  const auto [uncapped, uncapped_out] = bomb("");
  EXPECT_EQ(uncapped, 300) << uncapped_out;
}

TEST(SandboxUnavailableTest, BashIsRefusedWithWhyAndHowToOptOut) {
  SandboxPolicy policy;
  policy.bwrap = "/nonexistent/bwrap";
  Sandbox sandbox = Sandbox::Create(policy);
  EXPECT_FALSE(sandbox.available());
  ProcessOptions o;
  o.argv = {"bash", "-c", "true"};
  Result<ProcessOptions> wrapped = sandbox.Wrap(o, "/tmp");
  ASSERT_FALSE(wrapped.ok());
  EXPECT_EQ(wrapped.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(wrapped.status().message(), HasSubstr("cannot create a sandbox"));
  EXPECT_THAT(wrapped.status().message(), HasSubstr("\"mode\": \"none\""));
}

TEST(SandboxUnavailableTest, ModeNoneRunsWithACleanEnvironmentAndLimits) {
  SandboxPolicy policy;
  policy.mode = SandboxMode::kNone;
  Sandbox sandbox = Sandbox::Create(policy);
  EXPECT_TRUE(sandbox.available());
  setenv("ANTHROPIC_API_KEY", "sk-ant-not-for-tools", 1);
  ProcessOptions o;
  o.argv = {"bash", "-c", "env; ulimit -t; ulimit -v"};
  Result<ProcessOptions> wrapped = sandbox.Wrap(o, "/tmp");
  unsetenv("ANTHROPIC_API_KEY");
  ASSERT_TRUE(wrapped.ok());
  EXPECT_EQ(wrapped->argv[0], FindExecutable("bash", kSystemPath));
  Result<ProcessResult> r = RunProcess(*wrapped);
  ASSERT_TRUE(r.ok());
  EXPECT_THAT(r->out.Text(), Not(HasSubstr("sk-ant-not-for-tools")));
  // The default limits: 900 s of CPU, and 16 GiB of address space (ulimit -v counts KiB).
  EXPECT_THAT(r->out.Text(), HasSubstr("\n900\n16777216\n"));
}

TEST(FindExecutableTest, SkipsEmptyAndRelativeEntries) {
  TestDir dir;
  dir.Write("rg", "#!/bin/sh\necho fake\n");
  std::filesystem::permissions(dir.File("rg"), std::filesystem::perms::owner_all);
  const std::string old_cwd = std::filesystem::current_path().string();
  std::filesystem::current_path(dir.path());
  // An empty entry and "." both mean the current directory, which holds a fake rg.
  EXPECT_EQ(FindExecutable("rg", ":.:/nonexistent"), "");
  EXPECT_EQ(FindExecutable("rg", "::" + dir.path().string()), dir.File("rg"));
  std::filesystem::current_path(old_cwd);
  EXPECT_EQ(FindExecutable("/bin/x", ""), "/bin/x");
}

}  // namespace
}  // namespace troupe
