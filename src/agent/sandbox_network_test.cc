// A sandboxed curl with a network allow-list, through the same Sandbox and RunProcess the tools
// use: its own network namespace, the bridge inside on 127.0.0.1:3128, the proxy outside, and a
// real HTTP server on the host's 127.0.0.1 (reachable only through the tests' loopback
// allowance).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>

#include "agent/sandbox.h"
#include "agent/tools/tool_test_fixture.h"
#include "core/testing/threaded_http_test_server.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class SandboxNetworkTest : public ::testing::Test {
 protected:
  SandboxNetworkTest() {
    server_ = testing::ThreadedHttpTestServer::Start([](const testing::RecordedRequest& r) {
                testing::ScriptedResponse response;
                response.body.emplace_back("page at " + r.target + "\n");
                return response;
              }).value();
  }

  Sandbox MakeSandbox() {
    SandboxPolicy policy;
    policy.bridge_program = TROUPE_NETWORK_BRIDGE_FOR_TESTS;
    policy.proxy_allows_loopback_for_tests = true;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // The bridge is this build's own binary: sanitized, it reserves terabytes of shadow memory at
    // start, which the address-space limit (RLIMIT_AS) refuses. The limit itself is tested with
    // bash (SandboxUnavailableTest).
    policy.limits.memory_mb = 0;
#endif
    policy.log_refusal = [this](const std::string& scope, const std::string& message) {
      std::lock_guard<std::mutex> lock(mu_);
      logged_.push_back(scope + ": " + message);
    };
    return Sandbox::Create(std::move(policy));
  }

  std::string Loopback() const { return server_->HostPort(); }

  NetworkAccess AllowList() const {
    return NetworkAccess::Hosts({ParseHostPattern(Loopback()).value()});
  }

  ProcessResult Run(const Sandbox& sandbox, std::vector<std::string> argv,
                    const NetworkAccess& network) {
    ProcessOptions o;
    o.argv = std::move(argv);
    o.merge_stderr = true;
    o.timeout_ms = 30'000;
    Result<ProcessOptions> wrapped =
        sandbox.Wrap(o, workspace_.path().string(), network, SandboxView::kSystem, "bg_curl");
    EXPECT_TRUE(wrapped.ok()) << wrapped.status().ToString();
    if (!wrapped.ok()) return {};
    Result<ProcessResult> r = RunProcess(*wrapped);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : ProcessResult{};
  }

  std::unique_ptr<testing::ThreadedHttpTestServer> server_;
  troupe::testing::TestDir workspace_;
  std::mutex mu_;
  std::vector<std::string> logged_;
};

TEST_F(SandboxNetworkTest, CurlReachesOnlyTheListedHostThroughTheProxy) {
  Sandbox sandbox = MakeSandbox();
  if (!sandbox.available()) GTEST_SKIP() << sandbox.unavailable_reason();

  // Plain HTTP (absolute-form through the proxy) and a CONNECT tunnel (-p).
  ProcessResult page = Run(
      sandbox, {"curl", "-sS", "--max-time", "20", "http://" + Loopback() + "/page"}, AllowList());
  EXPECT_EQ(page.exit_code, 0) << page.out.Text();
  EXPECT_THAT(page.out.Text(), HasSubstr("page at /page\n"));
  ProcessResult tunnel =
      Run(sandbox, {"curl", "-sS", "-p", "--max-time", "20", "http://" + Loopback() + "/tunnel"},
          AllowList());
  EXPECT_EQ(tunnel.exit_code, 0) << tunnel.out.Text();
  EXPECT_THAT(tunnel.out.Text(), HasSubstr("page at /tunnel\n"));

  // A host not on the list: the proxy's 403, naming it and the key to change.
  for (int i = 0; i < 2; ++i) {
    ProcessResult refused = Run(
        sandbox, {"curl", "-sS", "--max-time", "20", "http://not-listed.example/"}, AllowList());
    EXPECT_THAT(refused.out.Text(), HasSubstr("does not include not-listed.example:80"));
    EXPECT_THAT(refused.out.Text(), HasSubstr("sandbox.network"));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    EXPECT_THAT(logged_, ::testing::ElementsAre(HasSubstr("bg_curl: host not on the allow-list: "
                                                          "not-listed.example:80")));
  }

  // Past the proxy, the namespace has no network: a direct connect to the same server fails,
  // and curl's exit status comes back through the bridge.
  ProcessResult direct =
      Run(sandbox,
          {"curl", "-sS", "--noproxy", "*", "--max-time", "20", "http://" + Loopback() + "/direct"},
          AllowList());
  EXPECT_EQ(direct.exit_code, 7) << direct.out.Text();  // "Failed to connect"
  EXPECT_THAT(direct.out.Text(), Not(HasSubstr("page at")));
  // The proxy is all there is: the tool saw its address in its environment.
  ProcessResult env = Run(sandbox, {"env"}, AllowList());
  EXPECT_THAT(env.out.Text(), HasSubstr("HTTPS_PROXY=http://127.0.0.1:3128\n"));
  EXPECT_THAT(env.out.Text(), HasSubstr("NO_PROXY=\n"));
}

TEST_F(SandboxNetworkTest, WithoutAnAllowListThereIsNoProxyAndNoNetwork) {
  Sandbox sandbox = MakeSandbox();
  if (!sandbox.available()) GTEST_SKIP() << sandbox.unavailable_reason();
  ProcessResult r = Run(sandbox, {"curl", "-sS", "--max-time", "20", "http://" + Loopback() + "/"},
                        /*network=*/false);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_THAT(r.out.Text(), Not(HasSubstr("page at")));
  EXPECT_THAT(Run(sandbox, {"env"}, false).out.Text(), Not(HasSubstr("PROXY")));
}

}  // namespace
}  // namespace troupe
