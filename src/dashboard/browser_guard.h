// Who a request on the daemon's loopback TCP listener is, and the protections a listener that a
// browser can reach needs (HttpServerOptions::tcp_gate, decided from the request head alone):
//
// - Host must name this listener: 127.0.0.1:PORT, localhost:PORT or [::1]:PORT. A page on
//   another site whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends its own name
//   and is refused (403 misdirected_host). A request without Host (no browser sends one) is
//   accepted only with the bearer token.
// - An Origin header, when sent, must be this listener's own origin (http:// + one of those
//   hosts), else 403 cross_origin: a page elsewhere cannot drive the API with the user's cookie
//   (SameSite=Strict already keeps the cookie off such requests; this refuses them outright).
// - Credentials: the bearer token (`Authorization: Bearer`), or the dashboard's session cookie
//   (`troupe_dashboard`, dashboard/dashboard_sessions.h). A cookie-authorised request that is not
//   GET or HEAD must also show it comes from the page itself — a same-origin Origin, or
//   `Sec-Fetch-Site: same-origin` — else 403 csrf. The cookie cannot mint login codes
//   (POST /v1/dashboard/session: 403 forbidden), so a session cannot make itself new ones.
// - Public (no credential): GET/HEAD of `/` and `/assets/...` (the page holds no data) and
//   POST /v1/dashboard/login (trades a one-time code for the cookie). Everything else without a
//   credential: 401 unauthorized with `WWW-Authenticate: Bearer`.
//
// Pure: the session lookup is injected. Unit-tested in browser_guard_test.cc.
#pragma once

#include <functional>
#include <string_view>

#include "http/http_server.h"

namespace troupe {

inline constexpr std::string_view kDashboardCookie = "troupe_dashboard";

// Whether a Host header names this listener (host part case-insensitive, port exact).
bool IsOwnHost(std::string_view host, int port);
// Whether an Origin header is this listener's own origin ("http://" + IsOwnHost).
bool IsOwnOrigin(std::string_view origin, int port);
// The value of cookie `name` in a Cookie header ("a=1; b=2"), "" when absent.
std::string_view CookieValue(std::string_view cookie_header, std::string_view name);
// The routes that need no credential (see above). `path` is the raw target path.
bool IsPublicRoute(std::string_view method, std::string_view path);

// The verdict for one TCP request; `session_valid` says whether a cookie secret is a live
// dashboard session.
TcpAdmission AdmitTcpRequest(const TcpRequestHead& head, std::string_view bearer_token,
                             const std::function<bool(std::string_view secret)>& session_valid);

}  // namespace troupe
