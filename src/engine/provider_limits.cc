#include "engine/provider_limits.h"

#include <cctype>

namespace troupe {
namespace {

// Pool keys use canonical provider names; a provider configured as "OpenRouter" reports so.
std::string CanonicalProvider(std::string_view name) {
  std::string out(name);
  for (char& c : out) c = char(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

}  // namespace

void ProviderLimits::OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) {
  std::string key = CanonicalProvider(provider);
  ProviderLimitsView& view = providers_[key];
  ++view.cooldowns;
  view.last_cooldown_ms = cooldown_ms;
  manager_->ReportRateLimit(key, cooldown_ms);
}

void ProviderLimits::OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) {
  ProviderLimitsView& view = providers_[CanonicalProvider(provider)];
  view.info = info;
  view.updated_wall_ms = clock_->WallMs();
}

}  // namespace troupe
