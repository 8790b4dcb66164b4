#include "rest/metrics.h"

#include <fmt/format.h>

#include <array>
#include <cmath>
#include <iterator>
#include <map>
#include <utility>
#include <vector>

namespace troupe {
namespace {

constexpr std::array<TaskState, 6> kStates = {TaskState::kPending,   TaskState::kRunning,
                                              TaskState::kCompleted, TaskState::kError,
                                              TaskState::kCancelled, TaskState::kInterrupted};

size_t StateIndex(TaskState s) { return static_cast<size_t>(s); }

// Upper bounds of the duration histograms, in milliseconds (rendered in seconds; +Inf follows).
constexpr std::array<int64_t, 16> kBucketsMs = {
    5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 120000, 300000, 600000};

// Observations are whole milliseconds, so counts and sums are exact.
struct Histogram {
  std::array<uint64_t, kBucketsMs.size() + 1> counts{};  // per bucket, not cumulative; last: +Inf
  int64_t sum_ms = 0;
  uint64_t count = 0;

  void Observe(int64_t ms) {
    if (ms < 0) ms = 0;
    size_t i = 0;
    while (i < kBucketsMs.size() && ms > kBucketsMs[i]) ++i;
    ++counts[i];
    sum_ms += ms;
    ++count;
  }
};

std::string FormatDouble(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  return fmt::format("{}", v);
}

std::string Seconds(int64_t ms) { return FormatDouble(static_cast<double>(ms) / 1000.0); }

// Label values: backslash, double quote and line feed escaped (format 0.0.4).
std::string EscapeLabel(std::string_view v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// HELP text: backslash and line feed escaped.
std::string EscapeHelp(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

// A metric name as Prometheus accepts it: [a-zA-Z_:][a-zA-Z0-9_:]*; other characters become '_'.
std::string SanitizeName(std::string name) {
  if (name.empty()) return "_";
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':' ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) name[i] = '_';
  }
  return name;
}

void Header(std::string* out, std::string_view name, std::string_view type, std::string_view help) {
  fmt::format_to(std::back_inserter(*out), "# HELP {} {}\n# TYPE {} {}\n", name, EscapeHelp(help),
                 name, type);
}

void Sample(std::string* out, std::string_view name, std::string_view label, std::string_view value,
            std::string_view number) {
  if (label.empty()) {
    fmt::format_to(std::back_inserter(*out), "{} {}\n", name, number);
  } else {
    fmt::format_to(std::back_inserter(*out), "{}{{{}=\"{}\"}} {}\n", name, label,
                   EscapeLabel(value), number);
  }
}

// A sample with several labels, in the order given.
void SampleWith(std::string* out, std::string_view name,
                std::initializer_list<std::pair<std::string_view, std::string_view>> labels,
                std::string_view number) {
  *out += name;
  char glue = '{';
  for (const auto& [label, value] : labels) {
    fmt::format_to(std::back_inserter(*out), "{}{}=\"{}\"", glue, label, EscapeLabel(value));
    glue = ',';
  }
  fmt::format_to(std::back_inserter(*out), "}} {}\n", number);
}

void RenderHistogram(std::string* out, std::string_view name, std::string_view help,
                     const Histogram& h) {
  Header(out, name, "histogram", help);
  const std::string bucket = std::string(name) + "_bucket";
  uint64_t cumulative = 0;
  for (size_t i = 0; i < kBucketsMs.size(); ++i) {
    cumulative += h.counts[i];
    Sample(out, bucket, "le", Seconds(kBucketsMs[i]), std::to_string(cumulative));
  }
  cumulative += h.counts[kBucketsMs.size()];
  Sample(out, bucket, "le", "+Inf", std::to_string(cumulative));
  Sample(out, std::string(name) + "_sum", "", "", Seconds(h.sum_ms));
  Sample(out, std::string(name) + "_count", "", "", std::to_string(h.count));
}

}  // namespace

struct Metrics::Impl {
  struct Extra {
    std::string name;
    std::string help;
    std::function<double()> read;
  };

  Impl(Clock* c, TaskManager* m, Store* store) : clock(c), manager(m), start_ms(c->NowMs()) {
    if (store != nullptr) {
      auto counts = store->CountTasksByState();
      if (counts.ok()) {
        for (const auto& [state, n] : *counts) tasks_by_state[StateIndex(state)] += n;
      }
    }
    subscription = manager->events().Subscribe([this](const EngineEvent& e) { OnEvent(e); });
  }

  ~Impl() { manager->events().Unsubscribe(subscription); }

  void OnEvent(const EngineEvent& e) {
    if (e.task == nullptr) return;
    const TaskRecord& t = *e.task;
    if (e.kind == EngineEvent::Kind::kProgress) {
      // A model request's usage and cost, by model (the one that answered) and agent. Other
      // progress reports carry token deltas since the previous report (agent/agent_host.h
      // AgentProgress; a runner that streams its counts), added to the same series so that
      // every token is counted once, in one family. Reports the engine ignores (a stale
      // attempt's) are never published.
      if (e.request != nullptr) {
        usage[{t.model, t.agent}] += *e.request;
      } else if (e.progress != nullptr) {
        UsageTotals& u = usage[{t.model, t.agent}];
        u.input_tokens += e.progress->input_tokens;
        u.output_tokens += e.progress->output_tokens;
      }
      return;
    }
    const TaskState to = t.state;
    // A launch is published as pending -> pending: a new task. Anything else moves one task
    // between states.
    if (e.from != to) --tasks_by_state[StateIndex(e.from)];
    ++tasks_by_state[StateIndex(to)];
    ++transitions[StateIndex(to)];
    if (to == TaskState::kRunning && e.from != TaskState::kRunning && t.started_at_ms > 0 &&
        t.queued_at_ms > 0) {
      queue_wait.Observe(t.started_at_ms - t.queued_at_ms);
    }
    if (e.from == TaskState::kRunning && (IsFinal(to) || to == TaskState::kInterrupted) &&
        t.started_at_ms > 0 && t.finished_at_ms > 0) {
      run.Observe(t.finished_at_ms - t.started_at_ms);
    }
  }

  std::string Render() const {
    std::string out;
    out.reserve(8192);

    Header(&out, "troupe_tasks", "gauge", "Tasks in the store by state.");
    for (TaskState s : kStates) {
      Sample(&out, "troupe_tasks", "state", TaskStateName(s),
             std::to_string(tasks_by_state[StateIndex(s)]));
    }
    Header(&out, "troupe_task_transitions_total", "counter",
           "Task state changes since the daemon started, by the state entered (a launch enters "
           "pending).");
    for (TaskState s : kStates) {
      Sample(&out, "troupe_task_transitions_total", "to", TaskStateName(s),
             std::to_string(transitions[StateIndex(s)]));
    }
    RenderHistogram(&out, "troupe_task_queue_wait_seconds",
                    "Time a task waited pending before it started running.", queue_wait);
    RenderHistogram(&out, "troupe_task_run_seconds",
                    "Time a task ran before it completed, failed, was cancelled or interrupted.",
                    run);

    // Every token tasks reported, by model, agent and kind: input counts every prompt token;
    // cache_write and cache_read are the parts of it the provider cached; reasoning is part of
    // output. Summing kind="input" and kind="output" gives all tokens; the cache and reasoning
    // kinds are breakdowns, never added to them.
    Header(&out, "troupe_tokens_total", "counter",
           "Model tokens reported by tasks since the daemon started, by model, agent and kind "
           "(input, output; cache_write, cache_read and reasoning are parts of those).");
    for (const auto& [key, u] : usage) {
      const auto& [model, agent] = key;
      const std::pair<std::string_view, int64_t> kinds[] = {
          {"input", u.input_tokens},           {"output", u.output_tokens},
          {"cache_write", u.cache_write_tokens}, {"cache_read", u.cache_read_tokens},
          {"reasoning", u.reasoning_tokens}};
      for (const auto& [kind, n] : kinds) {
        SampleWith(&out, "troupe_tokens_total", {{"model", model}, {"agent", agent}, {"kind", kind}},
                   std::to_string(n));
      }
    }
    Header(&out, "troupe_cost_usd_total", "counter",
           "Cost of the model requests of models with a price, in USD, since the daemon started.");
    for (const auto& [key, u] : usage) {
      SampleWith(&out, "troupe_cost_usd_total", {{"model", key.first}, {"agent", key.second}},
                 fmt::format("{:.9f}", static_cast<double>(u.cost_nano_usd) / 1e9));
    }
    Header(&out, "troupe_unpriced_requests_total", "counter",
           "Model requests of models without a price (their cost is unknown).");
    for (const auto& [key, u] : usage) {
      SampleWith(&out, "troupe_unpriced_requests_total",
                 {{"model", key.first}, {"agent", key.second}},
                 std::to_string(u.unpriced_requests));
    }

    Header(&out, "troupe_provider_errors_total", "counter",
           "Provider request attempts that failed, retried or not.");
    for (const auto& [provider, n] : provider_errors) {
      Sample(&out, "troupe_provider_errors_total", "provider", provider, std::to_string(n));
    }
    Header(&out, "troupe_provider_retries_total", "counter",
           "Failed provider attempts that were retried.");
    for (const auto& [provider, errors] : provider_errors) {  // every retry follows an error
      auto r = provider_retries.find(provider);
      Sample(&out, "troupe_provider_retries_total", "provider", provider,
             std::to_string(r == provider_retries.end() ? 0 : r->second));
    }

    const std::vector<PoolSnapshot> pools = manager->Pools();
    Header(&out, "troupe_pool_in_use", "gauge", "Slots of the pool held by running tasks.");
    for (const PoolSnapshot& p : pools) {
      Sample(&out, "troupe_pool_in_use", "pool", p.key, std::to_string(p.in_use));
    }
    Header(&out, "troupe_pool_queued", "gauge", "Pending tasks waiting for a slot of the pool.");
    for (const PoolSnapshot& p : pools) {
      Sample(&out, "troupe_pool_queued", "pool", p.key, std::to_string(p.queued));
    }
    Header(&out, "troupe_pool_limit", "gauge", "Concurrency limit of the pool (0 = unlimited).");
    for (const PoolSnapshot& p : pools) {
      Sample(&out, "troupe_pool_limit", "pool", p.key, std::to_string(p.limit));
    }

    Header(&out, "troupe_http_requests_total", "counter",
           "HTTP requests answered since the daemon started, by status code.");
    for (const auto& [code, n] : http_responses) {
      Sample(&out, "troupe_http_requests_total", "code", std::to_string(code), std::to_string(n));
    }

    const StoreHealth store = manager->store_health();
    Header(&out, "troupe_store_write_failures_total", "counter",
           "Database writes and commits that failed (e.g. disk full).");
    Sample(&out, "troupe_store_write_failures_total", "", "", std::to_string(store.failures));
    Header(&out, "troupe_store_degraded", "gauge",
           "1 while the database cannot be written and writes are held in memory.");
    Sample(&out, "troupe_store_degraded", "", "", store.degraded ? "1" : "0");
    Header(&out, "troupe_store_unsaved_writes", "gauge",
           "Writes held in memory until the database can be written again.");
    Sample(&out, "troupe_store_unsaved_writes", "", "", std::to_string(store.unsaved_writes));
    Header(&out, "troupe_uptime_seconds", "gauge", "Seconds since the daemon started.");
    Sample(&out, "troupe_uptime_seconds", "", "", Seconds(clock->NowMs() - start_ms));

    for (const Extra& x : extras) {
      Header(&out, x.name, "gauge", x.help);
      Sample(&out, x.name, "", "", FormatDouble(x.read ? x.read() : 0.0));
    }
    return out;
  }

  Clock* clock;
  TaskManager* manager;
  int64_t start_ms;
  EventBus::SubscriptionId subscription = 0;
  std::array<int64_t, kStates.size()> tasks_by_state{};
  std::array<int64_t, kStates.size()> transitions{};
  Histogram queue_wait;
  Histogram run;
  std::map<std::pair<std::string, std::string>, UsageTotals> usage;  // (model, agent)
  std::map<std::string, int64_t, std::less<>> provider_errors;
  std::map<std::string, int64_t, std::less<>> provider_retries;
  std::map<int, int64_t> http_responses;
  std::vector<Extra> extras;
};

Metrics::Metrics(Clock* clock, TaskManager* manager, Store* store)
    : impl_(std::make_unique<Impl>(clock, manager, store)) {}

Metrics::~Metrics() = default;

void Metrics::OnProviderError(std::string_view provider, bool will_retry) {
  auto bump = [](std::map<std::string, int64_t, std::less<>>& m, std::string_view key) {
    auto it = m.find(key);
    if (it == m.end()) it = m.emplace(std::string(key), 0).first;
    ++it->second;
  };
  bump(impl_->provider_errors, provider);
  if (will_retry) bump(impl_->provider_retries, provider);
}

void Metrics::OnHttpResponse(int status) { ++impl_->http_responses[status]; }

void Metrics::AddGauge(std::string name, std::string help, std::function<double()> read) {
  name = SanitizeName(std::move(name));
  for (auto& x : impl_->extras) {
    if (x.name == name) {
      x.help = std::move(help);
      x.read = std::move(read);
      return;
    }
  }
  impl_->extras.push_back({std::move(name), std::move(help), std::move(read)});
}

std::string Metrics::Render() const { return impl_->Render(); }

}  // namespace troupe
