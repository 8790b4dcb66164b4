#include "engine/budget.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <nlohmann/json.hpp>

namespace troupe {

namespace {

std::optional<int64_t> Lower(std::optional<int64_t> a, std::optional<int64_t> b) {
  if (!a) return b;
  if (!b) return a;
  return std::min(*a, *b);
}

std::string Requests(int64_t n) { return fmt::format("{} request{}", n, n == 1 ? "" : "s"); }

}  // namespace

int64_t UsdToNano(double usd) { return static_cast<int64_t>(std::llround(usd * 1e9)); }

TaskBudget TaskBudgetOf(const TaskRecord& task) {
  if (task.limits_json.empty()) return {};
  const nlohmann::json limits =
      nlohmann::json::parse(task.limits_json, nullptr, /*allow_exceptions=*/false);
  if (!limits.is_object()) return {};
  auto positive = [&](const char* key) -> std::optional<int64_t> {
    auto it = limits.find(key);
    if (it == limits.end() || !it->is_number_integer() || it->get<int64_t>() <= 0) {
      return std::nullopt;
    }
    return it->get<int64_t>();
  };
  return {positive("maxTokens"), positive("maxCostNanoUsd")};
}

TaskBudget Narrowest(const TaskBudget& a, const TaskBudget& b) {
  return {Lower(a.max_tokens, b.max_tokens), Lower(a.max_cost_nano_usd, b.max_cost_nano_usd)};
}

std::string TaskBudgetVerdict(const TaskBudget& budget, const UsageTotals& spent) {
  if (budget.max_tokens && spent.tokens() >= *budget.max_tokens) {
    return fmt::format(
        "task budget reached: max_tokens {}, spent {} tokens ({} in, {} out) in {}",
        *budget.max_tokens, spent.tokens(), spent.input_tokens, spent.output_tokens,
        Requests(spent.requests));
  }
  if (budget.max_cost_nano_usd && spent.cost_nano_usd >= *budget.max_cost_nano_usd) {
    return fmt::format("task budget reached: max_cost_usd {}, spent {} in {}",
                       FormatUsd(*budget.max_cost_nano_usd), FormatUsd(spent.cost_nano_usd),
                       Requests(spent.requests));
  }
  return "";
}

RequestAllowance NextRequestAllowance(const TaskBudget& budget, const UsageTotals& spent,
                                      int64_t next_input_tokens, int max_output_tokens,
                                      const ModelPrice* price) {
  RequestAllowance allowance;
  int64_t fits = max_output_tokens;
  std::string refused;
  if (budget.max_tokens) {
    const int64_t left = *budget.max_tokens - spent.tokens() - next_input_tokens;
    if (left < fits) {
      fits = left;
      refused = fmt::format(
          "task budget would be passed by the next model request: max_tokens {}, spent {} tokens "
          "in {}, and the next request sends about {} more, leaving room for {} output tokens "
          "(fewer than {}, the smallest reply worth asking for)",
          *budget.max_tokens, spent.tokens(), Requests(spent.requests), next_input_tokens,
          std::max<int64_t>(left, 0), kMinBudgetReplyTokens);
    }
  }
  if (budget.max_cost_nano_usd && price != nullptr) {
    // USD per million tokens = nano-USD per thousand tokens.
    const double input_nano = price->input * 1000.0;
    const double output_nano = price->output * 1000.0;
    const auto input_cost =
        static_cast<int64_t>(std::llround(static_cast<double>(next_input_tokens) * input_nano));
    const int64_t left = *budget.max_cost_nano_usd - spent.cost_nano_usd - input_cost;
    // -1 when the prompt alone passes the budget: not even an empty reply fits.
    const int64_t affordable =
        left < 0 ? -1
        : output_nano <= 0
            ? fits
            : static_cast<int64_t>(std::floor(static_cast<double>(left) / output_nano));
    if (affordable < fits) {
      fits = affordable;
      refused = fmt::format(
          "task budget would be passed by the next model request: max_cost_usd {}, spent {} in "
          "{}, and the next request's prompt costs about {}, leaving {} — room for {} output "
          "tokens (fewer than {}, the smallest reply worth asking for)",
          FormatUsd(*budget.max_cost_nano_usd), FormatUsd(spent.cost_nano_usd),
          Requests(spent.requests), FormatUsd(input_cost), FormatUsd(std::max<int64_t>(left, 0)),
          std::max<int64_t>(affordable, 0), kMinBudgetReplyTokens);
    }
  }
  if (fits < kMinBudgetReplyTokens && fits < max_output_tokens) {
    allowance.verdict = std::move(refused);
    return allowance;
  }
  allowance.max_output_tokens = static_cast<int>(std::min<int64_t>(fits, max_output_tokens));
  return allowance;
}

std::string UnpricedVerdict(const char* budget_key, std::optional<int64_t> max_cost_nano_usd,
                            const std::string& model) {
  if (!max_cost_nano_usd) return "";
  return fmt::format(
      "model {} has no price, so the cost budget {} {} could not count what it spends; add its "
      "price under \"prices\" in the config (docs/CONFIG.md \"Prices\"), or set "
      "budgets.allow_unpriced_models to true to run unpriced models with only their token "
      "budgets enforced",
      model, budget_key, FormatUsd(*max_cost_nano_usd));
}

std::string TreeCostVerdict(const TreeBudget& budget, const std::string& root_session_id,
                            int64_t spent_nano_usd, int tasks) {
  if (!budget.max_cost_nano_usd || spent_nano_usd < *budget.max_cost_nano_usd) return "";
  return fmt::format("tree budget reached: tree_max_cost_usd {} for the tree of session {}, "
                     "spent {} by its {} task{}",
                     FormatUsd(*budget.max_cost_nano_usd), root_session_id,
                     FormatUsd(spent_nano_usd), tasks, tasks == 1 ? "" : "s");
}

std::string SpawnCapVerdict(const TreeBudget& budget, const std::string& root_session_id,
                            int launched) {
  if (budget.max_tasks <= 0 || launched < budget.max_tasks) return "";
  return fmt::format(
      "spawn cap reached: tree_max_tasks {} for the tree of session {}, and {} tasks were "
      "already launched in it; no more tasks can be started in this tree — finish the work "
      "with the results you have",
      budget.max_tasks, root_session_id, launched);
}

std::string DailyVerdict(std::optional<int64_t> max_nano_usd, int64_t spent_nano_usd,
                         const std::string& day) {
  if (!max_nano_usd || spent_nano_usd < *max_nano_usd) return "";
  return fmt::format(
      "daily budget reached: daily_max_cost_usd {}, spent {} on {} (UTC); new work is refused "
      "until 00:00 UTC",
      FormatUsd(*max_nano_usd), FormatUsd(spent_nano_usd), day);
}

int64_t UtcDayStartMs(int64_t wall_ms) {
  const int64_t floor = wall_ms >= 0 ? wall_ms / kDayMs : (wall_ms - kDayMs + 1) / kDayMs;
  return floor * kDayMs;
}

std::string UtcDay(int64_t wall_ms) {
  const std::time_t seconds = static_cast<std::time_t>(UtcDayStartMs(wall_ms) / 1000);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  return fmt::format("{:04}-{:02}-{:02}", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

}  // namespace troupe
