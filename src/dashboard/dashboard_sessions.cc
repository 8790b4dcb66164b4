#include "dashboard/dashboard_sessions.h"

#include <utility>
#include <vector>

#include "dashboard/random_secret.h"

namespace troupe {

DashboardSessions::DashboardSessions(DashboardSessionStore* store, Clock* clock,
                                     std::function<std::string()> new_secret, int64_t max_age_ms,
                                     int64_t touch_interval_ms)
    : store_(store),
      clock_(clock),
      new_secret_(std::move(new_secret)),
      max_age_ms_(max_age_ms),
      touch_interval_ms_(touch_interval_ms) {}

bool DashboardSessions::Expired(const Entry& entry) const {
  return clock_->WallMs() >= entry.created_at_ms + max_age_ms_;
}

Status DashboardSessions::Load() {
  TROUPE_ASSIGN_OR_RETURN(std::vector<DashboardSessionRecord> stored,
                          store_->List());
  std::vector<std::string> expired;
  sessions_.clear();
  for (const DashboardSessionRecord& record : stored) {
    Entry entry{record.created_at_ms, record.last_used_at_ms};
    if (Expired(entry)) {
      expired.push_back(record.secret_sha256);
    } else {
      sessions_[record.secret_sha256] = entry;
    }
  }
  for (const std::string& hash : expired) TROUPE_RETURN_IF_ERROR(store_->Delete(hash));
  return Status::Ok();
}

Result<std::string> DashboardSessions::Create() {
  std::string secret = new_secret_();
  DashboardSessionRecord record;
  record.secret_sha256 = Sha256Hex(secret);
  record.created_at_ms = clock_->WallMs();
  record.last_used_at_ms = record.created_at_ms;
  TROUPE_RETURN_IF_ERROR(store_->Insert(record));
  sessions_[record.secret_sha256] = Entry{record.created_at_ms, record.last_used_at_ms};
  return secret;
}

bool DashboardSessions::Check(std::string_view secret) {
  if (!LooksLikeSecret(secret)) return false;
  const std::string hash = Sha256Hex(secret);
  auto it = sessions_.find(hash);
  if (it == sessions_.end()) return false;
  if (Expired(it->second)) {
    (void)Delete(secret);
    return false;
  }
  const int64_t now = clock_->WallMs();
  if (now - it->second.last_written_at_ms >= touch_interval_ms_) {
    // Best effort: a store that cannot write now does not log the browser out.
    if (store_->Touch(hash, now).ok()) {
      it->second.last_written_at_ms = now;
    }
  }
  return true;
}

Status DashboardSessions::Delete(std::string_view secret) {
  if (!LooksLikeSecret(secret)) return Status::Ok();
  const std::string hash = Sha256Hex(secret);
  if (sessions_.erase(hash) == 0) return Status::Ok();
  return store_->Delete(hash);
}

}  // namespace troupe
