#include "dashboard/browser_guard.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

constexpr int kPort = 7077;
constexpr char kToken[] = "tok-123";
const std::string kGoodCookie(43, 'a');

TcpRequestHead Head(std::string_view method, std::string_view path) {
  TcpRequestHead h;
  h.method = method;
  h.path = path;
  h.host = "127.0.0.1:7077";
  h.port = kPort;
  return h;
}

TcpAdmission Admit(const TcpRequestHead& head) {
  return AdmitTcpRequest(head, kToken,
                         [](std::string_view secret) { return secret == kGoodCookie; });
}

TEST(BrowserGuardTest, OwnHostIsTheListenersLoopbackNamesWithItsPort) {
  EXPECT_TRUE(IsOwnHost("127.0.0.1:7077", kPort));
  EXPECT_TRUE(IsOwnHost("localhost:7077", kPort));
  EXPECT_TRUE(IsOwnHost("LocalHost:7077", kPort));
  EXPECT_TRUE(IsOwnHost("[::1]:7077", kPort));
  EXPECT_FALSE(IsOwnHost("127.0.0.1:7078", kPort));
  EXPECT_FALSE(IsOwnHost("127.0.0.1", kPort));
  EXPECT_FALSE(IsOwnHost("evil.example:7077", kPort));
  EXPECT_FALSE(IsOwnHost("127.0.0.1.evil.example:7077", kPort));
  EXPECT_FALSE(IsOwnHost("x127.0.0.1:7077", kPort));
  EXPECT_FALSE(IsOwnHost("", kPort));
  EXPECT_FALSE(IsOwnHost("127.0.0.1:0", 0));
}

TEST(BrowserGuardTest, OwnOriginIsHttpAndOwnHost) {
  EXPECT_TRUE(IsOwnOrigin("http://127.0.0.1:7077", kPort));
  EXPECT_TRUE(IsOwnOrigin("http://localhost:7077", kPort));
  EXPECT_TRUE(IsOwnOrigin("http://[::1]:7077", kPort));
  EXPECT_FALSE(IsOwnOrigin("https://127.0.0.1:7077", kPort));
  EXPECT_FALSE(IsOwnOrigin("http://127.0.0.1:7077/", kPort));
  EXPECT_FALSE(IsOwnOrigin("http://evil.example", kPort));
  EXPECT_FALSE(IsOwnOrigin("null", kPort));
  EXPECT_FALSE(IsOwnOrigin("http://", kPort));
}

TEST(BrowserGuardTest, CookieValueFindsTheNamedCookie) {
  EXPECT_EQ(CookieValue("troupe_dashboard=abc", "troupe_dashboard"), "abc");
  EXPECT_EQ(CookieValue("a=1; troupe_dashboard=abc; b=2", "troupe_dashboard"), "abc");
  EXPECT_EQ(CookieValue("a=1;troupe_dashboard=\"abc\"", "troupe_dashboard"), "abc");
  EXPECT_EQ(CookieValue("xtroupe_dashboard=abc", "troupe_dashboard"), "");
  EXPECT_EQ(CookieValue("troupe_dashboard", "troupe_dashboard"), "");
  EXPECT_EQ(CookieValue("", "troupe_dashboard"), "");
}

TEST(BrowserGuardTest, PublicRoutesAreThePageAndTheLogin) {
  EXPECT_TRUE(IsPublicRoute("GET", "/"));
  EXPECT_TRUE(IsPublicRoute("HEAD", "/assets/app.js"));
  EXPECT_TRUE(IsPublicRoute("POST", "/v1/dashboard/login"));
  EXPECT_FALSE(IsPublicRoute("POST", "/"));
  EXPECT_FALSE(IsPublicRoute("GET", "/assets"));
  EXPECT_FALSE(IsPublicRoute("GET", "/v1/tasks"));
  EXPECT_FALSE(IsPublicRoute("POST", "/v1/dashboard/session"));
  EXPECT_FALSE(IsPublicRoute("GET", "/v1/dashboard/login"));
}

TEST(BrowserGuardTest, TokenLetsIn) {
  TcpRequestHead h = Head("POST", "/v1/tasks");
  h.authorization = "Bearer tok-123";
  TcpAdmission a = Admit(h);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.access, TcpAccess::kToken);
  // Without Host: a client that is not a browser, with the token.
  h.host = "";
  EXPECT_TRUE(Admit(h).allowed);
}

TEST(BrowserGuardTest, WrongTokenIs401EvenWithAGoodCookie) {
  TcpRequestHead h = Head("GET", "/v1/tasks");
  h.authorization = "Bearer nope";
  const std::string cookie = "troupe_dashboard=" + kGoodCookie;  // h holds views
  h.cookie = cookie;
  TcpAdmission a = Admit(h);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.error.status, 401);
}

TEST(BrowserGuardTest, NoCredentialIs401OnDataRoutesAndPublicRoutesPass) {
  TcpAdmission a = Admit(Head("GET", "/v1/tasks"));
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.error.status, 401);
  EXPECT_EQ(a.error.code, "unauthorized");
  ASSERT_EQ(a.headers.size(), 1u);
  EXPECT_EQ(a.headers[0].first, "WWW-Authenticate");
  EXPECT_NE(a.error.message.find("troupe dashboard"), std::string::npos);

  a = Admit(Head("GET", "/"));
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.access, TcpAccess::kPublic);
  EXPECT_TRUE(Admit(Head("POST", "/v1/dashboard/login")).allowed);
  EXPECT_FALSE(Admit(Head("POST", "/v1/dashboard/session")).allowed);
}

TEST(BrowserGuardTest, WrongHostIs403BeforeAnything) {
  for (const char* host : {"evil.example:7077", "127.0.0.1:9999", "evil.example"}) {
    TcpRequestHead h = Head("GET", "/");
    h.host = host;
    h.authorization = "Bearer tok-123";
    TcpAdmission a = Admit(h);
    EXPECT_FALSE(a.allowed) << host;
    EXPECT_EQ(a.error.status, 403);
    EXPECT_EQ(a.error.code, "misdirected_host");
    EXPECT_NE(a.error.message.find("DNS rebinding"), std::string::npos);
  }
  // No Host and no token: a browser always sends Host, so this is refused too.
  TcpRequestHead h = Head("GET", "/");
  h.host = "";
  EXPECT_EQ(Admit(h).error.status, 403);
}

TEST(BrowserGuardTest, ForeignOriginIs403) {
  TcpRequestHead h = Head("POST", "/v1/dashboard/login");
  h.origin = "http://evil.example";
  TcpAdmission a = Admit(h);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.error.status, 403);
  EXPECT_EQ(a.error.code, "cross_origin");
  h.origin = "http://localhost:7077";
  EXPECT_TRUE(Admit(h).allowed);
}

TEST(BrowserGuardTest, CookieLetsInAndNeedsSameOriginProofForWrites) {
  TcpRequestHead h = Head("GET", "/v1/events");
  const std::string cookie = "other=1; troupe_dashboard=" + kGoodCookie;  // h holds views
  h.cookie = cookie;
  TcpAdmission a = Admit(h);
  EXPECT_TRUE(a.allowed);
  EXPECT_EQ(a.access, TcpAccess::kCookie);

  h.method = "POST";
  h.path = "/v1/tasks";
  a = Admit(h);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.error.status, 403);
  EXPECT_EQ(a.error.code, "csrf");

  h.sec_fetch_site = "same-origin";
  EXPECT_TRUE(Admit(h).allowed);
  h.sec_fetch_site = "cross-site";
  EXPECT_FALSE(Admit(h).allowed);
  h.origin = "http://127.0.0.1:7077";
  EXPECT_TRUE(Admit(h).allowed);
  // ... but not to mint login codes, which only the token (or the socket) may.
  h.path = "/v1/dashboard/session";
  TcpAdmission minted = Admit(h);
  EXPECT_FALSE(minted.allowed);
  EXPECT_EQ(minted.error.status, 403);
  h.cookie = "";
  h.authorization = "Bearer tok-123";
  EXPECT_TRUE(Admit(h).allowed);
}

TEST(BrowserGuardTest, BadCookieIs401WithItsOwnMessageButThePageStillLoads) {
  TcpRequestHead h = Head("GET", "/v1/tasks");
  h.cookie = "troupe_dashboard=stale";
  TcpAdmission a = Admit(h);
  EXPECT_FALSE(a.allowed);
  EXPECT_EQ(a.error.status, 401);
  EXPECT_NE(a.error.message.find("not valid"), std::string::npos);
  h.path = "/";
  EXPECT_TRUE(Admit(h).allowed);
}

}  // namespace
}  // namespace troupe
