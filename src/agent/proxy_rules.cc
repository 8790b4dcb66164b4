#include "agent/proxy_rules.h"

#include <curl/curl.h>

#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>

namespace troupe {
namespace {

struct UrlDeleter {
  void operator()(CURLU* url) const { curl_url_cleanup(url); }
};
struct CurlStringDeleter {
  void operator()(char* s) const { curl_free(s); }
};
using UrlPtr = std::unique_ptr<CURLU, UrlDeleter>;
using CurlString = std::unique_ptr<char, CurlStringDeleter>;

std::optional<std::string> UrlPart(CURLU* url, CURLUPart part, unsigned flags = 0) {
  char* value = nullptr;
  if (curl_url_get(url, part, &value, flags) != CURLUE_OK || value == nullptr) return std::nullopt;
  CurlString owned(value);
  return std::string(value);
}

// What an address is, when it is not an ordinary public one; "" for public.
std::string SpecialV4(const unsigned char* a) {
  if (a[0] == 127) return "loopback";
  if (a[0] == 0) return "unspecified (\"this network\")";
  if (a[0] == 10 || (a[0] == 172 && (a[1] & 0xf0) == 16) || (a[0] == 192 && a[1] == 168) ||
      (a[0] == 100 && (a[1] & 0xc0) == 64)) {
    return "private";
  }
  if (a[0] == 169 && a[1] == 254) return "link-local (cloud metadata lives here)";
  if (a[0] >= 224) return "multicast or reserved";
  return "";
}

std::string SpecialV6(const unsigned char* a) {
  static const unsigned char kZero[16] = {};
  static const unsigned char kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  static const unsigned char kNat64[12] = {0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0};
  if (std::memcmp(a, kMapped, 12) == 0 || std::memcmp(a, kNat64, 12) == 0) {
    return SpecialV4(a + 12);
  }
  if (std::memcmp(a, kZero, 15) == 0) return a[15] == 1 ? "loopback" : "unspecified";
  if ((a[0] & 0xfe) == 0xfc) return "private (unique-local)";
  if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) return "link-local";
  if (a[0] == 0xff) return "multicast";
  return "";
}

}  // namespace

Result<ProxyTarget> ParseProxyTarget(std::string_view method, std::string_view target) {
  ProxyTarget out;
  out.tunnel = method == "CONNECT";
  const std::string shown = "\"" + std::string(target.substr(0, 200)) + "\"";
  // CONNECT's authority-form is read as the authority of an http URL, by libcurl's parser.
  const std::string url_text =
      out.tunnel ? "http://" + std::string(target) + "/" : std::string(target);
  if (out.tunnel && (target.find_first_of("/@?#") != std::string_view::npos)) {
    return Status::InvalidArgument("CONNECT wants host:port, got " + shown);
  }
  if (!out.tunnel && !target.starts_with("http://")) {
    return Status::InvalidArgument(
        "this proxy takes CONNECT host:port (for https) or an absolute http:// URL, got " + shown);
  }
  UrlPtr url(curl_url());
  if (!url || curl_url_set(url.get(), CURLUPART_URL, url_text.c_str(), 0) != CURLUE_OK) {
    return Status::InvalidArgument("not a valid request target: " + shown);
  }
  if (UrlPart(url.get(), CURLUPART_USER) || UrlPart(url.get(), CURLUPART_PASSWORD)) {
    return Status::InvalidArgument("a request target with user info is refused: " + shown);
  }
  std::optional<std::string> host = UrlPart(url.get(), CURLUPART_HOST);
  if (!host || host->empty()) return Status::InvalidArgument("no host in " + shown);
  out.host = NormalizeHost(*host);
  std::optional<std::string> port = UrlPart(url.get(), CURLUPART_PORT, CURLU_DEFAULT_PORT);
  if (out.tunnel && !UrlPart(url.get(), CURLUPART_PORT)) {
    return Status::InvalidArgument("CONNECT wants host:port (with the port), got " + shown);
  }
  const int port_number = port ? std::atoi(port->c_str()) : 0;
  if (port_number <= 0 || port_number > 65535) {
    return Status::InvalidArgument("no valid port in " + shown);
  }
  out.port = static_cast<uint16_t>(port_number);
  if (!out.tunnel) {
    out.origin_form = UrlPart(url.get(), CURLUPART_PATH).value_or("/");
    if (std::optional<std::string> query = UrlPart(url.get(), CURLUPART_QUERY)) {
      out.origin_form += "?" + *query;
    }
  }
  return out;
}

const HostPattern* AllowingPattern(const ProxyRules& rules, std::string_view host, uint16_t port) {
  return FindHostPattern(rules.hosts, host, port);
}

std::string AddressRefusal(const ProxyRules& rules, const HostPattern& allowing,
                           std::string_view address) {
  const auto* bytes = reinterpret_cast<const unsigned char*>(address.data());
  std::string kind = address.size() == 4    ? SpecialV4(bytes)
                     : address.size() == 16 ? SpecialV6(bytes)
                                            : "not an IP address";
  if (kind.empty()) return "";
  const bool named = allowing.kind == HostPattern::Kind::kAddress;
  if (kind == "loopback") {
    if (named && rules.allow_loopback_for_tests) return "";
    return "a loopback address (the host's own services) is never reachable from the sandbox";
  }
  if (named && kind != "not an IP address") return "";
  return "it resolved to a " + kind +
         " address, which only an address pattern naming it (\"10.0.0.7\") allows";
}

std::string RefusalText(const ProxyRules& rules, std::string_view host, uint16_t port) {
  return "troupe sandbox: the network allow-list does not include " + std::string(host) + ":" +
         std::to_string(port) + "; to allow it, add \"" + std::string(host) + "\" to " +
         rules.config_key + " in troupe.jsonc (docs/CONFIG.md, sandbox)\n";
}

}  // namespace troupe
