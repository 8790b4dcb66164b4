#include "config/config_keys.h"

#include <algorithm>
#include <cassert>
#include <cctype>
#include <climits>
#include <string>

#include "core/text_case.h"

namespace troupe {

namespace {

using T = ConfigValueType;

ConfigKey Key(std::string_view name, ConfigValueType type, int64_t minimum = 0, int64_t maximum = 0,
              std::string_view unit = {}) {
  return ConfigKey{name, type, minimum, maximum, unit};
}

std::vector<ConfigSection> MakeSections() {
  const ConfigKey kMs[] = {
      Key("taskTtlMs", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
      Key("pendingTtlMs", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
      Key("staleTimeoutMs", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
  };
  std::vector<ConfigSection> sections = {
      {"",
       {
           Key("$schema", T::kString),
           Key("background_task", T::kObject),
           Key("sandbox", T::kObject),
           Key("providers", T::kObjectMap),
           Key("agents", T::kObjectMap),
           Key("model_aliases", T::kStringMap),
           Key("default_model", T::kString),
           Key("prices", T::kObjectMap),
           Key("budgets", T::kObject),
           Key("mcp_servers", T::kObjectMap),
           Key("mcpServers", T::kObjectMap),
           Key("mcp", T::kObjectMap),
           Key("mcp_servers_allowed", T::kStringArray),
           Key("webfetch", T::kObject),
       }},
      {"mcp_servers.*",
       {
           Key("type", T::kString),
           Key("command", T::kString),
           Key("args", T::kStringArray),
           Key("env", T::kStringMap),
           Key("cwd", T::kString),
           Key("url", T::kString),
           Key("headers", T::kStringMap),
           Key("timeout_ms", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
           Key("startup_timeout_ms", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
           Key("research", T::kBoolean),
           Key("shared", T::kBoolean),
       }},
      {"mcp.*",
       {
           Key("type", T::kString),
           Key("command", T::kStringArray),
           Key("environment", T::kStringMap),
           Key("enabled", T::kBoolean),
           Key("disabled", T::kBoolean),
           Key("url", T::kString),
           Key("headers", T::kStringMap),
           Key("timeout", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
       }},
      {"webfetch",
       {
           Key("allow_hosts", T::kStringArray),
           Key("deny_hosts", T::kStringArray),
           Key("max_bytes", T::kInteger, 1024, int64_t{1} << 30),
           Key("timeout_ms", T::kInteger, 1, kMaxDurationMs, "milliseconds"),
           Key("max_redirects", T::kInteger, 0, 20),
       }},
      {"prices.*",
       {
           Key("input", T::kNumber, 0, kMaxPriceUsd),
           Key("output", T::kNumber, 0, kMaxPriceUsd),
           Key("cache_write", T::kNumber, 0, kMaxPriceUsd),
           Key("cache_read", T::kNumber, 0, kMaxPriceUsd),
       }},
      {"budgets",
       {
           Key("task_max_tokens", T::kInteger, 1, kMaxBudgetTokens),
           Key("task_max_cost_usd", T::kNumber, 0, kMaxBudgetUsd),
           Key("tree_max_cost_usd", T::kNumber, 0, kMaxBudgetUsd),
           Key("tree_max_tasks", T::kInteger, 0, kMaxTreeTasks),
           Key("tree_max_running", T::kInteger, 0, kMaxConcurrency),
           Key("daily_max_cost_usd", T::kNumber, 0, kMaxBudgetUsd),
           Key("allow_unpriced_models", T::kBoolean),
       }},
      {"background_task",
       {
           Key("defaultConcurrency", T::kInteger, 0, kMaxConcurrency),
           Key("globalConcurrency", T::kInteger, 0, kMaxConcurrency),
           Key("providerConcurrency", T::kIntegerMap, 0, kMaxConcurrency),
           Key("modelConcurrency", T::kIntegerMap, 0, kMaxConcurrency),
           kMs[0],
           kMs[1],
           kMs[2],
           Key("maxDepth", T::kInteger, 0, kMaxDepth),
           Key("resumeInterrupted", T::kBoolean),
       }},
      {"sandbox",
       {
           Key("mode", T::kString),
           Key("network", T::kNetwork),
           Key("hide", T::kStringArray),
           Key("max_processes", T::kInteger, 0, kMaxSandboxLimit),
           Key("cpu_seconds", T::kInteger, 0, kMaxSandboxLimit),
           Key("memory_mb", T::kInteger, 0, kMaxSandboxLimit),
           Key("file_size_mb", T::kInteger, 0, kMaxSandboxLimit),
           Key("bwrap", T::kString),
       }},
      {"providers.*",
       {
           Key("type", T::kString),
           Key("base_url", T::kString),
           Key("api_key_env", T::kString),
           Key("api_key_header", T::kString),
           Key("headers", T::kStringMap),
           Key("script", T::kString),
           Key("max_reply_bytes", T::kInteger, 1024, int64_t{1} << 30),
           Key("max_output_tokens", T::kIntegerMap, 1, kMaxOutputTokens),
           Key("api_key", T::kRefused),
           Key("apiKey", T::kRefused),
       }},
      {"agents.*",
       {
           Key("model", T::kString),
           Key("tools", T::kStringArray),
           Key("max_turns", T::kInteger, 1, kMaxAgentTurns),
           Key("max_tool_calls", T::kInteger, 1, kMaxAgentTurns),
           // Temperature is a number; its bounds are whole numbers, so they fit the table.
           Key("temperature", T::kNumber, 0, 2),
           Key("max_output_tokens", T::kInteger, 1, kMaxOutputTokens),
           Key("thinking_budget", T::kInteger, kMinThinkingBudget, kMaxOutputTokens),
           Key("reasoning_effort", T::kString),
           Key("prompt_caching", T::kBoolean),
           Key("prompt", T::kString),
           Key("prompt_append", T::kString),
           Key("description", T::kString),
           kMs[0],
           kMs[1],
           kMs[2],
           Key("network", T::kNetwork),
           Key("isolation", T::kString),
           Key("delegates_to", T::kStringArray),
           Key("max_tokens", T::kInteger, 1, kMaxBudgetTokens),
           Key("max_cost_usd", T::kNumber, 0, kMaxBudgetUsd),
           Key("fallback_models", T::kStringArray),
           Key("loop_repeats", T::kInteger, 0, kMaxLoopThreshold),
           Key("loop_idle_turns", T::kInteger, 0, kMaxLoopThreshold),
       }},
  };
  return sections;
}

}  // namespace

const ConfigKey* ConfigSection::Find(std::string_view name) const {
  for (const ConfigKey& key : keys) {
    if (key.name == name) return &key;
  }
  return nullptr;
}

std::optional<std::string_view> ConfigSection::Suggest(std::string_view name) const {
  const std::string wanted = FoldIdentifier(name);
  std::optional<std::string_view> best;
  int best_distance = INT_MAX;
  for (const ConfigKey& key : keys) {
    if (key.type == ConfigValueType::kRefused) continue;
    const std::string candidate = FoldIdentifier(key.name);
    const int distance = EditDistance(wanted, candidate);
    // Up to one edit in three characters, and at least one.
    const int allowed = std::max<int>(1, static_cast<int>(candidate.size()) / 3);
    if (distance <= allowed && distance < best_distance) {
      best = key.name;
      best_distance = distance;
    }
  }
  return best;
}

const std::vector<ConfigSection>& ConfigSections() {
  static const std::vector<ConfigSection>* const sections =
      new std::vector<ConfigSection>(MakeSections());
  return *sections;
}

const ConfigSection& FindConfigSection(std::string_view path) {
  for (const ConfigSection& section : ConfigSections()) {
    if (section.path == path) return section;
  }
  assert(false && "unknown config section");
  return ConfigSections().front();
}

bool IsReasoningEffort(std::string_view effort) {
  return effort == "minimal" || effort == "low" || effort == "medium" || effort == "high";
}

int EditDistance(std::string_view a, std::string_view b) {
  // One row of the dynamic-programming table at a time.
  std::vector<int> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = static_cast<int>(j);
  for (size_t i = 1; i <= a.size(); ++i) {
    int diagonal = row[0];
    row[0] = static_cast<int>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

}  // namespace troupe
