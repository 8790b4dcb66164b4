#include "daemon/idle_trim.h"

#include <malloc.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <cstdio>
#include <utility>

namespace troupe {

int64_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  long long size = 0;
  long long resident = 0;
  const int read = std::fscanf(f, "%lld %lld", &size, &resident);
  std::fclose(f);
  if (read != 2) return 0;
  return static_cast<int64_t>(resident) * ::sysconf(_SC_PAGESIZE);
}

void TrimHeap() {
  const int64_t before = ResidentBytes();
  ::malloc_trim(0);
  const int64_t after = ResidentBytes();
  spdlog::debug("troupe serve: idle, heap trimmed: resident {:.1f} -> {:.1f} MiB",
                static_cast<double>(before) / (1 << 20), static_cast<double>(after) / (1 << 20));
}

IdleTrimmer::IdleTrimmer(Clock* clock, EventBus* events, IdleTrimOptions options)
    : clock_(clock), events_(events), options_(std::move(options)), timer_(clock) {
  if (!options_.trim) options_.trim = TrimHeap;
  subscription_ = events_->Subscribe([this](const EngineEvent& e) { OnEvent(e); });
}

IdleTrimmer::~IdleTrimmer() { events_->Unsubscribe(subscription_); }

void IdleTrimmer::OnEvent(const EngineEvent& e) {
  if (e.kind != EngineEvent::Kind::kState) return;
  last_change_ms_ = clock_->NowMs();
  if (!timer_.armed()) timer_.Start(options_.quiet_ms, [this] { OnTimer(); });
}

void IdleTrimmer::OnTimer() {
  // The timer is armed only by a change since the last trim. A task still active: its final
  // state change arms it again.
  if (options_.active_tasks() > 0) return;
  const int64_t quiet_for = clock_->NowMs() - last_change_ms_;
  if (quiet_for < options_.quiet_ms) {
    timer_.Start(options_.quiet_ms - quiet_for, [this] { OnTimer(); });
    return;
  }
  ++trims_;
  options_.trim();
}

}  // namespace troupe
