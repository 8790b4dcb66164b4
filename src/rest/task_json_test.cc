#include "rest/task_json.h"

#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using json = nlohmann::json;

constexpr int64_t kT0 = 1'767'225'600'000;

TaskView Running() {
  TaskView v;
  TaskRecord& t = v.task;
  t.id = "bg_1";
  t.session_id = "ses_1";
  t.owner = "cli";
  t.description = "Map the tree";
  t.prompt = "Find where the parser is";
  t.agent = "explore";
  t.model = "mock/scripted";
  t.state = TaskState::kRunning;
  t.attempt = 1;
  t.created_at_ms = t.queued_at_ms = kT0;
  t.started_at_ms = kT0 + 4;
  t.updated_at_ms = kT0 + 4;
  t.turns = 2;
  t.tool_calls = 3;
  t.input_tokens = 812;
  t.output_tokens = 95;
  t.last_tool = "grep";
  v.pool = "default:mock/scripted";
  v.last_activity_wall_ms = kT0 + 1500;
  return v;
}

TEST(TaskJsonTest, RunningTaskHasEveryField) {
  const json j = TaskJson(Running(), kT0 + 1524, TaskJsonMode::kFull);
  const json expected = {{"id", "bg_1"},
                         {"session_id", "ses_1"},
                         {"parent_session_id", ""},
                         {"owner", "cli"},
                         {"description", "Map the tree"},
                         {"prompt", "Find where the parser is"},
                         {"agent", "explore"},
                         {"model", "mock/scripted"},
                         {"state", "running"},
                         {"attempt", 1},
                         {"depth", 0},
                         {"result", ""},
                         {"error", ""},
                         {"created_at_ms", kT0},
                         {"queued_at_ms", kT0},
                         {"started_at_ms", kT0 + 4},
                         {"finished_at_ms", 0},
                         {"updated_at_ms", kT0 + 4},
                         {"queued_ms", 4},
                         {"duration_ms", 1520},
                         {"turns", 2},
                         {"tool_calls", 3},
                         {"input_tokens", 812},
                         {"output_tokens", 95},
                         {"last_tool", "grep"},
                         // Spend (added with budgets): its tokens came without requests, so
                         // nothing was priced.
                         {"root_session_id", ""},
                         {"usage",
                          {{"requests", 0},
                           {"input_tokens", 812},
                           {"output_tokens", 95},
                           {"cache_write_tokens", 0},
                           {"cache_read_tokens", 0},
                           {"reasoning_tokens", 0},
                           {"cost_usd", 0.0},
                           {"priced_cost_usd", 0.0},
                           {"unpriced_requests", 0},
                           {"cost", "$0.00"}}},
                         {"budget", {{"max_tokens", nullptr}, {"max_cost_usd", nullptr}}},
                         {"pool", "default:mock/scripted"},
                         {"queue_position", 0},
                         {"waiting_reason", ""},
                         {"last_activity_at_ms", kT0 + 1500}};
  EXPECT_EQ(j, expected) << j.dump(2);
}

TEST(TaskJsonTest, PendingCountsQueueTimeSoFar) {
  TaskView v = Running();
  v.task.state = TaskState::kPending;
  v.task.attempt = 0;
  v.task.started_at_ms = 0;
  v.queue_position = 2;
  v.waiting_reason = "pool default:mock/scripted full (1/1 running), position 2";
  v.last_activity_wall_ms = 0;
  const json j = TaskJson(v, kT0 + 700, TaskJsonMode::kFull);
  EXPECT_EQ(j["queued_ms"], 700);
  EXPECT_EQ(j["duration_ms"], 0);
  EXPECT_EQ(j["queue_position"], 2);
  EXPECT_EQ(j["waiting_reason"], v.waiting_reason);
  EXPECT_EQ(j["last_activity_at_ms"], 0);
}

TEST(TaskJsonTest, FinalTaskTimesAreFixed) {
  TaskView v = Running();
  v.task.state = TaskState::kCompleted;
  v.task.finished_at_ms = kT0 + 2004;
  v.task.result = "found it";
  const json j = TaskJson(v, kT0 + 999'999, TaskJsonMode::kFull);
  EXPECT_EQ(j["queued_ms"], 4);
  EXPECT_EQ(j["duration_ms"], 2000);
  EXPECT_EQ(j["result"], "found it");
  // Live-engine fields are empty once the task left the engine.
  EXPECT_EQ(j["pool"], "");
  EXPECT_EQ(j["last_activity_at_ms"], 0);

  // Cancelled while pending: queued until it was cancelled, never ran.
  TaskView c = Running();
  c.task.state = TaskState::kCancelled;
  c.task.started_at_ms = 0;
  c.task.finished_at_ms = kT0 + 300;
  const json jc = TaskJson(c, kT0 + 999'999, TaskJsonMode::kFull);
  EXPECT_EQ(jc["queued_ms"], 300);
  EXPECT_EQ(jc["duration_ms"], 0);

  // Re-queued after an interruption: the old start does not count as running now.
  TaskView r = Running();
  r.task.state = TaskState::kPending;
  r.task.started_at_ms = kT0 + 4;
  r.task.queued_at_ms = kT0 + 10'000;
  const json jr = TaskJson(r, kT0 + 10'250, TaskJsonMode::kFull);
  EXPECT_EQ(jr["queued_ms"], 250);
  EXPECT_EQ(jr["duration_ms"], 0);
}

TEST(TaskJsonTest, ListingLeavesOutResultAndCutsPrompt) {
  TaskView v = Running();
  v.task.result = "long result";
  std::string prompt;
  for (int i = 0; i < 150; ++i) prompt += "é";  // 300 bytes
  v.task.prompt = prompt;
  const json j = TaskJson(v, kT0, TaskJsonMode::kListing);
  EXPECT_FALSE(j.contains("result"));
  EXPECT_EQ(j["prompt"].get<std::string>(), prompt.substr(0, 200));
  EXPECT_EQ(j["prompt_truncated"], true);

  // An odd cut backs off to the character boundary.
  v.task.prompt = "a" + prompt;
  const json odd = TaskJson(v, kT0, TaskJsonMode::kListing);
  EXPECT_EQ(odd["prompt"].get<std::string>(), "a" + prompt.substr(0, 198));

  v.task.prompt = "short";
  const json s = TaskJson(v, kT0, TaskJsonMode::kListing);
  EXPECT_EQ(s["prompt"], "short");
  EXPECT_FALSE(s.contains("prompt_truncated"));

  v.task.prompt = prompt;
  const json full = TaskJson(v, kT0, TaskJsonMode::kFull);
  EXPECT_EQ(full["prompt"], prompt);
  EXPECT_EQ(full["result"], "long result");
}

TEST(TaskJsonTest, InvalidUtf8NeverThrowsWhenDumped) {
  TaskView v = Running();
  v.task.result = "bad \xff\xfe bytes";
  const std::string body = JsonBody(TaskJson(v, kT0, TaskJsonMode::kFull));
  EXPECT_EQ(body.back(), '\n');
  const json back = json::parse(body);
  EXPECT_EQ(back["result"], "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes");
}

TEST(SessionJsonTest, Fields) {
  SessionRecord s{"ses_1", "explore", "mock/m", "/w", "ses_0", "cli", "Title", 1, kT0, kT0 + 5};
  EXPECT_EQ(SessionJson(s), (json{{"id", "ses_1"},
                                  {"agent", "explore"},
                                  {"model", "mock/m"},
                                  {"workspace", "/w"},
                                  {"parent_session_id", "ses_0"},
                                  {"owner", "cli"},
                                  {"title", "Title"},
                                  {"depth", 1},
                                  {"created_at_ms", kT0},
                                  {"updated_at_ms", kT0 + 5}}));
  EXPECT_EQ(TodoJson({"t1", "write tests", "in_progress", "high"}),
            (json{{"id", "t1"},
                  {"content", "write tests"},
                  {"status", "in_progress"},
                  {"priority", "high"}}));
}

TEST(MessageJsonTest, ParsesStoredContentOrKeepsTheRawText) {
  MessageRecord m{"ses_1", 3, "bg_1", "user", R"({"role":"user","content":"hi"})", kT0};
  EXPECT_EQ(MessageJson(m), (json{{"seq", 3},
                                  {"task_id", "bg_1"},
                                  {"role", "user"},
                                  {"created_at_ms", kT0},
                                  {"message", {{"role", "user"}, {"content", "hi"}}}}));
  m.content = "not json {";
  EXPECT_EQ(MessageJson(m)["message"], "not json {");
}

TEST(PoolJsonTest, CooldownRemaining) {
  PoolSnapshot p{"model:mock/scripted", "model", "mock", 2, 2, 1, kT0 + 5000};
  EXPECT_EQ(PoolJson(p, kT0 + 1000), (json{{"key", "model:mock/scripted"},
                                           {"level", "model"},
                                           {"provider", "mock"},
                                           {"limit", 2},
                                           {"in_use", 2},
                                           {"queued", 1},
                                           {"cooldown_until_ms", kT0 + 5000},
                                           {"cooldown_remaining_ms", 4000}}));
  EXPECT_EQ(PoolJson(p, kT0 + 9000)["cooldown_remaining_ms"], 0);
  p.cooldown_until_wall_ms = 0;
  EXPECT_EQ(PoolJson(p, kT0)["cooldown_remaining_ms"], 0);
}

TEST(AgentJsonTest, FieldsAndSource) {
  AgentDefinition a;
  a.name = "explore";
  a.description = "Finds things";
  a.model = "mock/m";
  a.tools = {"read", "grep"};
  EXPECT_EQ(AgentJson(a), (json{{"name", "explore"},
                                {"description", "Finds things"},
                                {"model", "mock/m"},
                                {"tools", {"read", "grep"}},
                                {"source", "builtin"}}));
  a.source.origin = AgentOrigin::kProject;
  EXPECT_EQ(AgentJson(a)["source"], "project");
  a.config_overrides = {"model"};
  EXPECT_EQ(AgentJson(a)["source"], "config");
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(TaskJsonTest, UsageSaysCostUnknownRatherThanAMadeUpNumber) {
  UsageTotals u{3, 1000, 100, 10, 20, 5, 4'500'000, 1};
  const json j = UsageJson(u);
  EXPECT_EQ(j["cost_usd"], nullptr);
  EXPECT_DOUBLE_EQ(j["priced_cost_usd"].get<double>(), 0.0045);
  EXPECT_EQ(j["cost"], "≥ $0.0045, cost unknown for 1 of 3 requests");
  u.unpriced_requests = 0;
  EXPECT_DOUBLE_EQ(UsageJson(u)["cost_usd"].get<double>(), 0.0045);
  TaskRecord t;
  t.limits_json = R"({"maxTokens":500,"maxCostNanoUsd":2000000000})";
  TaskView v;
  v.task = t;
  const json task = TaskJson(v, 0, TaskJsonMode::kFull);
  EXPECT_EQ(task["budget"]["max_tokens"], 500);
  EXPECT_DOUBLE_EQ(task["budget"]["max_cost_usd"].get<double>(), 2.0);
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(TaskJsonTest, AnIsolatedTaskShowsItsWorktree) {
  TaskView v;
  v.task.id = "bg_1";
  EXPECT_FALSE(TaskJson(v, 0, TaskJsonMode::kFull).contains("worktree"));
  TaskWorktree w;
  w.repo = "/src/app";
  w.git_dir = "/src/app/.git/worktrees/bg_1";
  w.path = "/data/worktrees/bg_1";
  w.branch = "troupe/bg_1";
  w.base = "abc";
  w.removed = true;
  w.commits = {"1a2b troupe: edit"};
  w.diff_stat = " a.txt | 1 +";
  v.task.worktree_json = TaskWorktreeJson(w);
  const json j = TaskJson(v, 0, TaskJsonMode::kFull)["worktree"];
  EXPECT_EQ(j, json({{"branch", "troupe/bg_1"},
                     {"base", "abc"},
                     {"repository", "/src/app"},
                     {"path", "/data/worktrees/bg_1"},
                     {"removed", true},
                     {"commits", {"1a2b troupe: edit"}},
                     {"diff_stat", " a.txt | 1 +"},
                     {"auto_committed", false}}));
}

}  // namespace
}  // namespace troupe
