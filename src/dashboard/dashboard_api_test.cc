#include "dashboard/dashboard_api.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "core/fake_clock.h"
#include "dashboard/dashboard_assets.h"
#include "dashboard/random_secret.h"
#include "http/testing/fake_exchange.h"
#include "core/testing/test_dir.h"
#include "store/dashboard_session_store.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

using testing::FakeExchange;
using testing::TestDir;

std::string HeaderOf(const ApiResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return "";
}

class DashboardApiTest : public ::testing::Test {
 protected:
  DashboardApiTest()
      : store_(OpenSqliteStore(dir_.File("troupe.db")).value()),
        session_store_(OpenSqliteDashboardSessionStore(dir_.File("troupe.db")).value()),
        codes_(&clock_, RandomSecret),
        sessions_(session_store_.get(), &clock_, RandomSecret) {
    EXPECT_TRUE(sessions_.Load().ok());
    DashboardApiDeps deps;
    deps.codes = &codes_;
    deps.sessions = &sessions_;
    deps.ensure_listener = [this]() -> Result<int> {
      ++ensured_;
      return 43210;
    };
    api_ = std::make_unique<DashboardApi>(std::move(deps));
  }

  std::shared_ptr<FakeExchange> Call(std::shared_ptr<FakeExchange> ex) {
    api_->Handle(ex);
    return ex;
  }
  std::shared_ptr<FakeExchange> Call(std::string method, std::string path, std::string body = "") {
    return Call(FakeExchange::Make(std::move(method), std::move(path), std::move(body)));
  }
  std::string CodeFromSession() {
    auto ex = Call("POST", "/v1/dashboard/session");
    EXPECT_EQ(ex->status(), 200);
    const std::string url = ex->json()["url"];
    return url.substr(url.find("#login=") + 7);
  }

  TestDir dir_;
  FakeClock clock_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<DashboardSessionStore> session_store_;
  LoginCodes codes_;
  DashboardSessions sessions_;
  std::unique_ptr<DashboardApi> api_;
  int ensured_ = 0;
};

TEST_F(DashboardApiTest, ServesTheEmbeddedPageWithItsSecurityHeaders) {
  ASSERT_NE(FindDashboardAsset("index.html"), nullptr);
  auto ex = Call("GET", "/");
  ASSERT_EQ(ex->status(), 200);
  const ApiResponse& r = *ex->response();
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("<title>troupe dashboard</title>"), std::string::npos);
  EXPECT_NE(HeaderOf(r, "Content-Security-Policy").find("frame-ancestors 'none'"),
            std::string::npos);
  EXPECT_EQ(HeaderOf(r, "X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(HeaderOf(r, "Referrer-Policy"), "no-referrer");
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-cache");
  EXPECT_EQ(HeaderOf(r, "ETag"), std::string(FindDashboardAsset("index.html")->etag));

  ex = Call("GET", "/assets/app.js");
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->response()->content_type, "text/javascript; charset=utf-8");
  EXPECT_EQ(Call("GET", "/assets/app.css")->response()->content_type, "text/css; charset=utf-8");
}

TEST_F(DashboardApiTest, AnswersNotModifiedForItsEtag) {
  auto ex = FakeExchange::Make("GET", "/assets/app.js");
  ex->mutable_request().headers["if-none-match"] =
      "\"other\", W/" + std::string(FindDashboardAsset("app.js")->etag);
  Call(ex);
  EXPECT_EQ(ex->status(), 304);
  EXPECT_TRUE(ex->response()->body.empty());
}

TEST_F(DashboardApiTest, UnknownOrTraversingNamesAre404) {
  for (const char* path : {"/assets/nope.js", "/assets/../daemon.cc", "/assets/", "/assets/a/b",
                           "/assets/%2e%2e"}) {
    EXPECT_EQ(Call("GET", path)->status(), 404) << path;
  }
  EXPECT_EQ(Call("POST", "/")->status(), 405);
  EXPECT_EQ(Call("GET", "/v1/dashboard/session")->status(), 405);
  EXPECT_EQ(Call("GET", "/v1/dashboard/other")->status(), 404);
}

TEST_F(DashboardApiTest, SessionMintsALoginUrlOnTheListenersPort) {
  auto ex = Call("POST", "/v1/dashboard/session");
  ASSERT_EQ(ex->status(), 200);
  const auto body = ex->json();
  EXPECT_EQ(body["port"], 43210);
  EXPECT_EQ(body["expires_at_ms"], clock_.WallMs() + 120'000);
  const std::string url = body["url"];
  EXPECT_TRUE(url.starts_with("http://127.0.0.1:43210/#login=")) << url;
  EXPECT_EQ(ensured_, 1);
}

TEST_F(DashboardApiTest, ACodeLogsInOnceWithAnHttpOnlyStrictCookie) {
  const std::string code = CodeFromSession();
  auto ex = Call("POST", "/v1/dashboard/login", "{\"code\": \"" + code + "\"}");
  ASSERT_EQ(ex->status(), 204);
  const std::string cookie = HeaderOf(*ex->response(), "Set-Cookie");
  EXPECT_TRUE(cookie.starts_with("troupe_dashboard=")) << cookie;
  EXPECT_NE(cookie.find("; HttpOnly; SameSite=Strict; Path=/; Max-Age=2592000"), std::string::npos);
  const std::string secret = cookie.substr(17, cookie.find(';') - 17);
  EXPECT_TRUE(sessions_.Check(secret));

  ex = Call("POST", "/v1/dashboard/login", "{\"code\": \"" + code + "\"}");
  EXPECT_EQ(ex->status(), 401);
  EXPECT_EQ(ex->json()["error"]["code"], "unauthorized");
}

TEST_F(DashboardApiTest, AnExpiredCodeIs401) {
  const std::string code = CodeFromSession();
  clock_.AdvanceMs(120'000);
  EXPECT_EQ(Call("POST", "/v1/dashboard/login", "{\"code\": \"" + code + "\"}")->status(), 401);
}

TEST_F(DashboardApiTest, BadLoginBodiesAre400) {
  EXPECT_EQ(Call("POST", "/v1/dashboard/login", "nope")->status(), 400);
  auto ex = Call("POST", "/v1/dashboard/login", "{\"code\": 5}");
  EXPECT_EQ(ex->status(), 400);
  EXPECT_EQ(ex->json()["error"]["field"], "code");
  EXPECT_EQ(Call("POST", "/v1/dashboard/login", "{\"code\": \"x\", \"y\": 1}")->status(), 400);
}

TEST_F(DashboardApiTest, LogoutEndsTheSessionAndClearsTheCookie) {
  const std::string secret = sessions_.Create().value();
  auto ex = FakeExchange::Make("POST", "/v1/dashboard/logout");
  ex->mutable_request().headers["cookie"] = "troupe_dashboard=" + secret;
  Call(ex);
  ASSERT_EQ(ex->status(), 204);
  EXPECT_NE(HeaderOf(*ex->response(), "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_FALSE(sessions_.Check(secret));
}

}  // namespace
}  // namespace troupe
