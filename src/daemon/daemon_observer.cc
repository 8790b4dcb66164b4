#include "daemon/daemon_observer.h"

#include <spdlog/spdlog.h>

namespace troupe {

void DaemonProviderObserver::OnProviderCooldown(std::string_view provider, int64_t cooldown_ms) {
  spdlog::info("provider {}: rate limited, its pools wait {} ms", provider, cooldown_ms);
  if (limits_ != nullptr) limits_->OnProviderCooldown(provider, cooldown_ms);
}

void DaemonProviderObserver::OnRateLimitInfo(std::string_view provider, const RateLimitInfo& info) {
  if (limits_ != nullptr) limits_->OnRateLimitInfo(provider, info);
}

void DaemonProviderObserver::OnAttemptFailed(std::string_view provider, std::string_view reason,
                                             bool will_retry) {
  // The reason is the provider's error (status, type, message), never a request's content; at
  // debug level all the same, as a provider may quote what it was sent.
  spdlog::debug("provider {}: attempt failed{}: {}", provider, will_retry ? ", retrying" : "",
                reason);
  if (metrics_ != nullptr) metrics_->OnProviderError(provider, will_retry);
}

}  // namespace troupe
