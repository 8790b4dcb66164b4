#include "http/response_framing.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(ResponseFramingTest, WholeResponseHead) {
  ResponseHeaders headers = {{"Retry-After", "2"}, {"Content-Type", "text/plain"}};
  ResponseHead head;
  head.status = 503;
  head.content_type = "application/json";
  head.headers = &headers;
  head.content_length = 17;
  EXPECT_EQ(FormatResponseHead(head),
            "HTTP/1.1 503 Service Unavailable\r\n"
            "Content-Type: application/json\r\n"
            "Retry-After: 2\r\n"
            "Content-Length: 17\r\n"
            "\r\n");
}

TEST(ResponseFramingTest, HandlerContentTypeKeptWhenNoneIsGiven) {
  ResponseHeaders headers = {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
  ResponseHead head;
  head.headers = &headers;
  head.framing = BodyFraming::kChunked;
  EXPECT_EQ(FormatResponseHead(head),
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/event-stream\r\n"
            "Cache-Control: no-cache\r\n"
            "Transfer-Encoding: chunked\r\n"
            "\r\n");
}

TEST(ResponseFramingTest, ConnectionHeaderFollowsKeepAliveAndVersion) {
  ResponseHead head;
  head.framing = BodyFraming::kNone;
  head.status = 204;
  head.keep_alive = false;
  EXPECT_EQ(FormatResponseHead(head), "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
  head.keep_alive = true;
  head.http10 = true;
  EXPECT_EQ(FormatResponseHead(head),
            "HTTP/1.1 204 No Content\r\nConnection: keep-alive\r\n\r\n");
  head.framing = BodyFraming::kUntilClose;
  head.status = 200;
  head.keep_alive = false;
  EXPECT_EQ(FormatResponseHead(head), "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n");
}

TEST(ResponseFramingTest, DropsHeadersThatWouldBreakTheFraming) {
  ResponseHeaders headers = {{"Content-Length", "1"}, {"X-Bad", "a\r\nb: c"}, {"X-Ok", "1"}};
  ResponseHead head;
  head.headers = &headers;
  head.content_length = 0;
  EXPECT_EQ(FormatResponseHead(head), "HTTP/1.1 200 OK\r\nX-Ok: 1\r\nContent-Length: 0\r\n\r\n");
}

TEST(ResponseFramingTest, ReasonPhrases) {
  EXPECT_EQ(ReasonPhrase(200), "OK");
  EXPECT_EQ(ReasonPhrase(431), "Request Header Fields Too Large");
  EXPECT_EQ(ReasonPhrase(529), "Overloaded");
  EXPECT_EQ(ReasonPhrase(299), "Unknown");
}

TEST(ResponseFramingTest, Chunks) {
  EXPECT_EQ(FormatChunk("hello"), "5\r\nhello\r\n");
  EXPECT_EQ(FormatChunk(std::string(26, 'x')), "1a\r\n" + std::string(26, 'x') + "\r\n");
  EXPECT_EQ(FormatChunk(""), "");
  EXPECT_EQ(kLastChunk, "0\r\n\r\n");
}

}  // namespace
}  // namespace troupe
