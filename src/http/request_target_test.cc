#include "http/request_target.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(RequestTargetTest, SplitsPathAndDecodesQuery) {
  ApiRequest request;
  EXPECT_FALSE(ParseRequestTarget("/v1/tasks/bg%5F1?wait_ms=3000&q=a+b%26c", &request));
  EXPECT_EQ(request.path, "/v1/tasks/bg_1");
  EXPECT_EQ(request.query.at("wait_ms"), "3000");
  EXPECT_EQ(request.query.at("q"), "a b&c");
}

TEST(RequestTargetTest, PlusStaysPlusInThePath) {
  ApiRequest request;
  EXPECT_FALSE(ParseRequestTarget("/a+b", &request));
  EXPECT_EQ(request.path, "/a+b");
}

TEST(RequestTargetTest, IgnoresFragmentsEmptyPairsAndKeepsTheLastRepeat) {
  ApiRequest request;
  EXPECT_FALSE(ParseRequestTarget("/p#frag", &request));
  EXPECT_EQ(request.path, "/p");
  EXPECT_TRUE(request.query.empty());
  ApiRequest other;
  EXPECT_FALSE(ParseRequestTarget("/p?&a=1&&a=2&flag#x=3", &other));
  EXPECT_EQ(other.query.size(), 2u);
  EXPECT_EQ(other.query.at("a"), "2");
  EXPECT_EQ(other.query.at("flag"), "");
}

TEST(RequestTargetTest, RefusesATargetThatIsNotAPath) {
  for (const char* target : {"", "http://example.com/", "*", "v1/tasks"}) {
    ApiRequest request;
    std::optional<ApiError> error = ParseRequestTarget(target, &request);
    ASSERT_TRUE(error.has_value()) << target;
    EXPECT_EQ(error->status, 400);
    EXPECT_EQ(error->code, "bad_request");
    EXPECT_NE(error->message.find("starting with '/'"), std::string::npos);
  }
}

TEST(RequestTargetTest, NamesTheBadEscape) {
  ApiRequest request;
  std::optional<ApiError> error = ParseRequestTarget("/v1/%zz", &request);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->code, "invalid_argument");
  EXPECT_NE(error->message.find("\"/v1/%zz\""), std::string::npos);

  ApiRequest query;
  error = ParseRequestTarget("/v1?after=%4", &query);
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->field, "after");
  EXPECT_NE(error->message.find("\"after=%4\""), std::string::npos);
}

TEST(RequestTargetTest, RefusesAnEncodedNul) {
  ApiRequest request;
  std::optional<ApiError> error = ParseRequestTarget("/v1/a%00b", &request);
  ASSERT_TRUE(error.has_value());
  EXPECT_NE(error->message.find("NUL"), std::string::npos);
}

TEST(RequestTargetTest, QuotesLongPiecesShortened) {
  ApiRequest request;
  std::optional<ApiError> error = ParseRequestTarget(std::string(200, 'x'), &request);
  ASSERT_TRUE(error.has_value());
  EXPECT_LT(error->message.size(), 150u);
  EXPECT_NE(error->message.find("…"), std::string::npos);
}

TEST(RequestTargetTest, PercentDecodeAndRawPath) {
  std::string out;
  EXPECT_TRUE(PercentDecode("a%2Fb+c", /*plus_is_space=*/true, &out));
  EXPECT_EQ(out, "a/b c");
  EXPECT_FALSE(PercentDecode("%", false, &out));
  EXPECT_FALSE(PercentDecode("%a", false, &out));
  EXPECT_FALSE(PercentDecode("%g0", false, &out));
  EXPECT_EQ(RawPath("/v1/tasks?x=1"), "/v1/tasks");
  EXPECT_EQ(RawPath("/v1/tasks"), "/v1/tasks");
}

}  // namespace
}  // namespace troupe
