#include "llm/default_model.h"

#include <fmt/format.h>

namespace troupe {
namespace {

const ProviderInfo* FindProvider(const std::vector<ProviderInfo>& providers,
                                 std::string_view name) {
  for (const ProviderInfo& p : providers) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

// "A", "A or B", "A, B or C".
std::string OrList(const std::vector<std::string>& names) {
  std::string out;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += i + 1 == names.size() ? " or " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

DefaultModel ChooseDefaultModel(std::string_view configured,
                                const std::vector<ProviderInfo>& providers) {
  DefaultModel out;
  if (!configured.empty()) {
    out.model = std::string(configured);
    out.source = DefaultModelSource::kConfig;
    return out;
  }
  for (const KeyedDefault& d : kKeyedDefaults) {
    const ProviderInfo* p = FindProvider(providers, d.provider);
    // A config may turn the name into another kind of provider; then its default model means
    // nothing there.
    if (p == nullptr || p->type != d.provider) continue;
    if (p->has_api_key) {
      out.model = d.model;
      out.source = DefaultModelSource::kEnvKey;
      out.key_env = p->api_key_env;
      return out;
    }
    out.key_envs.push_back(p->api_key_env);
  }
  out.model = kOfflineModel;
  out.source = DefaultModelSource::kOffline;
  return out;
}

std::string_view DefaultModelSourceName(DefaultModelSource source) {
  switch (source) {
    case DefaultModelSource::kConfig:
      return "config";
    case DefaultModelSource::kEnvKey:
      return "env";
    case DefaultModelSource::kOffline:
      return "offline";
  }
  return "offline";
}

std::string DefaultModelOrigin(const DefaultModel& choice) {
  switch (choice.source) {
    case DefaultModelSource::kConfig:
      return "default_model in the config";
    case DefaultModelSource::kEnvKey:
      return fmt::format("{} is set in the daemon's environment", choice.key_env);
    case DefaultModelSource::kOffline:
      if (choice.key_envs.empty()) return "offline fallback: no provider with an API key";
      return fmt::format("offline fallback: no {} in the daemon's environment",
                         OrList(choice.key_envs));
  }
  return "";
}

std::string DefaultModelHint(const DefaultModel& choice) {
  if (choice.source != DefaultModelSource::kOffline) return "";
  if (choice.key_envs.empty()) {
    return "To use a real model, set \"default_model\" in the config; see docs/CONFIG.md.";
  }
  std::string set = choice.key_envs[0] + "=…";
  if (choice.key_envs.size() > 1) {
    std::vector<std::string> others(choice.key_envs.begin() + 1, choice.key_envs.end());
    set += " (or " + OrList(others) + ")";
  }
  return fmt::format(
      "To use a real model, set {} where the daemon starts, then `troupe stop` so that the next "
      "command restarts it; see \"API keys\" in docs/CONFIG.md.",
      set);
}

std::string OfflineModelNotice(const DefaultModel& choice) {
  if (choice.source != DefaultModelSource::kOffline) return "";
  std::string why;
  if (!choice.key_envs.empty()) {
    why = fmt::format(": the daemon found no {} in its environment", OrList(choice.key_envs));
  }
  return fmt::format("Note from troupe: this answer comes from the offline mock model ({}){}. {}",
                     choice.model, why, DefaultModelHint(choice));
}

}  // namespace troupe
