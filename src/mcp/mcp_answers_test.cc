#include "mcp/mcp_answers.h"

#include <gtest/gtest.h>

namespace troupe {
namespace {

using json = nlohmann::json;

McpToolResult WithStructure() {
  McpToolResult r = McpToolResult::Text("the answer");
  r.structured = {{"task_id", "bg_1"}};
  return r;
}

TEST(McpAnswersTest, SuggestedCallsReadAsCallsAndAsJson) {
  McpSuggestedCall call{"background_wait", {{"task_ids", json{"bg_1", "bg_2"}}, {"mode", "all"}}};
  EXPECT_EQ(call.ToText(), R"(background_wait(task_ids=["bg_1","bg_2"], mode="all"))");
  EXPECT_EQ(call.ToJson(),
            json({{"tool", "background_wait"},
                  {"arguments", {{"task_ids", {"bg_1", "bg_2"}}, {"mode", "all"}}}}));
  McpSuggestedCall output{"background_output", {{"task_id", "bg_1"}, {"block", true}}};
  EXPECT_EQ(output.ToText(), R"(background_output(task_id="bg_1", block=true))");
}

TEST(McpAnswersTest, NoticesGoInFrontOfTheTextAndIntoTheStructure) {
  NotificationRecord a;
  a.task_id = "bg_a";
  a.state = "completed";
  a.summary = "bg_a (explore: map) completed after 1.0s";
  NotificationRecord b;
  b.task_id = "bg_b";
  b.state = "error";
  b.summary = "bg_b (explore: x) error after 2.0s: boom";
  McpToolResult r = WithStructure();
  AttachNotices({a, b}, &r);
  ASSERT_EQ(r.content.size(), 2u);
  const std::string reminder =
      "Background tasks you launched have finished:\n"
      "- bg_a (explore: map) completed after 1.0s\n"
      "- bg_b (explore: x) error after 2.0s: boom\n"
      "Use background_output with a task id to read a result.";
  EXPECT_EQ(r.content[0]["text"], "<system-reminder>\n" + reminder + "\n</system-reminder>");
  EXPECT_EQ(r.content[1]["text"], "the answer");
  EXPECT_EQ(r.structured["reminder"], reminder);
  EXPECT_EQ(r.structured["notices"], json::parse(R"([{"task_id":"bg_a","state":"completed",
                             "summary":"bg_a (explore: map) completed after 1.0s"},
                            {"task_id":"bg_b","state":"error",
                             "summary":"bg_b (explore: x) error after 2.0s: boom"}])"));
  EXPECT_EQ(r.structured["task_id"], "bg_1");

  McpToolResult none = WithStructure();
  AttachNotices({}, &none);
  EXPECT_EQ(none.content.size(), 1u);
  EXPECT_FALSE(none.structured.contains("notices"));

  // An error has no structure: the notices are in its text only.
  McpToolResult error = McpToolResult::Error("bad");
  AttachNotices({a}, &error);
  EXPECT_EQ(error.content.size(), 2u);
  EXPECT_TRUE(error.structured.is_null());
}

TEST(McpAnswersTest, StillRunningSaysHowToWaitAgainAndWhenTheTimeoutWasLowered) {
  McpToolResult r = WithStructure();
  AddGuidance("No need to poll.", &r);
  const McpSuggestedCall again{"background_output", {{"task_id", "bg_1"}, {"block", true}}};
  EXPECT_EQ(StillRunning(again, 50'000, 0, &r),
            R"(To wait again, call background_output(task_id="bg_1", block=true).)");
  EXPECT_EQ(r.structured["timed_out"], true);
  EXPECT_EQ(r.structured["wait_again"], again.ToJson());
  EXPECT_EQ(
      r.structured["guidance"],
      R"(No need to poll. To wait again, call background_output(task_id="bg_1", block=true).)");

  McpToolResult lowered = WithStructure();
  const std::string sentence =
      "timeout_ms 120000 was lowered to 50s, the longest one call waits (most MCP clients end a "
      "tool call after 60s). To wait again, call "
      R"(background_output(task_id="bg_1", block=true).)";
  EXPECT_EQ(StillRunning(again, 50'000, 120'000, &lowered), sentence);
  EXPECT_EQ(lowered.structured["guidance"], sentence);
  // As asked: nothing to say about the timeout.
  McpToolResult exact = WithStructure();
  EXPECT_EQ(StillRunning(again, 50'000, 50'000, &exact).find("lowered"), std::string::npos);

  McpToolResult error = McpToolResult::Error("bad");
  AddGuidance("x", &error);
  EXPECT_TRUE(error.structured.is_null());
}

}  // namespace
}  // namespace troupe
