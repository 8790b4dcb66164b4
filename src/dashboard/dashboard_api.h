// The dashboard's routes (docs/HTTP_API.md, "The dashboard"): the embedded page at `/` and its
// files at `/assets/<name>` (no data in them, so no credential needed), and the login:
//   POST /v1/dashboard/session — for a caller with the daemon's own credential (the Unix socket
//     or the bearer token; never the cookie): makes sure a loopback TCP listener exists and mints
//     a one-time login code, answered as a URL whose fragment carries it;
//   POST /v1/dashboard/login — trades an unused, unexpired code for the session cookie;
//   POST /v1/dashboard/logout — ends the cookie's session and clears the cookie.
// Who may reach these on TCP (Host, Origin, token or cookie; the cookie may not mint codes) is
// decided by the transport's gate (dashboard/browser_guard.h) before this handler sees a request.
//
// Threading: loop thread only.
#pragma once

#include <functional>
#include <memory>

#include "core/clock.h"
#include "core/status.h"
#include "dashboard/dashboard_sessions.h"
#include "dashboard/login_codes.h"
#include "http/http_exchange.h"

namespace troupe {

struct DashboardApiDeps {
  LoginCodes* codes = nullptr;
  DashboardSessions* sessions = nullptr;
  // Makes sure the daemon listens on loopback TCP (starting a listener if it has none) and
  // returns its port, or why it cannot.
  std::function<Result<int>()> ensure_listener;
};

// The security headers of every page and asset answer: a strict Content-Security-Policy (only the
// page's own scripts, styles and connections; no framing), nosniff, no Referer.
std::vector<std::pair<std::string, std::string>> DashboardPageHeaders();

class DashboardApi : public HttpHandler {
 public:
  static constexpr char kCookieMaxAge[] = "2592000";  // 30 days, DashboardSessions::kMaxAgeMs

  explicit DashboardApi(DashboardApiDeps deps);
  void Handle(std::shared_ptr<HttpExchange> exchange) override;

 private:
  void ServeAsset(HttpExchange& ex, std::string_view name);
  void MintLogin(HttpExchange& ex);
  void Login(HttpExchange& ex);
  void Logout(HttpExchange& ex);

  DashboardApiDeps deps_;
};

}  // namespace troupe
