// Browsers logged in to the dashboard: each holds a cookie with a random secret; the store keeps
// only the secret's SHA-256 (with when it was made and last used), so a login survives a daemon
// restart and reading the database lets no one in. Checked on every TCP request that carries
// the cookie (dashboard/browser_guard.h), from memory: the table is read once, at Load.
//
// A session lasts `max_age_ms` (30 days) from its login, as the cookie's Max-Age does; expired
// ones are removed at Load and refused after. `last_used_at_ms` is written at most once per
// `touch_interval_ms` (1 h) per session, so following the board costs no write per request.
//
// Threading: loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"
#include "core/status.h"
#include "store/dashboard_session_store.h"

namespace troupe {

class DashboardSessions {
 public:
  static constexpr int64_t kMaxAgeMs = 30LL * 24 * 3600 * 1000;
  static constexpr int64_t kTouchIntervalMs = 3600LL * 1000;

  // `store` and `clock` must outlive this; `new_secret` makes a secret (RandomSecret).
  DashboardSessions(DashboardSessionStore* store, Clock* clock,
                    std::function<std::string()> new_secret,
                    int64_t max_age_ms = kMaxAgeMs, int64_t touch_interval_ms = kTouchIntervalMs);

  // Reads the stored sessions, removing expired ones. Call once, before Check.
  Status Load();
  // A new session: its secret (for the cookie), stored before it is returned.
  Result<std::string> Create();
  // Whether `secret` is a live session's (and notes its use).
  bool Check(std::string_view secret);
  // Ends the session of `secret` (nothing if there is none).
  Status Delete(std::string_view secret);
  size_t size() const { return sessions_.size(); }

 private:
  struct Entry {
    int64_t created_at_ms = 0;
    int64_t last_written_at_ms = 0;  // last_used_at_ms as stored
  };
  bool Expired(const Entry& entry) const;

  DashboardSessionStore* store_;
  Clock* clock_;
  std::function<std::string()> new_secret_;
  int64_t max_age_ms_;
  int64_t touch_interval_ms_;
  std::unordered_map<std::string, Entry> sessions_;  // by the secret's SHA-256
};

}  // namespace troupe
