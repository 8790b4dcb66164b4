// Where providers' rate-limit signals meet the engine: a 429/529 cool-down becomes a cool-down of
// the provider's pool in the scheduler (so queued tasks of that provider wait, not only the one
// request), and the limits the provider's headers announce are kept for the pools view.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

#include "engine/task_manager.h"
#include "llm/provider.h"
#include "llm/rate_limit_headers.h"

namespace troupe {

struct ProviderLimitsView {
  RateLimitInfo info;            // from the latest response that carried rate-limit headers
  int64_t updated_wall_ms = 0;   // when that response arrived
  int64_t cooldowns = 0;         // 429/529 cool-downs reported so far
  int64_t last_cooldown_ms = 0;  // the latest one's length
};

// Threading: the loop thread only, like the TaskManager it reports to.
class ProviderLimits : public RateLimitObserver {
 public:
  // `manager` and `clock` must outlive this.
  ProviderLimits(TaskManager* manager, Clock* clock) : manager_(manager), clock_(clock) {}

  void OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) override;
  void OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) override;

  // By canonical (lower-case) provider name.
  const std::map<std::string, ProviderLimitsView>& providers() const { return providers_; }

 private:
  TaskManager* manager_;
  Clock* clock_;
  std::map<std::string, ProviderLimitsView> providers_;
};

}  // namespace troupe
