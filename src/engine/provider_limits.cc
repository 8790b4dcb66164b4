#include "engine/provider_limits.h"

#include "core/text_case.h"

namespace troupe {

// Providers report under their configured name ("OpenRouter"); pools are keyed by the canonical,
// lower-case one.
void ProviderLimits::OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) {
  std::string key = AsciiLowercase(provider);
  ProviderLimitsView& view = providers_[key];
  ++view.cooldowns;
  view.last_cooldown_ms = cooldown_ms;
  manager_->ReportRateLimit(key, cooldown_ms);
}

void ProviderLimits::OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) {
  ProviderLimitsView& view = providers_[AsciiLowercase(provider)];
  view.info = info;
  view.updated_wall_ms = clock_->WallMs();
}

}  // namespace troupe
