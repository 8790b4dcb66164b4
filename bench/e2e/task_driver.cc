#include "e2e/task_driver.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <thread>

namespace troupe::bench {

using json = nlohmann::json;

std::string MockPrompt(const std::string& marker, const std::string& directives) {
  return fmt::format("#mock id={} {}\nBenchmark task {}.", marker, directives, marker);
}

Result<std::vector<std::string>> LaunchTasks(MockedDaemon& daemon, int count, int threads,
                                             const std::function<std::string(int)>& prompt) {
  std::vector<std::string> ids(static_cast<size_t>(count));
  std::atomic<int> next{0};
  std::mutex mu;
  Status first_error;
  auto launch = [&](DaemonClient& client) {
    for (int i = next++; i < count; i = next++) {
      json body = {
          {"agent", "general"}, {"description", fmt::format("bench {}", i)}, {"prompt", prompt(i)}};
      auto r = client.Post("/v1/tasks", body);
      if (!r.ok()) {
        std::lock_guard lock(mu);
        if (first_error.ok()) first_error = r.status();
        next = count;
        return;
      }
      ids[static_cast<size_t>(i)] = (*r)["task"]["id"].get<std::string>();
    }
  };
  if (threads <= 1) {
    launch(daemon.client());
  } else {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&] {
        std::unique_ptr<DaemonClient> client = daemon.NewClient();
        launch(*client);
      });
    }
    for (std::thread& w : workers) w.join();
  }
  if (!first_error.ok()) return first_error;
  return ids;
}

bool IsFinalState(const std::string& state) {
  return state == "completed" || state == "error" || state == "cancelled";
}

Result<std::unique_ptr<StateEventLog>> StateEventLog::Follow(const MockedDaemon& daemon) {
  std::unique_ptr<StateEventLog> log(new StateEventLog());
  StateEventLog* raw = log.get();
  auto follower =
      SseFollower::Open(daemon.socket(), "/v1/events?progress=0", {},
                        [raw](const SseEvent& e, int64_t arrival_us) { raw->Add(e, arrival_us); });
  if (!follower.ok()) return follower.status();
  log->follower_ = std::move(*follower);
  return log;
}

void StateEventLog::Add(const SseEvent& event, int64_t arrival_us) {
  if (event.event != "task.state") return;
  json data = json::parse(event.data, nullptr, false);
  if (!data.is_object()) return;
  StateEvent e;
  e.id = data.value("id", int64_t{0});
  e.task_id = data.value("task_id", "");
  e.state = data.value("state", "");
  e.arrival_us = arrival_us;
  std::lock_guard lock(mu_);
  if (IsFinalState(e.state)) ++final_;
  events_.push_back(std::move(e));
  cv_.notify_all();
}

int StateEventLog::WaitFinal(int count, int64_t timeout_ms) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return final_ >= count; });
  return final_;
}

std::vector<StateEvent> StateEventLog::Events() const {
  std::vector<StateEvent> events;
  {
    std::lock_guard lock(mu_);
    events = events_;
  }
  std::stable_sort(events.begin(), events.end(),
                   [](const StateEvent& a, const StateEvent& b) { return a.id < b.id; });
  return events;
}

}  // namespace troupe::bench
