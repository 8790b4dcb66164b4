#include "dashboard/dashboard_api.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "dashboard/browser_guard.h"
#include "dashboard/dashboard_assets.h"
#include "http/api_error.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr char kCsp[] =
    "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self'; "
    "script-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

// A path or name quoted for a message: cut to 100 bytes, control characters dropped.
std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s.substr(0, 100)) {
    if (static_cast<unsigned char>(c) >= 0x20 && c != 0x7f) out += c;
  }
  if (s.size() > 100) out += "…";
  return out + "\"";
}

void Fail(HttpExchange& ex, ApiError error) { ex.Respond(ApiErrorResponse(error)); }

void MethodNotAllowed(HttpExchange& ex, const char* allow) {
  ApiResponse response = ApiErrorResponse(ApiError::Of(
      405, "method_not_allowed",
      fmt::format("{} does not answer {}; it answers {}", ex.request().path, ex.request().method,
                  allow)));
  response.headers.emplace_back("Allow", allow);
  ex.Respond(std::move(response));
}

// Whether If-None-Match lists `etag` (or is "*"); weak tags compare by their opaque part.
bool EtagMatches(std::string_view if_none_match, std::string_view etag) {
  while (!if_none_match.empty()) {
    const size_t comma = if_none_match.find(',');
    std::string_view tag = if_none_match.substr(0, comma);
    if_none_match =
        comma == std::string_view::npos ? std::string_view() : if_none_match.substr(comma + 1);
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag.starts_with("W/")) tag.remove_prefix(2);
    if (tag == "*" || tag == etag) return true;
  }
  return false;
}

std::string SessionCookie(std::string_view secret, std::string_view max_age) {
  return fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}", kDashboardCookie,
                     secret, max_age);
}

}  // namespace

std::vector<std::pair<std::string, std::string>> DashboardPageHeaders() {
  return {{"Content-Security-Policy", kCsp},
          {"X-Content-Type-Options", "nosniff"},
          {"Referrer-Policy", "no-referrer"},
          {"Cache-Control", "no-cache"}};
}

const DashboardAsset* FindDashboardAsset(std::string_view name) {
  if (name.empty()) return nullptr;
  for (const DashboardAsset& asset : DashboardAssets()) {
    if (asset.name == name) return &asset;
  }
  return nullptr;
}

DashboardApi::DashboardApi(DashboardApiDeps deps) : deps_(std::move(deps)) {}

void DashboardApi::Handle(std::shared_ptr<HttpExchange> exchange) {
  HttpExchange& ex = *exchange;
  const ApiRequest& req = ex.request();
  const bool get = req.method == "GET" || req.method == "HEAD";
  if (req.path == "/" || req.path.starts_with("/assets/")) {
    if (!get) return MethodNotAllowed(ex, "GET, HEAD");
    ServeAsset(ex, req.path == "/" ? std::string_view("index.html")
                                   : std::string_view(req.path).substr(sizeof("/assets/") - 1));
    return;
  }
  if (req.path == "/v1/dashboard/session" || req.path == "/v1/dashboard/login" ||
      req.path == "/v1/dashboard/logout") {
    if (req.method != "POST") return MethodNotAllowed(ex, "POST");
    if (req.path == "/v1/dashboard/session") return MintLogin(ex);
    if (req.path == "/v1/dashboard/login") return Login(ex);
    return Logout(ex);
  }
  Fail(ex, ApiError::NotFound(fmt::format("no route for {} {}; see docs/HTTP_API.md", req.method,
                                          Quoted(req.path))));
}

void DashboardApi::ServeAsset(HttpExchange& ex, std::string_view name) {
  const DashboardAsset* asset = FindDashboardAsset(name);
  if (asset == nullptr) {
    Fail(ex, ApiError::NotFound(
                 fmt::format("the dashboard has no file {}", Quoted(name))));
    return;
  }
  ApiResponse response;
  response.headers = DashboardPageHeaders();
  response.headers.emplace_back("ETag", std::string(asset->etag));
  if (EtagMatches(ex.request().Header("if-none-match"), asset->etag)) {
    response.status = 304;
    response.content_type.clear();
  } else {
    response.status = 200;
    response.content_type = std::string(asset->content_type);
    response.body = std::string(asset->bytes);
  }
  ex.Respond(std::move(response));
}

void DashboardApi::MintLogin(HttpExchange& ex) {
  Result<int> port = deps_.ensure_listener ? deps_.ensure_listener()
                                           : Result<int>(Status::Unavailable("no TCP listener"));
  if (!port.ok()) {
    Fail(ex, ApiError::Of(503, "unavailable",
                          "cannot open the dashboard's loopback listener: " +
                              port.status().message()));
    return;
  }
  LoginCode code = deps_.codes->Mint();
  json body = {{"url", fmt::format("http://127.0.0.1:{}/#login={}", *port, code.code)},
               {"port", *port},
               {"expires_at_ms", code.expires_at_ms}};
  ApiResponse response;
  response.status = 200;
  response.body = body.dump();
  response.headers.emplace_back("Cache-Control", "no-store");
  ex.Respond(std::move(response));
}

void DashboardApi::Login(HttpExchange& ex) {
  const ApiRequest& req = ex.request();
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) {
    Fail(ex, ApiError::Of(400, "invalid_json", "the body is not JSON; send {\"code\": \"…\"}"));
    return;
  }
  if (!body.is_object() || !body.contains("code") || !body["code"].is_string()) {
    Fail(ex, ApiError::BadField("code", "a string (the login code from `troupe dashboard`)",
                                body.is_object() && body.contains("code")
                                    ? JsonTypeName(body["code"])
                                    : "nothing"));
    return;
  }
  for (const auto& [key, value] : body.items()) {
    if (key != "code") {
      Fail(ex, ApiError::BadField(key, "no such field (only \"code\")", "a value"));
      return;
    }
  }
  if (!deps_.codes->Redeem(body["code"].get<std::string>())) {
    Fail(ex, ApiError::Of(401, "unauthorized",
                          "this login code is not valid: it was used already, is older than 2 "
                          "minutes, or was never minted here; run `troupe dashboard` for a new "
                          "link"));
    return;
  }
  Result<std::string> secret = deps_.sessions->Create();
  if (!secret.ok()) {
    Fail(ex, ApiErrorFromStatus(secret.status()));
    return;
  }
  ApiResponse response;
  response.status = 204;
  response.content_type.clear();
  response.headers.emplace_back("Set-Cookie", SessionCookie(*secret, kCookieMaxAge));
  response.headers.emplace_back("Cache-Control", "no-store");
  ex.Respond(std::move(response));
}

void DashboardApi::Logout(HttpExchange& ex) {
  const std::string_view secret = CookieValue(ex.request().Header("cookie"), kDashboardCookie);
  if (!secret.empty()) {
    Status deleted = deps_.sessions->Delete(secret);
    if (!deleted.ok()) {
      Fail(ex, ApiErrorFromStatus(deleted));
      return;
    }
  }
  ApiResponse response;
  response.status = 204;
  response.content_type.clear();
  response.headers.emplace_back("Set-Cookie", SessionCookie("", "0"));
  ex.Respond(std::move(response));
}

}  // namespace troupe
