#include "llm/model_limits.h"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>

#include "core/text_case.h"

namespace troupe {
namespace {

struct Family {
  std::string_view prefix;
  int max_output;
};

// Longest prefix first where one family's name starts another's.
constexpr Family kFamilies[] = {
    {"claude-3-haiku", 4096},
    {"claude-3-opus", 4096},
    {"claude-3-5-haiku", 8192},
    {"claude-3-5-sonnet", 8192},
    {"claude-3-7-sonnet", 64000},
    {"claude-haiku-4", 64000},
    {"claude-sonnet-4", 64000},
    {"claude-opus-4-5", 64000},
    {"claude-opus-4", 32000},
    {"gpt-4o", 16384},
    {"chatgpt-4o", 16384},
    {"gpt-4.1", 32768},
    {"gpt-4-turbo", 4096},
    {"gpt-4", 8192},
    {"gpt-3.5", 4096},
    {"gpt-5", 128000},
    {"o1-mini", 65536},
    {"o1", 100000},
    {"o3", 100000},
    {"o4-mini", 100000},
    {"deepseek-chat", 8192},
    {"deepseek-reasoner", 64000},
    {"mistral-large", 32768},
    {"magistral", 40000},
    {"gemini-2.5", 65536},
    {"gemini-3", 65536},
};

}  // namespace

std::optional<int> KnownMaxOutputTokens(std::string_view model_id) {
  std::string id = AsciiLowercase(model_id);
  // Routers and gateways prefix the vendor ("anthropic/claude-…", "openai/gpt-4o").
  if (size_t slash = id.rfind('/'); slash != std::string::npos) id.erase(0, slash + 1);
  const Family* best = nullptr;
  for (const Family& f : kFamilies) {
    if (id.starts_with(f.prefix) && (best == nullptr || f.prefix.size() > best->prefix.size())) {
      best = &f;
    }
  }
  if (best == nullptr) return std::nullopt;
  return best->max_output;
}

int DefaultMaxOutputTokens(std::string_view model_id) {
  const std::optional<int> known = KnownMaxOutputTokens(model_id);
  return known ? std::min(*known, kDefaultOutputCap) : kFallbackMaxOutputTokens;
}

OutputTokens ChooseOutputTokens(std::string_view model_id, std::optional<int> model_limit,
                                std::optional<int> agent_max, const ReasoningSettings& reasoning) {
  OutputTokens out;
  out.reasoning = reasoning;
  if (!model_limit) model_limit = KnownMaxOutputTokens(model_id);
  auto fit = [&](int n) { return model_limit ? std::min(n, *model_limit) : n; };
  if (agent_max) {
    out.max_tokens = fit(*agent_max);
  } else {
    out.max_tokens =
        model_limit ? std::min(*model_limit, kDefaultOutputCap) : kFallbackMaxOutputTokens;
  }
  std::optional<int>& budget = out.reasoning.budget_tokens;
  if (budget && out.max_tokens <= *budget) {
    // The budget is part of max_tokens: leave the answer what it would have had.
    const int64_t raised = int64_t{*budget} + out.max_tokens;
    out.max_tokens =
        fit(static_cast<int>(std::min<int64_t>(raised, int64_t{std::numeric_limits<int>::max()})));
    if (out.max_tokens <= *budget) {
      budget = out.max_tokens - 1;
      if (*budget < kMinThinkingBudgetTokens) budget.reset();
    }
  }
  return out;
}

}  // namespace troupe
