// Tests of the MCP tools over a real TaskManager (fake clock, scripted runner, in-memory store):
// texts checked by their key lines, structuredContent field by field.
#include "mcp/mcp_tools.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "agent/message_codec.h"
#include "agent/testing/git_repo.h"
#include "agent/worktrees.h"
#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"
#include "engine/testing/held_executor.h"
#include "engine/testing/test_scripts.h"
#include "mcp/mcp_wait_progress.h"
#include "mcp/testing/mcp_engine_test.h"

namespace troupe {
namespace {

using json = nlohmann::json;

struct Outcome {
  int calls = 0;
  McpToolResult result;
};

class McpToolsTest : public testing::McpEngineTest {
 protected:
  void ForgetCalls() override { calls_.clear(); }

  // Starts a call; the outcome fills in when `done` runs.
  std::shared_ptr<Outcome> Begin(const std::string& session, const std::string& tool,
                                 const json& args, McpCallContext context = {}) {
    auto out = std::make_shared<Outcome>();
    context.session_id = session;
    calls_.push_back(tools_->Call(context, tool, args, [out](McpToolResult r) {
      ++out->calls;
      out->result = std::move(r);
    }));
    return out;
  }

  // A call that must answer without waiting.
  McpToolResult Now(const std::string& session, const std::string& tool, const json& args) {
    auto out = Begin(session, tool, args);
    EXPECT_EQ(out->calls, 1) << tool << " did not answer at once";
    return out->result;
  }

  std::string Launch(const std::string& session, const std::string& prompt,
                     const std::string& agent = "explore") {
    McpToolResult r = Now(session, "delegate_task",
                          {{"description", "d " + prompt}, {"prompt", prompt}, {"agent", agent}});
    EXPECT_FALSE(r.is_error) << Answer(r);
    return r.structured.value("task_id", "");
  }

  // The answer proper: the last text block (a reminder, when there is one, comes first).
  static std::string Answer(const McpToolResult& r) {
    return r.content.empty() ? "" : r.content.back().value("text", "");
  }
  static std::string Reminder(const McpToolResult& r) {
    if (r.content.size() < 2) return "";
    return r.content.front().value("text", "");
  }
  static bool Has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }

  std::vector<std::unique_ptr<McpCall>> calls_;
};

TEST_F(McpToolsTest, ListToolsHasFiveToolsWithValidSchemas) {
  json tools = tools_->ListTools();
  ASSERT_EQ(tools.size(), 5u);
  const std::vector<std::string> names = {"delegate_task", "background_output", "background_wait",
                                          "background_cancel", "background_list"};
  for (size_t i = 0; i < names.size(); ++i) {
    const json& t = tools[i];
    SCOPED_TRACE(names[i]);
    EXPECT_EQ(t["name"], names[i]);
    EXPECT_FALSE(t["description"].get<std::string>().empty());
    EXPECT_TRUE(t["title"].is_string());
    for (const char* schema : {"inputSchema", "outputSchema"}) {
      const json& s = t[schema];
      EXPECT_EQ(s["type"], "object");
      ASSERT_TRUE(s["properties"].is_object());
      ASSERT_TRUE(s["required"].is_array());
      for (const json& r : s["required"]) EXPECT_TRUE(s["properties"].contains(r)) << r;
      // Every property is typed: a type, or (delegate_task's model: one or a list) an anyOf of
      // typed branches.
      for (auto& [k, p] : s["properties"].items()) {
        if (p.contains("anyOf")) {
          for (const json& branch : p["anyOf"]) EXPECT_TRUE(branch.contains("type")) << k;
        } else {
          EXPECT_TRUE(p.contains("type")) << k;
        }
      }
    }
    EXPECT_EQ(t["inputSchema"]["additionalProperties"], false);
    for (auto& [k, p] : t["inputSchema"]["properties"].items()) {
      EXPECT_FALSE(p.value("description", "").empty()) << k;
    }
    EXPECT_TRUE(t["annotations"]["readOnlyHint"].is_boolean());
    EXPECT_NO_THROW((void)t.dump(-1, ' ', false, json::error_handler_t::strict));
  }
  EXPECT_EQ(tools[0]["inputSchema"]["required"], json({"description", "prompt"}));
  EXPECT_EQ(tools[0]["inputSchema"]["properties"]["agent"]["enum"], json({"explore", "librarian"}));
  EXPECT_TRUE(Has(tools[0]["description"], "- explore: Finds code"));
  EXPECT_EQ(tools[0]["execution"]["taskSupport"], "optional");
  EXPECT_EQ(tools[0]["annotations"]["readOnlyHint"], false);
  EXPECT_EQ(tools[1]["inputSchema"]["required"], json({"task_id"}));
  EXPECT_EQ(tools[1]["inputSchema"]["properties"]["timeout_ms"]["default"], 50000);
  EXPECT_EQ(tools[1]["outputSchema"]["required"],
            json({"task_id", "session_id", "agent", "state"}));
  EXPECT_EQ(tools[2]["inputSchema"]["properties"]["mode"]["enum"], json({"all", "any"}));
  EXPECT_EQ(tools[3]["annotations"]["destructiveHint"], true);
  EXPECT_EQ(tools[4]["annotations"]["readOnlyHint"], true);
}

// The 2025-11-25 schema's ToolAnnotations, set truthfully: what each tool does to the world.
TEST_F(McpToolsTest, AnnotationsSayWhatEachToolDoes) {
  json tools = tools_->ListTools();
  struct Expected {
    const char* name;
    bool read_only, destructive, idempotent, open_world;
  };
  const Expected expected[] = {
      // Starts agents that may edit files, run commands and call an LLM; each call a new task.
      {"delegate_task", false, true, false, true},
      {"background_output", true, false, true, false},
      {"background_wait", true, false, true, false},
      // Stops work in progress; cancelling again changes nothing.
      {"background_cancel", false, true, true, false},
      {"background_list", true, false, true, false},
  };
  ASSERT_EQ(tools.size(), std::size(expected));
  for (size_t i = 0; i < tools.size(); ++i) {
    const Expected& e = expected[i];
    SCOPED_TRACE(e.name);
    const json& a = tools[i]["annotations"];
    EXPECT_EQ(tools[i]["name"], e.name);
    EXPECT_EQ(a["title"], tools[i]["title"]);
    EXPECT_EQ(a["readOnlyHint"], e.read_only);
    EXPECT_EQ(a["destructiveHint"], e.destructive);
    EXPECT_EQ(a["idempotentHint"], e.idempotent);
    EXPECT_EQ(a["openWorldHint"], e.open_world);
    EXPECT_EQ(a.size(), 5u) << a.dump();  // nothing the schema does not define
  }
}

// Claude Code and Codex show the model structuredContent, not the text, when a tool has an
// outputSchema: every schema declares, with descriptions, what the model needs besides the task.
TEST_F(McpToolsTest, OutputSchemasDeclareNoticesGuidanceAndWaitingAgain) {
  json tools = tools_->ListTools();
  for (const json& tool : tools) {
    SCOPED_TRACE(tool["name"].get<std::string>());
    const json& props = tool["outputSchema"]["properties"];
    for (const char* field : {"notices", "reminder", "guidance"}) {
      ASSERT_TRUE(props.contains(field)) << field;
      EXPECT_FALSE(props[field].value("description", "").empty()) << field;
    }
    EXPECT_EQ(props["notices"]["items"]["required"], json({"task_id", "state", "summary"}));
    const bool waits = tool["name"] == "delegate_task" || tool["name"] == "background_output" ||
                       tool["name"] == "background_wait";
    EXPECT_EQ(props.contains("wait_again"), waits);
    EXPECT_EQ(props.contains("timed_out"), waits);
    for (const char* field : {"notices", "reminder", "guidance", "wait_again", "timed_out"}) {
      const json& required = tool["outputSchema"]["required"];
      EXPECT_EQ(std::count(required.begin(), required.end(), field),
                tool["name"] == "background_wait" && std::string(field) == "timed_out" ? 1 : 0)
          << field;
    }
  }
  EXPECT_TRUE(tools[1]["outputSchema"]["properties"].contains("transcript"));
  EXPECT_TRUE(
      Has(tools[2]["inputSchema"]["properties"]["timeout_ms"]["description"], "at most 50000"));
  EXPECT_FALSE(tools[2]["inputSchema"]["properties"]["timeout_ms"].contains("maximum"));
}

TEST_F(McpToolsTest, LaunchWhenThePoolIsFullIsPendingWithItsQueuePosition) {
  Start(1);
  McpToolResult first =
      Now("s1", "delegate_task",
          {{"description", "find auth"}, {"prompt", "slow a"}, {"agent", "explore"}});
  ASSERT_FALSE(first.is_error) << Answer(first);
  EXPECT_TRUE(Has(Answer(first), "Background task launched.\n"));
  EXPECT_EQ(first.structured["state"], "running");
  EXPECT_EQ(first.structured["agent"], "explore");
  EXPECT_EQ(first.structured["queue_position"], 0);
  // The launch guidance, also where a client that shows only structuredContent puts it.
  const std::string guidance = first.structured.value("guidance", "");
  EXPECT_TRUE(Has(guidance, "You will be notified automatically when it finishes")) << guidance;
  EXPECT_TRUE(Has(guidance, "no need to poll"));
  EXPECT_TRUE(Answer(first).ends_with(guidance));

  McpToolResult second =
      Now("s1", "delegate_task",
          {{"description", "read docs"}, {"prompt", "b"}, {"agent", "librarian"}});
  const json& s = second.structured;
  EXPECT_EQ(s["state"], "pending");
  EXPECT_EQ(s["queue_position"], 1);
  EXPECT_EQ(s["agent"], "librarian");
  EXPECT_EQ(s["description"], "read docs");
  const std::string text = Answer(second);
  EXPECT_TRUE(Has(text, "Task ID: " + s["task_id"].get<std::string>() + "\n"));
  EXPECT_TRUE(Has(text, "Session ID: " + s["session_id"].get<std::string>() + "\n"));
  EXPECT_TRUE(Has(text, "Status: pending\n"));
  EXPECT_TRUE(Has(text, "Queue position: 1\n"));

  TaskView stored = ViewOf(s["task_id"]);
  EXPECT_EQ(stored.task.owner, "mcp:s1");
  EXPECT_EQ(stored.task.parent_session_id, "");
}

TEST_F(McpToolsTest, ForegroundDelegationAnswersWithTheResultAndReportsProgress) {
  std::vector<std::string> progress;
  std::vector<double> values;
  McpCallContext context;
  context.progress = [&](double value, std::optional<double>, const std::string& message) {
    values.push_back(value);
    progress.push_back(message);
  };
  auto out = Begin(
      "s1", "delegate_task",
      {{"description", "fg"}, {"prompt", "find it"}, {"agent", "explore"}, {"background", false}},
      context);
  EXPECT_EQ(out->calls, 0);
  clock_.AdvanceMs(500);
  EXPECT_EQ(out->calls, 0);
  clock_.AdvanceMs(500);
  ASSERT_EQ(out->calls, 1);
  const McpToolResult& r = out->result;
  EXPECT_FALSE(r.is_error);
  ASSERT_EQ(r.content.size(), 1u);  // its own completion notice is not repeated
  EXPECT_TRUE(Has(Answer(r), "Task Result\n"));
  EXPECT_TRUE(Has(Answer(r), "---\n\ndone: find it"));
  EXPECT_EQ(r.structured["state"], "completed");
  EXPECT_EQ(r.structured["result"], "done: find it");
  EXPECT_EQ(r.structured["duration_ms"], 1000);
  // The start of the wait and the tool call; not the completion, which the answer is.
  const std::string id = r.structured["task_id"];
  EXPECT_EQ(progress,
            std::vector<std::string>({"waiting for " + id + " running", id + " running grep"}));
  EXPECT_EQ(values, std::vector<double>({1, 2}));
  // The notice was claimed with the answer: nothing left to piggy-back.
  EXPECT_EQ(Now("s1", "background_list", json::object()).content.size(), 1u);
}

TEST_F(McpToolsTest, OutputShowsStatusThenTheSameResultThenErrors) {
  const std::string id = Launch("s1", "find auth");
  McpToolResult status = Now("s1", "background_output", {{"task_id", id}});
  EXPECT_TRUE(Has(Answer(status), "## Task Status\n"));
  EXPECT_TRUE(Has(Answer(status), "| Status | **running** |"));
  EXPECT_TRUE(Has(Answer(status), "## Original Prompt\n\nfind auth"));
  EXPECT_EQ(status.structured["state"], "running");
  EXPECT_EQ(status.structured["guidance"],
            "No need to wait or poll: you will be notified automatically when this task "
            "finishes.");

  clock_.AdvanceMs(1000);
  McpToolResult first = Now("s1", "background_output", {{"task_id", id}});
  McpToolResult again = Now("s1", "background_output", {{"task_id", id}});
  EXPECT_TRUE(Has(Answer(first), "Task Result\n\nTask ID: " + id + "\n"));
  EXPECT_TRUE(Has(Answer(first), "done: find auth"));
  EXPECT_EQ(first.content, again.content);
  EXPECT_EQ(first.structured, again.structured);
  EXPECT_EQ(first.structured["state"], "completed");
  EXPECT_EQ(first.structured["result"], "done: find auth");

  const std::string bad = Launch("s1", "fail now");
  clock_.AdvanceMs(1000);
  McpToolResult error = Now("s1", "background_output", {{"task_id", bad}});
  EXPECT_FALSE(error.is_error);  // the tool worked; the task failed
  EXPECT_TRUE(Has(Answer(error), "Task Error\n"));
  EXPECT_TRUE(Has(Answer(error), "Status: error\n"));
  EXPECT_TRUE(Has(Answer(error), "provider exploded"));
  EXPECT_TRUE(Has(Answer(error), "delegate_task(session_id="));
  EXPECT_EQ(error.structured["state"], "error");
  EXPECT_TRUE(Has(error.structured["error"], "provider exploded"));
  EXPECT_TRUE(Has(error.structured["guidance"], "continue it with delegate_task(session_id="));
  EXPECT_FALSE(first.structured.contains("guidance"));  // a result needs none
}

TEST_F(McpToolsTest, OutputCanReadATaskOfAnotherSession) {
  const std::string id = Launch("s1", "find auth");
  McpToolResult r = Now("s2", "background_output", {{"task_id", id}});
  EXPECT_FALSE(r.is_error);
  EXPECT_EQ(r.structured["task_id"], id);
}

TEST_F(McpToolsTest, OutputBlocksUntilTheEndOrTheTimeout) {
  const std::string slow = Launch("s1", "slow one");
  auto timed =
      Begin("s1", "background_output", {{"task_id", slow}, {"block", true}, {"timeout_ms", 500}});
  EXPECT_EQ(timed->calls, 0);
  clock_.AdvanceMs(500);
  ASSERT_EQ(timed->calls, 1);
  EXPECT_TRUE(Has(Answer(timed->result), "Still running after waiting"));
  EXPECT_TRUE(Has(Answer(timed->result), "## Task Status"));
  EXPECT_EQ(timed->result.structured["state"], "running");

  auto full = Begin("s1", "background_output", {{"task_id", slow}, {"block", true}});
  clock_.AdvanceMs(2499);
  EXPECT_EQ(full->calls, 0);
  clock_.AdvanceMs(1);
  ASSERT_EQ(full->calls, 1);
  EXPECT_TRUE(Has(Answer(full->result), "Task Result"));
  EXPECT_EQ(full->result.structured["state"], "completed");
}

TEST_F(McpToolsTest, OutputWithFullSessionAddsTheTranscript) {
  const std::string id = Launch("s1", "find auth");
  const std::string session = ViewOf(id).task.session_id;
  MessageRecord m;
  m.session_id = session;
  m.task_id = id;
  m.role = "user";
  m.content = EncodeStoredMessage(UserMessage("find the auth code"));
  ASSERT_TRUE(manager_->AppendMessage(&m).ok());
  clock_.AdvanceMs(1000);
  McpToolResult r = Now("s1", "background_output", {{"task_id", id}, {"full_session", true}});
  EXPECT_TRUE(Has(Answer(r), "Task Result"));
  // The engine stored the prompt as the first message.
  EXPECT_TRUE(Has(Answer(r), "## Session " + session + " (2 messages)\n\n### 1. user\n\nfind auth"))
      << Answer(r);
  EXPECT_TRUE(Has(Answer(r), "find the auth code"));
  const std::string transcript = r.structured.value("transcript", "");
  EXPECT_TRUE(transcript.starts_with("## Session " + session + " (2 messages)")) << transcript;
  EXPECT_TRUE(Answer(r).ends_with(transcript));
}

TEST_F(McpToolsTest, WaitForAnyAllAndTimeout) {
  const std::string a = Launch("s1", "quick");
  const std::string b = Launch("s1", "slow b");
  auto any = Begin("s1", "background_wait", {{"task_ids", {a, b}}, {"mode", "any"}});
  auto all = Begin("s1", "background_wait", {{"timeout_ms", 2000}});  // this session's active
  auto both = Begin("s1", "background_wait", {{"task_ids", {a, b}}, {"mode", "all"}});
  clock_.AdvanceMs(1000);
  ASSERT_EQ(any->calls, 1);
  EXPECT_EQ(all->calls, 0);
  EXPECT_EQ(any->result.structured["timed_out"], false);
  ASSERT_EQ(any->result.structured["tasks"].size(), 2u);
  EXPECT_EQ(any->result.structured["tasks"][0]["state"], "completed");
  EXPECT_EQ(any->result.structured["tasks"][1]["state"], "running");
  EXPECT_TRUE(Has(Answer(any->result), "1 of 2 tasks finished"));

  clock_.AdvanceMs(1000);
  ASSERT_EQ(all->calls, 1);
  EXPECT_EQ(all->result.structured["timed_out"], true);
  EXPECT_TRUE(Has(Answer(all->result), "Timed out after"));
  EXPECT_EQ(both->calls, 0);
  clock_.AdvanceMs(1000);
  ASSERT_EQ(both->calls, 1);
  EXPECT_EQ(both->result.structured["timed_out"], false);
  EXPECT_TRUE(Has(Answer(both->result), "All 2 tasks finished."));

  McpToolResult nothing = Now("s1", "background_wait", json::object());
  EXPECT_FALSE(nothing.is_error);
  EXPECT_TRUE(Has(Answer(nothing), "nothing to wait for"));
  EXPECT_EQ(nothing.structured["tasks"], json::array());
}

TEST_F(McpToolsTest, CancelOneOrAllWithContinueInstructions) {
  const std::string a = Launch("s1", "slow a");
  const std::string b = Launch("s1", "slow b");
  const std::string other = Launch("s2", "slow other");
  McpToolResult one = Now("s1", "background_cancel", {{"task_id", a}});
  ASSERT_FALSE(one.is_error) << Answer(one);
  EXPECT_TRUE(Has(Answer(one), "Cancelled 1 background task(s):"));
  EXPECT_TRUE(Has(Answer(one), "## Continue Instructions"));
  EXPECT_TRUE(Has(Answer(one), ViewOf(a).task.session_id));
  ASSERT_EQ(one.structured["cancelled"].size(), 1u);
  EXPECT_EQ(one.structured["cancelled"][0]["task_id"], a);
  EXPECT_EQ(one.structured["cancelled"][0]["state"], "cancelled");
  EXPECT_EQ(StateOf(a), TaskState::kCancelled);

  McpToolResult again = Now("s1", "background_cancel", {{"task_id", a}});
  EXPECT_TRUE(Has(Answer(again), "already cancelled"));
  EXPECT_EQ(again.structured["already_finished"].size(), 1u);

  McpToolResult foreign = Now("s1", "background_cancel", {{"task_id", other}});
  EXPECT_TRUE(foreign.is_error);
  EXPECT_TRUE(Has(Answer(foreign), "`task_id`"));
  EXPECT_EQ(StateOf(other), TaskState::kRunning);

  McpToolResult all = Now("s1", "background_cancel", {{"all", true}});
  ASSERT_FALSE(all.is_error) << Answer(all);
  EXPECT_TRUE(Has(Answer(all), "Cancelled 1 background task(s):"));
  EXPECT_TRUE(Has(Answer(all), "`" + b + "`"));
  EXPECT_EQ(all.structured["cancelled"][0]["task_id"], b);
  EXPECT_TRUE(Has(all.structured["guidance"],
                  "To continue a cancelled task, use delegate_task(session_id=\"<session_id>\""));
  EXPECT_TRUE(Has(all.structured["guidance"], ViewOf(b).task.session_id));
  EXPECT_EQ(StateOf(b), TaskState::kCancelled);
  EXPECT_EQ(StateOf(other), TaskState::kRunning);
}

TEST_F(McpToolsTest, ListShowsOnlyThisSessionsTasksFilteredByStatus) {
  const std::string a = Launch("s1", "quick");
  const std::string b = Launch("s1", "slow b");
  const std::string other = Launch("s2", "quick other");
  clock_.AdvanceMs(1000);
  McpToolResult mine = Now("s1", "background_list", json::object());
  ASSERT_EQ(mine.structured["tasks"].size(), 2u);
  EXPECT_EQ(mine.structured["tasks"][0]["task_id"], a);
  EXPECT_EQ(mine.structured["tasks"][1]["task_id"], b);
  EXPECT_TRUE(Has(Answer(mine), "`" + a + "`"));
  EXPECT_FALSE(Has(Answer(mine), other));

  McpToolResult done = Now("s1", "background_list", {{"status", "completed"}});
  ASSERT_EQ(done.structured["tasks"].size(), 1u);
  EXPECT_EQ(done.structured["tasks"][0]["task_id"], a);
  McpToolResult active = Now("s1", "background_list", {{"status", "active"}});
  ASSERT_EQ(active.structured["tasks"].size(), 1u);
  EXPECT_EQ(active.structured["tasks"][0]["task_id"], b);

  McpToolResult none = Now("s3", "background_list", json::object());
  EXPECT_EQ(Answer(none), "No background tasks.");
  EXPECT_EQ(none.structured["tasks"], json::array());
}

TEST_F(McpToolsTest, NoticesArePiggyBackedOnceAndOnlyToTheOwner) {
  const std::string id = Launch("s1", "quick");
  EXPECT_EQ(Now("s1", "background_list", json::object()).content.size(), 1u);
  clock_.AdvanceMs(1000);
  McpToolResult other = Now("s2", "background_list", json::object());
  EXPECT_EQ(other.content.size(), 1u);
  EXPECT_FALSE(other.structured.contains("notices"));
  McpToolResult r = Now("s1", "background_wait", json::object());
  ASSERT_EQ(r.content.size(), 2u);
  const std::string reminder = Reminder(r);
  EXPECT_TRUE(reminder.starts_with("<system-reminder>\n"));
  EXPECT_TRUE(reminder.ends_with("</system-reminder>"));
  EXPECT_TRUE(Has(reminder, "- " + id + " (explore: d quick) completed"));
  EXPECT_TRUE(Has(Answer(r), "nothing to wait for"));
  // The same notice where clients that show only structuredContent show it.
  ASSERT_EQ(r.structured["notices"].size(), 1u);
  EXPECT_EQ(r.structured["notices"][0]["task_id"], id);
  EXPECT_EQ(r.structured["notices"][0]["state"], "completed");
  EXPECT_TRUE(Has(r.structured["notices"][0]["summary"], id + " (explore: d quick) completed"));
  EXPECT_TRUE(Has(reminder, r.structured["reminder"].get<std::string>()));
  McpToolResult next = Now("s1", "background_list", json::object());
  EXPECT_EQ(next.content.size(), 1u);
  EXPECT_FALSE(next.structured.contains("notices"));

  // Also in front of a tool error.
  Launch("s1", "fail x");
  clock_.AdvanceMs(1000);
  McpToolResult error = Now("s1", "background_output", json::object());
  EXPECT_TRUE(error.is_error);
  ASSERT_EQ(error.content.size(), 2u);
  EXPECT_TRUE(Has(Reminder(error), "error after"));
}

TEST_F(McpToolsTest, ArgumentErrorsNameTheArgument) {
  struct Case {
    const char* tool;
    json args;
    const char* expect;
  };
  const std::vector<Case> cases = {
      {"delegate_task", {{"prompt", "p"}, {"agent", "explore"}}, "`description`"},
      {"delegate_task", {{"description", "d"}, {"agent", "explore"}}, "`prompt`"},
      {"delegate_task", {{"description", "d"}, {"prompt", 3}, {"agent", "explore"}}, "`prompt`"},
      {"delegate_task",
       {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"background", "no"}},
       "`background`"},
      {"delegate_task",
       {{"description", "d"}, {"prompt", "p"}},
       "available agents: explore, librarian"},
      {"delegate_task",
       {{"description", "d"}, {"prompt", "p"}, {"agent", "oracle"}},
       "known agents: explore, librarian"},
      {"delegate_task",
       {{"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"x", 1}},
       "x"},
      {"delegate_task",
       {{"description", "d"}, {"prompt", "p"}, {"session_id", "ses_nope"}},
       "`session_id`"},
      {"background_output", json::object(), "`task_id`"},
      {"background_output", {{"task_id", "bg_nope"}}, "bg_nope"},
      {"background_output", {{"task_id", "bg_x"}, {"timeout_ms", "10"}}, "`timeout_ms`"},
      {"background_output", {{"task_id", "bg_x"}, {"timeout_ms", -1}}, "`timeout_ms`"},
      {"background_output", {{"task_id", "bg_x"}, {"timeout_ms", 86'400'001}}, "`timeout_ms`"},
      {"background_output", {{"task_id", "bg_x"}, {"block", 1}}, "`block`"},
      {"background_wait", {{"task_ids", "bg_x"}}, "`task_ids`"},
      {"background_wait", {{"task_ids", {1}}}, "`task_ids[0]`"},
      {"background_wait", {{"task_ids", {"bg_nope"}}}, "bg_nope"},
      {"background_wait", {{"mode", "some"}}, "`mode`"},
      {"background_cancel", json::object(), "`task_id`"},
      {"background_cancel", {{"task_id", "bg_x"}, {"all", true}}, "not both"},
      {"background_cancel", {{"all", "yes"}}, "`all`"},
      {"background_list", {{"status", "done"}}, "`status`"},
      {"background_list", {{"status", 1}}, "`status`"},
      {"no_such_tool", json::object(), "unknown tool"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.tool) + " " + c.args.dump());
    McpToolResult r = Now("s1", c.tool, c.args);
    EXPECT_TRUE(r.is_error);
    EXPECT_TRUE(Has(Answer(r), c.expect)) << Answer(r);
    EXPECT_TRUE(r.structured.is_null());
  }
  EXPECT_EQ(manager_->active_tasks(), 0u);
}

TEST_F(McpToolsTest, SessionIdContinuesASession) {
  const std::string first = Launch("s1", "quick");
  const std::string session = ViewOf(first).task.session_id;
  clock_.AdvanceMs(1000);
  McpToolResult r = Now("s2", "delegate_task",
                        {{"description", "more"}, {"prompt", "go on"}, {"session_id", session}});
  ASSERT_FALSE(r.is_error) << Answer(r);
  EXPECT_TRUE(Has(Answer(r), "continuing session " + session));
  EXPECT_EQ(r.structured["session_id"], session);
  EXPECT_EQ(r.structured["agent"], "explore");
  EXPECT_NE(r.structured["task_id"], first);
  EXPECT_EQ(ViewOf(r.structured["task_id"]).task.owner, "mcp:s2");  // notices go to the caller

  McpToolResult busy = Now("s1", "delegate_task",
                           {{"description", "x"}, {"prompt", "again"}, {"session_id", session}});
  EXPECT_TRUE(busy.is_error);
  EXPECT_TRUE(Has(Answer(busy), "busy"));
  McpToolResult wrong =
      Now("s1", "delegate_task",
          {{"description", "x"}, {"prompt", "p"}, {"session_id", session}, {"agent", "librarian"}});
  EXPECT_TRUE(wrong.is_error);
  EXPECT_TRUE(Has(Answer(wrong), "`agent`"));
}

// A run that streams 100 chunks and starts three tools within 20 ms: a few notifications, never
// two within kMcpProgressIntervalMs, none once the answer is given.
TEST_F(McpToolsTest, AStreamingRunGivesAFewProgressNotificationsAndNoneAfterTheAnswer) {
  std::vector<std::pair<int64_t, std::string>> log;  // time, "progress: …" or "answer"
  McpCallContext context;
  context.progress = [&](double, std::optional<double>, const std::string& m) {
    log.emplace_back(clock_.NowMs(), "progress: " + m);
  };
  auto out = std::make_shared<Outcome>();
  context.session_id = "s1";
  calls_.push_back(tools_->Call(context, "delegate_task",
                                {{"description", "fg"},
                                 {"prompt", "chatty run"},
                                 {"agent", "explore"},
                                 {"background", false}},
                                [&, out](McpToolResult r) {
                                  ++out->calls;
                                  out->result = std::move(r);
                                  log.emplace_back(clock_.NowMs(), "answer");
                                }));
  const int64_t t0 = clock_.NowMs();
  clock_.AdvanceMs(10'000);
  ASSERT_EQ(out->calls, 1);
  EXPECT_EQ(out->result.structured["state"], "completed");
  const std::string id = out->result.structured["task_id"];
  std::vector<std::pair<int64_t, std::string>> expected = {
      {t0, "progress: waiting for " + id + " running"},
      // grep, read and glob (300-320 ms) held until the interval after the first ends: the last
      {t0 + kMcpProgressIntervalMs, "progress: " + id + " running glob"},
      {t0 + 1500, "answer"},
  };
  EXPECT_EQ(log, expected);
}

// Most clients end a tool call after 60 s: a foreground delegate_task answers at 50 s with the
// status and how to wait again, in the text and in structuredContent; the task runs on.
TEST_F(McpToolsTest, ForegroundDelegationAnswersAtTheWaitLimitWithHowToWaitAgain) {
  auto out = Begin(
      "s1", "delegate_task",
      {{"description", "fg"}, {"prompt", "hang on"}, {"agent", "explore"}, {"background", false}});
  clock_.AdvanceMs(kMcpWaitLimitMs - 1);
  EXPECT_EQ(out->calls, 0);
  clock_.AdvanceMs(1);
  ASSERT_EQ(out->calls, 1);
  const McpToolResult& r = out->result;
  EXPECT_FALSE(r.is_error);
  const std::string id = r.structured["task_id"];
  const std::string again =
      "To wait again, call background_output(task_id=\"" + id + "\", block=true).";
  EXPECT_TRUE(
      Answer(r).starts_with("Still running after waiting 50s; it keeps running in the "
                            "background"))
      << Answer(r);
  EXPECT_TRUE(Has(Answer(r), again + "\n\n## Task Status\n")) << Answer(r);
  EXPECT_EQ(r.structured["state"], "running");
  EXPECT_EQ(r.structured["timed_out"], true);
  EXPECT_EQ(r.structured["wait_again"], json({{"tool", "background_output"},
                                              {"arguments", {{"task_id", id}, {"block", true}}}}));
  EXPECT_TRUE(r.structured["guidance"].get<std::string>().ends_with(again));
  EXPECT_EQ(StateOf(id), TaskState::kRunning);
}

TEST_F(McpToolsTest, BlockingOutputWaitsAtMostTheLimitAndSaysWhenItLoweredTheTimeout) {
  const std::string id = Launch("s1", "hang on");
  auto asked =
      Begin("s1", "background_output", {{"task_id", id}, {"block", true}, {"timeout_ms", 120'000}});
  auto by_default = Begin("s1", "background_output", {{"task_id", id}, {"block", true}});
  clock_.AdvanceMs(kMcpWaitLimitMs - 1);
  EXPECT_EQ(asked->calls + by_default->calls, 0);
  clock_.AdvanceMs(1);
  ASSERT_EQ(asked->calls, 1);
  ASSERT_EQ(by_default->calls, 1);
  const std::string again =
      "To wait again, call background_output(task_id=\"" + id + "\", block=true).";
  EXPECT_TRUE(Answer(asked->result)
                  .starts_with("Still running after waiting 50s. timeout_ms 120000 was lowered "
                               "to 50s, the longest one call waits (most MCP clients end a "
                               "tool call after 60s). " +
                               again + "\n\n## Task Status"))
      << Answer(asked->result);
  EXPECT_TRUE(Has(asked->result.structured["guidance"], "timeout_ms 120000 was lowered"));
  EXPECT_EQ(asked->result.structured["timed_out"], true);
  EXPECT_TRUE(Answer(by_default->result).starts_with("Still running after waiting 50s. " + again));
  EXPECT_FALSE(Has(Answer(by_default->result), "lowered"));

  // A shorter timeout is kept, and the answer says nothing about it.
  auto short_one =
      Begin("s1", "background_output", {{"task_id", id}, {"block", true}, {"timeout_ms", 500}});
  clock_.AdvanceMs(500);
  ASSERT_EQ(short_one->calls, 1);
  EXPECT_TRUE(Answer(short_one->result).starts_with("Still running after waiting 500ms. " + again))
      << Answer(short_one->result);
}

TEST_F(McpToolsTest, BackgroundWaitStopsAtTheLimitAndNamesTheTasksStillRunning) {
  const std::string quick = Launch("s1", "quick");
  const std::string stuck = Launch("s1", "hang on");
  auto out =
      Begin("s1", "background_wait", {{"task_ids", {quick, stuck}}, {"timeout_ms", 600'000}});
  clock_.AdvanceMs(kMcpWaitLimitMs);
  ASSERT_EQ(out->calls, 1);
  const McpToolResult& r = out->result;
  EXPECT_EQ(r.structured["timed_out"], true);
  EXPECT_TRUE(Answer(r).starts_with("Timed out after 50s: 1 of 2 tasks finished")) << Answer(r);
  const std::string again =
      "To wait again, call background_wait(task_ids=[\"" + stuck + "\"], mode=\"all\").";
  EXPECT_TRUE(
      Answer(r).ends_with("\n\ntimeout_ms 600000 was lowered to 50s, the longest one "
                          "call waits (most MCP clients end a tool call after 60s). " +
                          again))
      << Answer(r);
  EXPECT_EQ(
      r.structured["wait_again"],
      json({{"tool", "background_wait"}, {"arguments", {{"task_ids", {stuck}}, {"mode", "all"}}}}));
  const std::string guidance = r.structured["guidance"];
  EXPECT_TRUE(guidance.starts_with("Read each finished task with background_output")) << guidance;
  EXPECT_TRUE(guidance.ends_with(again)) << guidance;
}

TEST_F(McpToolsTest, CancellingABlockingCallDropsItsWait) {
  std::vector<std::string> progress;
  McpCallContext context;
  context.progress = [&](double, std::optional<double>, const std::string& m) {
    progress.push_back(m);
  };
  auto out = Begin(
      "s1", "delegate_task",
      {{"description", "fg"}, {"prompt", "find"}, {"agent", "explore"}, {"background", false}},
      context);
  const size_t subscribers = manager_->events().subscribers();
  EXPECT_EQ(progress.size(), 1u);  // the wait began
  calls_.back()->Cancel();
  EXPECT_EQ(manager_->events().subscribers(), subscribers - 1);
  clock_.AdvanceMs(2000);
  EXPECT_EQ(out->calls, 0);
  EXPECT_EQ(progress.size(), 1u);
  // The task itself ran on; its notice waits for the session's next call.
  McpToolResult next = Now("s1", "background_list", json::object());
  EXPECT_EQ(next.structured["tasks"][0]["state"], "completed");
  EXPECT_EQ(next.content.size(), 2u);
}

TEST_F(McpToolsTest, DestroyingTheToolsDropsPendingWaits) {
  const std::string id = Launch("s1", "slow");
  auto out = Begin("s1", "background_wait", {{"task_ids", {id}}});
  tools_.reset();
  clock_.AdvanceMs(5000);
  EXPECT_EQ(out->calls, 0);
  calls_.back()->Cancel();  // harmless after the tools are gone
}

// delegate_task with isolation over MCP: the call answers once git made the worktree (held here)
// and the tools answer others meanwhile; a call cancelled before that answer leaves neither a
// task nor a worktree nor a branch.
TEST_F(McpToolsTest, AnIsolatedDelegationAnswersOnceGitMadeItsWorktree) {
  testing::TestDir dir;
  const std::string repo = dir.File("repo");
  testing::MakeGitRepo(repo, {{"notes.txt", "one\n"}});
  Worktrees worktrees(dir.File("data/worktrees"));
  testing::HeldExecutor held;
  ForgetCalls();
  tools_.reset();
  TaskManagerOptions options;
  options.default_workspace = repo;
  options.worktrees = &worktrees;
  options.blocking = &held;
  Build(options);
  EngineMcpToolsOptions mcp;
  mcp.default_workspace = repo;
  tools_ = std::make_unique<EngineMcpTools>(&clock_, manager_.get(), &catalog_, mcp);
  const json isolated = {
      {"description", "d"}, {"prompt", "p"}, {"agent", "explore"}, {"isolation", "worktree"}};

  auto first = Begin("s1", "delegate_task", isolated);
  EXPECT_EQ(first->calls, 0);
  EXPECT_EQ(held.held(), 1u);
  EXPECT_FALSE(Now("s1", "background_list", json::object()).is_error);
  held.Release();
  ASSERT_EQ(first->calls, 1);
  ASSERT_FALSE(first->result.is_error) << Answer(first->result);
  const std::string id = first->result.structured.value("task_id", "");
  ASSERT_FALSE(id.empty());
  EXPECT_TRUE(std::filesystem::exists(dir.File("data/worktrees/" + id + "/notes.txt")));

  auto dropped = Begin("s1", "delegate_task", isolated);
  calls_.back()->Cancel();
  held.ReleaseAll();
  EXPECT_EQ(dropped->calls, 0);
  std::vector<std::string> left;
  for (const auto& entry : std::filesystem::directory_iterator(dir.File("data/worktrees")))
    left.push_back(entry.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{id});
  EXPECT_EQ(*RunGitOk(repo, {"branch", "--list", "troupe/*"}), "+ troupe/" + id + "\n");
  ForgetCalls();
  tools_.reset();  // before the worktrees and the executor it uses
  manager_.reset();
}

}  // namespace
}  // namespace troupe
