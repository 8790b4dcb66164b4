// The daemon's RateLimitObserver (llm/provider.h): what the providers report goes to the engine
// (ProviderLimits: cool-downs of a provider's pools, the limits its headers announce) and to
// the metrics (failed attempts and retries), and failed attempts to the log at debug level.
#pragma once

#include <string_view>

#include "engine/provider_limits.h"
#include "llm/provider.h"
#include "rest/metrics.h"

namespace troupe {

// Either target may be unset (nullptr) until it is built; reports meanwhile go only where they
// can. Threading: the loop thread only.
class DaemonProviderObserver : public RateLimitObserver {
 public:
  void set_limits(ProviderLimits* limits) { limits_ = limits; }
  void set_metrics(Metrics* metrics) { metrics_ = metrics; }

  void OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) override;
  void OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) override;
  void OnAttemptFailed(std::string_view provider, std::string_view reason,
                       bool will_retry) override;

 private:
  ProviderLimits* limits_ = nullptr;
  Metrics* metrics_ = nullptr;
};

}  // namespace troupe
