// webfetch against a local HTTP server on 127.0.0.1: a page, a redirect loop, a 20 MB body, a
// slow trickle, a denied host.
#include "agent/tools/webfetch_tool.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/tools/tool_test_fixture.h"
#include "core/testing/http_test_server.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using testing::HttpTestServer;
using testing::RecordedRequest;
using testing::ScriptedResponse;

class WebFetchTest : public testing::ToolTest {
 protected:
  WebFetchTest() : http_(io_) {
    server_ = std::move(HttpTestServer::Start(io_)).value();
  }
  WebFetchTool Tool(WebFetchConfig config = {}) { return WebFetchTool(&http_, config); }

  HttpClient http_;
  std::unique_ptr<HttpTestServer> server_;
};

TEST_F(WebFetchTest, HtmlBecomesText) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(
        200, "<html><head><title>Doc</title></head><body><h2>Usage</h2><p>Call "
             "<code>f()</code>.</p><script>alert(1)</script></body></html>");
    r.headers = {{"Content-Type", "text/html; charset=utf-8"}};
    return r;
  });
  WebFetchTool tool = Tool();
  const ToolResult r = RunTool(tool, {{"url", server_->Url("/doc")}});
  EXPECT_FALSE(r.is_error) << r.content;
  EXPECT_THAT(r.content, HasSubstr("URL: " + server_->Url("/doc") + "\nHTTP 200"));
  EXPECT_THAT(r.content, HasSubstr("Title: Doc"));
  EXPECT_THAT(r.content, HasSubstr("## Usage\n\nCall f()."));
  EXPECT_THAT(r.content, ::testing::Not(HasSubstr("alert")));
}

TEST_F(WebFetchTest, ARedirectLoopEndsAtTheLimit) {
  server_->SetHandler([](const RecordedRequest& req) {
    ScriptedResponse r = ScriptedResponse::Text(302, "");
    r.headers.push_back({"Location", req.target == "/a" ? "/b" : "/a"});
    return r;
  });
  WebFetchConfig config;
  config.max_redirects = 3;
  WebFetchTool tool = Tool(config);
  const ToolResult r = RunTool(tool, {{"url", server_->Url("/a")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("more than 3 redirects (webfetch.max_redirects): " +
                                   server_->Url("/a") + " → " + server_->Url("/b") + " → " +
                                   server_->Url("/a") + " → " + server_->Url("/b") + " → …"));
  EXPECT_EQ(server_->requests().size(), 4u);
}

TEST_F(WebFetchTest, A20MegabyteBodyIsCutAtMaxBytes) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(200, std::string(20 * 1024 * 1024, 'x'));
    r.headers = {{"Content-Type", "text/plain"}};
    return r;
  });
  WebFetchConfig config;
  config.max_bytes = 1024 * 1024;
  WebFetchTool tool = Tool(config);
  const ToolResult r = RunTool(tool, {{"url", server_->Url("/big")}});
  EXPECT_FALSE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("Only the first 1 MiB were read (webfetch.max_bytes)"));
  EXPECT_THAT(r.content, HasSubstr("… [truncated: "));
  EXPECT_LT(r.content.size(), kMaxWebFetchTextBytes + 200);
}

TEST_F(WebFetchTest, ASlowTrickleEndsAtTheTimeout) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = ScriptedResponse::Framing::kChunked;
    r.headers = {{"Content-Type", "text/plain"}};
    for (int i = 0; i < 100; ++i) r.body.emplace_back("x", 100);
    return r;
  });
  WebFetchConfig config;
  config.timeout_ms = 500;
  WebFetchTool tool = Tool(config);
  const ToolResult r = RunTool(tool, {{"url", server_->Url("/slow")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("longer than 500ms (webfetch.timeout_ms)"));
}

TEST_F(WebFetchTest, DeniedAndUnlistedHostsAreRefusedWithoutARequest) {
  WebFetchConfig config;
  config.allow_hosts = {"*.example.test", "127.0.0.1"};
  config.deny_hosts = {"127.*"};
  WebFetchTool tool = Tool(config);
  ToolResult r = RunTool(tool, {{"url", server_->Url("/")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content,
              HasSubstr("the host 127.0.0.1 is denied by webfetch.deny_hosts (\"127.*\")"));
  r = RunTool(tool, {{"url", "http://elsewhere.test/"}});
  EXPECT_THAT(r.content, HasSubstr("the host elsewhere.test is not in webfetch.allow_hosts"));
  r = RunTool(tool, {{"url", "ftp://x.example.test/"}});
  EXPECT_THAT(r.content, HasSubstr("only http and https URLs can be fetched, not ftp"));
  r = RunTool(tool, {{"url", "http://user:pw@a.example.test/"}});
  EXPECT_THAT(r.content, HasSubstr("user name or password"));
  r = RunTool(tool, {{"nope", 1}});
  EXPECT_THAT(r.content, HasSubstr("`url` is required"));
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(WebFetchTest, ARedirectToADeniedHostIsRefused) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(301, "");
    r.headers.push_back({"Location", "http://internal.example.test/secret"});
    return r;
  });
  WebFetchConfig config;
  config.deny_hosts = {"internal.*"};
  WebFetchTool tool = Tool(config);
  const ToolResult r = RunTool(tool, {{"url", server_->Url("/go")}});
  EXPECT_TRUE(r.is_error);
  EXPECT_THAT(r.content, HasSubstr("internal.example.test is denied"));
}

TEST(WebUrlTest, ParsesAndResolves) {
  Result<WebUrl> u = ParseWebUrl("HTTPS://Docs.RS:8443/a/b?q=1#frag");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->host, "docs.rs");
  EXPECT_EQ(u->origin, "https://docs.rs:8443");
  EXPECT_EQ(u->path, "/a/b?q=1");
  EXPECT_EQ(ResolveRedirect(*u, "c"), "https://docs.rs:8443/a/c");
  EXPECT_EQ(ResolveRedirect(*u, "/x"), "https://docs.rs:8443/x");
  EXPECT_EQ(ResolveRedirect(*u, "//other/y"), "https://other/y");
  EXPECT_EQ(ParseWebUrl("http://[::1]:80/")->host, "::1");
}

}  // namespace
}  // namespace troupe
