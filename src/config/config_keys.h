// The keys of troupe.jsonc as the loader knows them, section by section, with their types and
// bounds. The loader validates against this table, warns about keys missing from it, and
// config_schema_test.cc checks that schema/troupe.schema.json describes exactly these keys.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

namespace troupe {

enum class ConfigValueType {
  kString,
  kBoolean,
  kInteger,      // bounded by [minimum, maximum]
  kNumber,       // bounded by [minimum, maximum]
  kStringArray,  // array of strings
  kNetwork,      // true, false, or an array of host patterns (core/host_pattern.h)
  kStringMap,    // object of strings
  kIntegerMap,   // object of integers bounded by [minimum, maximum]
  kObject,       // a section of its own (see ConfigSection::path)
  kObjectMap,    // object of named sections (see ConfigSection::path, ending in ".*")
  kRefused,      // never accepted (e.g. a literal API key); always an error
};

struct ConfigKey {
  std::string_view name;
  ConfigValueType type;
  int64_t minimum = 0;
  int64_t maximum = 0;
  std::string_view unit;  // "milliseconds" or empty; for messages
};

struct ConfigSection {
  // "" for the top level, "background_task", "sandbox", and "providers.*" / "agents.*" for each
  // entry of those objects.
  std::string_view path;
  std::vector<ConfigKey> keys;

  // The key called `name`, or nullptr.
  const ConfigKey* Find(std::string_view name) const;
  // The accepted key closest to `name` when one is close enough to be a likely typo
  // ("defaultConcurency" -> "defaultConcurrency", "default_concurrency" -> "defaultConcurrency").
  std::optional<std::string_view> Suggest(std::string_view name) const;
};

// Bounds shared with the schema.
inline constexpr int64_t kMaxConcurrency = 10000;
inline constexpr int64_t kMaxDurationMs = 10LL * 365 * 24 * 60 * 60 * 1000;  // 10 years
inline constexpr int64_t kMaxDepth = 100;
inline constexpr int64_t kMaxAgentTurns = 100000;
// Output limits: no model writes more than this in one reply; Anthropic's smallest thinking
// budget.
inline constexpr int64_t kMaxOutputTokens = 1'000'000;
inline constexpr int64_t kMinThinkingBudget = 1024;
// Sandbox limits: at most a million processes, a year of CPU, a petabyte.
inline constexpr int64_t kMaxSandboxLimit = 1LL << 30;

// Spend: prices are USD per million tokens; budgets are USD (a cost budget must be > 0).
inline constexpr int64_t kMaxPriceUsd = 100'000;
inline constexpr int64_t kMaxBudgetUsd = 1'000'000'000;
inline constexpr int64_t kMaxBudgetTokens = 1'000'000'000'000;
inline constexpr int64_t kMaxTreeTasks = 1'000'000;
// Loop detection thresholds (agent/loop_detector.h); 0 = off.
inline constexpr int64_t kMaxLoopThreshold = 10'000;

// The values reasoning_effort takes (OpenAI's reasoning models), as messages list them.
inline constexpr std::string_view kReasoningEffortChoices = "minimal, low, medium, high";
bool IsReasoningEffort(std::string_view effort);

// Every section, top level first.
const std::vector<ConfigSection>& ConfigSections();
// The section at `path` (see ConfigSection::path); it must exist.
const ConfigSection& FindConfigSection(std::string_view path);

// Levenshtein distance between `a` and `b` (bytes).
int EditDistance(std::string_view a, std::string_view b);

}  // namespace troupe
