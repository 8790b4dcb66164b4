#include "core/http_status.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(HttpStatusTest, TheCallersMistakesAreInvalidArguments) {
  for (int s : {400, 413, 415, 422}) {
    EXPECT_EQ(StatusCodeForHttpStatus(s), StatusCode::kInvalidArgument) << s;
  }
}

TEST(HttpStatusTest, CredentialsAndStateArePreconditions) {
  for (int s : {401, 403, 409}) {
    EXPECT_EQ(StatusCodeForHttpStatus(s), StatusCode::kFailedPrecondition) << s;
  }
  EXPECT_EQ(StatusCodeForHttpStatus(404), StatusCode::kNotFound);
  EXPECT_EQ(StatusCodeForHttpStatus(405), StatusCode::kUnimplemented);
  EXPECT_EQ(StatusCodeForHttpStatus(501), StatusCode::kUnimplemented);
}

// 429 once meant ResourceExhausted for the CLI and Unavailable for the providers; it is
// "try again later" for both now.
TEST(HttpStatusTest, RateLimitsTimeoutsAndServerErrorsAreUnavailable) {
  for (int s : {408, 429, 500, 502, 503, 504, 529, 599}) {
    EXPECT_EQ(StatusCodeForHttpStatus(s), StatusCode::kUnavailable) << s;
  }
}

TEST(HttpStatusTest, AnythingElseIsInternal) {
  for (int s : {0, 200, 302, 418, 451, 600}) {
    EXPECT_EQ(StatusCodeForHttpStatus(s), StatusCode::kInternal) << s;
  }
}

}  // namespace
}  // namespace troupe
