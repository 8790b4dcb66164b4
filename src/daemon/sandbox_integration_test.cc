// Escape attempts from an agent's bash on the built binary (issue 17, section 1): `troupe serve`
// with API keys in its environment runs tasks whose scripted model calls bash to read the keys,
// the token, the data directory and the socket, to connect to loopback, to leave processes
// behind, and to delegate to a command-running agent from the read-only lead. Every attempt
// fails, and a key that reaches a tool's output anyway is stored redacted.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/testing/process_table.h"
#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::DaemonHarness;
using testing::Describe;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Reply;

constexpr int kTaskTimeoutMs = 30'000;
constexpr const char* kOpenAiKey = "sk-sandbox-integration-0123456789";
constexpr const char* kAnthropicKey = "sk-ant-sandbox-integration-0123456789";

// The command line of `sleep <seconds>` as /proc shows it.
std::string Sleep(int seconds) { return std::string("sleep") + '\0' + std::to_string(seconds); }

class SandboxIntegrationTest : public ::testing::Test {
 protected:
  SandboxIntegrationTest() : h_(TROUPE_BINARY) {
    h_.SetEnv("OPENAI_API_KEY", kOpenAiKey);
    h_.SetEnv("ANTHROPIC_API_KEY", kAnthropicKey);
    h_.WriteConfig(R"({"default_model": "mock/scripted"})");
    h_.dir().Write("workspace/.troupe/agents/shell.md",
                   "---\ndescription: runs commands\ntools: [bash]\n---\nRun what you are told.\n");
    h_.dir().Write("workspace/leaked.txt", std::string("the key is ") + kOpenAiKey + "\n");
  }

  // A task of `agent` whose model calls bash with `command` once, then replies "done"; the task
  // once it ended.
  json RunBash(const std::string& command, const std::string& agent = "shell") {
    const std::string prompt =
        "#mock latency=0 tps=0 tool=bash:" + json({{"command", command}}).dump() +
        " reply=done\nRun it.";
    json task = h_.Launch({{"agent", agent}, {"description", "escape"}, {"prompt", prompt}});
    if (!task.is_object()) return json();
    EXPECT_TRUE(h_.WaitAll({task["id"]}, kTaskTimeoutMs));
    return h_.GetTask(task["id"]);
  }

  // The text of the task's first tool result, as stored.
  std::string ToolOutput(const json& task) {
    Reply r = h_.Unix().Get("/v1/sessions/" + task.value("session_id", "") + "/messages");
    EXPECT_EQ(r.status, 200) << Describe(r);
    const json messages = r.Json().value("messages", json::array());
    for (const json& m : messages) {
      if (m.value("role", "") == "tool") return m["message"].dump();
    }
    ADD_FAILURE() << "no tool message in " << messages.dump(2);
    return "";
  }

  DaemonHarness h_;
};

TEST_F(SandboxIntegrationTest, BashCannotReachTheDaemonsSecretsFilesSocketOrNetwork) {
  int port = 0;  // something listening on loopback: mock-llm
  auto mock = h_.StartMockLlm(&port);
  ASSERT_NE(mock, nullptr);
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  const std::string command = "env; echo; cat '" + h_.data() + "/token' 2>&1; echo data=$(ls -A '" +
                              h_.data() + "' | wc -l); test -e '" + h_.Socket() +
                              "' && echo socket-visible || echo socket-hidden; " +
                              "(exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) +
                              ") 2>/dev/null && echo net-open || echo net-closed; echo procs=$(ls "
                              "/proc | grep -c '^[0-9]'); "
                              "echo x > /etc/troupe-escape 2>&1 || echo etc-read-only";
  json task = RunBash(command);
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  const std::string out = ToolOutput(task);
  EXPECT_THAT(out, Not(HasSubstr(kOpenAiKey)));
  EXPECT_THAT(out, Not(HasSubstr(kAnthropicKey)));
  EXPECT_THAT(out, Not(HasSubstr("OPENAI_API_KEY")));
  EXPECT_THAT(out, HasSubstr("TROUPE_TASK_ID="));
  EXPECT_THAT(out, Not(HasSubstr("TROUPE_NO_AUTOSTART")));
  EXPECT_THAT(out, HasSubstr("data=0"));
  EXPECT_THAT(out, HasSubstr("socket-hidden"));
  EXPECT_THAT(out, HasSubstr("net-closed"));
  EXPECT_THAT(out, HasSubstr("etc-read-only"));
  EXPECT_THAT(out, HasSubstr("procs="));
  const size_t procs = out.find("procs=");
  EXPECT_LE(std::atoi(out.c_str() + procs + 6), 6) << "other processes are visible";
}

TEST_F(SandboxIntegrationTest, AKeyInAToolsOutputIsStoredRedacted) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  json task = RunBash("cat leaked.txt");
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  const std::string out = ToolOutput(task);
  EXPECT_THAT(out, HasSubstr("the key is [redacted]"));
  EXPECT_THAT(out, Not(HasSubstr(kOpenAiKey)));
}

TEST_F(SandboxIntegrationTest, ASetsidChildDiesWithTheToolAndWithCancel) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  // The tool ends at once; what it left behind must not outlive it.
  json task = RunBash("(setsid sleep 1011 &); (setsid sh -c 'sleep 1012 & exit' &); echo left");
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_TRUE(testing::WaitNotRunning(Sleep(1011)));
  EXPECT_TRUE(testing::WaitNotRunning(Sleep(1012)));

  // Cancelled while it runs.
  const std::string prompt = "#mock latency=0 tps=0 tool=bash:" +
                             json({{"command", "(setsid sleep 1013 &); sleep 60"}}).dump() +
                             " reply=done\nRun it.";
  json running = h_.Launch({{"agent", "shell"}, {"description", "cancel"}, {"prompt", prompt}});
  ASSERT_TRUE(running.is_object());
  ASSERT_TRUE(testing::WaitUntil([] { return testing::ProcessRunning(Sleep(1013)); }, 10'000));
  Reply r = h_.Unix().Post("/v1/tasks/" + running.value("id", "") + "/cancel", std::string("{}"));
  EXPECT_EQ(r.status, 200) << Describe(r);
  EXPECT_TRUE(testing::WaitNotRunning(Sleep(1013)));
}

TEST_F(SandboxIntegrationTest, TheReadOnlyLeadCannotDelegateToGeneral) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  const std::string prompt =
      "#mock latency=0 tps=0 tool=delegate_task:" +
      json({{"description", "d"}, {"prompt", "run env"}, {"agent", "general"}}).dump() +
      " reply=done\nDelegate.";
  json task = h_.Launch({{"agent", "lead"}, {"description", "widen"}, {"prompt", prompt}});
  ASSERT_TRUE(task.is_object());
  ASSERT_TRUE(h_.WaitAll({task["id"]}, kTaskTimeoutMs));
  task = h_.GetTask(task["id"]);
  const std::string out = ToolOutput(task);
  EXPECT_THAT(out, HasSubstr("you may not delegate to agent `general`"));
  EXPECT_THAT(out, HasSubstr("explore"));
  EXPECT_EQ(h_.ListTasks("parent=" + task.value("session_id", "")).size(), 0u);
}

}  // namespace
}  // namespace troupe
