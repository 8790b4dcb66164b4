// The dashboard's login and browser protections against the real `troupe serve`, over loopback
// TCP with libcurl as a browser would send them: `troupe dashboard` (the CLI) mints a link, its
// code logs in once, the cookie reads the API and its event stream, Host and Origin checks
// refuse, and both the login and the listener's port survive a daemon restart.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "daemon/testing/daemon_harness.h"
#include "daemon/testing/daemon_process.h"

namespace troupe {
namespace {

using testing::Client;
using testing::DaemonHarness;
using testing::Describe;
using testing::Process;
using testing::Reply;
using ::testing::HasSubstr;
using json = nlohmann::json;

constexpr int kExitTimeoutMs = 15'000;

struct Link {
  int port = 0;
  std::string code;
};

// The cookie's "name=value" from a Set-Cookie in `headers`, "" when none.
std::string CookieFrom(const std::string& headers) {
  const std::string marker = "Set-Cookie: ";
  size_t at = headers.find(marker);
  if (at == std::string::npos) return "";
  at += marker.size();
  return headers.substr(at, headers.find(';', at) - at);
}

class DashboardIntegrationTest : public ::testing::Test {
 protected:
  DashboardIntegrationTest() : harness_(TROUPE_BINARY) {}

  // `troupe dashboard --json` run as a user runs it: the daemon's answer.
  Link DashboardCommand() {
    auto cli = harness_.Spawn({"dashboard", "--json", "--data-dir", harness_.data()});
    std::optional<int> code = cli->Wait(30'000);
    EXPECT_EQ(code, 0) << cli->Stderr();
    json answer = json::parse(cli->Stdout(), nullptr, false);
    Link link;
    if (!answer.is_object()) {
      ADD_FAILURE() << "not JSON: " << cli->Stdout();
      return link;
    }
    link.port = answer["port"];
    const std::string url = answer["url"];
    EXPECT_EQ(url.rfind("http://127.0.0.1:" + std::to_string(link.port) + "/#login=", 0), 0u)
        << url;
    link.code = url.substr(url.find("#login=") + 7);
    return link;
  }

  Reply Login(int port, const std::string& code, std::vector<std::string> headers = {}) {
    Client tcp = Client::Tcp(port);
    return tcp.Send("POST", "/v1/dashboard/login", json{{"code", code}}.dump(), headers);
  }

  std::string LoggedInCookie(const Link& link) {
    Reply r = Login(link.port, link.code,
                    {"Origin: http://127.0.0.1:" + std::to_string(link.port)});
    EXPECT_EQ(r.status, 204) << Describe(r);
    return CookieFrom(r.headers);
  }

  void Stop(std::unique_ptr<Process>& daemon) {
    daemon->Signal(SIGTERM);
    EXPECT_EQ(daemon->Wait(kExitTimeoutMs), 0) << daemon->Stderr();
    daemon.reset();
  }

  DaemonHarness harness_;
};

TEST_F(DashboardIntegrationTest, LoginOnceThenTheCookieReadsTheApiAcrossARestart) {
  auto daemon = harness_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  json task = harness_.Launch({{"prompt", "#mock reply=\"done\"\nHello."}, {"wait_ms", 30'000}});
  ASSERT_TRUE(task.is_object());
  EXPECT_EQ(harness_.Unix().Get("/v1/health").Json().value("dashboard_port", -1), 0) << "no listener before the first login";

  Link link = DashboardCommand();
  ASSERT_GT(link.port, 0);
  EXPECT_EQ(harness_.Unix().Get("/v1/health").Json().value("dashboard_port", -1), link.port)
      << "health names the listener opened on demand";
  const std::string origin = "Origin: http://127.0.0.1:" + std::to_string(link.port);
  Client tcp = Client::Tcp(link.port);

  // The page needs no credential and carries its security headers.
  Reply page = tcp.Get("/");
  EXPECT_EQ(page.status, 200) << Describe(page);
  EXPECT_THAT(page.body, HasSubstr("<title>troupe dashboard</title>"));
  EXPECT_THAT(page.headers, HasSubstr("Content-Security-Policy: default-src 'self'"));
  EXPECT_THAT(page.headers, HasSubstr("Content-Type: text/html; charset=utf-8"));

  // No cookie: the API is refused.
  Reply refused = tcp.Get("/v1/tasks");
  EXPECT_EQ(refused.status, 401) << Describe(refused);

  // The code works once.
  Reply login = Login(link.port, link.code, {origin});
  ASSERT_EQ(login.status, 204) << Describe(login);
  EXPECT_THAT(login.headers, HasSubstr("HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000"));
  const std::string cookie = CookieFrom(login.headers);
  ASSERT_FALSE(cookie.empty()) << login.headers;
  Reply again = Login(link.port, link.code, {origin});
  EXPECT_EQ(again.status, 401) << Describe(again);

  // The cookie reads the API; the listing says where the event log stood.
  const std::string with_cookie = "Cookie: " + cookie;
  Reply tasks = tcp.Send("GET", "/v1/tasks", "", {with_cookie});
  ASSERT_EQ(tasks.status, 200) << Describe(tasks);
  json listing = tasks.Json();
  ASSERT_EQ(listing["tasks"].size(), 1u);
  const int64_t last_event_id = listing["last_event_id"];
  EXPECT_GT(last_event_id, 0);

  // ... and its event stream: a replay from 0 holds the task's events, up to last_event_id.
  Reply events = tcp.Send("GET", "/v1/events?after=0", "", {with_cookie}, 1'500);
  EXPECT_THAT(events.headers, HasSubstr("200"));
  EXPECT_THAT(events.body, HasSubstr("id: " + std::to_string(last_event_id) + "\n"));
  EXPECT_THAT(events.body, HasSubstr("event: task.state"));
  // EventSource's reconnect: Last-Event-ID resumes after it (nothing at or below it again).
  Reply resumed = tcp.Send("GET", "/v1/events", "",
                           {with_cookie, "Last-Event-ID: " + std::to_string(last_event_id - 1)},
                           1'500);
  EXPECT_THAT(resumed.body, HasSubstr("id: " + std::to_string(last_event_id) + "\n"));
  EXPECT_THAT(resumed.body, ::testing::Not(HasSubstr("id: " + std::to_string(last_event_id - 1) + "\n")));

  // A write with the cookie needs proof it comes from the page.
  Reply csrf = tcp.Send("POST", "/v1/tasks", json{{"prompt", "x"}}.dump(), {with_cookie});
  EXPECT_EQ(csrf.status, 403) << Describe(csrf);
  EXPECT_THAT(csrf.body, HasSubstr("csrf"));
  Reply cross = tcp.Send("POST", "/v1/tasks", json{{"prompt", "x"}}.dump(),
                         {with_cookie, "Origin: http://evil.example"});
  EXPECT_EQ(cross.status, 403) << Describe(cross);
  EXPECT_THAT(cross.body, HasSubstr("cross_origin"));
  Reply launched =
      tcp.Send("POST", "/v1/tasks",
               json{{"prompt", "#mock reply=\"ok\"\nFrom the page."}, {"owner", "dashboard"}}.dump(),
               {with_cookie, origin});
  EXPECT_EQ(launched.status, 201) << Describe(launched);

  // DNS rebinding: a Host that is not the listener's is refused, even with the cookie.
  Reply rebound = tcp.Send("GET", "/v1/tasks", "",
                           {with_cookie, "Host: evil.example:" + std::to_string(link.port)});
  EXPECT_EQ(rebound.status, 403) << Describe(rebound);
  EXPECT_THAT(rebound.body, HasSubstr("misdirected_host"));

  // The cookie cannot mint a login link (only the socket or the token can).
  Reply mint = tcp.Send("POST", "/v1/dashboard/session", "", {with_cookie, origin});
  EXPECT_EQ(mint.status, 403) << Describe(mint);

  // A restart: the listener comes back on the same port, and the cookie still works.
  Stop(daemon);
  daemon = harness_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  Reply after = tcp.Send("GET", "/v1/tasks", "", {with_cookie});
  EXPECT_EQ(after.status, 200) << Describe(after);
  EXPECT_EQ(DashboardCommand().port, link.port);

  // Logout ends it.
  Reply logout = tcp.Send("POST", "/v1/dashboard/logout", "", {with_cookie, origin});
  EXPECT_EQ(logout.status, 204) << Describe(logout);
  EXPECT_THAT(logout.headers, HasSubstr("Max-Age=0"));
  Reply gone = tcp.Send("GET", "/v1/tasks", "", {with_cookie});
  EXPECT_EQ(gone.status, 401) << Describe(gone);
  Stop(daemon);
}

TEST_F(DashboardIntegrationTest, AnAssetIsServedWithAnEtagAndHeadHasNoBody) {
  auto daemon = harness_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  Link link = DashboardCommand();
  Client tcp = Client::Tcp(link.port);
  Reply js = tcp.Get("/assets/app.js");
  ASSERT_EQ(js.status, 200) << Describe(js);
  EXPECT_THAT(js.headers, HasSubstr("Content-Type: text/javascript; charset=utf-8"));
  EXPECT_THAT(js.headers, HasSubstr("X-Content-Type-Options: nosniff"));
  const size_t at = js.headers.find("ETag: ");
  ASSERT_NE(at, std::string::npos) << js.headers;
  const std::string etag = js.headers.substr(at + 6, js.headers.find('\r', at) - at - 6);
  Reply cached = tcp.Send("GET", "/assets/app.js", "", {"If-None-Match: " + etag});
  EXPECT_EQ(cached.status, 304) << Describe(cached);
  Reply head = tcp.Send("HEAD", "/", "");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  EXPECT_EQ(tcp.Get("/assets/nope.js").status, 404);
  EXPECT_EQ(tcp.Get("/assets/..%2Ftoken").status, 404);
  Stop(daemon);
}

}  // namespace
}  // namespace troupe
