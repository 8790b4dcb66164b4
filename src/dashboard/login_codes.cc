#include "dashboard/login_codes.h"

#include <algorithm>
#include <utility>

#include "dashboard/random_secret.h"

namespace troupe {

LoginCodes::LoginCodes(Clock* clock, std::function<std::string()> new_secret, int64_t ttl_ms,
                       size_t max_codes)
    : clock_(clock),
      new_secret_(std::move(new_secret)),
      ttl_ms_(ttl_ms),
      max_codes_(std::max<size_t>(max_codes, 1)) {}

void LoginCodes::DropExpired() {
  const int64_t now = clock_->NowMs();
  std::erase_if(codes_, [now](const auto& entry) { return entry.second <= now; });
}

LoginCode LoginCodes::Mint() {
  DropExpired();
  while (codes_.size() >= max_codes_) {
    auto oldest = std::min_element(codes_.begin(), codes_.end(), [](const auto& a, const auto& b) {
      return a.second < b.second;
    });
    codes_.erase(oldest);
  }
  LoginCode minted;
  minted.code = new_secret_();
  minted.expires_at_ms = clock_->WallMs() + ttl_ms_;
  codes_[Sha256Hex(minted.code)] = clock_->NowMs() + ttl_ms_;
  return minted;
}

bool LoginCodes::Redeem(std::string_view code) {
  DropExpired();
  auto it = codes_.find(Sha256Hex(code));
  if (it == codes_.end()) return false;
  codes_.erase(it);
  return true;
}

}  // namespace troupe
