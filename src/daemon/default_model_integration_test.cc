// The model a new user gets, on the built binary: `troupe serve` started with no default_model in
// its config chooses from the API keys in its environment (llm/default_model.h). With a key, tasks
// that name no model go to that provider — here `troupe mock-llm` on loopback, reached through
// the SDKs' base-URL variables — and nothing says "offline". Without one, the offline mock runs
// and the start line, health, `troupe agents` and every result (REST, `troupe run --wait`,
// `output`, `show`, the MCP tools) say so, with what to set instead.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <strings.h>

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::Client;
using testing::DaemonHarness;
using testing::Describe;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Process;
using testing::Reply;

constexpr int kTaskTimeoutMs = 30'000;
// The mock agent answers at once and quotes this instead of searching.
constexpr const char* kPrompt = "#mock latency=0 tps=0 reply=\"the answer\"\nSay the answer.";
constexpr const char* kNotice =
    "Note from troupe: this answer comes from the offline mock model (mock/scripted): the daemon "
    "found no ANTHROPIC_API_KEY or OPENAI_API_KEY in its environment. To use a real model, set "
    "ANTHROPIC_API_KEY=… (or OPENAI_API_KEY) where the daemon starts, then `troupe stop` so that "
    "the next command restarts it; see \"API keys\" in docs/CONFIG.md.";

class DefaultModelIntegrationTest : public ::testing::Test {
 protected:
  DefaultModelIntegrationTest() : h_(TROUPE_BINARY) {
    h_.SetEnv("TROUPE_NO_AUTOSTART", "1");  // the CLI must find the daemon the test started
  }

  json Health() {
    Reply r = h_.Unix().Get("/v1/health");
    EXPECT_EQ(r.status, 200) << Describe(r);
    return r.Json();
  }

  // `troupe args… --data-dir <data>`: its exit code, stdout and stderr.
  struct Run {
    int code = -1;
    std::string out;
    std::string err;
  };
  Run Troupe(std::vector<std::string> args) {
    args.insert(args.end(), {"--data-dir", h_.data()});
    std::unique_ptr<Process> p = h_.Spawn(args);
    Run run;
    run.code = p->Wait(kTaskTimeoutMs).value_or(-1);
    run.out = p->Stdout();
    run.err = p->Stderr();
    return run;
  }

  // A task of agent explore with no model, waited for; the task.
  json RunTask() {
    json task = h_.Launch({{"agent", "explore"}, {"description", "it"}, {"prompt", kPrompt}});
    if (!task.is_object()) return json();
    EXPECT_TRUE(h_.WaitAll({task["id"]}, kTaskTimeoutMs));
    return h_.GetTask(task["id"]);
  }

  // What mock-llm received: one JSON object per request.
  static std::vector<json> MockRequests(int port) {
    Reply r = Client::Tcp(port).Get("/v1/mock/requests");
    EXPECT_EQ(r.status, 200) << Describe(r);
    json log = r.Json();
    std::vector<json> out;
    if (log.is_array()) out.assign(log.begin(), log.end());
    return out;
  }

  DaemonHarness h_;
};

TEST_F(DefaultModelIntegrationTest, AnAnthropicKeyMakesClaudeTheDefaultEvenWithAnOpenAiKey) {
  int port = 0;
  auto mock = h_.StartMockLlm(&port);
  ASSERT_NE(mock, nullptr);
  const std::string url = "http://127.0.0.1:" + std::to_string(port);
  h_.SetEnv("ANTHROPIC_API_KEY", "sk-ant-integration");
  h_.SetEnv("ANTHROPIC_BASE_URL", url);
  h_.SetEnv("OPENAI_API_KEY", "sk-integration");
  h_.SetEnv("OPENAI_BASE_URL", url + "/v1");
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("troupe serve: default model anthropic/claude-sonnet-4-5 "
                        "(ANTHROPIC_API_KEY is set in the daemon's environment)\n"));
  EXPECT_EQ(Health()["default_model"],
            (json{{"model", "anthropic/claude-sonnet-4-5"},
                  {"source", "env"},
                  {"origin", "ANTHROPIC_API_KEY is set in the daemon's environment"},
                  {"env", "ANTHROPIC_API_KEY"}}));
  Run agents = Troupe({"agents"});
  EXPECT_EQ(agents.code, 0) << agents.err;
  EXPECT_THAT(agents.out, EndsWith("\nAgents with no model (-) use anthropic/claude-sonnet-4-5 "
                                   "(ANTHROPIC_API_KEY is set in the daemon's environment).\n"));
  Run agents_json = Troupe({"agents", "--json"});
  EXPECT_EQ(json::parse(agents_json.out, nullptr, false)["default_model"]["model"],
            "anthropic/claude-sonnet-4-5")
      << agents_json.out;

  // A task that names no model runs on Claude, over the Anthropic wire, with the key.
  json task = RunTask();
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_EQ(task.value("model", ""), "anthropic/claude-sonnet-4-5");
  EXPECT_EQ(task.value("result", ""), "the answer");
  Run run = Troupe({"run", "--wait", "--agent", "explore", kPrompt});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "the answer\n");

  const std::vector<json> requests = MockRequests(port);
  ASSERT_EQ(requests.size(), 2u);
  for (const json& r : requests) {
    EXPECT_EQ(r.value("protocol", ""), "anthropic") << r.dump();
    EXPECT_EQ(r.value("path", ""), "/v1/messages") << r.dump();
    EXPECT_EQ(r.value("model", ""), "claude-sonnet-4-5") << r.dump();
    EXPECT_EQ(r.value("status", 0), 200) << r.dump();
  }
}

// `troupe demo` does not choose: its private daemon does, the same way, and the demo says what
// it chose.
TEST_F(DefaultModelIntegrationTest, TheDemoRunsOnTheModelItsDaemonChose) {
  int port = 0;
  auto mock = h_.StartMockLlm(&port);
  ASSERT_NE(mock, nullptr);
  h_.SetEnv("TROUPE_NO_AUTOSTART", std::nullopt);  // the demo starts its private daemon
  h_.SetEnv("ANTHROPIC_API_KEY", "sk-ant-integration");
  h_.SetEnv("ANTHROPIC_BASE_URL", "http://127.0.0.1:" + std::to_string(port));
  std::unique_ptr<Process> demo =
      h_.Spawn({"demo", "--workspace", h_.workspace(), "--data-dir", h_.dir().File("demo")});
  ASSERT_EQ(demo->Wait(60'000), 0) << demo->Stdout() << demo->Stderr();
  EXPECT_THAT(demo->Stdout(), HasSubstr("model anthropic/claude-sonnet-4-5 (ANTHROPIC_API_KEY is "
                                        "set in the daemon's environment) with a pool of 2"));
  EXPECT_THAT(demo->Stdout(), Not(HasSubstr("Note from troupe")));
  const std::vector<json> requests = MockRequests(port);
  ASSERT_GE(requests.size(), 3u);  // three agents, each at least one turn
  for (const json& r : requests) EXPECT_EQ(r.value("model", ""), "claude-sonnet-4-5") << r.dump();
}

TEST_F(DefaultModelIntegrationTest, AnOpenAiKeyAloneMakesGpt41TheDefault) {
  int port = 0;
  auto mock = h_.StartMockLlm(&port);
  ASSERT_NE(mock, nullptr);
  h_.SetEnv("OPENAI_API_KEY", "sk-integration");
  h_.SetEnv("OPENAI_BASE_URL", "http://127.0.0.1:" + std::to_string(port) + "/v1");
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  EXPECT_THAT(daemon->Stderr(), HasSubstr("troupe serve: default model openai/gpt-4.1 "
                                          "(OPENAI_API_KEY is set in the daemon's environment)\n"));
  EXPECT_EQ(Health()["default_model"]["env"], "OPENAI_API_KEY");
  json task = RunTask();
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_EQ(task.value("model", ""), "openai/gpt-4.1");
  EXPECT_EQ(task.value("result", ""), "the answer");
  const std::vector<json> requests = MockRequests(port);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].value("protocol", ""), "openai") << requests[0].dump();
  EXPECT_EQ(requests[0].value("path", ""), "/v1/chat/completions") << requests[0].dump();
  EXPECT_EQ(requests[0].value("model", ""), "gpt-4.1") << requests[0].dump();
}

TEST_F(DefaultModelIntegrationTest, WithoutAKeyTheOfflineMockRunsAndEveryResultSaysSo) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("troupe serve: default model mock/scripted (offline fallback: no "
                        "ANTHROPIC_API_KEY or OPENAI_API_KEY in the daemon's environment)\n"));
  const json health = Health()["default_model"];
  EXPECT_EQ(health.value("model", ""), "mock/scripted") << health;
  EXPECT_EQ(health.value("source", ""), "offline") << health;
  EXPECT_EQ(health.value("notice", ""), kNotice) << health;
  Run agents = Troupe({"agents"});
  EXPECT_EQ(agents.code, 0) << agents.err;
  EXPECT_THAT(agents.out,
              EndsWith("\nAgents with no model (-) use mock/scripted (offline fallback: no "
                       "ANTHROPIC_API_KEY or OPENAI_API_KEY in the daemon's environment).\n"
                       "To use a real model, set ANTHROPIC_API_KEY=… (or OPENAI_API_KEY) where "
                       "the daemon starts, then `troupe stop` so that the next command restarts "
                       "it; see \"API keys\" in docs/CONFIG.md.\n"));

  // The result as stored and served: the model's answer, then the notice.
  json task = RunTask();
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_EQ(task.value("model", ""), "mock/scripted");
  const std::string id = task.value("id", "");
  EXPECT_EQ(task.value("result", ""), std::string("the answer\n\n") + kNotice);

  // Every command that shows a result.
  Run run = Troupe({"run", "--wait", "--agent", "explore", kPrompt});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, std::string("the answer\n\n") + kNotice + "\n");
  Run output = Troupe({"output", id});
  EXPECT_EQ(output.code, 0) << output.err;
  EXPECT_THAT(output.out, HasSubstr(kNotice));
  Run show = Troupe({"show", id});
  EXPECT_EQ(show.code, 0) << show.err;
  EXPECT_THAT(show.out, HasSubstr(kNotice));

  // The MCP tools, in the text and in structuredContent (what Claude Code and Codex show).
  Client c = h_.Unix();
  std::vector<std::string> headers = {"Accept: application/json, text/event-stream"};
  Reply init = c.Send("POST", "/mcp",
                      json{{"jsonrpc", "2.0"},
                           {"id", 1},
                           {"method", "initialize"},
                           {"params",
                            {{"protocolVersion", "2025-06-18"},
                             {"capabilities", json::object()},
                             {"clientInfo", {{"name", "it"}, {"version", "1"}}}}}}
                          .dump(),
                      headers);
  ASSERT_EQ(init.status, 200) << Describe(init);
  std::string session;
  std::istringstream head(init.headers);
  for (std::string line; std::getline(head, line);) {
    if (line.size() > 15 && strncasecmp(line.c_str(), "mcp-session-id:", 15) == 0) {
      session = line.substr(15);
      session.erase(0, session.find_first_not_of(' '));
      while (!session.empty() && (session.back() == '\r' || session.back() == ' ')) {
        session.pop_back();
      }
    }
  }
  ASSERT_FALSE(session.empty()) << init.headers;
  headers.push_back("Mcp-Session-Id: " + session);
  headers.push_back("MCP-Protocol-Version: 2025-06-18");
  EXPECT_EQ(
      c.Send("POST", "/mcp",
             json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}.dump(), headers)
          .status,
      202);
  Reply shown =
      c.Send("POST", "/mcp",
             json{{"jsonrpc", "2.0"},
                  {"id", 2},
                  {"method", "tools/call"},
                  {"params", {{"name", "background_output"}, {"arguments", {{"task_id", id}}}}}}
                 .dump(),
             headers);
  ASSERT_EQ(shown.status, 200) << Describe(shown);
  const json result = shown.Json()["result"];
  ASSERT_TRUE(result.is_object()) << shown.body;
  EXPECT_THAT(result["content"][0].value("text", ""), HasSubstr(kNotice)) << shown.body;
  EXPECT_THAT(result["structuredContent"].dump(), HasSubstr("the daemon found no")) << shown.body;
}

TEST_F(DefaultModelIntegrationTest, AConfiguredDefaultWinsOverTheKeysAndCarriesNoNotice) {
  // The key would choose Claude, on an endpoint where nobody listens; the config says the mock.
  h_.SetEnv("ANTHROPIC_API_KEY", "sk-ant-integration");
  h_.SetEnv("ANTHROPIC_BASE_URL", "http://127.0.0.1:9");
  h_.WriteConfig(R"({ "default_model": "mock/scripted" })");
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  EXPECT_THAT(daemon->Stderr(), HasSubstr("troupe serve: default model mock/scripted "
                                          "(default_model in the config)\n"));
  EXPECT_EQ(Health()["default_model"], (json{{"model", "mock/scripted"},
                                             {"source", "config"},
                                             {"origin", "default_model in the config"}}));
  json task = RunTask();
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_EQ(task.value("result", ""), "the answer");
  EXPECT_THAT(task.dump(), Not(HasSubstr("offline mock model")));
}

}  // namespace
}  // namespace troupe
