// The timing and fault rules of PlanPlayer, on a FakeClock with a sink that records every call.
#include "mock_llm/plan_player.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "core/fake_clock.h"
#include "mock_llm/mock_llm_test_support.h"

namespace troupe {
namespace {

using mock_llm_test::PlanFor;
using mock_llm_test::Reply;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using Fault = MockPlan::StreamFault;

struct SinkCall {
  std::string kind;  // "response", "head", "chunk", "end", "drop"
  int64_t at_ms = 0;
  int status = 0;
  std::vector<HttpHeader> headers;
  std::string data;
};

class RecordingSink : public ResponseSink {
 public:
  explicit RecordingSink(Clock* clock) : clock_(clock) {}
  void SendResponse(int status, std::vector<HttpHeader> headers, std::string body) override {
    calls.push_back({"response", clock_->NowMs(), status, std::move(headers), std::move(body)});
  }
  void StartStream(int status, std::vector<HttpHeader> headers) override {
    calls.push_back({"head", clock_->NowMs(), status, std::move(headers), ""});
  }
  void SendChunk(std::string data) override {
    calls.push_back({"chunk", clock_->NowMs(), 0, {}, std::move(data)});
  }
  void EndStream() override { calls.push_back({"end", clock_->NowMs(), 0, {}, ""}); }
  void Drop() override { calls.push_back({"drop", clock_->NowMs(), 0, {}, ""}); }

  std::vector<std::string> Kinds() const {
    std::vector<std::string> out;
    for (const SinkCall& c : calls) out.push_back(c.kind);
    return out;
  }
  std::string Body() const {
    std::string out;
    for (const SinkCall& c : calls) out += c.data;
    return out;
  }

  std::vector<SinkCall> calls;

 private:
  Clock* clock_;
};

// Counts the data events (`data: ` lines) in `text`.
size_t Events(std::string_view text) {
  size_t n = 0;
  for (size_t at = text.find("data: "); at != std::string_view::npos;
       at = text.find("data: ", at + 1)) {
    ++n;
  }
  return n;
}

class PlanPlayerTest : public ::testing::Test {
 protected:
  // Ten one-byte text deltas.
  MockPlan TenDeltas() {
    MockPlan plan = PlanFor(Reply("0123456789"), 1);
    plan.result.response_id = "chatcmpl-1";
    plan.result.model = "m";
    return plan;
  }

  void Play(MockPlan plan, bool stream = true) {
    auto encoder = MakeReplyEncoder(WireProtocol::kOpenAi, plan.result, {});
    player_ = std::make_unique<PlanPlayer>(&clock_, std::move(plan), WireProtocol::kOpenAi,
                                           std::move(encoder), stream,
                                           std::vector<HttpHeader>{{"x-request-id", "r1"}}, &sink_);
    start_ms_ = clock_.NowMs();
    player_->Start();
  }

  FakeClock clock_;
  RecordingSink sink_{&clock_};
  std::unique_ptr<PlanPlayer> player_;
  int64_t start_ms_ = 0;
};

TEST_F(PlanPlayerTest, WithoutDelaysEverythingIsSentAtOnce) {
  Play(TenDeltas());
  EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"head", "chunk", "chunk", "end"}));
  EXPECT_EQ(sink_.calls[0].status, 200);
  EXPECT_EQ(FindHttpHeader(sink_.calls[0].headers, "content-type"),
            "text/event-stream; charset=utf-8");
  EXPECT_EQ(FindHttpHeader(sink_.calls[0].headers, "x-request-id"), "r1");
  EXPECT_EQ(Events(sink_.calls[1].data), 1u);        // the role chunk
  EXPECT_EQ(Events(sink_.calls[2].data), 10u + 2u);  // deltas, finish, [DONE]
  EXPECT_TRUE(player_->done());
  EXPECT_EQ(player_->outcome(), "completed");
  EXPECT_EQ(player_->deltas_sent(), 10);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(PlanPlayerTest, DelaysHeadAndFirstTokenThenPaces) {
  MockPlan plan = TenDeltas();
  plan.head_delay_ms = 500;
  plan.first_token_delay_ms = 200;
  plan.tokens_per_second = 10;  // delta i due 100 * i ms after the first
  Play(std::move(plan));
  EXPECT_TRUE(sink_.calls.empty());
  clock_.AdvanceMs(499);
  EXPECT_TRUE(sink_.calls.empty());
  clock_.AdvanceMs(1);
  EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"head", "chunk"}));
  clock_.AdvanceMs(199);
  EXPECT_EQ(sink_.calls.size(), 2u);
  clock_.AdvanceMs(1);  // the first token
  ASSERT_EQ(sink_.calls.size(), 3u);
  EXPECT_EQ(Events(sink_.calls[2].data), 1u);
  clock_.AdvanceMs(100);
  EXPECT_EQ(player_->deltas_sent(), 2);
  clock_.AdvanceMs(10'000);
  EXPECT_TRUE(player_->done());
  EXPECT_EQ(sink_.Kinds().size(), 2u + 10u + 1u);  // head, role, a chunk per delta, end
  EXPECT_EQ(sink_.calls.back().kind, "end");
  EXPECT_EQ(sink_.calls.back().at_ms, start_ms_ + 700 + 900);
}

// A FakeClock whose timers fire late, at the next multiple of 250 ms, like a coarse timer.
class CoarseClock : public FakeClock {
 public:
  TimerId StartTimer(int64_t delay_ms, std::function<void()> fire) override {
    return FakeClock::StartTimer((delay_ms + 249) / 250 * 250, std::move(fire));
  }
};

TEST(PlanPlayerPacingTest, DeltasDueWhenALateTimerFiresGoInOneChunk) {
  CoarseClock clock;
  RecordingSink sink(&clock);
  MockPlan plan = PlanFor(Reply("0123456789"), 1);
  plan.tokens_per_second = 10;
  auto encoder = MakeReplyEncoder(WireProtocol::kOpenAi, plan.result, {});
  PlanPlayer player(&clock, plan, WireProtocol::kOpenAi, std::move(encoder), true, {}, &sink);
  player.Start();
  EXPECT_EQ(player.deltas_sent(), 1);
  clock.AdvanceMs(250);  // deltas 1 and 2 (due at 100 and 200 ms) are sent together
  EXPECT_EQ(player.deltas_sent(), 3);
  EXPECT_EQ(Events(sink.calls.back().data), 2u);
  clock.AdvanceMs(250);  // 3, 4 and 5 (due at 300, 400, 500 ms)
  EXPECT_EQ(player.deltas_sent(), 6);
  EXPECT_EQ(Events(sink.calls.back().data), 3u);
  clock.AdvanceMs(499);
  EXPECT_FALSE(player.done());
  clock.AdvanceMs(1);  // the timer late by 100 ms at most: the stream keeps the planned pace
  EXPECT_TRUE(player.done());
  EXPECT_EQ(player.deltas_sent(), 10);
}

TEST_F(PlanPlayerTest, HttpErrorAnswersAfterTheHeadDelayWithItsHeaders) {
  MockPlan plan = TenDeltas();
  plan.head_delay_ms = 50;
  plan.http_error = MockPlan::HttpError{429, {{"retry-after", "3"}}, "rate_limit_error", "Slow"};
  Play(std::move(plan));
  EXPECT_TRUE(sink_.calls.empty());
  clock_.AdvanceMs(50);
  ASSERT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
  EXPECT_EQ(sink_.calls[0].status, 429);
  EXPECT_EQ(FindHttpHeader(sink_.calls[0].headers, "retry-after"), "3");
  EXPECT_EQ(FindHttpHeader(sink_.calls[0].headers, "content-type"), "application/json");
  EXPECT_THAT(sink_.calls[0].data, HasSubstr(R"("type":"rate_limit_error")"));
  EXPECT_EQ(player_->outcome(), "http_error");
  EXPECT_EQ(player_->deltas_sent(), 0);
}

TEST_F(PlanPlayerTest, NonStreamedReplyComesWhenTheLastDeltaWouldHave) {
  MockPlan plan = TenDeltas();
  plan.head_delay_ms = 100;
  plan.first_token_delay_ms = 50;
  plan.tokens_per_second = 100;  // the last of ten deltas 90 ms after the first
  Play(std::move(plan), /*stream=*/false);
  clock_.AdvanceMs(239);
  EXPECT_TRUE(sink_.calls.empty());
  clock_.AdvanceMs(1);
  ASSERT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
  EXPECT_EQ(sink_.calls[0].status, 200);
  EXPECT_THAT(sink_.calls[0].data, HasSubstr(R"("object":"chat.completion")"));
  EXPECT_EQ(player_->deltas_sent(), 10);
}

TEST_F(PlanPlayerTest, DropResetsAfterTheGivenDeltas) {
  MockPlan plan = TenDeltas();
  plan.fault = Fault::kDrop;
  plan.fault_after_deltas = 3;
  Play(std::move(plan));
  EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"head", "chunk", "chunk", "drop"}));
  EXPECT_EQ(Events(sink_.calls[2].data), 3u);
  EXPECT_EQ(player_->outcome(), "dropped");
  EXPECT_EQ(player_->deltas_sent(), 3);
}

TEST_F(PlanPlayerTest, MalformedChunkGoesOnToTheEnd) {
  MockPlan plan = TenDeltas();
  plan.fault = Fault::kMalformedChunk;
  plan.fault_after_deltas = 2;
  Play(std::move(plan));
  EXPECT_EQ(sink_.calls.back().kind, "end");
  const std::string body = sink_.Body();
  EXPECT_THAT(body, HasSubstr("data: {\"choices\""));
  const size_t bad = body.find("data: {not json\n\n");
  ASSERT_NE(bad, std::string::npos);
  EXPECT_EQ(Events(std::string_view(body).substr(0, bad)), 1u + 2u);  // role + 2 deltas before
  EXPECT_EQ(player_->outcome(), "completed");
  EXPECT_EQ(player_->deltas_sent(), 10);
}

TEST_F(PlanPlayerTest, ErrorEventEndsTheStream) {
  MockPlan plan = TenDeltas();
  plan.fault = Fault::kErrorEvent;
  plan.fault_after_deltas = 4;
  plan.error_message = "boom";
  Play(std::move(plan));
  EXPECT_EQ(sink_.calls.back().kind, "end");
  EXPECT_THAT(sink_.Body(), HasSubstr(R"(data: {"error":{"code":null,"message":"boom")"));
  EXPECT_THAT(sink_.Body(), Not(HasSubstr("[DONE]")));
  EXPECT_EQ(player_->outcome(), "error_event");
  EXPECT_EQ(player_->deltas_sent(), 4);
}

TEST_F(PlanPlayerTest, TruncateEndsTheStreamCleanlyWithoutItsEnd) {
  MockPlan plan = TenDeltas();
  plan.fault = Fault::kTruncate;
  plan.fault_after_deltas = 3;
  Play(std::move(plan));
  EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"head", "chunk", "chunk", "end"}));
  EXPECT_EQ(Events(sink_.calls[2].data), 3u);
  EXPECT_THAT(sink_.Body(), Not(HasSubstr("[DONE]")));
  EXPECT_THAT(sink_.Body(), Not(HasSubstr("finish_reason\":\"stop")));
  EXPECT_EQ(player_->outcome(), "truncated");
  EXPECT_EQ(player_->deltas_sent(), 3);
}

TEST_F(PlanPlayerTest, FaultAfterMoreDeltasThanThePlanHasFiresBeforeTheEnd) {
  MockPlan plan = TenDeltas();
  plan.fault = Fault::kDrop;
  plan.fault_after_deltas = 99;
  Play(std::move(plan));
  EXPECT_EQ(sink_.calls.back().kind, "drop");
  EXPECT_THAT(sink_.Body(), Not(HasSubstr("finish_reason\":\"stop")));
  EXPECT_EQ(player_->deltas_sent(), 10);
}

TEST_F(PlanPlayerTest, StallSendsNothingThenGoesOnAtThePlansPace) {
  MockPlan plan = TenDeltas();
  plan.tokens_per_second = 10;
  plan.fault = Fault::kStall;
  plan.fault_after_deltas = 2;
  plan.stall_ms = 60'000;
  Play(std::move(plan));
  clock_.AdvanceMs(100);
  EXPECT_EQ(player_->deltas_sent(), 2);
  const size_t calls = sink_.calls.size();
  clock_.AdvanceMs(59'999);
  EXPECT_EQ(sink_.calls.size(), calls);
  EXPECT_EQ(player_->deltas_sent(), 2);
  clock_.AdvanceMs(1);  // the stall is over: delta 2 now, the next 100 ms later
  EXPECT_EQ(player_->deltas_sent(), 3);
  EXPECT_EQ(sink_.calls.back().at_ms, start_ms_ + 60'100);
  clock_.AdvanceMs(100);
  EXPECT_EQ(player_->deltas_sent(), 4);
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(player_->outcome(), "completed");
}

TEST_F(PlanPlayerTest, NonStreamedFaults) {
  {
    MockPlan plan = TenDeltas();
    plan.fault = Fault::kDrop;
    Play(std::move(plan), false);
    EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"drop"}));
  }
  sink_.calls.clear();
  {
    MockPlan plan = TenDeltas();
    plan.fault = Fault::kErrorEvent;
    plan.error_message = "bad";
    Play(std::move(plan), false);
    ASSERT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
    EXPECT_EQ(sink_.calls[0].status, 500);
    EXPECT_THAT(sink_.calls[0].data, HasSubstr("bad"));
  }
  sink_.calls.clear();
  {
    MockPlan plan = TenDeltas();
    plan.fault = Fault::kMalformedChunk;
    Play(std::move(plan), false);
    ASSERT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
    EXPECT_EQ(sink_.calls[0].data, "{not json");
  }
  sink_.calls.clear();
  {
    MockPlan plan = TenDeltas();
    plan.fault = Fault::kTruncate;
    Play(std::move(plan), false);
    ASSERT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
    EXPECT_EQ(sink_.calls[0].status, 200);
    EXPECT_THAT(sink_.calls[0].data, StartsWith("{\"choices\""));
    EXPECT_FALSE(nlohmann::json::accept(sink_.calls[0].data));  // cut off mid-object
    EXPECT_EQ(player_->outcome(), "truncated");
  }
  sink_.calls.clear();
  {
    MockPlan plan = TenDeltas();
    plan.fault = Fault::kStall;
    plan.stall_ms = 1000;
    Play(std::move(plan), false);
    clock_.AdvanceMs(999);
    EXPECT_TRUE(sink_.calls.empty());
    clock_.AdvanceMs(1);
    EXPECT_EQ(sink_.Kinds(), (std::vector<std::string>{"response"}));
  }
}

TEST_F(PlanPlayerTest, StopCancelsTheTimerAndWritesNothingMore) {
  MockPlan plan = TenDeltas();
  plan.tokens_per_second = 1;
  Play(std::move(plan));
  EXPECT_EQ(player_->deltas_sent(), 1);
  EXPECT_EQ(clock_.pending_timers(), 1u);
  player_->Stop();
  EXPECT_EQ(clock_.pending_timers(), 0u);
  const size_t calls = sink_.calls.size();
  clock_.AdvanceMs(60'000);
  EXPECT_EQ(sink_.calls.size(), calls);
  EXPECT_FALSE(player_->done());
  EXPECT_EQ(player_->outcome(), "in_progress");
}

}  // namespace
}  // namespace troupe
