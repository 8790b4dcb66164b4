// Spend limits and the checks against them, as pure functions of the limits and what was spent
// (the TaskManager keeps the spend and acts on the verdicts: engine/task_spend.cc). Every
// verdict is a message that names the budget, its limit and what was spent, so a user (or a
// model reading a tool error) knows which limit stopped what.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "config/config.h"
#include "store/records.h"

namespace troupe {

// Limits of one task. Unset = none.
struct TaskBudget {
  std::optional<int64_t> max_tokens;  // input + output tokens
  std::optional<int64_t> max_cost_nano_usd;
  bool operator==(const TaskBudget&) const = default;
};

// Limits of one tree: a top-level session and every task delegated under it.
struct TreeBudget {
  std::optional<int64_t> max_cost_nano_usd;
  int max_tasks = 0;  // tasks ever launched in the tree; 0 = no cap
  bool operator==(const TreeBudget&) const = default;
};

int64_t UsdToNano(double usd);

// A task's own budget, as the engine wrote it into its limits_json at launch.
TaskBudget TaskBudgetOf(const TaskRecord& task);

// Each limit the lower of the two (an unset limit is no limit).
TaskBudget Narrowest(const TaskBudget& a, const TaskBudget& b);

// "" while `spent` is below every limit of `budget`; else the verdict: "task budget reached:
// max_tokens 10000, spent 10523 tokens (9000 in, 1523 out) in 4 requests".
std::string TaskBudgetVerdict(const TaskBudget& budget, const UsageTotals& spent);
// The smallest reply worth asking for when a budget lowers a request's max_tokens: below it the
// request is refused instead (a reply that short could not even hold one tool call).
inline constexpr int kMinBudgetReplyTokens = 256;

// What the next model request may ask for under `budget`.
struct RequestAllowance {
  int max_output_tokens = 0;  // <= what was asked; meaningful when verdict is ""
  std::string verdict;        // "" = send it; else why it is refused
};

// Before a request: the request sends about `next_input_tokens` (its estimated prompt) and may
// write up to `max_output_tokens`; `price` (null = the model has no price) prices both. The
// request is sent as asked when `spent` plus all of that stays within every limit; else its
// max_tokens is lowered to what the remaining budget can pay for; when that is below
// kMinBudgetReplyTokens the request is refused with a verdict naming the budget. A cost limit
// with a null `price` is not checked here (UnpricedVerdict decides about unpriced models).
RequestAllowance NextRequestAllowance(const TaskBudget& budget, const UsageTotals& spent,
                                      int64_t next_input_tokens, int max_output_tokens,
                                      const ModelPrice* price);

// A cost budget cannot count what a model without a price spends. "" when `max_cost_nano_usd`
// is unset; else the verdict naming the budget (`budget_key`, e.g. "task_max_cost_usd") and
// `model`, and what the user can do.
std::string UnpricedVerdict(const char* budget_key, std::optional<int64_t> max_cost_nano_usd,
                            const std::string& model);

// The tree's cost verdict ("" while below): names the root session and the tasks that spent it.
std::string TreeCostVerdict(const TreeBudget& budget, const std::string& root_session_id,
                            int64_t spent_nano_usd, int tasks);
// The spawn cap's verdict for one more launch in a tree that has had `launched` tasks.
std::string SpawnCapVerdict(const TreeBudget& budget, const std::string& root_session_id,
                            int launched);
// The daily budget's verdict ("" while below): `day` is "YYYY-MM-DD" (UTC).
std::string DailyVerdict(std::optional<int64_t> max_nano_usd, int64_t spent_nano_usd,
                         const std::string& day);

// The UTC day of a wall time, "YYYY-MM-DD", and the wall times it starts and ends at.
std::string UtcDay(int64_t wall_ms);
int64_t UtcDayStartMs(int64_t wall_ms);
inline constexpr int64_t kDayMs = 24LL * 60 * 60 * 1000;

}  // namespace troupe
