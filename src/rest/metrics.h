// GET /metrics: Prometheus text exposition (format 0.0.4) of what the daemon does — the series
// listed in docs/HTTP_API.md "GET /metrics". Counters and histograms are fed by the EventBus
// (state changes and progress) and by the providers' observer (failed attempts and retries);
// gauges (tasks by state, pools) are read when scraped.
//
// Threading: loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "engine/task_manager.h"

namespace troupe {

class Metrics {
 public:
  // Subscribes to the manager's events for its whole life; counts the store's tasks by state
  // once at construction. Pointers must outlive it.
  Metrics(Clock* clock, TaskManager* manager, Store* store);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // A provider attempt failed; `will_retry` says whether another attempt follows.
  void OnProviderError(std::string_view provider, bool will_retry);
  // An HTTP request was answered with `status`.
  void OnHttpResponse(int status);
  // Extra gauges read at scrape time (e.g. SSE subscribers), added by the daemon.
  void AddGauge(std::string name, std::string help, std::function<double()> read);

  // The whole exposition text.
  std::string Render() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe
