#include "http/request_feed.h"

#include <gtest/gtest.h>

#include <boost/beast/http/error.hpp>
#include <string>
#include <string_view>

namespace troupe {
namespace {

namespace http = boost::beast::http;

// Parses `head`, then feeds `body` `step` bytes at a time as a connection receives them.
struct Fed {
  bool done = false;
  boost::system::error_code error;
  std::string body;
  size_t feeds = 0;  // calls that reached the parser
};

Fed Feed(std::string_view head, std::string_view body, size_t step) {
  RequestParser parser;
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(head.data(), head.size()), ec);
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(parser.is_header_done());
  Fed out;
  std::string pending;
  size_t pos = 0;
  while (!parser.is_done() && pos < body.size()) {
    const size_t n = std::min(step, body.size() - pos);
    pending.append(body.substr(pos, n));
    pos += n;
    const size_t used = FeedRequestBody(parser, boost::asio::buffer(pending), ec);
    pending.erase(0, used);
    if (ec == http::error::need_more) continue;
    if (ec) {
      out.error = ec;
      return out;
    }
  }
  out.done = parser.is_done();
  if (out.done) out.body = parser.get().body();
  return out;
}

constexpr std::string_view kChunkedHead =
    "POST /mcp HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";

TEST(RequestFeedTest, AChunkedBodyFedAByteAtATimeEndsAsWhenFedWhole) {
  const std::string_view body = "3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\nX-Trailer: t\r\n\r\n";
  for (size_t step : {size_t{1}, size_t{2}, size_t{3}, size_t{4}, body.size()}) {
    Fed fed = Feed(kChunkedHead, body, step);
    EXPECT_TRUE(fed.done) << "step " << step;
    EXPECT_EQ(fed.body, "abcde") << "step " << step;
  }
}

TEST(RequestFeedTest, TheShortestEndIsNeverHeldBack) {
  Fed fed = Feed(kChunkedHead, "0\r\n\r\n", 1);
  EXPECT_TRUE(fed.done);
  EXPECT_EQ(fed.body, "");
}

TEST(RequestFeedTest, TheFuzzFindingIsRefusedWhateverTheSplit) {
  // A last chunk followed by trailer bytes with bare CRs (the fuzzer's input, after its head).
  const std::string_view body = "0\r\n5\rd\xed\n\r\n5\rTDP\n\r\nbad0name";
  for (size_t step : {size_t{1}, size_t{2}, body.size()}) {
    Fed fed = Feed(kChunkedHead, body, step);
    EXPECT_FALSE(fed.done) << "step " << step;
  }
}

TEST(RequestFeedTest, ALengthBodyIsFedAsItComes) {
  RequestParser parser;
  boost::system::error_code ec;
  const std::string head = "POST /x HTTP/1.1\r\nContent-Length: 2\r\n\r\n";
  parser.put(boost::asio::buffer(head), ec);
  ASSERT_FALSE(ec);
  std::string one = "a";
  EXPECT_EQ(FeedRequestBody(parser, boost::asio::buffer(one), ec), 1u);
  EXPECT_EQ(ec, http::error::need_more);
  std::string two = "b";
  EXPECT_EQ(FeedRequestBody(parser, boost::asio::buffer(two), ec), 1u);
  EXPECT_FALSE(ec);
  EXPECT_TRUE(parser.is_done());
  EXPECT_EQ(parser.get().body(), "ab");
}

TEST(RequestFeedTest, ReportsParseErrors) {
  Fed fed = Feed(kChunkedHead, "zz\r\nabc\r\n0\r\n\r\n", 100);
  EXPECT_FALSE(fed.done);
  EXPECT_EQ(fed.error, http::error::bad_chunk);
}

}  // namespace
}  // namespace troupe
