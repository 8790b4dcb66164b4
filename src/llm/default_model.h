// The model of agents that name none, as the daemon chooses it at start (and `troupe demo`, whose
// private daemon chooses the same way):
//   1. `default_model` from the config, whatever keys are present;
//   2. else the first provider, in the order of kKeyedDefaults (anthropic, then openai), whose API
//      key is in the daemon's environment: its variable is the provider's `api_key_env`
//      (ANTHROPIC_API_KEY / OPENAI_API_KEY unless configured);
//   3. else the offline mock model, and every result it gives carries OfflineModelNotice.
// Pure: which keys are present comes in through the registry's ProviderInfo, which read them
// with the injected getenv (ProviderDeps).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "llm/provider_registry.h"

namespace troupe {

// A provider's default model when only its key decides. The order is the preference when several
// keys are present: Anthropic first (as `troupe demo` always chose), then OpenAI. GPT-4.1 rather
// than the gpt-5 family, which streams only for verified organisations (troupe always streams).
struct KeyedDefault {
  const char* provider;  // also the provider's type
  const char* model;     // "provider/model"
};
inline constexpr KeyedDefault kKeyedDefaults[] = {
    {"anthropic", "anthropic/claude-sonnet-4-5"},
    {"openai", "openai/gpt-4.1"},
};
inline constexpr const char* kOfflineModel = "mock/scripted";

enum class DefaultModelSource {
  kConfig,   // `default_model` in a config file
  kEnvKey,   // a provider's API key in the environment
  kOffline,  // no key: the offline mock model
};

struct DefaultModel {
  std::string model;  // "provider/model", or an alias when the config gave one
  DefaultModelSource source = DefaultModelSource::kOffline;
  std::string key_env;                // kEnvKey: the variable whose key was found
  std::vector<std::string> key_envs;  // kOffline: the variables looked at, in order
};

// `configured` is Config::default_model ("" = unset); `providers` is ProviderRegistry::List().
DefaultModel ChooseDefaultModel(std::string_view configured,
                                const std::vector<ProviderInfo>& providers);

// "config", "env" or "offline".
std::string_view DefaultModelSourceName(DefaultModelSource source);

// Where the model came from, for people: "default_model in the config", "ANTHROPIC_API_KEY is set
// in the daemon's environment", "offline fallback: no ANTHROPIC_API_KEY or OPENAI_API_KEY in the
// daemon's environment".
std::string DefaultModelOrigin(const DefaultModel& choice);

// kOffline only ("" otherwise): what to set to get a real model, in one sentence.
std::string DefaultModelHint(const DefaultModel& choice);

// kOffline only ("" otherwise): the line added to every result of the offline model, saying it
// is the mock, why, and DefaultModelHint.
std::string OfflineModelNotice(const DefaultModel& choice);

}  // namespace troupe
