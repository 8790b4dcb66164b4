#include "agent/loop_detector.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using ::testing::HasSubstr;
using Verdict = LoopDetector::Verdict;

LoopDetector::CallResult Call(const std::string& name, const std::string& args,
                              const std::string& result, bool is_error = false) {
  ToolCall call;
  call.name = name;
  call.arguments_json = args;
  return {call, result, is_error};
}

TEST(LoopDetectorTest, ABurstOfDifferentSearchesNeverTrips) {
  LoopDetector detector({.repeat_limit = 3, .idle_turns = 2});
  for (int i = 0; i < 500; ++i) {
    auto outcome =
        detector.OnTurn({Call("grep", "{\"pattern\":\"p" + std::to_string(i) + "\"}", "no matches"),
                         Call("glob", "{\"pattern\":\"*.cc\"}", "a.cc\n" + std::to_string(i))});
    ASSERT_EQ(outcome.verdict, Verdict::kOk) << "turn " << i << ": " << outcome.message;
  }
}

TEST(LoopDetectorTest, TheSameCallWithTheSameResultWarnsThenFailsNamingTheCall) {
  LoopDetector detector({.repeat_limit = 3, .idle_turns = 0});
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kOk);
  // Spacing and key order are not part of the call.
  EXPECT_EQ(detector.OnTurn({Call("read", R"({ "path" : "a.cc" })", "x")}).verdict, Verdict::kOk);
  auto warned = detector.OnTurn({Call("read", R"({"path":"a.cc"})", "x")});
  EXPECT_EQ(warned.verdict, Verdict::kWarn);
  EXPECT_THAT(warned.message, HasSubstr("3 times"));
  EXPECT_THAT(warned.message, HasSubstr(R"(read {"path":"a.cc"})"));
  auto loop = detector.OnTurn({Call("read", R"({"path":"a.cc"})", "x")});
  EXPECT_EQ(loop.verdict, Verdict::kLoop);
  EXPECT_THAT(loop.message, HasSubstr("loop detected"));
  EXPECT_THAT(loop.message, HasSubstr(R"(read {"path":"a.cc"} ×4)"));
}

TEST(LoopDetectorTest, AChangedResultIsNotARepeat) {
  LoopDetector detector({.repeat_limit = 2, .idle_turns = 0});
  // A test re-run after each fix: same call, a different result each time.
  for (int i = 0; i < 20; ++i) {
    EXPECT_EQ(detector
                  .OnTurn({Call("bash", R"({"command":"make test"})",
                                std::to_string(20 - i) + " failures")})
                  .verdict,
              Verdict::kOk);
  }
  // An error and a success with the same text are different results.
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"x"})", "r", true)}).verdict, Verdict::kOk);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"x"})", "r", false)}).verdict, Verdict::kOk);
}

TEST(LoopDetectorTest, AlternatingCallsAreCaughtNotOnlyRunsInARow) {
  LoopDetector detector({.repeat_limit = 3, .idle_turns = 0});
  Verdict last = Verdict::kOk;
  int turns = 0;
  while (last != Verdict::kLoop && turns < 20) {
    last = detector
               .OnTurn({turns % 2 == 0 ? Call("read", R"({"path":"a"})", "A")
                                       : Call("read", R"({"path":"b"})", "B")})
               .verdict;
    ++turns;
  }
  EXPECT_EQ(last, Verdict::kLoop);
  EXPECT_EQ(turns, 7);  // a's 3rd (turn 5) warns; a's 4th (turn 7) ends it
}

TEST(LoopDetectorTest, TurnsWithoutProgressWarnThenFail) {
  LoopDetector detector({.repeat_limit = 0, .idle_turns = 2});
  // Two different calls, each seen before: no new information.
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a"})", "A")}).verdict, Verdict::kOk);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"b"})", "B")}).verdict, Verdict::kOk);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a"})", "A")}).verdict, Verdict::kOk);
  auto warned = detector.OnTurn({Call("read", R"({"path":"b"})", "B")});
  EXPECT_EQ(warned.verdict, Verdict::kWarn);
  EXPECT_THAT(warned.message, HasSubstr("2 turns made no progress"));
  auto loop = detector.OnTurn({Call("read", R"({"path":"a"})", "A")});
  EXPECT_EQ(loop.verdict, Verdict::kLoop);
  EXPECT_THAT(loop.message, HasSubstr("no progress in 3 turns"));
  EXPECT_THAT(loop.message, HasSubstr(R"(read {"path":"a"} ×3)"));
}

TEST(LoopDetectorTest, ProgressAfterAWarningStartsTheCountOver) {
  LoopDetector detector({.repeat_limit = 0, .idle_turns = 1});
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a"})", "A")}).verdict, Verdict::kOk);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a"})", "A")}).verdict, Verdict::kWarn);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"c"})", "C")}).verdict, Verdict::kOk);
  EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"c"})", "C")}).verdict, Verdict::kWarn);
}

TEST(LoopDetectorTest, ZeroTurnsARuleOff) {
  LoopDetector detector({.repeat_limit = 0, .idle_turns = 0});
  for (int i = 0; i < 100; ++i) {
    EXPECT_EQ(detector.OnTurn({Call("read", R"({"path":"a"})", "A")}).verdict, Verdict::kOk);
  }
}

// A session as the agent loop stores it: the prompt, then `turns` turns of the same read with
// the same result.
std::vector<ChatMessage> SessionOfRepeats(int turns) {
  std::vector<ChatMessage> history = {UserMessage("an earlier task"), UserMessage("read a.cc")};
  for (int i = 0; i < turns; ++i) {
    ChatMessage call;
    call.role = ChatRole::kAssistant;
    call.tool_calls.push_back({"c" + std::to_string(i), "read", R"({"path":"a.cc"})"});
    ChatMessage result;
    result.role = ChatRole::kTool;
    result.tool_call_id = "c" + std::to_string(i);
    result.tool_name = "read";
    result.text = "x";
    history.push_back(call);
    history.push_back(result);
  }
  return history;
}

TEST(LoopDetectorTest, ARebuiltDetectorKeepsTheCountsOfTheRunSoFar) {
  // Two turns before a restart (or a fallback): the third repeat after it warns, the fourth is
  // the loop, as without the restart.
  LoopDetector resumed({.repeat_limit = 3, .idle_turns = 0});
  resumed.Rebuild(SessionOfRepeats(2));
  EXPECT_EQ(resumed.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kWarn);
  EXPECT_EQ(resumed.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kLoop);

  // Warned before the restart: the next repeat is the loop at once.
  std::vector<ChatMessage> warned = SessionOfRepeats(3);
  warned.push_back(UserMessage("<system-reminder>\nYou have made the same tool call 3 times"));
  LoopDetector after_warning({.repeat_limit = 3, .idle_turns = 0});
  after_warning.Rebuild(warned);
  auto loop = after_warning.OnTurn({Call("read", R"({"path":"a.cc"})", "x")});
  EXPECT_EQ(loop.verdict, Verdict::kLoop);
  EXPECT_THAT(loop.message, HasSubstr(R"(read {"path":"a.cc"} ×4)"));
}

TEST(LoopDetectorTest, RebuildCountsOnlyTheLastPromptsRunAndOnlyAnsweredTurns) {
  // A new prompt in the session (a continuation) starts its counts afresh.
  std::vector<ChatMessage> history = SessionOfRepeats(5);
  history.push_back(UserMessage("now something else"));
  LoopDetector fresh({.repeat_limit = 3, .idle_turns = 0});
  fresh.Rebuild(history);
  EXPECT_EQ(fresh.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kOk);
  EXPECT_EQ(fresh.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kOk);

  // A wake-up's prompt is a system reminder: named, it starts the counts.
  std::vector<ChatMessage> woken = SessionOfRepeats(5);
  woken.push_back(UserMessage("<system-reminder>\nBackground tasks you delegated have finished"));
  LoopDetector after_wakeup({.repeat_limit = 3, .idle_turns = 0});
  after_wakeup.Rebuild(woken, woken.back().text);
  EXPECT_EQ(after_wakeup.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kOk);

  // A turn whose call has no result yet is left for the run (which runs it) to count.
  std::vector<ChatMessage> interrupted = SessionOfRepeats(2);
  interrupted.pop_back();
  LoopDetector counted({.repeat_limit = 3, .idle_turns = 0});
  counted.Rebuild(interrupted);
  EXPECT_EQ(counted.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kOk);
  EXPECT_EQ(counted.OnTurn({Call("read", R"({"path":"a.cc"})", "x")}).verdict, Verdict::kWarn);
}

}  // namespace
}  // namespace troupe
