// Assembles the final head of an HTTP response from the header lines libcurl hands to its
// CURLOPT_HEADERFUNCTION. libcurl reports every response head it receives — interim 1xx
// responses (100 Continue, 103 Early Hints), each redirect it follows, then the final one — and,
// after a chunked body, the trailers. Only the final head matters to a caller.
#pragma once

#include <string_view>

#include "core/http_message.h"

namespace troupe {

class HttpHeadParser {
 public:
  // `follows_redirects`: libcurl was told to follow redirects, so a 3xx response with a Location
  // is not the final one.
  explicit HttpHeadParser(bool follows_redirects) : follows_redirects_(follows_redirects) {}

  // Feeds one line (a status line, "Name: value", a folded continuation or the blank line that
  // ends a head; a trailing CRLF is optional). Returns true exactly once: for the blank line that
  // completes the final head. Lines after that (trailers) are ignored.
  bool AddLine(std::string_view line);

  bool complete() const { return complete_; }
  // The final head once complete(); before that, the head being assembled.
  const HttpResponseHead& head() const { return head_; }

 private:
  bool follows_redirects_;
  bool complete_ = false;
  bool in_head_ = false;  // a status line was seen and its blank line not yet
  HttpResponseHead head_;
};

// The status code of an HTTP status line ("HTTP/1.1 200 OK", "HTTP/2 204"), or 0 when `line`
// is not one.
int ParseHttpStatusLine(std::string_view line);

}  // namespace troupe
