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

UsageTotals UsageOf(const TaskRecord& t) {
  UsageTotals u;
  u.requests = t.requests;
  u.input_tokens = t.input_tokens;
  u.output_tokens = t.output_tokens;
  u.cache_write_tokens = t.cache_write_tokens;
  u.cache_read_tokens = t.cache_read_tokens;
  u.reasoning_tokens = t.reasoning_tokens;
  u.cost_nano_usd = t.cost_nano_usd;
  u.unpriced_requests = t.unpriced_requests;
  return u;
}

void AddUsage(TaskRecord* t, const UsageTotals& u) {
  t->requests += static_cast<int>(u.requests);
  t->input_tokens += u.input_tokens;
  t->output_tokens += u.output_tokens;
  t->cache_write_tokens += u.cache_write_tokens;
  t->cache_read_tokens += u.cache_read_tokens;
  t->reasoning_tokens += u.reasoning_tokens;
  t->cost_nano_usd += u.cost_nano_usd;
  t->unpriced_requests += static_cast<int>(u.unpriced_requests);
}

}  // namespace troupe
