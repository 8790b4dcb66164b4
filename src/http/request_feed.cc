#include "http/request_feed.h"

#include <boost/beast/http/error.hpp>

namespace troupe {

size_t FeedRequestBody(RequestParser& parser, boost::asio::const_buffer bytes,
                       boost::system::error_code& ec) {
  namespace http = boost::beast::http;
  ec = {};
  parser.eager(true);  // through the whole body in one call, not one step of it
  const auto* data = static_cast<const char*>(bytes.data());
  size_t used = 0;
  while (!parser.is_done()) {
    const size_t left = bytes.size() - used;
    if (left == 0 || (parser.chunked() && left < kMinChunkedFeedBytes)) {
      ec = http::error::need_more;
      return used;
    }
    const size_t n = parser.put(boost::asio::const_buffer(data + used, left), ec);
    used += n;
    if (ec) return used;  // need_more included
    if (n == 0) {
      ec = http::error::need_more;  // nothing to do with these bytes alone
      return used;
    }
  }
  return used;
}

}  // namespace troupe
