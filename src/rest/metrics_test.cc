#include "rest/metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "engine/engine_test_fixture.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;

struct SampleLine {
  std::string name;
  std::map<std::string, std::string> labels;  // unescaped values
  double value = 0;
};

// Parses Prometheus text format 0.0.4 as a scraper would, failing the test on anything
// malformed: every sample belongs to a family announced by # HELP then # TYPE.
struct Exposition {
  std::vector<SampleLine> samples;
  std::map<std::string, std::string> types;
  std::map<std::string, std::string> help;

  static Exposition Parse(const std::string& text) {
    Exposition e;
    EXPECT_TRUE(!text.empty() && text.back() == '\n');
    size_t pos = 0;
    std::string family;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string line = text.substr(pos, nl - pos);
      pos = nl == std::string::npos ? text.size() : nl + 1;
      if (line.rfind("# HELP ", 0) == 0) {
        std::string rest = line.substr(7);
        std::string name = rest.substr(0, rest.find(' '));
        EXPECT_EQ(e.help.count(name), 0u) << "HELP twice: " << name;
        e.help[name] = rest.substr(name.size() + 1);
        family = name;
        continue;
      }
      if (line.rfind("# TYPE ", 0) == 0) {
        std::string rest = line.substr(7);
        std::string name = rest.substr(0, rest.find(' '));
        EXPECT_EQ(name, family) << "TYPE without its HELP: " << line;
        e.types[name] = rest.substr(name.size() + 1);
        continue;
      }
      EXPECT_FALSE(line.empty() || line[0] == '#') << "unexpected line: " << line;
      SampleLine s;
      size_t i = 0;
      while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
      s.name = line.substr(0, i);
      if (i < line.size() && line[i] == '{') {
        ++i;
        while (i < line.size() && line[i] != '}') {
          size_t eq = line.find('=', i);
          std::string key = line.substr(i, eq - i);
          EXPECT_EQ(line[eq + 1], '"') << line;
          i = eq + 2;
          std::string value;
          while (i < line.size() && line[i] != '"') {
            if (line[i] == '\\') {
              ++i;
              char c = line[i];
              EXPECT_TRUE(c == '\\' || c == '"' || c == 'n') << "bad escape in " << line;
              value += c == 'n' ? '\n' : c;
            } else {
              value += line[i];
            }
            ++i;
          }
          ++i;  // closing quote
          if (line[i] == ',') ++i;
          s.labels[key] = value;
        }
        ++i;  // '}'
      }
      EXPECT_EQ(line[i], ' ') << line;
      std::string number = line.substr(i + 1);
      s.value = number == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(number);
      // The family: the name itself, or a histogram's name before _bucket/_sum/_count.
      std::string fam = s.name;
      for (const char* suffix : {"_bucket", "_sum", "_count"}) {
        std::string sfx = suffix;
        if (fam.size() > sfx.size() && fam.compare(fam.size() - sfx.size(), sfx.size(), sfx) == 0 &&
            e.types.count(fam.substr(0, fam.size() - sfx.size())) &&
            e.types[fam.substr(0, fam.size() - sfx.size())] == "histogram") {
          fam = fam.substr(0, fam.size() - sfx.size());
        }
      }
      EXPECT_EQ(fam, family) << "sample outside its family: " << line;
      e.samples.push_back(std::move(s));
    }
    return e;
  }

  // The value of the sample with that name and labels; NaN (and a test failure) when absent.
  double Value(const std::string& name, std::map<std::string, std::string> labels = {}) const {
    for (const SampleLine& s : samples) {
      if (s.name == name && s.labels == labels) return s.value;
    }
    ADD_FAILURE() << "no sample " << name;
    return std::nan("");
  }
  bool Has(const std::string& name, std::map<std::string, std::string> labels = {}) const {
    for (const SampleLine& s : samples) {
      if (s.name == name && s.labels == labels) return true;
    }
    return false;
  }

  // A histogram's buckets as (le, cumulative count), in order; checks their shape.
  std::vector<std::pair<double, double>> Buckets(const std::string& name) const {
    std::vector<std::pair<double, double>> out;
    for (const SampleLine& s : samples) {
      if (s.name != name + "_bucket") continue;
      const std::string& le = s.labels.at("le");
      out.emplace_back(le == "+Inf" ? std::numeric_limits<double>::infinity() : std::stod(le),
                       s.value);
    }
    EXPECT_FALSE(out.empty());
    for (size_t i = 1; i < out.size(); ++i) {
      EXPECT_LT(out[i - 1].first, out[i].first) << name << ": bounds not increasing";
      EXPECT_LE(out[i - 1].second, out[i].second) << name << ": counts not cumulative";
    }
    EXPECT_TRUE(std::isinf(out.back().first)) << name << ": no +Inf bucket";
    EXPECT_EQ(out.back().second, Value(name + "_count")) << name << ": +Inf != _count";
    return out;
  }

  // The cumulative count of the bucket with upper bound `le`.
  double Bucket(const std::string& name, double le) const {
    for (auto [bound, count] : Buckets(name)) {
      if (std::abs(bound - le) < 1e-9) return count;
    }
    ADD_FAILURE() << "no bucket le=" << le;
    return std::nan("");
  }
};

class MetricsTest : public EngineTest {
 protected:
  void SetUp() override {
    TaskManagerOptions o;
    o.limits.default_concurrency = 1;
    runner_.set_chooser([](const RunRequest& r) -> Script {
      if (r.prompt.rfind("hang", 0) == 0) return {};
      if (r.prompt == "fail") return {ScriptStep::Fail(200, "boom")};
      if (r.prompt == "work") {
        Script s;
        for (int i = 0; i < 2; ++i) {
          ProgressUpdate u;
          u.turns = 1;
          u.input_tokens = 5;
          u.output_tokens = 10;
          s.push_back(ScriptStep::Progress(100, u));
        }
        s.push_back(ScriptStep::Complete(100, "worked"));
        return s;
      }
      return {ScriptStep::Complete(ScriptStep::kNow, "done")};
    });
    Build(o);
  }

  std::string PoolKey() {
    for (const PoolSnapshot& p : manager_->Pools()) {
      if (p.limit == 1) return p.key;
    }
    ADD_FAILURE() << "no pool with limit 1";
    return "";
  }
};

TEST_F(MetricsTest, CountsTasksTransitionsDurationsAndTokens) {
  // Before the metrics exist: one completed, one failed, one running.
  LaunchOk(Req("quick"));
  const std::string failing = LaunchOk(Req("fail"));
  clock_.AdvanceMs(200);
  ASSERT_EQ(StateOf(failing), TaskState::kError);
  const std::string hang1 = LaunchOk(Req("hang 1"));
  ASSERT_EQ(StateOf(hang1), TaskState::kRunning);

  Metrics metrics(&clock_, manager_.get(), store_.get());
  {
    Exposition e = Exposition::Parse(metrics.Render());
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "pending"}}), 0);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "running"}}), 1);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "completed"}}), 1);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "error"}}), 1);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "cancelled"}}), 0);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "interrupted"}}), 0);
    EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "running"}}), 0);
    EXPECT_EQ(e.Value("troupe_task_queue_wait_seconds_count"), 0);
    EXPECT_EQ(e.Value("troupe_task_run_seconds_count"), 0);
    EXPECT_EQ(e.types["troupe_tasks"], "gauge");
    EXPECT_EQ(e.types["troupe_task_transitions_total"], "counter");
    EXPECT_EQ(e.types["troupe_task_queue_wait_seconds"], "histogram");
    EXPECT_EQ(e.types["troupe_task_run_seconds"], "histogram");
    EXPECT_EQ(e.types["troupe_tokens_total"], "counter");
    EXPECT_EQ(e.types["troupe_uptime_seconds"], "gauge");
  }

  // `work` queues behind hang 1 (one slot) for 1 s, then runs 300 ms reporting tokens.
  const std::string work = LaunchOk(Req("work"));
  {
    Exposition e = Exposition::Parse(metrics.Render());
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "pending"}}), 1);
    EXPECT_EQ(e.Value("troupe_tasks", {{"state", "running"}}), 1);
    const std::string pool = PoolKey();
    EXPECT_EQ(e.Value("troupe_pool_in_use", {{"pool", pool}}), 1);
    EXPECT_EQ(e.Value("troupe_pool_queued", {{"pool", pool}}), 1);
    EXPECT_EQ(e.Value("troupe_pool_limit", {{"pool", pool}}), 1);
    EXPECT_EQ(e.types["troupe_pool_in_use"], "gauge");
  }
  clock_.AdvanceMs(1000);
  ASSERT_TRUE(runner_.Finish(hang1, RunOutcome::Completed("ok")));  // ran 1000 ms
  ASSERT_EQ(StateOf(work), TaskState::kRunning);                    // waited 1000 ms
  clock_.AdvanceMs(300);
  ASSERT_EQ(StateOf(work), TaskState::kCompleted);    // ran 300 ms
  const std::string hang2 = LaunchOk(Req("hang 2"));  // starts at once: waited 0 ms
  clock_.AdvanceMs(50);
  ASSERT_TRUE(manager_->Cancel(hang2).ok());  // ran 50 ms

  Exposition e = Exposition::Parse(metrics.Render());
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "pending"}}), 0);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "running"}}), 0);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "completed"}}), 3);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "error"}}), 1);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "cancelled"}}), 1);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "interrupted"}}), 0);
  // The gauge agrees with the store.
  auto all = store_->ListTasks(TaskFilter{});
  ASSERT_TRUE(all.ok());
  double total = 0;
  for (const char* s : {"pending", "running", "completed", "error", "cancelled", "interrupted"}) {
    total += e.Value("troupe_tasks", {{"state", s}});
  }
  EXPECT_EQ(total, static_cast<double>(all->size()));

  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "pending"}}), 2);
  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "running"}}), 2);
  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "completed"}}), 2);
  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "cancelled"}}), 1);
  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "error"}}), 0);

  // Queue wait: 1000 ms (work) and 0 ms (hang 2).
  EXPECT_EQ(e.Value("troupe_task_queue_wait_seconds_count"), 2);
  EXPECT_DOUBLE_EQ(e.Value("troupe_task_queue_wait_seconds_sum"), 1.0);
  EXPECT_EQ(e.Bucket("troupe_task_queue_wait_seconds", 0.005), 1);
  EXPECT_EQ(e.Bucket("troupe_task_queue_wait_seconds", 0.5), 1);
  EXPECT_EQ(e.Bucket("troupe_task_queue_wait_seconds", 1), 2);  // le is inclusive
  // Run time: 1000 ms (hang 1), 300 ms (work), 50 ms (hang 2).
  EXPECT_EQ(e.Value("troupe_task_run_seconds_count"), 3);
  EXPECT_DOUBLE_EQ(e.Value("troupe_task_run_seconds_sum"), 1.35);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 0.025), 0);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 0.05), 1);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 0.25), 1);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 0.5), 2);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 1), 3);
  EXPECT_EQ(e.Bucket("troupe_task_run_seconds", 600), 3);
  EXPECT_EQ(e.Buckets("troupe_task_run_seconds").size(), 17u);

  // Two progress reports of 5 in / 10 out each (deltas, summed), in the one token family: by
  // model, agent and kind (no second series of the same tokens by direction).
  const std::map<std::string, std::string> work_input{
      {"model", "mock/m"}, {"agent", "explore"}, {"kind", "input"}};
  EXPECT_EQ(e.Value("troupe_tokens_total", work_input), 10);
  EXPECT_EQ(e.Value("troupe_tokens_total",
                    {{"model", "mock/m"}, {"agent", "explore"}, {"kind", "output"}}),
            20);
  EXPECT_FALSE(e.Has("troupe_tokens_total", {{"direction", "input"}}));

  // Since the metrics were built at t = 200 ms: 1000 + 300 + 50 ms.
  EXPECT_DOUBLE_EQ(e.Value("troupe_uptime_seconds"), 1.35);
}

TEST_F(MetricsTest, ProviderErrorsRetriesHttpCodesAndEscapedLabels) {
  Metrics metrics(&clock_, manager_.get(), store_.get());
  const std::string weird = "we\"ird\\\nname";
  metrics.OnProviderError("anthropic", true);
  metrics.OnProviderError("anthropic", true);
  metrics.OnProviderError("anthropic", false);
  metrics.OnProviderError(weird, false);
  for (int i = 0; i < 3; ++i) metrics.OnHttpResponse(200);
  metrics.OnHttpResponse(404);
  metrics.OnHttpResponse(400);

  const std::string text = metrics.Render();
  EXPECT_THAT(text,
              HasSubstr("troupe_provider_errors_total{provider=\"we\\\"ird\\\\\\nname\"} 1\n"));
  Exposition e = Exposition::Parse(text);
  EXPECT_EQ(e.types["troupe_provider_errors_total"], "counter");
  EXPECT_EQ(e.types["troupe_provider_retries_total"], "counter");
  EXPECT_EQ(e.Value("troupe_provider_errors_total", {{"provider", "anthropic"}}), 3);
  EXPECT_EQ(e.Value("troupe_provider_retries_total", {{"provider", "anthropic"}}), 2);
  EXPECT_EQ(e.Value("troupe_provider_errors_total", {{"provider", weird}}), 1);
  EXPECT_EQ(e.Value("troupe_provider_retries_total", {{"provider", weird}}), 0);
  EXPECT_EQ(e.types["troupe_http_requests_total"], "counter");
  EXPECT_EQ(e.Value("troupe_http_requests_total", {{"code", "200"}}), 3);
  EXPECT_EQ(e.Value("troupe_http_requests_total", {{"code", "404"}}), 1);
  EXPECT_EQ(e.Value("troupe_http_requests_total", {{"code", "400"}}), 1);
  EXPECT_FALSE(e.Has("troupe_http_requests_total", {{"code", "500"}}));
}

TEST_F(MetricsTest, AddedGaugesAreReadAtScrapeTime) {
  Metrics metrics(&clock_, manager_.get(), store_.get());
  int subscribers = 2;
  metrics.AddGauge("troupe_sse_subscribers", "Open event streams.",
                   [&subscribers] { return subscribers; });
  metrics.AddGauge("bad name-1", "Help with a \\ and a\nline break.", [] { return 0.5; });
  Exposition e = Exposition::Parse(metrics.Render());
  EXPECT_EQ(e.types["troupe_sse_subscribers"], "gauge");
  EXPECT_EQ(e.help["troupe_sse_subscribers"], "Open event streams.");
  EXPECT_EQ(e.Value("troupe_sse_subscribers"), 2);
  EXPECT_EQ(e.Value("bad_name_1"), 0.5);
  EXPECT_EQ(e.help["bad_name_1"], "Help with a \\\\ and a\\nline break.");
  subscribers = 7;
  EXPECT_EQ(Exposition::Parse(metrics.Render()).Value("troupe_sse_subscribers"), 7);
  // Adding a gauge again replaces it.
  metrics.AddGauge("troupe_sse_subscribers", "Open event streams.", [] { return 1; });
  e = Exposition::Parse(metrics.Render());
  EXPECT_EQ(e.Value("troupe_sse_subscribers"), 1);
}

TEST_F(MetricsTest, InterruptedAndResumedTasksMoveBetweenStates) {
  Metrics metrics(&clock_, manager_.get(), store_.get());
  const std::string hang = LaunchOk(Req("hang"));
  clock_.AdvanceMs(40);
  manager_->Shutdown();  // running -> interrupted
  ASSERT_EQ(StateOf(hang), TaskState::kInterrupted);
  Exposition e = Exposition::Parse(metrics.Render());
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "running"}}), 0);
  EXPECT_EQ(e.Value("troupe_tasks", {{"state", "interrupted"}}), 1);
  EXPECT_EQ(e.Value("troupe_task_transitions_total", {{"to", "interrupted"}}), 1);
  EXPECT_EQ(e.Value("troupe_task_run_seconds_count"), 1);
  EXPECT_DOUBLE_EQ(e.Value("troupe_task_run_seconds_sum"), 0.04);
}

class MetricsStoreFailureTest : public MetricsTest {
 protected:
  void SetUp() override {
    with_faults_ = true;
    MetricsTest::SetUp();
  }
};

TEST_F(MetricsStoreFailureTest, StoreWriteFailuresAndDegradedAreExported) {
  Metrics metrics(&clock_, manager_.get(), store_.get());
  Exposition before = Exposition::Parse(metrics.Render());
  EXPECT_EQ(before.types["troupe_store_write_failures_total"], "counter");
  EXPECT_EQ(before.types["troupe_store_degraded"], "gauge");
  EXPECT_DOUBLE_EQ(before.Value("troupe_store_write_failures_total"), 0);
  EXPECT_DOUBLE_EQ(before.Value("troupe_store_degraded"), 0);

  fault_->FailWritesFromNow();
  ASSERT_FALSE(manager_->Launch(Req("x")).ok());
  Exposition during = Exposition::Parse(metrics.Render());
  EXPECT_DOUBLE_EQ(during.Value("troupe_store_degraded"), 0);  // refused: nothing is held
  EXPECT_GE(during.Value("troupe_store_write_failures_total"), 1);

  fault_->Heal();
  ASSERT_TRUE(manager_->Launch(Req("hang")).ok());
  fault_->FailWritesFromNow();
  ASSERT_TRUE(manager_->Cancel(manager_->List({})->back().task.id).ok());  // held in memory
  during = Exposition::Parse(metrics.Render());
  EXPECT_DOUBLE_EQ(during.Value("troupe_store_degraded"), 1);
  EXPECT_GT(during.Value("troupe_store_unsaved_writes"), 0);

  fault_->Heal();
  clock_.AdvanceMs(TaskManagerOptions{}.store_retry_max_ms);
  Exposition after = Exposition::Parse(metrics.Render());
  EXPECT_DOUBLE_EQ(after.Value("troupe_store_degraded"), 0);
  EXPECT_DOUBLE_EQ(after.Value("troupe_store_unsaved_writes"), 0);
  EXPECT_GE(after.Value("troupe_store_write_failures_total"),
            during.Value("troupe_store_write_failures_total"));
}

TEST_F(MetricsTest, DestructionUnsubscribes) {
  const size_t before = manager_->events().subscribers();
  {
    Metrics metrics(&clock_, manager_.get(), store_.get());
    EXPECT_EQ(manager_->events().subscribers(), before + 1);
  }
  EXPECT_EQ(manager_->events().subscribers(), before);
  LaunchOk(Req("after"));
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// Model requests are counted by model, agent and kind of token, with their cost when the model
// has a price.
TEST(MetricsSpendTest, TokensAndCostByModelAndAgent) {
  FakeClock clock;
  ScriptedRunner runner(&clock, [](const RunRequest&) { return Script{}; });
  IdGenerator ids(&clock, 7);
  auto store = OpenSqliteStore(":memory:");
  ASSERT_TRUE(store.ok());
  TaskManagerOptions o;
  o.prices = PriceTable({{"corp/priced", ModelPrice{3, 15, 3.75, 0.30}}}, false);
  TaskManager manager(&clock, store->get(), &runner, &ids, o);
  Metrics metrics(&clock, &manager, store->get());
  LaunchRequest r;
  r.prompt = "p";
  r.agent = "explore";
  r.model = "corp/priced";
  auto priced = manager.Launch(r);
  r.model = "mock/m";
  r.agent = "lead";
  auto unpriced = manager.Launch(r);
  ASSERT_TRUE(priced.ok() && unpriced.ok());
  ProgressUpdate u;
  u.requests = 1;
  u.input_tokens = 1'000'000;
  u.output_tokens = 100'000;
  u.cache_write_tokens = 200'000;
  u.cache_read_tokens = 500'000;
  u.reasoning_tokens = 40'000;
  runner.Progress(priced->task.id, u);
  runner.Progress(priced->task.id, u);
  runner.Progress(unpriced->task.id, u);

  Exposition e = Exposition::Parse(metrics.Render());
  auto tokens = [&](const char* model, const char* agent, const char* kind) {
    return e.Value("troupe_tokens_total", {{"model", model}, {"agent", agent}, {"kind", kind}});
  };
  EXPECT_EQ(tokens("corp/priced", "explore", "input"), 2'000'000);
  EXPECT_EQ(tokens("corp/priced", "explore", "output"), 200'000);
  EXPECT_EQ(tokens("corp/priced", "explore", "cache_write"), 400'000);
  EXPECT_EQ(tokens("corp/priced", "explore", "cache_read"), 1'000'000);
  EXPECT_EQ(tokens("corp/priced", "explore", "reasoning"), 80'000);
  EXPECT_EQ(tokens("mock/m", "lead", "input"), 1'000'000);
  // $3.30 a request (see price_table_test), twice; nothing for the unpriced model.
  EXPECT_DOUBLE_EQ(e.Value("troupe_cost_usd_total", {{"model", "corp/priced"}, {"agent", "explore"}}),
                   6.6);
  EXPECT_EQ(e.Value("troupe_cost_usd_total", {{"model", "mock/m"}, {"agent", "lead"}}), 0);
  EXPECT_EQ(e.Value("troupe_unpriced_requests_total", {{"model", "mock/m"}, {"agent", "lead"}}),
            1);
  EXPECT_EQ(e.types["troupe_cost_usd_total"], "counter");
  // One family, one label set: no sample counts the same tokens a second way.
  for (const auto& sample : e.samples) {
    if (sample.name != "troupe_tokens_total") continue;
    EXPECT_EQ(sample.labels.size(), 3u);
    EXPECT_TRUE(sample.labels.count("model") && sample.labels.count("agent") &&
                sample.labels.count("kind"));
  }
}

}  // namespace
}  // namespace troupe
