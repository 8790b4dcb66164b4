// McpServers over real child processes: small servers written in sh that follow a script,
// log what they read, and crash, hang or flood where a test wants it.
#include "mcp_client/mcp_servers.h"

#include <signal.h>

#include <fstream>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sstream>

#include "core/event_loop.h"
#include "core/testing/loop_runner.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// The first lines every scripted server writes: a 2025 server's refusal of the 2026 probe
// (server/discover), initialize's answer and a tools/list of one tool. $LOG gets every line it
// reads.
constexpr const char* kPreamble = R"(
log() { printf '%s\n' "$1" >> "$LOG"; }
IFS= read -r l; log "$l"
echo '{"jsonrpc":"2.0","id":1,"error":{"code":-32601,"message":"Method not found"}}'
IFS= read -r l; log "$l"
echo '{"jsonrpc":"2.0","id":2,"result":{"protocolVersion":"2025-06-18","capabilities":{"tools":{}},"serverInfo":{"name":"sh-server","version":"0"}}}'
IFS= read -r l; log "$l"
IFS= read -r l; log "$l"
echo '{"jsonrpc":"2.0","id":3,"result":{"tools":[{"name":"echo","description":"echoes","inputSchema":{"type":"object","properties":{"text":{"type":"string"}}}}]}}'
)";

struct McpServersTest : ::testing::Test {
  boost::asio::io_context io;
  LoopClock clock{io};
  testing::TestDir dir;

  std::unique_ptr<McpServers> Servers(const std::string& body, bool shared = false) {
    McpServerConfig c;
    c.command = "/bin/sh";
    c.args = {"-c", std::string(kPreamble) + body};
    c.env = {{"LOG", dir.File("log")}};
    c.timeout_ms = 2000;
    c.shared = shared;
    McpServersDeps deps;
    deps.io = &io;
    deps.clock = &clock;
    deps.environment = {"PATH=/usr/bin:/bin"};
    deps.workspace = dir.path().string();
    return std::make_unique<McpServers>(std::map<std::string, McpServerConfig>{{"sh", c}},
                                        std::move(deps));
  }
  std::string Log() {
    std::ifstream in(dir.File("log"));
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  Result<json> CallAndWait(McpServers& servers, std::unique_ptr<McpToolCall>* keep = nullptr,
                           const std::string& owner = "") {
    std::optional<Result<json>> got;
    auto call =
        servers.Call("sh", owner, "echo", {{"text", "hi"}}, [&](Result<json> r) { got = r; });
    EXPECT_TRUE(testing::RunLoopUntil(io, [&] { return got.has_value(); }));
    if (keep) *keep = std::move(call);
    if (!got) return Status::Internal("no answer");
    return *got;
  }
};

TEST_F(McpServersTest, StartsLazilyCallsAndAnswers) {
  auto servers = Servers(R"(
IFS= read -r l; log "$l"
echo '{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"hi back"}]}}'
IFS= read -r l
)");
  EXPECT_EQ(servers->Status("sh").state, McpServerState::kIdle);
  Result<json> r = CallAndWait(*servers);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["content"][0]["text"], "hi back");
  const McpServerStatus st = servers->Status("sh");
  EXPECT_EQ(st.state, McpServerState::kReady);
  EXPECT_EQ(st.protocol_version, "2025-06-18");
  EXPECT_EQ(st.server_info, "sh-server 0");
  ASSERT_EQ(st.tools.size(), 1u);
  EXPECT_EQ(st.tools[0].name, "echo");
  EXPECT_THAT(Log(), HasSubstr("\"method\":\"tools/call\""));
  EXPECT_THAT(Log(), HasSubstr("\"arguments\":{\"text\":\"hi\"}"));
}

TEST_F(McpServersTest, ACrashMidCallFailsTheCallAndTheServerRestartsAfterBackoff) {
  auto servers = Servers(R"(
IFS= read -r l; log "$l"
echo 'dying' >&2
exit 3
)");
  Result<json> r = CallAndWait(*servers);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("the server stopped"));
  EXPECT_THAT(r.status().message(), HasSubstr("exited with code 3"));
  EXPECT_THAT(r.status().message(), HasSubstr("its stderr ends: dying"));
  McpServerStatus st = servers->Status("sh");
  EXPECT_EQ(st.state, McpServerState::kBackoff);
  // The next call waits out the backoff (1 s), starts it again and crashes again.
  Result<json> again = CallAndWait(*servers);
  EXPECT_THAT(again.status().message(), HasSubstr("exited with code 3"));
  EXPECT_EQ(servers->Status("sh").restarts, 1);
}

TEST_F(McpServersTest, AHungCallTimesOutAndTheServerIsToldToCancel) {
  auto servers = Servers(R"(
IFS= read -r l; log "$l"
IFS= read -r l; log "$l"
sleep 100
)");
  Result<json> r = CallAndWait(*servers);
  EXPECT_EQ(r.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(r.status().message(), HasSubstr("timed out after 2.0s"));
  EXPECT_TRUE(testing::RunLoopUntil(io, [&] { return Log().find("notifications/cancelled") !=
                                                     std::string::npos; }));
}

TEST_F(McpServersTest, AFloodOfOutputEndsTheServer) {
  auto servers = Servers(R"(
IFS= read -r l; log "$l"
head -c 6000000 /dev/zero | tr '\0' a
)");
  Result<json> r = CallAndWait(*servers);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("wrote a message over 4194304 bytes"));
}

TEST_F(McpServersTest, CancellingACallTellsTheServerAndStoppingLeavesNoProcess) {
  auto servers = Servers(R"(
IFS= read -r l; log "$l"
echo $$ > "$LOG.pid"
while IFS= read -r l; do log "$l"; done
)");
  bool called = false;
  auto call = servers->Call("sh", "", "echo", json::object(), [&](Result<json>) { called = true; });
  ASSERT_TRUE(testing::RunLoopUntil(
      io, [&] { return std::ifstream(dir.File("log.pid")).good(); }));
  call->Cancel();
  ASSERT_TRUE(testing::RunLoopUntil(
      io, [&] { return Log().find("notifications/cancelled") != std::string::npos; }));
  EXPECT_THAT(Log(), HasSubstr("\"reason\":\"the task was cancelled\""));
  EXPECT_FALSE(called);
  pid_t pid = 0;
  std::ifstream(dir.File("log.pid")) >> pid;
  ASSERT_GT(pid, 0);
  EXPECT_EQ(kill(pid, 0), 0);  // shared: it stays for the next call
  servers->StopAll();
  EXPECT_NE(kill(pid, 0), 0);
}

// A server that logs its pid and answers one call.
constexpr const char* kPidServer = R"(
echo "pid $$" >> "$LOG.pids"
IFS= read -r l; log "$l"
echo '{"jsonrpc":"2.0","id":4,"result":{"content":[{"type":"text","text":"hi back"}]}}'
while IFS= read -r l; do log "$l"; done
)";

std::vector<pid_t> Pids(const std::string& file) {
  std::vector<pid_t> out;
  std::ifstream in(file);
  std::string word;
  pid_t pid = 0;
  while (in >> word >> pid) out.push_back(pid);
  return out;
}

TEST_F(McpServersTest, AStdioServerNotMarkedSharedRunsOneProcessPerOwnerStoppedWithIt) {
  auto servers = Servers(kPidServer);
  EXPECT_TRUE(servers->PerOwner("sh"));
  std::shared_ptr<void> hold_a = servers->Hold("task-a");
  std::shared_ptr<void> hold_b = servers->Hold("task-b");
  ASSERT_TRUE(CallAndWait(*servers, nullptr, "task-a").ok());
  ASSERT_TRUE(CallAndWait(*servers, nullptr, "task-b").ok());
  const std::vector<pid_t> pids = Pids(dir.File("log.pids"));
  ASSERT_EQ(pids.size(), 2u);
  EXPECT_NE(pids[0], pids[1]);
  McpServerStatus st = servers->Status("sh");
  EXPECT_FALSE(st.shared);
  EXPECT_EQ(st.processes, 2);
  EXPECT_EQ(st.state, McpServerState::kReady);
  EXPECT_EQ(st.tools.size(), 1u) << "the status shows what the instances listed";
  hold_a.reset();
  EXPECT_NE(kill(pids[0], 0), 0) << "task-a's process outlived its task";
  EXPECT_EQ(kill(pids[1], 0), 0);
  EXPECT_EQ(servers->Status("sh").processes, 1);
  hold_b.reset();
  EXPECT_NE(kill(pids[1], 0), 0);
  st = servers->Status("sh");
  EXPECT_EQ(st.processes, 0);
  EXPECT_EQ(st.state, McpServerState::kIdle);
  testing::RunLoopFor(
      io, std::chrono::milliseconds(50));  // the released instances are destroyed from a later turn
}

TEST_F(McpServersTest, AStdioServerMarkedSharedRunsOneProcessForEveryOwner) {
  auto servers = Servers(kPidServer, /*shared=*/true);
  EXPECT_FALSE(servers->PerOwner("sh"));
  std::shared_ptr<void> hold_a = servers->Hold("task-a");
  std::shared_ptr<void> hold_b = servers->Hold("task-b");
  ASSERT_TRUE(CallAndWait(*servers, nullptr, "task-a").ok());
  std::unique_ptr<McpToolCall> keep;
  CallAndWait(*servers, &keep, "task-b");
  const std::vector<pid_t> pids = Pids(dir.File("log.pids"));
  ASSERT_EQ(pids.size(), 1u);
  EXPECT_TRUE(servers->Status("sh").shared);
  hold_a.reset();
  hold_b.reset();
  EXPECT_EQ(kill(pids[0], 0), 0) << "a shared server stays for the next task";
  servers->StopAll();
  EXPECT_NE(kill(pids[0], 0), 0);
}

TEST_F(McpServersTest, ABlockedServerIsNeverStarted) {
  McpServerConfig c;
  c.command = "/bin/sh";
  c.blocked = "from the project file; allow it";
  McpServersDeps deps;
  deps.io = &io;
  deps.clock = &clock;
  McpServers servers({{"p", c}}, deps);
  std::optional<Status> got;
  auto token =
      servers.WhenReady("p", "", [&](Result<std::vector<McpToolInfo>> r) { got = r.status(); });
  ASSERT_TRUE(testing::RunLoopUntil(io, [&] { return got.has_value(); }));
  EXPECT_EQ(got->code(), StatusCode::kFailedPrecondition);
  EXPECT_EQ(servers.Status("p").state, McpServerState::kBlocked);
}

}  // namespace
}  // namespace troupe
