#include "core/status.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd number " + std::to_string(x));
  return x / 2;
}

Result<int> Quarter(int x) {
  int h = 0;
  TROUPE_ASSIGN_OR_RETURN(h, Half(x));
  return Half(h);
}

Status CheckEven(int x) {
  TROUPE_RETURN_IF_ERROR(Half(x).status());
  return Status::Ok();
}

TEST(StatusTest, OkAndErrorsCarryCodeAndMessage) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok().ToString(), "ok");
  Status s = Status::NotFound("task bg_x does not exist");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "not found: task bg_x does not exist");
  EXPECT_EQ(s.WithContext("cancel").message(), "cancel: task bg_x does not exist");
  EXPECT_EQ(s.WithContext("cancel").code(), StatusCode::kNotFound);
}

TEST(StatusTest, AFieldNamesTheArgumentAndSurvivesContext) {
  const Status s = Status::NotFound("unknown agent \"x\"").WithField("agent");
  EXPECT_EQ(s.field(), "agent");
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  const Status wrapped = s.WithContext("launch");
  EXPECT_EQ(wrapped.field(), "agent");
  EXPECT_EQ(wrapped.message(), "launch: unknown agent \"x\"");
  EXPECT_TRUE(Status::NotFound("x").field().empty());
  EXPECT_TRUE(Status::Ok().WithField("agent").field().empty());  // OK stays plain OK
  EXPECT_NE(s, Status::NotFound("unknown agent \"x\""));         // the field is part of it
}

TEST(StatusTest, ResultHoldsValueOrError) {
  Result<int> r = Half(8);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 4);
  Result<int> e = Half(3);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().message(), "odd number 3");
}

TEST(StatusTest, MacrosPropagateTheFirstError) {
  EXPECT_EQ(*Quarter(8), 2);
  EXPECT_EQ(Quarter(6).status().message(), "odd number 3");
  EXPECT_TRUE(CheckEven(2).ok());
  EXPECT_EQ(CheckEven(5).code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace troupe
