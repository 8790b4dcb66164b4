// The values an outbound HTTP exchange is made of: a request to send and the head of the
// response. Plain data; the HttpClient (core/http_client.h) sends and receives them.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace troupe {

struct HttpHeader {
  std::string name;
  std::string value;

  friend bool operator==(const HttpHeader&, const HttpHeader&) = default;
};

// First value of the header called `name` (compared case-insensitively), or nullopt.
std::optional<std::string> FindHttpHeader(const std::vector<HttpHeader>& headers,
                                          std::string_view name);

// `url` without user info, query string or fragment ("https://host:8443/v1/chat"), so that it
// can go into messages and logs without leaking credentials or keys passed as query parameters.
std::string UrlForDisplay(std::string_view url);

struct HttpRequest {
  std::string method = "POST";  // GET, POST, PUT, DELETE, HEAD, ...
  std::string url;              // http:// or https:// only
  // Sent as given, in order. libcurl adds Host, Content-Length (or Transfer-Encoding), Accept and
  // User-Agent when absent; the client sends no Content-Type or Expect that is not listed here.
  std::vector<HttpHeader> headers;
  std::string body;  // sent for POST always, for other methods when not empty

  int64_t connect_timeout_ms = 10'000;  // DNS + TCP + TLS (+ proxy) handshake; 0 = libcurl's 300 s
  int64_t idle_timeout_ms = 0;   // abort if no byte arrives for this long (0 = none); counted
                                 // from Start and then from every received byte
  int64_t total_timeout_ms = 0;  // abort if the response has not ended by then (0 = none)
  int max_redirects = 0;         // 0: a 3xx response is returned as is; >0: followed this often
};

struct HttpResponseHead {
  int status = 0;
  std::vector<HttpHeader> headers;  // names lowercased, values trimmed, in arrival order

  // First header value by case-insensitive name, or nullopt.
  std::optional<std::string> Header(std::string_view name) const {
    return FindHttpHeader(headers, name);
  }
};

}  // namespace troupe
