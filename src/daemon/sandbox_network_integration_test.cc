// The sandbox's network allow-list on the built binary (issue 17, section 1: "no network unless
// the agent's config allows it, and then only to named hosts"): `troupe serve` runs tasks whose
// scripted model calls bash with curl, for an agent whose config lists one host and for one with
// no network. An HTTP server on the host's 127.0.0.1 is the target every attempt aims at; nothing
// reaches it — the daemon's proxy never dials loopback, whatever the list says.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "core/testing/threaded_http_test_server.h"
#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::DaemonHarness;
using testing::Describe;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::Reply;

constexpr int kTaskTimeoutMs = 60'000;

// The bridge in the sandbox is this build's own binary: sanitized, it reserves terabytes of
// shadow memory at start, which the sandbox's address-space limit (sandbox.memory_mb, RLIMIT_AS)
// refuses. The limit itself is tested with bash (SandboxUnavailableTest in sandbox_test.cc).
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
constexpr const char* kSandbox = R"("sandbox": {"memory_mb": 0},)";
#else
constexpr const char* kSandbox = "";
#endif

class SandboxNetworkIntegrationTest : public ::testing::Test {
 protected:
  SandboxNetworkIntegrationTest() : h_(TROUPE_BINARY) {
    server_ = testing::ThreadedHttpTestServer::Start([](const testing::RecordedRequest&) {
                return testing::ScriptedResponse::Text(200, "reached the host's loopback\n");
              }).value();
    h_.WriteConfig(std::string(R"({"default_model": "mock/scripted", )") + kSandbox +
                   R"("agents": {"online": {"network": [")" + server_->HostPort() +
                   R"(", "listed.invalid"]}}})");
    for (const char* agent : {"online", "offline"}) {
      h_.dir().Write(
          std::string("workspace/.troupe/agents/") + agent + ".md",
          "---\ndescription: runs commands\ntools: [bash]\n---\nRun what you are told.\n");
    }
  }

  // A task of `agent` whose model calls bash with `command` once, then replies "done"; the text
  // of its tool result as stored.
  std::string RunBash(const std::string& agent, const std::string& command) {
    const std::string prompt =
        "#mock latency=0 tps=0 tool=bash:" + json({{"command", command}}).dump() +
        " reply=done\nRun it.";
    json task = h_.Launch({{"agent", agent}, {"description", "net"}, {"prompt", prompt}});
    if (!task.is_object()) return "";
    EXPECT_TRUE(h_.WaitAll({task["id"]}, kTaskTimeoutMs));
    task = h_.GetTask(task["id"]);
    EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
    Reply r = h_.Unix().Get("/v1/sessions/" + task.value("session_id", "") + "/messages");
    EXPECT_EQ(r.status, 200) << Describe(r);
    for (const json& m : r.Json().value("messages", json::array())) {
      if (m.value("role", "") == "tool") return m["message"].dump();
    }
    ADD_FAILURE() << "no tool message for " << command;
    return "";
  }

  // Why this machine cannot run the test, or "": bash refused for want of a sandbox, or no curl.
  std::string Unrunnable() {
    const std::string probe = RunBash("offline", "command -v curl >/dev/null && echo curl-found");
    if (probe.find("bash: refused") != std::string::npos) {
      return "the sandbox cannot run here (bash refused: no user namespaces or no bubblewrap): " +
             probe;
    }
    if (probe.find("curl-found") == std::string::npos) return "curl is not installed";
    return "";
  }

  DaemonHarness h_;
  std::unique_ptr<testing::ThreadedHttpTestServer> server_;
};

TEST_F(SandboxNetworkIntegrationTest, AnAllowListReachesOnlyThroughTheProxyAndNeverLoopback) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  if (std::string why = Unrunnable(); !why.empty()) GTEST_SKIP() << why;
  const std::string url = "http://" + server_->HostPort();
  // `-w` marks each attempt's end with its HTTP status and curl's exit status.
  const std::string command =
      "curl -sS --max-time 10 -w '[unlisted %{http_code}]' http://not-listed.example/; echo; "
      "curl -sS --max-time 10 -w '[listed %{http_code}]' " +
      url +
      "/listed; echo; "
      "curl -sS --max-time 10 -p -w '[tunnel %{http_code}]' " +
      url +
      "/tunnel; echo; "
      "curl -sS --max-time 10 --noproxy '*' " +
      url +
      "/direct; echo \"[direct exit $?]\"; "
      "(exec 3<>/dev/tcp/127.0.0.1/" +
      std::to_string(server_->port()) +
      ") 2>/dev/null && echo tcp-open || echo tcp-closed; "
      "env | grep -i '_proxy=' | sort";
  const std::string out = RunBash("online", command);

  // Not on the list: the proxy's 403, naming the host and the key to change.
  EXPECT_THAT(out, HasSubstr("does not include not-listed.example:80"));
  EXPECT_THAT(out, HasSubstr("sandbox.network"));
  EXPECT_THAT(out, HasSubstr("[unlisted 403]"));
  // Listed by address, but loopback: refused by the proxy, in plain HTTP and through CONNECT.
  EXPECT_THAT(out, HasSubstr("is on the allow-list but 127.0.0.1: "));
  EXPECT_THAT(out, HasSubstr("loopback"));
  EXPECT_THAT(out, HasSubstr("[listed 403]"));
  EXPECT_THAT(out, HasSubstr("CONNECT tunnel failed, response 403"));
  EXPECT_THAT(out, HasSubstr("[direct exit 7]"));  // curl: "Failed to connect"
  EXPECT_THAT(out, HasSubstr("tcp-closed"));
  // The proxy variables point at the bridge inside the sandbox.
  EXPECT_THAT(out, HasSubstr("HTTPS_PROXY=http://127.0.0.1:3128"));
  EXPECT_THAT(out, HasSubstr("http_proxy=http://127.0.0.1:3128"));
  EXPECT_THAT(out, Not(HasSubstr("reached the host's loopback")));
  EXPECT_EQ(server_->accepted_connections(), 0);

  // The daemon's log notes the refused host once for the task.
  daemon->Signal(SIGTERM);
  daemon->Wait();
  const std::string log = daemon->Stdout() + daemon->Stderr();
  EXPECT_THAT(log, HasSubstr("refused host not on the allow-list: not-listed.example:80"));
}

TEST_F(SandboxNetworkIntegrationTest, WithoutNetworkThereIsNoProxyAndNoWayOut) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  if (std::string why = Unrunnable(); !why.empty()) GTEST_SKIP() << why;
  const std::string out =
      RunBash("offline", "echo proxies=$(env | grep -ci proxy); curl -sS --max-time 10 http://" +
                             server_->HostPort() +
                             "/off; echo \"[off exit $?]\"; curl -sS --max-time 10 "
                             "http://not-listed.example/; echo \"[name exit $?]\"");
  EXPECT_THAT(out, HasSubstr("proxies=0"));
  EXPECT_THAT(out, HasSubstr("[off exit 7]"));
  EXPECT_THAT(out, HasSubstr("[name exit 6]"));  // curl: "Could not resolve host"
  EXPECT_THAT(out, Not(HasSubstr("reached the host's loopback")));
  EXPECT_EQ(server_->accepted_connections(), 0);
}

}  // namespace
}  // namespace troupe
