#include "core/http_head_parser.h"

#include <gtest/gtest.h>

#include <initializer_list>

namespace troupe {
namespace {

// Feeds `lines` and returns the index of the line that completed the head, or -1.
int Feed(HttpHeadParser& parser, std::initializer_list<std::string_view> lines) {
  int index = 0, completed_at = -1;
  for (std::string_view line : lines) {
    if (parser.AddLine(line)) {
      EXPECT_EQ(completed_at, -1) << "completed twice";
      completed_at = index;
    }
    ++index;
  }
  return completed_at;
}

TEST(HttpStatusLineTest, ParsesHttp1AndHttp2StatusLines) {
  EXPECT_EQ(ParseHttpStatusLine("HTTP/1.1 200 OK\r\n"), 200);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/2 204\r\n"), 204);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/1.0 404 Not Found"), 404);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/2 200"), 200);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/1.1 20 OK"), 0);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/1.1 2000 OK"), 0);
  EXPECT_EQ(ParseHttpStatusLine("Content-Type: text/plain"), 0);
  EXPECT_EQ(ParseHttpStatusLine("HTTP/1.1"), 0);
}

TEST(HttpHeadParserTest, AssemblesAHeadWithLowercasedNamesAndTrimmedValues) {
  HttpHeadParser parser(/*follows_redirects=*/false);
  EXPECT_EQ(
      Feed(parser, {"HTTP/1.1 201 Created\r\n", "Content-Type:  text/plain \r\n", "X-Folded: a\r\n",
                    "  b\r\n", "Set-Cookie: 1\r\n", "set-cookie: 2\r\n", "\r\n"}),
      6);
  ASSERT_TRUE(parser.complete());
  const HttpResponseHead& head = parser.head();
  EXPECT_EQ(head.status, 201);
  EXPECT_EQ(head.Header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(head.Header("x-folded"), "a b");
  EXPECT_EQ(head.Header("set-cookie"), "1");  // the first of repeated headers
  EXPECT_EQ(head.headers.size(), 4u);
  EXPECT_EQ(head.Header("missing"), std::nullopt);
}

TEST(HttpHeadParserTest, SkipsInterimResponsesAndIgnoresTrailers) {
  HttpHeadParser parser(false);
  EXPECT_EQ(Feed(parser, {"HTTP/1.1 100 Continue\r\n", "\r\n", "HTTP/1.1 103 Early Hints\r\n",
                          "Link: </a.css>\r\n", "\r\n", "HTTP/1.1 200 OK\r\n", "A: 1\r\n", "\r\n",
                          "Trailer-Field: x\r\n", "\r\n"}),
            7);
  EXPECT_EQ(parser.head().status, 200);
  EXPECT_EQ(parser.head().headers, (std::vector<HttpHeader>{{"a", "1"}}));
}

TEST(HttpHeadParserTest, RedirectIsFinalUnlessFollowed) {
  HttpHeadParser kept(false);
  EXPECT_EQ(Feed(kept, {"HTTP/1.1 302 Found\r\n", "Location: /b\r\n", "\r\n"}), 2);
  EXPECT_EQ(kept.head().status, 302);

  HttpHeadParser followed(true);
  EXPECT_EQ(Feed(followed, {"HTTP/1.1 302 Found\r\n", "Location: /b\r\n", "\r\n",
                            "HTTP/1.1 200 OK\r\n", "\r\n"}),
            4);
  EXPECT_EQ(followed.head().status, 200);
  EXPECT_TRUE(followed.head().headers.empty());

  HttpHeadParser not_modified(true);  // no Location: nothing to follow
  EXPECT_EQ(Feed(not_modified, {"HTTP/1.1 304 Not Modified\r\n", "\r\n"}), 1);
}

TEST(HttpHeadParserTest, IgnoresNoiseBeforeTheStatusLineAndMalformedLines) {
  HttpHeadParser parser(false);
  EXPECT_EQ(Feed(parser, {"garbage\r\n", "HTTP/1.1 200 OK\r\n", "no colon here\r\n",
                          ": empty name\r\n", "Ok: yes\r\n", "\r\n"}),
            5);
  EXPECT_EQ(parser.head().headers, (std::vector<HttpHeader>{{"ok", "yes"}}));
}

TEST(UrlForDisplayTest, DropsCredentialsQueryAndFragment) {
  EXPECT_EQ(UrlForDisplay("https://user:secret@api.example.com:8443/v1/chat?key=abc#x"),
            "https://api.example.com:8443/v1/chat");
  EXPECT_EQ(UrlForDisplay("http://127.0.0.1:80"), "http://127.0.0.1:80");
  EXPECT_EQ(UrlForDisplay("http://host?key=1"), "http://host");
  EXPECT_EQ(UrlForDisplay("http://host/a@b"), "http://host/a@b");
}

}  // namespace
}  // namespace troupe
