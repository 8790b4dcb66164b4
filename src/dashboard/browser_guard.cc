#include "dashboard/browser_guard.h"

#include <fmt/format.h>

#include <string>

#include "core/text_case.h"
#include "core/text_trim.h"
#include "http/request_checks.h"

namespace troupe {

namespace {

bool IsGetOrHead(std::string_view method) { return method == "GET" || method == "HEAD"; }

// A header's value quoted for an error message: cut, control characters dropped.
std::string Quote(std::string_view value) {
  std::string out = "\"";
  for (char c : value.substr(0, 80)) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  if (value.size() > 80) out += "…";
  return out + "\"";
}

TcpAdmission Refuse(int status, std::string code, std::string message) {
  TcpAdmission a;
  a.allowed = false;
  a.error = ApiError::Of(status, std::move(code), std::move(message));
  return a;
}

TcpAdmission Allow(TcpAccess access) {
  TcpAdmission a;
  a.allowed = true;
  a.access = access;
  return a;
}

std::string OwnHosts(int port) {
  return fmt::format("127.0.0.1:{0}, localhost:{0} or [::1]:{0}", port);
}

}  // namespace

bool IsOwnHost(std::string_view host, int port) { return port > 0 && IsLoopbackHost(host, port); }

bool IsOwnOrigin(std::string_view origin, int port) {
  return port > 0 && IsLoopbackOrigin(origin, port);
}

std::string_view CookieValue(std::string_view cookie_header, std::string_view name) {
  while (!cookie_header.empty()) {
    const size_t end = cookie_header.find(';');
    std::string_view pair = TrimBlanks(cookie_header.substr(0, end));
    cookie_header = end == std::string_view::npos ? std::string_view() : cookie_header.substr(end + 1);
    const size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (TrimBlanks(pair.substr(0, eq)) != name) continue;
    std::string_view value = TrimBlanks(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    return value;
  }
  return {};
}

bool IsPublicRoute(std::string_view method, std::string_view path) {
  if (IsGetOrHead(method)) return path == "/" || path.starts_with("/assets/");
  return method == "POST" && path == "/v1/dashboard/login";
}

TcpAdmission AdmitTcpRequest(const TcpRequestHead& head, std::string_view bearer_token,
                             const std::function<bool(std::string_view secret)>& session_valid) {
  const bool has_token = HasBearerToken(head.authorization, bearer_token);
  if (head.host.empty() ? !has_token : !IsOwnHost(head.host, head.port)) {
    return Refuse(403, "misdirected_host",
                  fmt::format("Host {} is not this listener: it answers to {} only (a check "
                              "against DNS rebinding); use one of those addresses",
                              head.host.empty() ? std::string("(none)") : Quote(head.host),
                              OwnHosts(head.port)));
  }
  if (!head.origin.empty() && !IsOwnOrigin(head.origin, head.port)) {
    return Refuse(403, "cross_origin",
                  fmt::format("Origin {} is not this listener's own (http:// + {}): requests "
                              "from other sites are refused",
                              Quote(head.origin), OwnHosts(head.port)));
  }
  if (!head.authorization.empty()) {
    if (has_token) return Allow(TcpAccess::kToken);
    TcpAdmission refused = Refuse(401, "unauthorized",
                                  "the Authorization header does not carry the daemon's token "
                                  "(`Authorization: Bearer <token>`, from <data dir>/token)");
    refused.headers = {{"WWW-Authenticate", "Bearer"}};
    return refused;
  }
  const std::string_view secret = CookieValue(head.cookie, kDashboardCookie);
  const bool cookie_valid = !secret.empty() && session_valid && session_valid(secret);
  if (cookie_valid) {
    if (!IsGetOrHead(head.method) && head.origin.empty() &&
        AsciiLowercase(TrimBlanks(head.sec_fetch_site)) != "same-origin") {
      return Refuse(403, "csrf",
                    fmt::format("a {} authorised by the dashboard cookie must come from the "
                                "dashboard's own page: send Origin (http:// + {}) or "
                                "Sec-Fetch-Site: same-origin",
                                head.method, OwnHosts(head.port)));
    }
    if (head.path == "/v1/dashboard/session") {
      return Refuse(403, "forbidden",
                    "a dashboard login link is minted only for the daemon's own credential (its "
                    "Unix socket or the bearer token), not for the dashboard cookie");
    }
    return Allow(TcpAccess::kCookie);
  }
  if (IsPublicRoute(head.method, head.path)) return Allow(TcpAccess::kPublic);
  TcpAdmission refused = Refuse(
      401, "unauthorized",
      secret.empty()
          ? "this TCP listener needs `Authorization: Bearer <token>` with the daemon's token, or "
            "the dashboard's login cookie (run `troupe dashboard` for a login link)"
          : "the dashboard login cookie is not valid (logged out, expired, or from another data "
            "directory): run `troupe dashboard` for a new login link");
  refused.headers = {{"WWW-Authenticate", "Bearer"}};
  return refused;
}

}  // namespace troupe
