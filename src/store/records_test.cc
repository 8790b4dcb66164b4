#include "store/records.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

TEST(RecordsTest, TaskStateNamesRoundTrip) {
  for (TaskState state : {TaskState::kPending, TaskState::kRunning, TaskState::kCompleted,
                          TaskState::kError, TaskState::kCancelled, TaskState::kInterrupted}) {
    std::optional<TaskState> parsed = ParseTaskState(TaskStateName(state));
    ASSERT_TRUE(parsed.has_value()) << TaskStateName(state);
    EXPECT_EQ(*parsed, state);
  }
  EXPECT_EQ(TaskStateName(TaskState::kPending), "pending");
  EXPECT_EQ(TaskStateName(TaskState::kInterrupted), "interrupted");
}

TEST(RecordsTest, ParseTaskStateRejectsUnknownNames) {
  EXPECT_FALSE(ParseTaskState("").has_value());
  EXPECT_FALSE(ParseTaskState("Pending").has_value());
  EXPECT_FALSE(ParseTaskState("done").has_value());
}

TEST(RecordsTest, FinalAndActiveStates) {
  EXPECT_TRUE(IsFinal(TaskState::kCompleted));
  EXPECT_TRUE(IsFinal(TaskState::kError));
  EXPECT_TRUE(IsFinal(TaskState::kCancelled));
  EXPECT_FALSE(IsFinal(TaskState::kInterrupted));
  EXPECT_FALSE(IsFinal(TaskState::kRunning));
  EXPECT_TRUE(IsActive(TaskState::kPending));
  EXPECT_TRUE(IsActive(TaskState::kRunning));
  EXPECT_FALSE(IsActive(TaskState::kInterrupted));
}

}  // namespace
}  // namespace troupe
