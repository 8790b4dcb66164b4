#include "agent/task_reports.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace troupe {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

DelegatedTask Running() {
  DelegatedTask t;
  t.task_id = "bg_1";
  t.session_id = "ses_1";
  t.agent = "explore";
  t.model = "mock/m";
  t.description = "Find auth code";
  t.prompt = "Find where login tokens are checked.";
  t.state = "running";
  t.duration_ms = 135'000;
  t.last_tool = "grep";
  return t;
}

DelegatedTask Pending() {
  DelegatedTask t = Running();
  t.task_id = "bg_2";
  t.session_id = "ses_2";
  t.agent = "librarian";
  t.description = "Research OAuth";
  t.state = "pending";
  t.queue_position = 2;
  t.waiting_reason = "pool model:mock/m full (1/1 running), position 2";
  t.duration_ms = 12'000;
  t.last_tool = "";
  return t;
}

DelegatedTask Completed() {
  DelegatedTask t = Running();
  t.state = "completed";
  t.duration_ms = 332'000;
  t.result = "Found 3:\n1. src/auth/login.cc";
  return t;
}

TEST(TaskReportsTest, LaunchedRunning) {
  EXPECT_EQ(FormatLaunched(Running(), false),
            "Background task launched.\n"
            "\n"
            "Task ID: bg_1\n"
            "Session ID: ses_1\n"
            "Description: Find auth code\n"
            "Agent: explore\n"
            "Model: mock/m\n"
            "Status: running\n"
            "\n"
            "You will be notified automatically when it finishes, so there is no need to poll: "
            "keep working, or call background_wait when you have nothing else to do. Then read "
            "the result with background_output(task_id=\"bg_1\").");
}

TEST(TaskReportsTest, LaunchedPendingContinuation) {
  DelegatedTask t = Pending();
  t.model = "";
  EXPECT_EQ(FormatLaunched(t, true),
            "Background task launched, continuing session ses_2.\n"
            "\n"
            "Task ID: bg_2\n"
            "Session ID: ses_2\n"
            "Description: Research OAuth\n"
            "Agent: librarian\n"
            "Status: pending\n"
            "Queue position: 2\n"
            "Waiting for: pool model:mock/m full (1/1 running), position 2\n"
            "\n"
            "You will be notified automatically when it finishes, so there is no need to poll: "
            "keep working, or call background_wait when you have nothing else to do. Then read "
            "the result with background_output(task_id=\"bg_2\").");
}

TEST(TaskReportsTest, StatusOfARunningTask) {
  EXPECT_EQ(FormatTaskStatus(Running()),
            "## Task Status\n"
            "\n"
            "| Field | Value |\n"
            "| --- | --- |\n"
            "| Task ID | `bg_1` |\n"
            "| Description | Find auth code |\n"
            "| Agent | explore |\n"
            "| Model | mock/m |\n"
            "| Status | **running** |\n"
            "| Duration | 2m 15s |\n"
            "| Session ID | `ses_1` |\n"
            "| Last tool | grep |\n"
            "\n"
            "> **Note**: No need to wait or poll: you will be notified automatically when this "
            "task finishes.\n"
            "\n"
            "## Original Prompt\n"
            "\n"
            "Find where login tokens are checked.");
}

TEST(TaskReportsTest, StatusOfAPendingTaskShowsItsQueue) {
  EXPECT_EQ(FormatTaskStatus(Pending()),
            "## Task Status\n"
            "\n"
            "| Field | Value |\n"
            "| --- | --- |\n"
            "| Task ID | `bg_2` |\n"
            "| Description | Research OAuth |\n"
            "| Agent | librarian |\n"
            "| Model | mock/m |\n"
            "| Status | **pending** |\n"
            "| Queue position | 2 |\n"
            "| Waiting for | pool model:mock/m full (1/1 running), position 2 |\n"
            "| Queued for | 12s |\n"
            "| Session ID | `ses_2` |\n"
            "\n"
            "> **Note**: No need to wait or poll: you will be notified automatically when this "
            "task finishes.\n"
            "\n"
            "## Original Prompt\n"
            "\n"
            "Find where login tokens are checked.");
}

TEST(TaskReportsTest, StatusEscapesCellsAndCutsLongPrompts) {
  DelegatedTask t = Running();
  t.description = "a | b\nc";
  t.last_tool = "";
  t.prompt = std::string(kReportPromptBytes - 1, 'x') + "é" + std::string(100, 'y');
  std::string s = FormatTaskStatus(t);
  EXPECT_THAT(s, HasSubstr("| Description | a \\| b c |\n"));
  EXPECT_THAT(s, HasSubstr("| Last tool | none yet |\n"));
  // The cut does not split "é" (2 bytes) and says how much is left out.
  EXPECT_THAT(
      s, EndsWith(std::string(kReportPromptBytes - 1, 'x') + "\n… [truncated: 102 more bytes]"));
}

TEST(TaskReportsTest, ResultBlockIsTheSameEveryTime) {
  const std::string expected =
      "Task Result\n"
      "\n"
      "Task ID: bg_1\n"
      "Description: Find auth code\n"
      "Duration: 5m 32s\n"
      "Session ID: ses_1\n"
      "\n"
      "---\n"
      "\n"
      "Found 3:\n"
      "1. src/auth/login.cc";
  EXPECT_EQ(FormatTaskResult(Completed()), expected);
  EXPECT_EQ(FormatTaskReport(Completed()), expected);
  EXPECT_EQ(FormatTaskReport(Completed()), expected);

  DelegatedTask empty = Completed();
  empty.result = "";
  EXPECT_THAT(FormatTaskResult(empty), EndsWith("---\n\n(the task finished without any text)"));
  DelegatedTask huge = Completed();
  huge.result = std::string(kReportResultBytes + 1234, 'r');
  EXPECT_THAT(FormatTaskResult(huge),
              EndsWith("rrr\n… [truncated: 1,234 more bytes of the result]"));
}

TEST(TaskReportsTest, ErrorAndCancelledBlocks) {
  DelegatedTask failed = Running();
  failed.state = "error";
  failed.duration_ms = 4'500;
  failed.error = "model request failed: 500 from provider";
  EXPECT_EQ(FormatTaskReport(failed),
            "Task Error\n"
            "\n"
            "Task ID: bg_1\n"
            "Description: Find auth code\n"
            "Status: error\n"
            "Duration: 4.5s\n"
            "Session ID: ses_1\n"
            "\n"
            "---\n"
            "\n"
            "model request failed: 500 from provider\n"
            "\n"
            "Its session keeps the conversation so far: continue it with "
            "delegate_task(session_id=\"ses_1\", prompt=\"<your follow-up>\"), or delegate a new "
            "task.");
  DelegatedTask cancelled = failed;
  cancelled.state = "cancelled";
  cancelled.error = "";
  EXPECT_THAT(FormatTaskReport(cancelled), StartsWith("Task Cancelled\n\nTask ID: bg_1\n"));
  EXPECT_THAT(FormatTaskReport(cancelled), HasSubstr("---\n\n(no reason was recorded)\n\n"));
  DelegatedTask interrupted = failed;
  interrupted.state = "interrupted";
  EXPECT_THAT(FormatTaskReport(interrupted), StartsWith("Task Interrupted\n"));
  EXPECT_THAT(FormatTaskReport(interrupted), HasSubstr("when troupe starts again"));
}

TEST(TaskReportsTest, CancelTableWithContinueInstructions) {
  EXPECT_EQ(
      FormatCancelled({Running(), Pending()}),
      "Cancelled 2 background task(s):\n"
      "\n"
      "| Task ID | Description | Status | Session ID |\n"
      "| --- | --- | --- | --- |\n"
      "| `bg_1` | Find auth code | running | `ses_1` |\n"
      "| `bg_2` | Research OAuth | pending | (not started) |\n"
      "\n"
      "## Continue Instructions\n"
      "\n"
      "To continue a cancelled task, use:\n"
      "\n"
      "    delegate_task(session_id=\"<session_id>\", prompt=\"Continue: <your follow-up>\")\n"
      "\n"
      "Continuable sessions:\n"
      "- `ses_1` (Find auth code)");
}

TEST(TaskReportsTest, CancelOfNothingOfPendingOnlyAndOfFinishedTasks) {
  EXPECT_EQ(FormatCancelled({}), "No active background tasks to cancel.");
  EXPECT_THAT(FormatCancelled({Pending()}),
              EndsWith("## Continue Instructions\n\nNone of the cancelled tasks had started, so "
                       "there is nothing to continue; delegate them again if you still need "
                       "them."));
  EXPECT_EQ(FormatCancelled({Completed()}),
            "Task bg_1 is already completed; there is nothing to cancel. Read it with "
            "background_output(task_id=\"bg_1\").");
  std::string mixed = FormatCancelled({Pending(), Completed()});
  EXPECT_THAT(mixed, HasSubstr("Cancelled 1 background task(s):"));
  EXPECT_THAT(mixed, HasSubstr("\nAlready finished, not cancelled:\n- `bg_1` (completed)\n"));
}

TEST(TaskReportsTest, WaitSummaryAllDone) {
  DelegatedTask failed = Pending();
  failed.state = "error";
  failed.queue_position = 0;
  failed.duration_ms = 800;
  EXPECT_EQ(FormatWaitSummary({Completed(), failed}, false, 60'000),
            "All 2 tasks finished.\n"
            "\n"
            "| Task ID | Description | Agent | Status | Duration | Session ID |\n"
            "| --- | --- | --- | --- | --- | --- |\n"
            "| `bg_1` | Find auth code | explore | completed | 5m 32s | `ses_1` |\n"
            "| `bg_2` | Research OAuth | librarian | error | 800ms | `ses_2` |\n"
            "\n"
            "Read each finished task with background_output(task_id=\"…\").");
}

TEST(TaskReportsTest, WaitSummaryTimedOut) {
  EXPECT_EQ(FormatWaitSummary({Completed(), Pending()}, true, 60'000),
            "Timed out after 1m 0s: 1 of 2 tasks finished; 1 is still pending or running.\n"
            "\n"
            "| Task ID | Description | Agent | Status | Duration | Session ID |\n"
            "| --- | --- | --- | --- | --- | --- |\n"
            "| `bg_1` | Find auth code | explore | completed | 5m 32s | `ses_1` |\n"
            "| `bg_2` | Research OAuth | librarian | pending (queue position 2) | queued 12s | "
            "`ses_2` |\n"
            "\n"
            "Read each finished task with background_output(task_id=\"…\").\n"
            "The others keep running: you will be notified when they finish; call "
            "background_wait again only if you have nothing else to do.");
  EXPECT_THAT(FormatWaitSummary({Running(), Pending()}, true, 5'000),
              StartsWith("Timed out after 5.0s: 0 of 2 tasks finished; 2 are still pending or "
                         "running.\n"));
  EXPECT_THAT(FormatWaitSummary({Completed()}, false, 0), StartsWith("The task finished.\n\n"));
  EXPECT_EQ(FormatWaitSummary({}, false, 0), "No background tasks to wait for.");
}

TEST(TaskReportsTest, GuidanceAloneIsTheMarkdownsOwnSentences) {
  EXPECT_EQ(LaunchGuidance(Running()),
            "You will be notified automatically when it finishes, so there is no need to poll: "
            "keep working, or call background_wait when you have nothing else to do. Then read "
            "the result with background_output(task_id=\"bg_1\").");
  EXPECT_THAT(FormatLaunched(Running(), false), EndsWith("\n\n" + LaunchGuidance(Running())));

  EXPECT_EQ(ReportGuidance(Running()),
            "No need to wait or poll: you will be notified automatically when this task "
            "finishes.");
  EXPECT_THAT(FormatTaskReport(Pending()), HasSubstr("> **Note**: " + ReportGuidance(Pending())));
  EXPECT_EQ(ReportGuidance(Completed()), "");
  DelegatedTask failed = Running();
  failed.state = "error";
  failed.error = "boom";
  EXPECT_EQ(ReportGuidance(failed),
            "Its session keeps the conversation so far: continue it with "
            "delegate_task(session_id=\"ses_1\", prompt=\"<your follow-up>\"), or delegate a new "
            "task.");
  EXPECT_THAT(FormatTaskReport(failed), EndsWith("boom\n\n" + ReportGuidance(failed)));
  DelegatedTask interrupted = failed;
  interrupted.state = "interrupted";
  EXPECT_THAT(ReportGuidance(interrupted), HasSubstr("when troupe starts again"));
  EXPECT_THAT(FormatTaskReport(interrupted), EndsWith(ReportGuidance(interrupted)));

  EXPECT_EQ(WaitGuidance({Completed(), Pending()}),
            "Read each finished task with background_output(task_id=\"…\"). The others keep "
            "running: you will be notified when they finish; call background_wait again only if "
            "you have nothing else to do.");
  EXPECT_EQ(WaitGuidance({Completed()}),
            "Read each finished task with background_output(task_id=\"…\").");
  EXPECT_THAT(WaitGuidance({Pending()}), StartsWith("The others keep running"));
  EXPECT_EQ(WaitGuidance({}), "");

  EXPECT_EQ(CancelGuidance({Running(), Pending()}),
            "To continue a cancelled task, use delegate_task(session_id=\"<session_id>\", "
            "prompt=\"Continue: <your follow-up>\"). Continuable sessions: ses_1 (Find auth "
            "code).");
  EXPECT_THAT(FormatCancelled({Pending()}), EndsWith(CancelGuidance({Pending()})));
  EXPECT_THAT(CancelGuidance({Pending()}), StartsWith("None of the cancelled tasks had started"));
  EXPECT_EQ(CancelGuidance({Completed()}), "");
}

TEST(TaskReportsTest, ListTable) {
  EXPECT_EQ(FormatTaskList({}), "No background tasks.");
  DelegatedTask long_description = Completed();
  long_description.description = std::string(100, 'd');
  EXPECT_EQ(FormatTaskList({Pending(), long_description}),
            "Background tasks (2):\n"
            "\n"
            "| Task ID | Description | Agent | Status | Duration | Last tool | Session ID |\n"
            "| --- | --- | --- | --- | --- | --- | --- |\n"
            "| `bg_2` | Research OAuth | librarian | pending (queue position 2) | queued 12s | - | "
            "`ses_2` |\n"
            "| `bg_1` | " +
                std::string(kReportCellBytes, 'd') +
                "… | explore | completed | 5m 32s | grep | `ses_1` |");
}

ChatMessage Msg(ChatRole role, std::string text) {
  ChatMessage m;
  m.role = role;
  m.text = std::move(text);
  return m;
}

TEST(TaskReportsTest, TranscriptShowsRolesToolCallsAndErrors) {
  std::vector<Result<ChatMessage>> messages;
  messages.push_back(Msg(ChatRole::kUser, "Find auth"));
  ChatMessage calls = Msg(ChatRole::kAssistant, "Searching.");
  calls.tool_calls = {{"call_1", "grep", "{\"pattern\":\"auth\"}"}, {"call_2", "glob", "{}"}};
  messages.push_back(calls);
  ChatMessage failed = Msg(ChatRole::kTool, "no such directory");
  failed.tool_call_id = "call_1";
  failed.tool_name = "grep";
  failed.is_error = true;
  messages.push_back(failed);
  messages.push_back(Status::Corruption("message 4: `role` is missing"));
  messages.push_back(Msg(ChatRole::kAssistant, ""));
  EXPECT_EQ(FormatTranscript("ses_1", messages),
            "## Session ses_1 (5 messages)\n"
            "\n"
            "### 1. user\n"
            "\n"
            "Find auth\n"
            "\n"
            "### 2. assistant\n"
            "\n"
            "Searching.\n"
            "\n"
            "Tool calls:\n"
            "- grep {\"pattern\":\"auth\"}\n"
            "- glob {}\n"
            "\n"
            "### 3. tool: grep (error)\n"
            "\n"
            "no such directory\n"
            "\n"
            "### 4. unreadable message\n"
            "\n"
            "(message 4: `role` is missing)\n"
            "\n"
            "### 5. assistant\n"
            "\n"
            "(empty)");
  EXPECT_EQ(FormatTranscript("ses_9", {}), "## Session ses_9 (0 messages)\n\n(no messages)");
}

TEST(TaskReportsTest, TranscriptKeepsThePromptAndTheLatestWhenTooLong) {
  std::vector<Result<ChatMessage>> messages;
  messages.push_back(Msg(ChatRole::kUser, "the prompt"));
  for (int i = 0; i < 50; ++i) {
    messages.push_back(Msg(ChatRole::kAssistant, "step " + std::to_string(i)));
  }
  messages.push_back(Msg(ChatRole::kUser, std::string(10'000, 'z')));
  std::string t = FormatTranscript("ses_1", messages, 300);
  EXPECT_LE(t.size(), 300u + 200u);  // the prompt and the marker always fit
  EXPECT_THAT(t, HasSubstr("### 1. user\n\nthe prompt\n"));
  EXPECT_THAT(t, HasSubstr("… [truncated: 51 messages left out here; the latest are shown]"));
  EXPECT_THAT(t, Not(HasSubstr("step 49")));  // the huge last message alone is over budget

  std::string roomy = FormatTranscript("ses_1", messages, 5'000);
  EXPECT_THAT(roomy, HasSubstr("### 1. user\n\nthe prompt\n"));
  EXPECT_THAT(roomy, HasSubstr("step 49"));
  EXPECT_THAT(roomy, Not(HasSubstr("step 0\n")));
  // The last message is cut to kTranscriptMessageBytes.
  EXPECT_THAT(roomy, EndsWith(std::string(100, 'z') + "\n… [truncated: 6,000 more bytes]"));
}

}  // namespace
}  // namespace troupe
