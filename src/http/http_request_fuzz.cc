// libFuzzer target for the bytes the HTTP transport parses and writes. The input is used three
// ways; beyond "no crash, no sanitizer report" it checks that:
//  - as a request target: ParseRequestTarget either refuses it with a 400 and a message, or gives
//    a path that starts with '/' and holds no NUL, and re-escaping that path byte by byte and
//    parsing again gives the same path;
//  - as request bytes: Beast's request parser, set up and fed as the connection does it (the
//    default head limit, a body limit, the body fed by http/request_feed.h), reads the same
//    request fed whole and fed one byte at a time; a target it accepts goes through the checks
//    above;
//  - as response headers (one "name: value" per line): the head FormatResponseHead writes parses
//    back as one response with the same status and Content-Length, and no handler header can
//    add a line or override the framing.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <fmt/format.h>

#include "http/http_server.h"
#include "http/request_checks.h"
#include "http/request_feed.h"
#include "http/request_target.h"
#include "http/response_framing.h"

namespace {

namespace http = boost::beast::http;
using troupe::ApiError;
using troupe::ApiRequest;

void Check(bool condition) {
  if (!condition) __builtin_trap();
}

void CheckTarget(std::string_view target) {
  ApiRequest request;
  std::optional<ApiError> error = troupe::ParseRequestTarget(target, &request);
  if (error.has_value()) {
    Check(error->status == 400);
    Check(!error->message.empty());
    return;
  }
  Check(!request.path.empty() && request.path.front() == '/');
  Check(request.path.find('\0') == std::string::npos);
  std::string escaped;
  for (unsigned char c : request.path) escaped += fmt::format("%{:02X}", c);
  ApiRequest again;
  // The escaped path starts with "%2F", not '/': parse it behind a '/' and drop that.
  Check(!troupe::ParseRequestTarget("/" + escaped, &again).has_value());
  Check(again.path == "/" + request.path);
  Check(troupe::RawPath(target).size() <= target.size());
}

struct Parsed {
  bool done = false;
  bool failed = false;
  std::string method, target, body;
  friend bool operator==(const Parsed&, const Parsed&) = default;
};

// Parses `bytes` as the connection reads a request: the head with Beast's parser as
// http::async_read_header drives it, then the body fed as http/request_feed.h says; the bytes
// arrive `step` at a time.
Parsed ParseRequest(std::string_view bytes, size_t step) {
  troupe::RequestParser parser;
  parser.header_limit(static_cast<std::uint32_t>(troupe::HttpServerOptions{}.max_header_bytes));
  parser.body_limit(4096);
  Parsed out;
  std::string pending;
  size_t pos = 0;
  while (!parser.is_done()) {
    boost::system::error_code ec;
    // What was used must never be fed again.
    if (!parser.is_header_done()) {
      pending.erase(0, parser.put(boost::asio::buffer(pending), ec));
    } else {
      pending.erase(0, troupe::FeedRequestBody(parser, boost::asio::buffer(pending), ec));
    }
    if (ec && ec != http::error::need_more) {
      out.failed = true;
      return out;
    }
    if (parser.is_done()) break;
    if (!ec && parser.is_header_done()) continue;  // the head is done: on to the body
    if (pos >= bytes.size()) break;                // more is needed and there is no more
    const size_t n = std::min(step, bytes.size() - pos);
    pending.append(bytes.substr(pos, n));
    pos += n;
  }
  if (!parser.is_done()) return out;
  out.done = true;
  const auto& message = parser.get();
  out.method = std::string(message.method_string());
  out.target = std::string(message.target());
  out.body = message.body();
  return out;
}

void CheckRequest(std::string_view bytes) {
  const Parsed whole = ParseRequest(bytes, bytes.size() + 1);
  const Parsed single = ParseRequest(bytes, 1);
  // An error may show a few bytes earlier or later; a complete request is the same either way.
  Check(whole.done == single.done);
  if (!whole.done) return;
  Check(whole == single);
  CheckTarget(whole.target);
}

// The input as an Authorization value: it matches only when it carries the token.
void CheckBearer(std::string_view value) {
  if (troupe::HasBearerToken(value, "tok")) {
    Check(value.size() >= 10 && value.find("tok", 7) != std::string_view::npos);
  }
}

void CheckResponseHead(std::string_view bytes, int status) {
  troupe::ResponseHeaders headers;
  while (!bytes.empty()) {
    const size_t end = bytes.find('\n');
    const std::string_view line = bytes.substr(0, end);
    bytes = end == std::string_view::npos ? std::string_view() : bytes.substr(end + 1);
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    headers.emplace_back(std::string(line.substr(0, colon)), std::string(line.substr(colon + 1)));
  }
  troupe::ResponseHead head;
  head.status = status;
  head.headers = &headers;
  head.content_length = 3;
  const std::string text = troupe::FormatResponseHead(head) + "abc";
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.header_limit(1 << 20);
  boost::system::error_code ec;
  const size_t used = parser.put(boost::asio::buffer(text), ec);
  Check(!ec && parser.is_done() && used == text.size());
  const auto& message = parser.get();
  Check(message.result_int() == static_cast<unsigned>(status));
  Check(message.body() == "abc");
  size_t allowed = 0;
  for (const auto& [name, value] : headers) allowed += troupe::IsAllowedResponseHeader(name, value);
  Check(static_cast<size_t>(std::distance(message.begin(), message.end())) == allowed + 1);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  CheckTarget(input);
  CheckRequest(input);
  CheckBearer(input);
  int status = 200 + (size == 0 ? 0 : data[0] % 200);
  if (status == 204 || status == 304) status = 200;  // no body allowed: not what is checked
  CheckResponseHead(input, status);
  return 0;
}
