// Pure framing of HTTP/1.1 responses: the head (status line, headers, the framing headers the
// transport owns), chunks of a streamed body, and the interim 100 Continue. No I/O; unit-tested
// alone (response_framing_test.cc). The head is written by Boost.Beast's header serializer; the
// chunks are the two lines RFC 9112 §7.1 asks for.
//
// Header rules: a handler's headers are kept in their order, except those a handler may not set
// (request_checks.h IsAllowedResponseHeader) and, when `content_type` is given, its own
// Content-Type. The head always says HTTP/1.1. `Connection: close` when the connection ends after
// the answer; `Connection: keep-alive` when an HTTP/1.0 client's connection stays open.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace troupe {

using ResponseHeaders = std::vector<std::pair<std::string, std::string>>;

// How the body of a response is delimited.
enum class BodyFraming {
  kLength,      // Content-Length: content_length (a whole response)
  kNone,        // no body and no length (204, 304, or a head the caller frames itself)
  kChunked,     // Transfer-Encoding: chunked (a stream to an HTTP/1.1 client)
  kUntilClose,  // the body ends when the connection closes (a stream to an HTTP/1.0 client)
};

struct ResponseHead {
  int status = 200;
  std::string_view content_type;  // "" = none, or as among `headers`
  const ResponseHeaders* headers = nullptr;
  BodyFraming framing = BodyFraming::kLength;
  size_t content_length = 0;
  bool keep_alive = true;  // false: `Connection: close`
  bool http10 = false;     // the request was HTTP/1.0: a kept connection says so
};

// The reason phrase for `status` ("OK", "Not Found", 529 "Overloaded"; "Unknown" for a code
// without one).
std::string_view ReasonPhrase(int status);

// The response head, ending with its blank line.
std::string FormatResponseHead(const ResponseHead& head);

// One chunk of a chunked body ("<hex size>\r\n<bytes>\r\n"); "" for empty `bytes`, which would
// end the body.
std::string FormatChunk(std::string_view bytes);

// The end of a chunked body (no trailers).
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
// The interim answer to `Expect: 100-continue`.
inline constexpr std::string_view kContinueHead = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace troupe
