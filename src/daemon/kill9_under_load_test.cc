// kill -9 at random moments under load: `troupe serve` runs tasks of 100-500 ms four at a time
// (in-process mock and, over HTTP, a `troupe mock-llm` that outlives every daemon), and leads that
// delegate children and are woken by their notices; it is killed 20 times at a random moment and
// restarted on the same data directory each time. Afterwards:
//  - every task completed, exactly once, with its own result; a task seen completed before a
//    kill is byte-identical in every later daemon;
//  - every interrupted task finished (its attempts are 1..n, all but the last interrupted);
//  - every task has exactly one final event and one outbox row; a child's notice reached its
//    parent exactly once, and nothing was delegated twice.
// The schedule comes from a seeded RNG: the seed is printed, and TROUPE_KILL_SEED replays it.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "daemon/testing/daemon_harness.h"
#include "store/sqlite_store.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::DaemonHarness;
using testing::Describe;
using testing::Reply;
using testing::SleepMs;
using testing::WaitUntil;

constexpr int kKills = 20;
constexpr int kPlainTasks = 30;
constexpr int kLeads = 4;
constexpr int kMaxKillDelayMs = 700;

uint32_t Seed() {
  if (const char* s = std::getenv("TROUPE_KILL_SEED"); s != nullptr && *s != '\0') {
    return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  }
  return std::random_device{}();
}

std::string Config(int mock_port) {
  json config = {
      {"default_model", "mock/scripted"},
      {"background_task",
       {{"modelConcurrency", {{"mock/scripted", 4}}},
        {"providerConcurrency", {{"http", 2}, {"lead", 2}}}}},
      {"providers",
       {{"mock", {{"type", "mock"}, {"script", "latency=0 tps=0"}}},
        // A woken lead (its prompt is the notices, with no directives) answers at once.
        {"lead", {{"type", "mock"}, {"script", "latency=20ms tps=0 reply=\"lead woken\""}}},
        {"http",
         {{"type", "openai"},
          {"base_url", fmt::format("http://127.0.0.1:{}/v1", mock_port)},
          {"api_key_env", "KILL9_KEY"}}}}}};
  return config.dump(2);
}

// A delegate_task call of the mock's scripted turn 1, for child `name` taking `latency_ms`.
std::string DelegateCall(const std::string& name, int latency_ms) {
  const json args = {{"description", name},
                     {"prompt", fmt::format("#mock latency={}ms reply=\"{} done\"\nChild task {}.",
                                            latency_ms, name, name)},
                     {"agent", "explore"},
                     {"background", true}};
  return fmt::format("tool=delegate_task:{}", args.dump());
}

class Kill9UnderLoadTest : public ::testing::Test {
 protected:
  Kill9UnderLoadTest() : h_(TROUPE_BINARY) {}

  // Snapshots every task newly seen completed; checks that the ones seen before are still
  // completed and, when `all`, still byte-identical.
  void Observe(bool all) {
    json list = h_.ListTasks("");
    for (const json& t : list) {
      const std::string id = t.value("id", "");
      const bool completed = t.value("state", "") == "completed";
      auto seen = snapshots_.find(id);
      if (seen == snapshots_.end()) {
        if (completed) snapshots_[id] = h_.GetTask(id).dump();
        continue;
      }
      EXPECT_TRUE(completed) << "completed before a kill, now: " << t.dump();
      if (all) {
        EXPECT_EQ(h_.GetTask(id).dump(), seen->second) << id;
      }
    }
  }

  // Launches this generation's share of the load.
  void LaunchSome(int generation, std::mt19937& rng) {
    std::uniform_int_distribution<int> latency(100, 500);
    const int plain_per_generation = 2;
    for (int k = 0; k < plain_per_generation && next_plain_ < kPlainTasks; ++k, ++next_plain_) {
      const int i = next_plain_;
      const std::string result = fmt::format("result {} {:08x}", i, rng());
      const std::string model = i % 4 == 3 ? "http/mock" : "mock/scripted";
      json task =
          h_.Launch({{"prompt", fmt::format("#mock latency={}ms reply=\"{}\"\nPlain task {}.",
                                            latency(rng), result, i)},
                     {"agent", "explore"},
                     {"model", model},
                     {"description", fmt::format("plain {}", i)},
                     {"owner", "kill9"}});
      ASSERT_TRUE(task.is_object());
      expected_[task.value("id", "")] = result;
      launched_.push_back(task.value("id", ""));
    }
    if (generation % 4 == 1 && next_lead_ < kLeads) {
      const int l = next_lead_++;
      const std::string prompt =
          fmt::format("#mock {} {} reply=\"lead {} delegated\"\nDelegate two children.",
                      DelegateCall(fmt::format("child {}a", l), latency(rng)),
                      DelegateCall(fmt::format("child {}b", l), latency(rng)), l);
      json task = h_.Launch({{"prompt", prompt},
                             {"agent", "lead"},
                             {"model", "lead/x"},
                             {"description", fmt::format("lead {}", l)},
                             {"owner", "kill9"}});
      ASSERT_TRUE(task.is_object());
      leads_[task.value("id", "")] = l;
      lead_sessions_[task.value("session_id", "")] = l;
      launched_.push_back(task.value("id", ""));
    }
  }

  DaemonHarness h_;
  std::map<std::string, std::string> snapshots_;  // task id -> its JSON when first seen completed
  std::map<std::string, std::string> expected_;   // plain task id -> its result
  std::map<std::string, int> leads_;              // lead task id -> lead number
  std::map<std::string, int> lead_sessions_;      // lead session id -> lead number
  std::vector<std::string> launched_;
  int next_plain_ = 0;
  int next_lead_ = 0;
};

TEST_F(Kill9UnderLoadTest, TwentyKillsLoseNothingRepeatNothingAndFinishEverything) {
  const uint32_t seed = Seed();
  std::printf("kill -9 schedule seed %u (TROUPE_KILL_SEED=%u replays it)\n", seed, seed);
  RecordProperty("seed", std::to_string(seed));
  SCOPED_TRACE(fmt::format("TROUPE_KILL_SEED={}", seed));
  std::mt19937 rng(seed);

  int mock_port = 0;
  auto mock_llm = h_.StartMockLlm(&mock_port);
  ASSERT_NE(mock_llm, nullptr);
  h_.WriteConfig(Config(mock_port));
  h_.SetEnv("KILL9_KEY", "sk-kill9");

  std::uniform_int_distribution<int> delay(0, kMaxKillDelayMs);
  int running_at_kills = 0;
  for (int generation = 0; generation < kKills; ++generation) {
    SCOPED_TRACE(fmt::format("daemon {}", generation + 1));
    auto daemon = h_.StartDaemon("info");
    ASSERT_NE(daemon, nullptr);
    Observe(/*all=*/generation % 5 == 4);
    LaunchSome(generation, rng);
    if (HasFatalFailure()) return;
    SleepMs(delay(rng));
    running_at_kills += static_cast<int>(h_.ListTasks("status=running").size());
    daemon->Signal(SIGKILL);
    ASSERT_EQ(daemon->Wait(), -SIGKILL) << daemon->Stderr();
  }

  // The last daemon finishes everything: the tasks launched, their children and wake-ups.
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  ASSERT_TRUE(h_.WaitAll(launched_, 120'000));
  int quiet_polls = 0;
  ASSERT_TRUE(WaitUntil(
      [&] {
        quiet_polls =
            h_.ListTasks("status=pending,running,interrupted").empty() ? quiet_polls + 1 : 0;
        return quiet_polls >= 10;  // 200 ms without an active task: no wake-up on its way
      },
      120'000));
  Observe(/*all=*/true);

  json all = h_.ListTasks("");
  int resumed = 0;
  std::set<std::string> ids;
  for (const json& t : all) {
    const std::string id = t.value("id", "");
    EXPECT_TRUE(ids.insert(id).second) << "listed twice: " << id;
    EXPECT_EQ(t.value("state", ""), "completed") << t.dump();
    if (t.value("attempt", 0) > 1) ++resumed;
  }
  for (const auto& [id, result] : expected_) {
    EXPECT_EQ(h_.GetTask(id).value("result", ""), result) << id;
  }
  EXPECT_GT(running_at_kills, 0) << "no kill hit a running task: the loop tested nothing";
  std::printf("%zu tasks; %d running at the kills; %d resumed after a kill\n", all.size(),
              running_at_kills, resumed);

  // Leads: two children each, never delegated twice; each child's notice reached the lead once
  // (in a wake-up's prompt, or a reminder before one of its requests).
  for (const auto& [session, l] : lead_sessions_) {
    SCOPED_TRACE(fmt::format("lead {}", l));
    json children = h_.ListTasks(fmt::format("parent={}", session));
    std::multiset<std::string> names;
    for (const json& c : children) names.insert(c.value("description", ""));
    EXPECT_EQ(names, (std::multiset<std::string>{fmt::format("child {}a", l),
                                                 fmt::format("child {}b", l)}))
        << children.dump(2);
    Reply messages = h_.Unix().Get(fmt::format("/v1/sessions/{}/messages", session));
    ASSERT_EQ(messages.status, 200) << Describe(messages);
    const json session_messages = messages.Json()["messages"];
    for (const json& c : children) {
      const std::string child = c.value("id", "");
      EXPECT_EQ(h_.GetTask(child).value("result", ""), c.value("description", "") + " done");
      int told = 0;
      for (const json& m : session_messages) {
        if (m.value("role", "") != "user") continue;
        const std::string text = m["message"].dump();
        if (text.find("<system-reminder>") == std::string::npos) continue;
        for (size_t at = text.find(child); at != std::string::npos; at = text.find(child, at + 1)) {
          ++told;
        }
      }
      EXPECT_EQ(told, 1) << "the notice of " << child << " reached its lead " << told << " times:\n"
                         << messages.body;
    }
  }

  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  mock_llm->Signal(SIGTERM);
  EXPECT_EQ(mock_llm->Wait(), 0) << mock_llm->Stderr();

  // The store itself: attempts, outbox rows and final events.
  auto store = OpenSqliteStore(h_.data() + "/troupe.db");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto events = (*store)->ListEvents(0);
  ASSERT_TRUE(events.ok()) << events.status().ToString();
  std::map<std::string, int> final_events;
  int64_t last_event = 0;
  for (const EventRecord& e : *events) {
    EXPECT_GT(e.id, last_event);
    last_event = e.id;
    const json payload = json::parse(e.payload, nullptr, false);
    const std::string state = payload.value("state", "");
    if (state == "completed" || state == "error" || state == "cancelled") ++final_events[e.task_id];
  }
  for (const std::string& id : ids) {
    SCOPED_TRACE(id);
    EXPECT_EQ(final_events[id], 1);
    auto notes = (*store)->ListNotificationsForTask(id);
    ASSERT_TRUE(notes.ok());
    ASSERT_EQ(notes->size(), 1u) << "outbox rows of " << id;
    EXPECT_EQ((*notes)[0].state, "completed");
    if (lead_sessions_.count((*notes)[0].recipient)) {
      EXPECT_GT((*notes)[0].delivered_at_ms, 0) << "a child's notice was never delivered";
    }
    auto attempts = (*store)->ListAttempts(id);
    ASSERT_TRUE(attempts.ok());
    ASSERT_FALSE(attempts->empty());
    for (size_t k = 0; k < attempts->size(); ++k) {
      const AttemptRecord& a = (*attempts)[k];
      EXPECT_EQ(a.attempt, static_cast<int>(k) + 1);
      EXPECT_EQ(a.outcome, k + 1 == attempts->size() ? "completed" : "interrupted") << a.attempt;
    }
  }
}

}  // namespace
}  // namespace troupe
