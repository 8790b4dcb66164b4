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

}  // namespace
}  // namespace troupe
