// One-time login codes for the dashboard (`troupe dashboard`, POST /v1/dashboard/session): a code
// is minted for a caller who already holds the daemon's credential (its Unix socket or the bearer
// token), travels in a URL fragment to the browser, and is traded once for a session cookie
// (POST /v1/dashboard/login). Kept in memory only: a restart forgets the unused ones.
//
// A code works once and for `ttl_ms` (120 s) on the injected clock. At most `max_codes` are
// outstanding; minting more forgets the oldest.
//
// Threading: loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace troupe {

struct LoginCode {
  std::string code;
  int64_t expires_at_ms = 0;  // wall clock (Clock::WallMs)
};

class LoginCodes {
 public:
  static constexpr int64_t kDefaultTtlMs = 120'000;
  static constexpr size_t kDefaultMaxCodes = 64;

  // `new_secret` makes a code (dashboard/random_secret.h's RandomSecret in the daemon).
  LoginCodes(Clock* clock, std::function<std::string()> new_secret,
             int64_t ttl_ms = kDefaultTtlMs, size_t max_codes = kDefaultMaxCodes);

  LoginCode Mint();
  // True once for a code Mint gave that has not expired; the code is spent either way.
  bool Redeem(std::string_view code);
  size_t outstanding() const { return codes_.size(); }

 private:
  void DropExpired();

  Clock* clock_;
  std::function<std::string()> new_secret_;
  int64_t ttl_ms_;
  size_t max_codes_;
  // By the code's SHA-256 (so a lookup's timing tells nothing of a code): monotonic expiry.
  std::unordered_map<std::string, int64_t> codes_;
};

}  // namespace troupe
