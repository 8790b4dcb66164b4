#include "engine/concurrency_policy.h"

#include "engine/model_name.h"

namespace troupe {

const char* PoolLevelName(PoolLevel level) {
  switch (level) {
    case PoolLevel::kModel:
      return "model";
    case PoolLevel::kProvider:
      return "provider";
    case PoolLevel::kDefault:
      return "default";
  }
  return "default";
}

ConcurrencyPolicy::ConcurrencyPolicy(const BackgroundTaskConfig& config,
                                     std::map<std::string, std::string> aliases)
    : aliases_(std::move(aliases)),
      default_limit_(config.default_concurrency),
      global_limit_(config.global_concurrency) {
  // Limit keys are canonicalised without aliases: an alias names a model, a key names a pool.
  static const std::map<std::string, std::string> kNoAliases;
  for (const auto& [model, limit] : config.model_concurrency) {
    model_limits_[CanonicalModel(model, kNoAliases)] = limit;
  }
  for (const auto& [provider, limit] : config.provider_concurrency) {
    provider_limits_[CanonicalModel(provider, kNoAliases)] = limit;
  }
}

std::string ConcurrencyPolicy::Canonical(const std::string& model) const {
  return CanonicalModel(model, aliases_);
}

PoolSpec ConcurrencyPolicy::Resolve(const std::string& model) const {
  const std::string canonical = Canonical(model);
  const std::string provider(ProviderOf(canonical));
  PoolSpec spec;
  spec.provider = provider;
  auto by_model = model_limits_.find(canonical);
  if (by_model == model_limits_.end())
    by_model = model_limits_.find(std::string(BareModelOf(canonical)));
  if (by_model != model_limits_.end()) {
    spec.level = PoolLevel::kModel;
    spec.key = "model:" + canonical;
    spec.limit = by_model->second;
    return spec;
  }
  if (auto by_provider = provider_limits_.find(provider); by_provider != provider_limits_.end()) {
    spec.level = PoolLevel::kProvider;
    spec.key = "provider:" + provider;
    spec.limit = by_provider->second;
    return spec;
  }
  spec.level = PoolLevel::kDefault;
  spec.key = "default:" + canonical;
  spec.limit = default_limit_;
  return spec;
}

}  // namespace troupe
