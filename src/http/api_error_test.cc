#include "http/api_error.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(ApiErrorTest, AClientReadsBackTheCodeTheServerMeant) {
  for (StatusCode code :
       {StatusCode::kInvalidArgument, StatusCode::kNotFound, StatusCode::kFailedPrecondition,
        StatusCode::kResourceExhausted, StatusCode::kUnavailable, StatusCode::kIoError,
        StatusCode::kDeadlineExceeded, StatusCode::kInternal}) {
    const ApiError e = ApiErrorFromStatus(Status(code, "x"));
    EXPECT_EQ(StatusCodeFromApiCode(e.code, e.status), code) << e.code;
  }
}

TEST(ApiErrorTest, The500OfTheDaemonIsItsBugWithOrWithoutACode) {
  EXPECT_EQ(StatusCodeFromApiCode("internal", 500), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromApiCode("", 500), StatusCode::kInternal);
  EXPECT_EQ(StatusCodeFromApiCode("", 502), StatusCode::kUnavailable);
  EXPECT_EQ(StatusCodeFromApiCode("unauthorized", 401), StatusCode::kFailedPrecondition);
  EXPECT_EQ(StatusCodeFromApiCode("something_new", 404), StatusCode::kNotFound);
}

TEST(ApiErrorTest, TheFieldGoesWithTheError) {
  const ApiError e =
      ApiErrorFromStatus(Status::InvalidArgument("unknown agent \"x\"").WithField("agent"));
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.field, "agent");
}

}  // namespace
}  // namespace troupe
