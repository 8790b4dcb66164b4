#include "cli/task_format.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <time.h>

#include "core/testing/scoped_env.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

// 2025-11-21 05:20:00 UTC.
constexpr int64_t kAt = 1763702400000;

class UtcTest : public ::testing::Test {
 protected:
  UtcTest() : tz_("TZ", "UTC") { tzset(); }
  ~UtcTest() override { tzset(); }
  testing::ScopedEnv tz_;
};

json Task(const std::string& id, const std::string& state) {
  return json{{"id", id},
              {"session_id", "ses_" + id.substr(3)},
              {"agent", "explore"},
              {"model", "mock/scripted"},
              {"state", state},
              {"description", "Map the source tree"},
              {"queue_position", 0},
              {"queued_ms", 0},
              {"duration_ms", 0},
              {"started_at_ms", 0},
              {"last_tool", ""}};
}

TEST(QueueTimeTextTest, PositionWhilePendingDurationAfter) {
  json pending = Task("bg_1", "pending");
  pending["queue_position"] = 2;
  pending["queued_ms"] = 3200;
  EXPECT_EQ(QueueTimeText(pending), "#2 queued 3.2s");
  pending["queue_position"] = 0;
  EXPECT_EQ(QueueTimeText(pending), "queued 3.2s");

  json running = Task("bg_1", "running");
  running["started_at_ms"] = kAt;
  running["duration_ms"] = 75'000;
  EXPECT_EQ(QueueTimeText(running), "1m 15s");

  json cancelled = Task("bg_1", "cancelled");  // cancelled while pending: never ran
  EXPECT_EQ(QueueTimeText(cancelled), "-");
}

TEST(IsEndedStateTest, FinalAndInterrupted) {
  for (const char* s : {"completed", "error", "cancelled", "interrupted"}) {
    EXPECT_TRUE(IsEndedState(s)) << s;
  }
  for (const char* s : {"pending", "running", ""}) EXPECT_FALSE(IsEndedState(s)) << s;
}

TEST(TaskTableTest, Golden) {
  json a = Task("bg_01aaaaaaaaaaaaaaaaa", "running");
  a["started_at_ms"] = kAt;
  a["duration_ms"] = 1500;
  a["last_tool"] = "grep";
  json b = Task("bg_01bbbbbbbbbbbbbbbbb", "pending");
  b["agent"] = "general";
  b["queue_position"] = 1;
  b["queued_ms"] = 400;
  b["description"] = "Review the retry policy and the rate limit headers";
  TableOptions options;
  options.max_width = 110;
  EXPECT_EQ(TaskTable({a, b}, options),
            "ID                      AGENT    MODEL          STATE    QUEUE/TIME       LAST TOOL  "
            "DESCRIPTION\n"
            "bg_01aaaaaaaaaaaaaaaaa  explore  mock/scripted  running  1.5s             grep       "
            "Map the source tree\n"
            "bg_01bbbbbbbbbbbbbbbbb  general  mock/scripted  pending  #1 queued 400ms  -          "
            "Review the retry policy…\n");
}

TEST(TaskTableTest, NarrowTerminalsCutTheDescriptionFirst) {
  json a = Task("bg_01aaaaaaaaaaaaaaaaa", "running");
  a["model"] = "openrouter/anthropic/claude-3.5-sonnet";
  a["started_at_ms"] = kAt;
  a["duration_ms"] = 1500;
  TableOptions options;
  options.max_width = 80;
  EXPECT_EQ(TaskTable({a}, options),
            "ID                      AGENT    MODEL             STATE    QUEUE/TIME  LAST TOOL  "
            "DESCRIPTION\n"
            "bg_01aaaaaaaaaaaaaaaaa  explore  openrouter/anth…  running  1.5s        -          "
            "Map the so…\n");  // no narrower than its header
}

TEST(TaskTableTest, ColoursTheState) {
  TableOptions options;
  options.color = true;
  const std::string text = TaskTable({Task("bg_1", "error")}, options);
  EXPECT_THAT(text, HasSubstr("\x1b[31merror\x1b[0m"));
}

TEST(TaskSummaryTableTest, ShowsErrorsOfFailedTasks) {
  json failed = Task("bg_1", "error");
  failed["error"] = "provider said 400";
  failed["started_at_ms"] = kAt;
  failed["duration_ms"] = 20;
  json done = Task("bg_2", "completed");
  done["started_at_ms"] = kAt;
  done["duration_ms"] = 2000;
  EXPECT_EQ(TaskSummaryTable({failed, done}, {}),
            "ID    STATE      TIME  DESCRIPTION\n"
            "bg_1  error      20ms  Map the source tree — provider said 400\n"
            "bg_2  completed  2.0s  Map the source tree\n");
}

TEST_F(UtcTest, TaskDetailsShowsEveryField) {
  json t = Task("bg_1", "completed");
  t["prompt"] = "Find the retry code\n#mock reply=done";
  t["result"] = "done";
  t["created_at_ms"] = kAt;
  t["started_at_ms"] = kAt + 4;
  t["finished_at_ms"] = kAt + 1524;
  t["duration_ms"] = 1520;
  t["turns"] = 2;
  t["tool_calls"] = 3;
  t["last_tool"] = "grep";
  t["input_tokens"] = 812;
  t["output_tokens"] = 95;
  t["future_field"] = json{{"x", 1}};
  const json session = {
      {"session", {{"id", "ses_1"}, {"title", "Map"}, {"workspace", "/w"}, {"agent", "explore"}}},
      {"tasks", json::array({{{"id", "bg_1"}, {"state", "completed"}}})},
      {"todos", json::array({{{"id", "1"},
                              {"content", "Read the code"},
                              {"status", "completed"},
                              {"priority", "high"}},
                             {{"id", "2"}, {"content", "Write it up"}, {"status", "pending"}}})}};
  const std::string text = TaskDetails(t, session, false);
  EXPECT_THAT(text, HasSubstr("bg_1  completed\n"));
  EXPECT_THAT(text, HasSubstr("  description     Map the source tree\n"));
  EXPECT_THAT(text, HasSubstr("  started         2025-11-21 05:20:00\n"));
  EXPECT_THAT(text, HasSubstr("  ran for         1.5s\n"));
  EXPECT_THAT(text, HasSubstr("  tool calls      3 (last: grep)\n"));
  EXPECT_THAT(text, HasSubstr("  tokens          812 in, 95 out\n"));
  EXPECT_THAT(text, HasSubstr("  future_field    {\"x\":1}\n"));
  EXPECT_THAT(text, HasSubstr("\nprompt:\n  Find the retry code\n  #mock reply=done\n"));
  EXPECT_THAT(text, HasSubstr("\nresult:\n  done\n"));
  EXPECT_THAT(text, Not(HasSubstr("\nerror:")));
  EXPECT_THAT(text, HasSubstr("\nsession ses_1:\n"));
  EXPECT_THAT(text, HasSubstr("  workspace       /w\n"));
  EXPECT_THAT(text, HasSubstr("  tasks           bg_1 completed\n"));
  EXPECT_THAT(text, HasSubstr("\ntodos:\n  [x] Read the code (high)\n  [ ] Write it up\n"));
}

TEST_F(UtcTest, TranscriptShowsRolesAndToolCalls) {
  const json messages = {
      {"messages",
       json::array(
           {{{"seq", 1},
             {"task_id", "bg_1"},
             {"role", "user"},
             {"created_at_ms", kAt},
             {"message", {{"role", "user"}, {"content", "Find it"}}}},
            {{"seq", 2},
             {"task_id", "bg_1"},
             {"role", "assistant"},
             {"created_at_ms", kAt + 1000},
             {"message",
              {{"role", "assistant"},
               {"content", ""},
               {"tool_calls",
                json::array({{{"id", "c1"}, {"name", "grep"}, {"arguments", "{\"p\":\"x\"}"}}})}}}},
            {{"seq", 3},
             {"task_id", "bg_1"},
             {"role", "tool"},
             {"message", {{"role", "tool"}, {"name", "grep"}, {"content", "a.cc:1: x"}}}},
            {{"seq", 4},
             {"task_id", "bg_2"},
             {"role", "assistant"},
             {"message", {{"role", "assistant"}, {"content", "Found in a.cc"}}}}})}};
  EXPECT_EQ(Transcript(messages),
            "#1 user  [bg_1]  05:20:00\n"
            "  Find it\n"
            "\n"
            "#2 assistant  05:20:01\n"
            "  → grep {\"p\":\"x\"}\n"
            "\n"
            "#3 tool grep\n"
            "  a.cc:1: x\n"
            "\n"
            "#4 assistant  [bg_2]\n"
            "  Found in a.cc\n");
}

TEST(TaskFormatTest, TranscriptSaysHowEachReplyStopped) {
  const json messages = {
      {"messages",
       json::array({{{"seq", 1},
                     {"task_id", "bg_1"},
                     {"role", "assistant"},
                     {"message",
                      {{"role", "assistant"}, {"content", "The answer is"}, {"stop_reason", "length"}}}},
                    {{"seq", 2},
                     {"task_id", "bg_1"},
                     {"role", "assistant"},
                     {"message", {{"role", "assistant"}, {"content", " 42."}, {"stop_reason", "stop"}}}}})}};
  EXPECT_EQ(Transcript(messages),
            "#1 assistant  [bg_1]  stop: length (the reply was cut off at the output limit)\n"
            "  The answer is\n"
            "\n"
            "#2 assistant  stop: stop\n"
            "   42.\n");
}

SseEvent Event(const std::string& type, const json& data, const std::string& id = "") {
  return SseEvent{type, data.dump(), id};
}

TEST_F(UtcTest, EventLines) {
  const SseEvent state = Event("task.state",
                               {{"id", 42},
                                {"task_id", "bg_1"},
                                {"state", "running"},
                                {"from", "pending"},
                                {"agent", "explore"},
                                {"model", "mock/scripted"},
                                {"description", "Map it"},
                                {"at_ms", kAt}},
                               "42");
  EXPECT_EQ(EventLine(state, 0),
            "    42  05:20:00  bg_1  pending → running  [explore mock/scripted]  Map it");
  const SseEvent progress = Event("task.progress",
                                  {{"task_id", "bg_1"},
                                   {"turns", 1},
                                   {"tool_calls", 1},
                                   {"input_tokens", 800},
                                   {"output_tokens", 20},
                                   {"tool", "grep"},
                                   {"at_ms", kAt + 1000}},
                                  "42");
  EXPECT_EQ(EventLine(progress, 0),
            "        05:20:01  bg_1  tool grep (+1 turn, +1 tool call, +800 in/+20 out tokens)");
  const SseEvent failed = Event("task.state", {{"id", 43},
                                               {"task_id", "bg_1"},
                                               {"state", "error"},
                                               {"from", "running"},
                                               {"error", "boom"}});
  EXPECT_EQ(EventLine(failed, kAt), "    43  05:20:00  bg_1  running → error: boom");
}

TEST_F(UtcTest, ProgressLinesSkipTokenCounts) {
  EXPECT_EQ(
      ProgressLine(
          Event("task.state",
                {{"task_id", "bg_1"}, {"state", "completed"}, {"from", "running"}, {"at_ms", kAt}}),
          0, false),
      "05:20:00  bg_1  running → completed");
  EXPECT_EQ(ProgressLine(Event("task.state",
                               {{"task_id", "bg_1"}, {"state", "pending"}, {"from", "pending"}}),
                         kAt, false),
            "05:20:00  bg_1  new, pending");
  EXPECT_EQ(
      ProgressLine(Event("task.progress", {{"task_id", "bg_1"}, {"tool", "read"}}), kAt, false),
      "05:20:00  bg_1  tool read");
  EXPECT_EQ(
      ProgressLine(Event("task.progress", {{"task_id", "bg_1"}, {"output_tokens", 5}}), kAt, false),
      std::nullopt);
  EXPECT_EQ(ProgressLine(SseEvent{"task.state", "not json", ""}, kAt, false), std::nullopt);
}

TEST(EventJsonTest, IdFromTheDataOrNullForProgress) {
  EXPECT_EQ(EventJson(Event("task.state", {{"id", 7}, {"task_id", "bg_1"}}, "7")),
            json({{"id", 7}, {"event", "task.state"}, {"data", {{"id", 7}, {"task_id", "bg_1"}}}}));
  EXPECT_EQ(EventJson(Event("task.state", {{"task_id", "bg_1"}}, "8"))["id"], 8);
  EXPECT_TRUE(EventJson(Event("task.progress", {{"task_id", "bg_1"}}, "8"))["id"].is_null());
  EXPECT_EQ(EventJson(SseEvent{"odd", "text", ""})["data"], "text");
}

TEST(PoolsTextTest, Golden) {
  const json pools = {{"pools", json::array({{{"key", "model:mock/scripted"},
                                              {"level", "model"},
                                              {"limit", 2},
                                              {"in_use", 2},
                                              {"queued", 1},
                                              {"cooldown_remaining_ms", 0}},
                                             {{"key", "provider:anthropic"},
                                              {"level", "provider"},
                                              {"limit", 0},
                                              {"in_use", 0},
                                              {"queued", 0},
                                              {"cooldown_remaining_ms", 12000}}})},
                      {"global", {{"limit", 0}, {"running", 2}, {"pending", 1}}}};
  EXPECT_EQ(PoolsText(pools, {}),
            "POOL                 LEVEL     LIMIT  IN USE  QUEUED  COOLDOWN\n"
            "model:mock/scripted  model         2       2       1  -\n"
            "provider:anthropic   provider   none       0       0  12s\n"
            "global: 2 running, 1 pending, no limit\n");
  EXPECT_EQ(PoolsText(json{{"pools", json::array()}}, {}),
            "no pools yet (a pool appears when a task first uses it)\n");
}

TEST(AgentsTableTest, Golden) {
  const json agents = {{"agents", json::array({{{"name", "explore"},
                                                {"description", "Searches the code"},
                                                {"model", ""},
                                                {"tools", json::array({"grep", "read"})},
                                                {"source", "builtin"}}})}};
  EXPECT_EQ(AgentsTable(agents, {}),
            "NAME     MODEL  SOURCE   TOOLS      DESCRIPTION\n"
            "explore  -      builtin  grep,read  Searches the code\n");
}

TEST(AgentsTableTest, EndsWithTheDefaultModelAndWhatChangesTheOfflineOne) {
  json agents = {{"agents", json::array({{{"name", "explore"}, {"source", "builtin"}}})},
                 {"default_model",
                  {{"model", "mock/scripted"},
                   {"source", "offline"},
                   {"origin", "offline fallback: no ANTHROPIC_API_KEY in the daemon's environment"},
                   {"hint", "To use a real model, set ANTHROPIC_API_KEY=…."},
                   {"notice", "Note from troupe: …"}}}};
  EXPECT_EQ(AgentsTable(agents, {}),
            "NAME     MODEL  SOURCE   TOOLS  DESCRIPTION\n"
            "explore  -      builtin  -\n"
            "\n"
            "Agents with no model (-) use mock/scripted (offline fallback: no ANTHROPIC_API_KEY in "
            "the daemon's environment).\n"
            "To use a real model, set ANTHROPIC_API_KEY=….\n");
  agents["default_model"] = {{"model", "anthropic/claude-sonnet-4-5"},
                             {"source", "env"},
                             {"origin", "ANTHROPIC_API_KEY is set in the daemon's environment"},
                             {"env", "ANTHROPIC_API_KEY"}};
  EXPECT_THAT(AgentsTable(agents, {}),
              ::testing::EndsWith("\nAgents with no model (-) use anthropic/claude-sonnet-4-5 "
                                  "(ANTHROPIC_API_KEY is set in the daemon's environment).\n"));
}

TEST(CancelTableTest, Golden) {
  EXPECT_EQ(CancelTable({{Task("bg_1", "cancelled"), "running"}}, {}),
            "ID    WAS      AGENT    SESSION  DESCRIPTION\n"
            "bg_1  running  explore  ses_1    Map the source tree\n");
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(TaskTableTest, SpendGetsAColumnOnceATaskMadeARequest) {
  json a = {{"id", "bg_1"},   {"agent", "explore"}, {"model", "corp/m"}, {"state", "completed"},
            {"description", "d"}, {"last_tool", "grep"}};
  json b = a;
  b["id"] = "bg_2";
  b["usage"] = {{"requests", 3},  {"input_tokens", 12'000}, {"output_tokens", 345},
                {"cost", "$0.0412"}};
  json c = a;
  c["id"] = "bg_3";
  c["usage"] = {{"requests", 1}, {"input_tokens", 10}, {"output_tokens", 2},
                {"cost", "cost unknown"}};
  TableOptions options;
  const std::string text = TaskTable({a, b, c}, options);
  EXPECT_NE(text.find("TOKENS/COST"), std::string::npos) << text;
  EXPECT_NE(text.find("12k tok, $0.0412"), std::string::npos) << text;
  EXPECT_NE(text.find("12 tok, cost unknown"), std::string::npos) << text;
  EXPECT_EQ(TaskTable({a}, options).find("TOKENS/COST"), std::string::npos);
  EXPECT_EQ(CompactCount(1'500'000), "1.5M");
}

TEST(TaskDetailsTest, ShowsHowTheLastReplyEnded) {
  json t = {{"id", "bg_1"}, {"state", "error"}, {"stop_reason", "max_tokens"}};
  EXPECT_THAT(TaskDetails(t, json(), false),
              HasSubstr("  last stop       max_tokens (the reply was cut off at the output "
                        "limit)\n"));
  t["stop_reason"] = "refusal";
  EXPECT_THAT(TaskDetails(t, json(), false),
              HasSubstr("  last stop       refusal (the model refused)\n"));
  t["stop_reason"] = "end_turn";
  EXPECT_THAT(TaskDetails(t, json(), false), HasSubstr("  last stop       end_turn\n"));
  t["stop_reason"] = nullptr;  // no reply yet
  EXPECT_THAT(TaskDetails(t, json(), false), HasSubstr("  last stop       -\n"));
  // A daemon that does not send it: no row.
  t.erase("stop_reason");
  EXPECT_THAT(TaskDetails(t, json(), false), Not(HasSubstr("last stop")));
  EXPECT_EQ(StopReasonText("length"), "length (the reply was cut off at the output limit)");
  EXPECT_EQ(StopReasonText("content_filter"),
            "content_filter (the provider's filter stopped the reply)");
}

TEST(TaskDetailsTest, ShowsUsageBudgetAndTree) {
  json t = {{"id", "bg_1"}, {"state", "error"}, {"input_tokens", 1200}, {"output_tokens", 34}};
  t["usage"] = {{"requests", 2},          {"input_tokens", 1200},    {"output_tokens", 34},
                {"cache_read_tokens", 1000}, {"cache_write_tokens", 0}, {"reasoning_tokens", 5},
                {"cost", "cost unknown"}};
  t["budget"] = {{"max_tokens", 1000}, {"max_cost_usd", nullptr}};
  t["tree"] = {{"root_session_id", "ses_r"}, {"tasks", 3}, {"delegated", 2}, {"running", 1},
               {"usage", t["usage"]},       {"max_tasks", 50}, {"max_cost_usd", 10.0},
               {"stopped", ""}};
  const std::string text = TaskDetails(t, json(), false);
  EXPECT_NE(text.find("1200 in (1000 cache read, 0 cache write), 34 out (5 reasoning) in 2 "
                      "requests: cost unknown"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("max 1000 tokens"), std::string::npos) << text;
  EXPECT_NE(text.find("tree ses_r"), std::string::npos) << text;
  EXPECT_NE(text.find("3 tasks (2 delegated, 1 running)"), std::string::npos) << text;
  EXPECT_NE(text.find("cap 50 tasks; max $10.00"), std::string::npos) << text;
}

TEST(BudgetsTextTest, ShowsTodayTheBudgetsAndTheTrees) {
  json spend = {
      {"day", "2026-12-06"},
      {"today", {{"requests", 4}, {"input_tokens", 100}, {"output_tokens", 10}, {"cost", "$1.20"}}},
      {"budgets",
       {{"daily_max_cost_usd", 40.0}, {"tree_max_tasks", 50}, {"task_max_tokens", nullptr}}},
      {"daily_stopped", ""},
      {"trees",
       json::array(
           {{{"root_session_id", "ses_r"},
             {"tasks", 3},
             {"running", 2},
             {"max_tasks", 50},
             {"usage",
              {{"requests", 4}, {"input_tokens", 100}, {"output_tokens", 10}, {"cost", "$1.20"}}},
             {"stopped", ""},
             {"waiting", json::array({{{"task_id", "bg_w"},
                                       {"agent", "explore"},
                                       {"held", true},
                                       {"reason",
                                        "tree ses_r at "
                                        "budgets.tree_max_running"}}})}}})}};
  const std::string text = BudgetsText(spend, TableOptions{});
  EXPECT_NE(text.find("today (UTC 2026-12-06)"), std::string::npos) << text;
  EXPECT_NE(text.find("daily budget"), std::string::npos) << text;
  EXPECT_NE(text.find("$40.00"), std::string::npos) << text;
  EXPECT_NE(text.find("max tasks 50"), std::string::npos) << text;
  EXPECT_NE(text.find("ses_r"), std::string::npos) << text;
  EXPECT_NE(text.find("110 tok, $1.20"), std::string::npos) << text;
  EXPECT_NE(text.find("WAITING"), std::string::npos) << text;
  EXPECT_NE(text.find("bg_w (explore)  waits: tree ses_r at budgets.tree_max_running"),
            std::string::npos)
      << text;
}

}  // namespace
}  // namespace troupe
