#include "store/records.h"

#include <array>
#include <utility>

namespace troupe {

namespace {

constexpr std::array<std::pair<TaskState, std::string_view>, 6> kTaskStateNames = {{
    {TaskState::kPending, "pending"},
    {TaskState::kRunning, "running"},
    {TaskState::kCompleted, "completed"},
    {TaskState::kError, "error"},
    {TaskState::kCancelled, "cancelled"},
    {TaskState::kInterrupted, "interrupted"},
}};

}  // namespace

std::string_view TaskStateName(TaskState state) {
  for (const auto& [s, name] : kTaskStateNames) {
    if (s == state) return name;
  }
  return "unknown";
}

std::optional<TaskState> ParseTaskState(std::string_view name) {
  for (const auto& [state, n] : kTaskStateNames) {
    if (n == name) return state;
  }
  return std::nullopt;
}

}  // namespace troupe
