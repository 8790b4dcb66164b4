#include "agent/agent_loop.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "agent/message_codec.h"
#include "agent/testing/memory_history.h"
#include "core/fake_clock.h"
#include "llm/mock_provider.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

using testing::MemoryHistory;

class MemoryTodos : public TodoList {
 public:
  Result<std::vector<TodoItem>> Get() override { return items; }
  Status Replace(const std::vector<TodoItem>& next) override {
    items = next;
    return Status::Ok();
  }
  std::vector<TodoItem> items;
};

// A tool answering after `delay_ms` with a fixed text, recording its calls.
class FakeTool : public Tool {
 public:
  FakeTool(std::string name, std::string answer, int64_t delay_ms = 10)
      : answer_(std::move(answer)), delay_ms_(delay_ms) {
    spec_.name = std::move(name);
    spec_.description = "a test tool";
    spec_.input_schema = {{"type", "object"}};
  }
  const ToolSpec& spec() const override { return spec_; }

  class Run : public ToolRun {
   public:
    Run(Clock* clock, int64_t delay, ToolResult result, std::function<void(ToolResult)> done,
        int* cancels)
        : timer_(clock), cancels_(cancels) {
      timer_.Start(delay, [result, done] { done(result); });
    }
    void Cancel() override {
      if (timer_.armed()) ++*cancels_;
      timer_.Cancel();
    }

   private:
    Timer timer_;
    int* cancels_;
  };

  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override {
    calls.push_back(arguments.dump());
    call_keys.push_back(context.call_key);
    return std::make_unique<Run>(context.clock, delay_ms_, ToolResult::Ok(answer_), std::move(done),
                                 &cancels);
  }

  std::vector<std::string> calls;
  std::vector<std::string> call_keys;
  int cancels = 0;

 private:
  ToolSpec spec_;
  std::string answer_;
  int64_t delay_ms_;
};

MockModelOptions Instant() {
  MockModelOptions o;
  o.first_token_delay_ms = 0;
  o.tokens_per_second = 0;
  return o;
}

class AgentLoopTest : public ::testing::Test {
 protected:
  AgentLoopTest()
      : provider_("mock", Instant(), &clock_, nullptr,
                  RetryOptions{.max_attempts = 3, .random = [] { return 0.0; }}),
        grep_("grep", "src/auth.cc:12:bool CheckToken(const Token& t) {"),
        read_("read", "     1\t// Authentication.\n     2\tclass Auth {") {}

  void Prompt(std::string text) {
    history_.sessions["ses_1"].push_back(UserMessage(std::move(text)));
  }

  void Run(AgentLimits limits = {}, bool with_todos = false) {
    AgentRunSpec spec;
    spec.session_id = "ses_1";
    spec.task_id = "bg_1";
    spec.workspace = "/ws";
    spec.system_prompt = "You are a test agent.";
    spec.provider = &provider_;
    spec.model_id = "scripted";
    spec.tools = {&grep_, &read_};
    spec.limits = limits;
    AgentLoopDeps deps{&clock_, &history_, nullptr, with_todos ? &todos_ : nullptr, redactor_};
    AgentLoopCallbacks cb;
    cb.progress = [this](const AgentProgress& p) {
      turns_ += p.turns;
      tool_calls_ += p.tool_calls;
      if (!p.tool.empty()) tools_started_.push_back(p.tool);
      if (!p.note.empty()) notes_.push_back(p.note);
    };
    cb.finish = [this](Result<std::string> r) {
      ++finishes_;
      outcome_ = std::move(r);
    };
    loop_ = AgentLoop::Start(std::move(spec), deps, std::move(cb));
  }

  void RunToEnd() {
    for (int i = 0; i < 100000 && finishes_ == 0 && clock_.AdvanceToNextTimer(); ++i) {
    }
  }

  const std::vector<ChatMessage>& Messages() { return history_.sessions["ses_1"]; }

  FakeClock clock_;
  MemoryHistory history_;
  MemoryTodos todos_;
  MockProvider provider_;
  FakeTool grep_;
  FakeTool read_;
  const SecretRedactor* redactor_ = nullptr;
  std::unique_ptr<AgentLoop> loop_;
  int turns_ = 0;
  int tool_calls_ = 0;
  std::vector<std::string> tools_started_;
  std::vector<std::string> notes_;
  int finishes_ = 0;
  Result<std::string> outcome_ = Status::Internal("unfinished");
};

TEST_F(AgentLoopTest, RunsParallelToolCallsThenFinishesWithTheFinalAnswer) {
  Prompt(
      "#mock tool=grep:{\"pattern\":\"CheckToken\"} tool=read:{\"path\":\"src/auth.cc\"} "
      "reply=\"CheckToken is in src/auth.cc line 12.\"\nwhere is CheckToken?");
  Run();
  EXPECT_EQ(finishes_, 0);  // nothing happens inside Start
  RunToEnd();
  ASSERT_EQ(finishes_, 1);
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_EQ(outcome_.value(), "CheckToken is in src/auth.cc line 12.");
  EXPECT_EQ(turns_, 2);
  EXPECT_EQ(tool_calls_, 2);
  EXPECT_THAT(tools_started_, ElementsAre("grep", "read"));
  EXPECT_THAT(grep_.calls, ElementsAre(R"({"pattern":"CheckToken"})"));
  // user, assistant(2 calls), tool, tool, assistant(final): every step persisted in order.
  const auto& m = Messages();
  ASSERT_EQ(m.size(), 5u);
  EXPECT_EQ(m[1].role, ChatRole::kAssistant);
  ASSERT_EQ(m[1].tool_calls.size(), 2u);
  EXPECT_EQ(m[2].role, ChatRole::kTool);
  EXPECT_EQ(m[2].tool_call_id, m[1].tool_calls[0].id);
  EXPECT_EQ(m[2].text, "src/auth.cc:12:bool CheckToken(const Token& t) {");
  EXPECT_EQ(m[3].tool_call_id, m[1].tool_calls[1].id);
  EXPECT_EQ(m[4].text, "CheckToken is in src/auth.cc line 12.");
}

TEST_F(AgentLoopTest, SecretsInToolResultsAndProviderErrorsAreRedactedBeforeTheyAreStored) {
  const SecretRedactor secrets({"sk-live-0123456789", "CheckToken(const"});
  redactor_ = &secrets;
  Prompt("#mock tool=grep:{\"pattern\":\"x\"} reply=done\ngo");
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  ASSERT_GE(Messages().size(), 3u);
  EXPECT_EQ(Messages()[2].text, "src/auth.cc:12:bool [redacted] Token& t) {");

  // A provider error that echoes the key.
  history_.sessions.clear();
  finishes_ = 0;
  Prompt("#mock fail=401 fail_message=\"invalid key sk-live-0123456789\"\ngo");
  Run();
  RunToEnd();
  ASSERT_EQ(finishes_, 1);
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("invalid key [redacted]"));
  EXPECT_THAT(outcome_.status().message(), ::testing::Not(HasSubstr("sk-live")));
}

TEST_F(AgentLoopTest, ToolsOfOneTurnRunConcurrently) {
  Prompt("#mock tool=grep:{\"pattern\":\"a\"} tool=read:{\"path\":\"b\"} reply=done\ngo");
  Run();
  clock_.RunDue();  // the loop starts and the model answers (no latency)
  clock_.RunDue();
  // Both tools were started before either answered (each takes 10 ms of fake time).
  EXPECT_EQ(grep_.calls.size(), 1u);
  EXPECT_EQ(read_.calls.size(), 1u);
  RunToEnd();
  EXPECT_TRUE(outcome_.ok());
}

TEST_F(AgentLoopTest, UnknownToolAndBadArgumentsBecomeToolErrorsTheModelReads) {
  Prompt("#mock tool=bash:{\"command\":\"ls\"} reply=ok\nlist files");
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  const auto& m = Messages();
  ASSERT_GE(m.size(), 3u);
  EXPECT_TRUE(m[2].is_error);
  EXPECT_THAT(m[2].text, HasSubstr("unknown tool \"bash\""));
  EXPECT_THAT(m[2].text, HasSubstr("grep, read"));
}

TEST_F(AgentLoopTest, MaxTurnsEndsTheRunWithAClearError) {
  Prompt(
      "#mock tool=grep:{\"pattern\":\"x\"} tool@2=grep:{\"pattern\":\"y\"} "
      "tool@3=grep:{\"pattern\":\"z\"} reply=never\nsearch");
  AgentLimits limits;
  limits.max_turns = 2;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("max turns (2)"));
}

TEST_F(AgentLoopTest, MaxToolCallsEndsTheRun) {
  Prompt("#mock tool=grep:{\"pattern\":\"x\"} tool=read:{\"path\":\"y\"} reply=never\nsearch");
  AgentLimits limits;
  limits.max_tool_calls = 1;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("max tool calls (1) exceeded"));
  EXPECT_TRUE(grep_.calls.empty());
}

// A script whose every turn, 1 to `turns`, reads a.cc.
std::string SameReadEveryTurn(int turns) {
  std::string script = "#mock";
  for (int turn = 1; turn <= turns; ++turn) {
    script += turn == 1 ? " tool=read:{\"path\":\"a.cc\"}"
                        : fmt::format(" tool@{}=read:{{\"path\":\"a.cc\"}}", turn);
  }
  return script;
}

TEST_F(AgentLoopTest, TheSameCallRepeatedIsALoop) {
  std::string script = "#mock";
  for (int turn = 1; turn <= 5; ++turn) {
    script += turn == 1 ? " tool=grep:{\"pattern\":\"same\"}"
                        : fmt::format(" tool@{}=grep:{{\"pattern\": \"same\"}}", turn);
  }
  Prompt(script + " reply=never\nsearch");
  AgentLimits limits;
  limits.loop_repeat_limit = 4;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(),
              HasSubstr("loop detected: grep was called 4 times in a row with the same arguments"));
  EXPECT_EQ(grep_.calls.size(), 3u);
}

// A model that keeps making the same call, whose result never changes: warned once (in the
// session, so the model reads it), then the run fails naming the call and how often it repeated.
TEST_F(AgentLoopTest, AScriptedLoopIsWarnedThenEndsNamingTheRepeatedCall) {
  const std::string script = SameReadEveryTurn(8);
  Prompt(script + " reply=never\nread it");
  AgentLimits limits;
  limits.loop_same_result_limit = 3;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_EQ(outcome_.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(outcome_.status().message(),
              HasSubstr("loop detected: the same tool call got the same result 4 times (read "
                        "{\"path\":\"a.cc\"} ×4)"));
  EXPECT_EQ(read_.calls.size(), 4u);
  int warnings = 0;
  for (const ChatMessage& m : Messages()) {
    if (m.role == ChatRole::kUser && m.text.find("same tool call 3 times") != std::string::npos)
      ++warnings;
  }
  EXPECT_EQ(warnings, 1);
  ASSERT_FALSE(notes_.empty());
  EXPECT_THAT(notes_.back(), HasSubstr("loop warning"));
}

// A run resumed after a restart, or continued on a fallback model, keeps the counts of the turns
// its task already made: two repeats before, so the first repeat after is the third (warned) and
// the next one the loop — two calls where a fresh count would have allowed four.
TEST_F(AgentLoopTest, AResumedRunKeepsTheLoopDetectorsCounts) {
  const std::string script = SameReadEveryTurn(8);
  Prompt(script + " reply=never\nread it");
  for (int i = 0; i < 2; ++i) {
    ChatMessage assistant;
    assistant.role = ChatRole::kAssistant;
    const std::string id = "call_" + std::to_string(i);
    assistant.tool_calls = {{id, "read", R"({"path":"a.cc"})"}};
    history_.sessions["ses_1"].push_back(assistant);
    history_.sessions["ses_1"].push_back(
        ToolResultMessage(id, "read", "     1\t// Authentication.\n     2\tclass Auth {"));
  }
  AgentLimits limits;
  limits.loop_same_result_limit = 3;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(),
              HasSubstr("loop detected: the same tool call got the same result 4 times"));
  EXPECT_EQ(read_.calls.size(), 2u);
}

// The turns a task already made before a restart, as its session holds them: `turns` replies
// after the prompt, each one grep call with its result (patterns "<prefix>0", "<prefix>1", …,
// or all `same_pattern` when given).
void AddDoneTurns(MemoryHistory* history, int turns, const std::string& prefix,
                  const std::string& same_pattern = "") {
  for (int i = 0; i < turns; ++i) {
    ChatMessage assistant;
    assistant.role = ChatRole::kAssistant;
    const std::string id = prefix + "call_" + std::to_string(i);
    const std::string pattern = same_pattern.empty() ? prefix + std::to_string(i) : same_pattern;
    assistant.tool_calls = {{id, "grep", nlohmann::json{{"pattern", pattern}}.dump()}};
    history->sessions["ses_1"].push_back(assistant);
    history->sessions["ses_1"].push_back(ToolResultMessage(id, "grep", "match " + pattern));
  }
}

// A script of `turns` turns, each one grep call of a new pattern (or of `same_pattern` when
// given), then `reply`.
std::string NewSearchEveryTurn(int turns, const std::string& reply,
                               const std::string& same_pattern = "") {
  std::string script = "#mock";
  for (int turn = 1; turn <= turns; ++turn) {
    const nlohmann::json args = {
        {"pattern", same_pattern.empty() ? "p" + std::to_string(turn) : same_pattern}};
    script += turn == 1 ? " tool=grep:" + args.dump()
                        : fmt::format(" tool@{}=grep:{}", turn, args.dump());
  }
  return script + " reply=\"" + reply + "\"";
}

int AssistantTurnsAfterLastPrompt(const std::vector<ChatMessage>& messages) {
  int turns = 0;
  for (const ChatMessage& m : messages) {
    if (m.role == ChatRole::kUser && !m.text.starts_with("<system-reminder>")) turns = 0;
    if (m.role == ChatRole::kAssistant) ++turns;
  }
  return turns;
}

// An interrupted task resumed (after a restart, or on a fallback model) is the same task: its
// turns and tool calls count on from what its session holds. 3 calls before and a cap of 4 tool
// calls (or 2 turns before and a cap of 3 turns): one more call runs, then the cap ends the run —
// not a whole cap more.
TEST_F(AgentLoopTest, AResumedRunCountsItsTurnsAndToolCallsOnFromTheSession) {
  struct Case {
    int done_turns;
    AgentLimits limits;
    std::string error;
    int stored_turns;  // the reply whose calls pass the tool-call cap is stored, not run
  };
  AgentLimits calls, turns;
  calls.max_tool_calls = 4;
  turns.max_turns = 3;
  for (const Case& c : {Case{3, calls, "max tool calls (4) exceeded", 5},
                        Case{2, turns, "max turns (3) reached", 3}}) {
    history_.sessions.clear();
    grep_.calls.clear();
    finishes_ = 0;
    Prompt(NewSearchEveryTurn(10, "never") + "\nsearch");
    AddDoneTurns(&history_, c.done_turns, "p");
    Run(c.limits);
    RunToEnd();
    ASSERT_FALSE(outcome_.ok()) << c.error;
    EXPECT_THAT(outcome_.status().message(), HasSubstr(c.error));
    EXPECT_EQ(grep_.calls.size(), 1u) << c.error;  // the task's last call within the cap
    EXPECT_EQ(AssistantTurnsAfterLastPrompt(Messages()), c.stored_turns) << c.error;
  }
}

// "The same call in a row" counts on too: 3 identical calls before, a limit of 4, the next
// identical call is the 4th in a row and is not run.
TEST_F(AgentLoopTest, AResumedRunCountsTheSameCallInARowOnFromTheSession) {
  Prompt(NewSearchEveryTurn(6, "never", "same") + "\nsearch");
  AddDoneTurns(&history_, 3, "s", "same");
  AgentLimits limits;
  limits.loop_repeat_limit = 4;
  limits.loop_same_result_limit = 0;  // only the in-a-row rule
  limits.loop_idle_turns = 0;
  Run(limits);
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(),
              HasSubstr("loop detected: grep was called 4 times in a row with the same arguments"));
  EXPECT_TRUE(grep_.calls.empty());
}

// A continued session (a new prompt: a new task) starts its counts at its own prompt: the
// earlier task's 3 calls do not count against this one's cap of 4.
TEST_F(AgentLoopTest, AContinuedSessionIsANewTaskWithFreshCaps) {
  Prompt("the first task");
  AddDoneTurns(&history_, 3, "old");
  ChatMessage answer;
  answer.role = ChatRole::kAssistant;
  answer.text = "first answer";
  history_.sessions["ses_1"].push_back(answer);
  Prompt(NewSearchEveryTurn(4, "second answer") + "\nsearch again");
  AgentLimits limits;
  limits.max_tool_calls = 4;
  limits.max_turns = 5;
  Run(limits);
  RunToEnd();
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_EQ(*outcome_, "second answer");
  EXPECT_EQ(grep_.calls.size(), 4u);
}

// Many turns of different searches are work, not a loop.
TEST_F(AgentLoopTest, ABurstOfDifferentSearchesIsNotALoop) {
  std::string script = "#mock";
  for (int turn = 1; turn <= 30; ++turn) {
    script += turn == 1 ? " tool=grep:{\"pattern\":\"p1\"}"
                        : fmt::format(" tool@{}=grep:{{\"pattern\":\"p{}\"}}", turn, turn);
  }
  Prompt(script + " reply=\"found it\"\nsearch");
  AgentLimits limits;
  limits.loop_same_result_limit = 2;
  limits.loop_idle_turns = 2;
  Run(limits);
  RunToEnd();
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_EQ(grep_.calls.size(), 30u);
}

TEST_F(AgentLoopTest, UnfinishedTodosGetRemindersThenTheRunEnds) {
  todos_.items = {{"1", "write the summary", "in_progress", "high"}};
  Prompt("#mock reply=\"all done\"\nsummarise");
  AgentLimits limits;
  limits.todo_reminders = 2;
  Run(limits, /*with_todos=*/true);
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  EXPECT_EQ(turns_, 3);  // the answer, then two reminded turns
  int reminders = 0;
  for (const ChatMessage& m : Messages()) {
    if (m.role == ChatRole::kUser && m.text.find("write the summary") != std::string::npos) {
      ++reminders;
    }
  }
  EXPECT_EQ(reminders, 2);
}

TEST_F(AgentLoopTest, ChildNotificationsAreInjectedOnceAsOneSystemReminder) {
  history_.notes["ses_1"] = {"bg_a (explore: find auth) completed after 2s",
                             "bg_b (oracle: review) error after 1s: stale"};
  Prompt("#mock reply=thanks\ncontinue");
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  const auto& m = Messages();
  ASSERT_EQ(m.size(), 3u);
  EXPECT_EQ(m[1].role, ChatRole::kUser);
  EXPECT_THAT(m[1].text, HasSubstr("<system-reminder>"));
  EXPECT_THAT(m[1].text, HasSubstr("bg_a (explore: find auth) completed"));
  EXPECT_THAT(m[1].text, HasSubstr("bg_b (oracle: review) error"));
  EXPECT_TRUE(history_.notes["ses_1"].empty());
}

TEST_F(AgentLoopTest, ProviderErrorsAfterRetriesFailTheRunNamingTheCause) {
  Prompt("#mock fail=529\nhello");
  Run();
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("model request failed"));
  EXPECT_THAT(outcome_.status().message(), HasSubstr("529"));
  EXPECT_EQ(notes_.size(), 2u);  // two retries announced
}

TEST_F(AgentLoopTest, CancelStopsToolsAndNothingIsReportedAfterwards) {
  Prompt("#mock tool=grep:{\"pattern\":\"slow\"} reply=never\nsearch");
  grep_ = FakeTool("grep", "late", 60'000);
  Run();
  clock_.AdvanceMs(100);
  ASSERT_EQ(grep_.calls.size(), 1u);
  loop_->Cancel();
  EXPECT_EQ(grep_.cancels, 1);
  clock_.AdvanceMs(120'000);
  EXPECT_EQ(finishes_, 0);
}

TEST_F(AgentLoopTest, ALongToolReportsThatTheRunIsAliveUntilItAnswers) {
  Prompt("#mock tool=grep:{\"pattern\":\"slow\"} reply=done\nsearch");
  grep_ = FakeTool("grep", "late", 100'000);
  Run();
  clock_.AdvanceMs(95'000);
  EXPECT_EQ(notes_.size(), 3u);  // every 30 s while the tool runs
  EXPECT_EQ(notes_.back(), "waiting for grep");
  RunToEnd();
  ASSERT_TRUE(outcome_.ok());
  EXPECT_EQ(notes_.size(), 3u);  // and no more once it answered
}

TEST_F(AgentLoopTest, AResumedRunExecutesTheToolCallsThatHadNoResult) {
  Prompt("#mock reply=resumed\nsearch");
  ChatMessage assistant;
  assistant.role = ChatRole::kAssistant;
  assistant.tool_calls = {{"call_1", "grep", R"({"pattern":"p"})"},
                          {"call_2", "read", R"({"path":"f"})"}};
  history_.sessions["ses_1"].push_back(assistant);
  history_.sessions["ses_1"].push_back(ToolResultMessage("call_1", "grep", "done before"));
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_TRUE(grep_.calls.empty());
  EXPECT_EQ(read_.calls.size(), 1u);
  EXPECT_EQ(outcome_.value(), "resumed");
  // The call keeps the key it had in the run that was interrupted (message 1, call_2).
  EXPECT_THAT(read_.call_keys, ElementsAre("1:call_2"));
}

// A tool call's key names the assistant message (its index in the session) and the call id, so
// a resumed run replaying it passes the same key (delegate_task then finds the task it started).
TEST_F(AgentLoopTest, EachToolCallHasAKeyThatAResumedRunReplays) {
  Prompt("#mock tool=grep:{\"pattern\":\"a\"} tool=read:{\"path\":\"b\"} reply=done\ngo");
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  const std::vector<ChatMessage>& session = Messages();
  ASSERT_GE(session.size(), 2u);
  ASSERT_EQ(session[1].role, ChatRole::kAssistant);
  ASSERT_EQ(session[1].tool_calls.size(), 2u);
  const std::string grep_id = session[1].tool_calls[0].id;
  const std::string read_id = session[1].tool_calls[1].id;
  EXPECT_NE(grep_id, read_id);
  EXPECT_THAT(grep_.call_keys, ElementsAre("1:" + grep_id));
  EXPECT_THAT(read_.call_keys, ElementsAre("1:" + read_id));

  // Interrupted after the assistant message was saved, before any result: both calls again,
  // with the same keys.
  history_.sessions["ses_1"].resize(2);
  grep_.call_keys.clear();
  read_.call_keys.clear();
  finishes_ = 0;
  Run();
  RunToEnd();
  ASSERT_TRUE(outcome_.ok()) << outcome_.status().ToString();
  EXPECT_THAT(grep_.call_keys, ElementsAre("1:" + grep_id));
  EXPECT_THAT(read_.call_keys, ElementsAre("1:" + read_id));
}

TEST_F(AgentLoopTest, ACallWithoutAnIdHasNoKey) {
  Prompt("#mock reply=resumed\nsearch");
  ChatMessage assistant;
  assistant.role = ChatRole::kAssistant;
  assistant.tool_calls = {{"", "grep", R"({"pattern":"p"})"}};
  history_.sessions["ses_1"].push_back(assistant);
  Run();
  RunToEnd();
  EXPECT_THAT(grep_.call_keys, ElementsAre(""));
}

TEST_F(AgentLoopTest, StoreFailureFailsTheRun) {
  Prompt("#mock reply=x\nhello");
  history_.fail_appends = true;
  Run();
  RunToEnd();
  ASSERT_FALSE(outcome_.ok());
  EXPECT_THAT(outcome_.status().message(), HasSubstr("saving a message"));
}

TEST(BuildAgentRequestTest, OldestToolOutputsGoFirstWhenTheContextIsFull) {
  AgentRunSpec spec;
  spec.model_id = "m";
  spec.limits.context_window_tokens = 3000;
  spec.limits.max_output_tokens = 1000;
  std::vector<ChatMessage> messages;
  messages.push_back(UserMessage("go"));
  for (int i = 0; i < 3; ++i) {
    messages.push_back(
        ToolResultMessage("c" + std::to_string(i), "read", std::string(4000, char('a' + i))));
  }
  ChatRequest r = BuildAgentRequest(spec, messages);
  EXPECT_THAT(r.messages[1].text, HasSubstr("removed to fit the context window: 4000 bytes"));
  EXPECT_THAT(r.messages[2].text, HasSubstr("removed to fit"));
  EXPECT_EQ(r.messages[3].text, std::string(4000, 'c'));  // the latest stays
  EXPECT_EQ(messages[1].text.size(), 4000u);              // the caller's copy is untouched
}

// A tool whose offer names the agents its caller may delegate to.
class CallerShapedTool : public Tool {
 public:
  CallerShapedTool() { spec_.name = "shaped"; }
  const ToolSpec& spec() const override { return spec_; }
  ToolSpec SpecFor(const ToolContext& context) const override {
    ToolSpec s = spec_;
    for (const std::string& a : context.delegates_to.value_or(std::vector<std::string>{})) {
      s.description += a + ";";
    }
    return s;
  }
  std::unique_ptr<ToolRun> Start(const nlohmann::json&, const ToolContext&,
                                 std::function<void(ToolResult)>) override {
    return nullptr;
  }

 private:
  ToolSpec spec_;
};

TEST(BuildAgentRequestTest, ToolsAreOfferedAsTheAgentSeesThem) {
  CallerShapedTool tool;
  AgentRunSpec spec;
  spec.model_id = "m";
  spec.tools = {&tool};
  spec.delegates_to = std::vector<std::string>{"explore", "oracle"};
  ChatRequest r = BuildAgentRequest(spec, {UserMessage("go")});
  ASSERT_EQ(r.tools.size(), 1u);
  EXPECT_EQ(r.tools[0].name, "shaped");
  EXPECT_EQ(r.tools[0].description, "explore;oracle;");
}

TEST(MessageCodecTest, RoundTripsEveryField) {
  ChatMessage m;
  m.role = ChatRole::kAssistant;
  m.text = "t";
  m.reasoning = "r";
  m.reasoning_signature = "sig";
  m.tool_calls = {{"id1", "grep", R"({"a":1})"}};
  auto back = DecodeStoredMessage(EncodeStoredMessage(m));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back.value().tool_calls[0].arguments_json, R"({"a":1})");
  EXPECT_EQ(back.value().reasoning_signature, "sig");
  ChatMessage tool = ToolResultMessage("id1", "grep", "out", /*is_error=*/true);
  auto t = DecodeStoredMessage(EncodeStoredMessage(tool));
  ASSERT_TRUE(t.ok());
  EXPECT_TRUE(t.value().is_error);
  EXPECT_EQ(t.value().tool_name, "grep");
  // The engine's stored prompt form.
  auto prompt = DecodeStoredMessage(R"({"role":"user","content":"hi"})");
  ASSERT_TRUE(prompt.ok());
  EXPECT_EQ(prompt.value().text, "hi");
  EXPECT_EQ(DecodeStoredMessage(R"({"role":"robot"})").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(DecodeStoredMessage(R"({"role":"tool","tool_calls":3})").status().code(),
            StatusCode::kCorruption);
}

}  // namespace
}  // namespace troupe
