#include "llm/mock_provider.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/fake_clock.h"
#include "llm/stream_deltas.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using Kind = StreamDelta::Kind;
using StreamFault = MockPlan::StreamFault;

// A plan of `words` one-word text deltas ("w0 ", "w1 ", ...).
MockPlan WordsPlan(int words, int64_t head_ms, int64_t first_ms, double tps) {
  MockPlan plan;
  plan.head_delay_ms = head_ms;
  plan.first_token_delay_ms = first_ms;
  plan.tokens_per_second = tps;
  plan.result.message.role = ChatRole::kAssistant;
  for (int i = 0; i < words; ++i) {
    const std::string w = "w" + std::to_string(i) + " ";
    plan.deltas.push_back(stream_deltas::Text(w));
    plan.result.message.text += w;
  }
  plan.result.finish = FinishReason::kStop;
  plan.result.usage.output_tokens = words;
  return plan;
}

struct Event {
  int64_t at_ms;
  std::string what;
};

class MockAttemptTest : public ::testing::Test {
 protected:
  static constexpr int64_t kStart = 1'000'000;

  AttemptCallbacks Recording() {
    AttemptCallbacks cb;
    cb.on_delta = [this](const StreamDelta& d) {
      events.push_back(
          {clock.NowMs() - kStart, d.kind == Kind::kUsage ? "usage" : "delta:" + d.text});
    };
    cb.on_bytes = [this](int64_t bytes) {
      bytes_ += bytes;
      ++byte_reports;
    };
    cb.on_done = [this](AttemptOutcome o) {
      events.push_back({clock.NowMs() - kStart, o.result ? "done" : "error"});
      outcome = std::move(o);
    };
    return cb;
  }

  std::vector<std::string> Deltas() const {
    std::vector<std::string> out;
    for (const Event& e : events) {
      if (e.what.rfind("delta:", 0) == 0) out.push_back(e.what.substr(6));
    }
    return out;
  }

  std::vector<int64_t> Times() const {
    std::vector<int64_t> out;
    for (const Event& e : events) out.push_back(e.at_ms);
    return out;
  }

  FakeClock clock{kStart};
  std::vector<Event> events;
  std::optional<AttemptOutcome> outcome;
  int64_t bytes_ = 0;
  int byte_reports = 0;
};

TEST_F(MockAttemptTest, PacesDeltasOnTheClock) {
  auto call = StartMockAttempt(&clock, WordsPlan(4, 100, 200, 10), true, Recording());
  clock.AdvanceMs(299);
  EXPECT_THAT(events, IsEmpty());
  EXPECT_EQ(byte_reports, 1);  // the head, at 100 ms
  clock.AdvanceMs(10'000);
  // Head at 100, first token 200 later, then one every 100 ms; usage and done with the last.
  EXPECT_THAT(Times(), ElementsAre(300, 400, 500, 600, 600, 600));
  EXPECT_THAT(Deltas(), ElementsAre("w0 ", "w1 ", "w2 ", "w3 "));
  EXPECT_EQ(events[4].what, "usage");
  ASSERT_TRUE(outcome && outcome->result);
  EXPECT_EQ(outcome->result->message.text, "w0 w1 w2 w3 ");
  EXPECT_TRUE(outcome->streamed_deltas);
  EXPECT_EQ(byte_reports, 5);
  EXPECT_GT(bytes_, 4 * 80);
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST_F(MockAttemptTest, FractionalIntervalsBatchDeltasDueTogether) {
  // 3000 tokens/s: one every 1/3 ms, so three per millisecond.
  auto call = StartMockAttempt(&clock, WordsPlan(7, 0, 0, 3000), true, Recording());
  clock.AdvanceMs(100);
  EXPECT_THAT(Times(), ElementsAre(0, 0, 0, 1, 1, 1, 2, 2, 2));
}

TEST_F(MockAttemptTest, ZeroTokensPerSecondSendsAllAtOnce) {
  auto call = StartMockAttempt(&clock, WordsPlan(3, 0, 50, 0), true, Recording());
  clock.AdvanceMs(100);
  EXPECT_THAT(Times(), ElementsAre(50, 50, 50, 50, 50));
}

TEST_F(MockAttemptTest, NeverCallsBackFromTheStarter) {
  auto call = StartMockAttempt(&clock, WordsPlan(2, 0, 0, 0), true, Recording());
  EXPECT_THAT(events, IsEmpty());
  EXPECT_EQ(byte_reports, 0);
  clock.RunDue();
  EXPECT_EQ(events.size(), 4u);
}

TEST_F(MockAttemptTest, HttpErrorAfterTheHeadDelay) {
  MockPlan plan;
  plan.head_delay_ms = 30;
  plan.http_error = MockPlan::HttpError{429, {{"retry-after", "2"}}, "rate_limit_error", "slow"};
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.AdvanceMs(29);
  EXPECT_FALSE(outcome);
  clock.AdvanceMs(1);
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->result);
  EXPECT_EQ(outcome->error.status.code(), StatusCode::kUnavailable);
  EXPECT_EQ(outcome->error.status.message(), "mock: HTTP 429 rate_limit_error: slow");
  EXPECT_EQ(outcome->error.http_status, 429);
  EXPECT_THAT(outcome->error.headers, ElementsAre(HttpHeader{"retry-after", "2"}));
  EXPECT_FALSE(outcome->streamed_deltas);

  outcome.reset();
  plan.http_error->status = 400;
  auto refused = StartMockAttempt(&clock, plan, true, Recording());
  clock.AdvanceMs(30);
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status.code(), StatusCode::kInvalidArgument);
}

TEST_F(MockAttemptTest, DropResetsTheConnection) {
  MockPlan plan = WordsPlan(5, 0, 0, 10);
  plan.fault = StreamFault::kDrop;
  plan.fault_after_deltas = 2;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.AdvanceMs(10'000);
  EXPECT_THAT(Deltas(), ElementsAre("w0 ", "w1 "));
  EXPECT_THAT(Times(), ElementsAre(0, 100, 200));  // when the third delta was due
  ASSERT_TRUE(outcome);
  EXPECT_FALSE(outcome->result);
  EXPECT_EQ(outcome->error.status, Status::Unavailable("mock: connection reset after 2 deltas"));
  EXPECT_EQ(outcome->error.transport, TransportError::kReset);
  EXPECT_EQ(outcome->error.http_status, 0);
  EXPECT_TRUE(outcome->streamed_deltas);
}

TEST_F(MockAttemptTest, MalformedChunkIsNotRetryable) {
  MockPlan plan = WordsPlan(3, 0, 0, 0);
  plan.fault = StreamFault::kMalformedChunk;
  plan.fault_after_deltas = 1;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.RunDue();
  EXPECT_THAT(Deltas(), ElementsAre("w0 "));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(outcome->error.status.message(), HasSubstr("chunk 2 is not valid JSON"));
  EXPECT_EQ(outcome->error.transport, TransportError::kNone);
}

TEST_F(MockAttemptTest, ErrorEventEndsTheStream) {
  MockPlan plan = WordsPlan(3, 0, 0, 0);
  plan.fault = StreamFault::kErrorEvent;
  plan.fault_after_deltas = 0;
  plan.error_message = "Overloaded";
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.RunDue();
  EXPECT_THAT(Deltas(), IsEmpty());
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status,
            Status::Unavailable("mock: error event after 0 deltas: Overloaded"));
  EXPECT_EQ(outcome->error.transport, TransportError::kReset);
  EXPECT_FALSE(outcome->streamed_deltas);
}

TEST_F(MockAttemptTest, TruncateIsARetryableBrokenStream) {
  MockPlan plan = WordsPlan(3, 0, 0, 0);
  plan.fault = StreamFault::kTruncate;
  plan.fault_after_deltas = 2;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.RunDue();
  EXPECT_THAT(Deltas(), ElementsAre("w0 ", "w1 "));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status, Status::Unavailable("mock: stream ended early after 2 deltas"));
  EXPECT_EQ(outcome->error.transport, TransportError::kReset);
  EXPECT_TRUE(outcome->streamed_deltas);
}

TEST_F(MockAttemptTest, FaultAfterTheLastDeltaStrikesAtTheEnd) {
  MockPlan plan = WordsPlan(2, 0, 0, 0);
  plan.fault = StreamFault::kDrop;
  plan.fault_after_deltas = 99;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.RunDue();
  EXPECT_THAT(Deltas(), ElementsAre("w0 ", "w1 "));
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status.message(), "mock: connection reset after 2 deltas");
}

TEST_F(MockAttemptTest, StallPausesThenGoesOn) {
  MockPlan plan = WordsPlan(4, 0, 0, 10);
  plan.fault = StreamFault::kStall;
  plan.fault_after_deltas = 2;
  plan.stall_ms = 5000;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.AdvanceMs(100'000);
  EXPECT_THAT(Times(), ElementsAre(0, 100, 5200, 5300, 5300, 5300));
  ASSERT_TRUE(outcome && outcome->result);
}

TEST_F(MockAttemptTest, StallAtTheEndDelaysTheEnd) {
  MockPlan plan = WordsPlan(1, 0, 0, 0);
  plan.fault = StreamFault::kStall;
  plan.fault_after_deltas = 1;
  plan.stall_ms = 700;
  auto call = StartMockAttempt(&clock, plan, true, Recording());
  clock.AdvanceMs(10'000);
  EXPECT_THAT(Times(), ElementsAre(0, 700, 700));
}

TEST_F(MockAttemptTest, NonStreamedDeliversTheWholeReplyAtOnce) {
  auto call = StartMockAttempt(&clock, WordsPlan(3, 10, 90, 1), false, Recording());
  clock.AdvanceMs(10'000);
  EXPECT_THAT(Times(), ElementsAre(100));
  EXPECT_THAT(Deltas(), IsEmpty());
  ASSERT_TRUE(outcome && outcome->result);
  EXPECT_EQ(outcome->result->message.text, "w0 w1 w2 ");
  EXPECT_FALSE(outcome->streamed_deltas);
  EXPECT_EQ(byte_reports, 2);

  outcome.reset();
  events.clear();
  MockPlan dropped = WordsPlan(3, 0, 0, 0);
  dropped.fault = StreamFault::kDrop;
  dropped.fault_after_deltas = 2;
  auto broken = StartMockAttempt(&clock, dropped, false, Recording());
  clock.RunDue();
  ASSERT_TRUE(outcome);
  EXPECT_EQ(outcome->error.status.message(), "mock: connection reset after 0 deltas");
}

TEST_F(MockAttemptTest, CancelStopsEveryCallback) {
  auto call = StartMockAttempt(&clock, WordsPlan(10, 0, 0, 10), true, Recording());
  clock.AdvanceMs(250);
  EXPECT_EQ(Deltas().size(), 3u);
  call->Cancel();
  call->Cancel();  // idempotent
  clock.AdvanceMs(10'000);
  EXPECT_EQ(Deltas().size(), 3u);
  EXPECT_FALSE(outcome);
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST_F(MockAttemptTest, DestroyingTheCallCancelsIt) {
  auto call = StartMockAttempt(&clock, WordsPlan(3, 5, 0, 0), true, Recording());
  call.reset();
  clock.AdvanceMs(100);
  EXPECT_THAT(events, IsEmpty());
  EXPECT_EQ(clock.pending_timers(), 0u);
}

TEST_F(MockAttemptTest, ACallbackMayDestroyTheCall) {
  std::unique_ptr<ChatCall> call;
  int deltas = 0;
  AttemptCallbacks cb;
  cb.on_delta = [&](const StreamDelta&) {
    if (++deltas == 2) call.reset();
  };
  cb.on_done = [&](AttemptOutcome) { ADD_FAILURE() << "on_done after destruction"; };
  call = StartMockAttempt(&clock, WordsPlan(5, 0, 0, 0), true, std::move(cb));
  clock.AdvanceMs(100);
  EXPECT_EQ(deltas, 2);
  EXPECT_EQ(clock.pending_timers(), 0u);

  // ... and on_done too.
  AttemptCallbacks done;
  done.on_done = [&](AttemptOutcome) { call.reset(); };
  call = StartMockAttempt(&clock, WordsPlan(1, 0, 0, 0), true, std::move(done));
  clock.AdvanceMs(100);
  EXPECT_EQ(call, nullptr);
}

TEST_F(MockAttemptTest, ACallbackMayCancelTheCall) {
  std::unique_ptr<ChatCall> call;
  int bytes_calls = 0;
  AttemptCallbacks cb;
  cb.on_bytes = [&](int64_t) {
    if (++bytes_calls == 1) call->Cancel();
  };
  cb.on_delta = [&](const StreamDelta&) { ADD_FAILURE() << "delta after cancel"; };
  call = StartMockAttempt(&clock, WordsPlan(5, 0, 0, 0), true, std::move(cb));
  clock.AdvanceMs(100);
  EXPECT_EQ(bytes_calls, 1);
}

class RecordingObserver : public RateLimitObserver {
 public:
  void OnProviderCooldown(std::string_view provider, int64_t ms) override {
    cooldowns.push_back(std::string(provider) + ":" + std::to_string(ms));
  }
  std::vector<std::string> cooldowns;
};

class MockProviderTest : public ::testing::Test {
 protected:
  MockProviderTest() : provider_("mock", Options(), &clock, &observer, Retry()) {}

  static MockModelOptions Options() {
    MockModelOptions o;
    o.first_token_delay_ms = 100;
    o.tokens_per_second = 10;
    return o;
  }
  static RetryOptions Retry() {
    RetryOptions r;
    r.random = [] { return 0.0; };
    return r;
  }

  std::unique_ptr<ChatCall> Chat(const std::string& prompt, bool stream = true) {
    ChatRequest request;
    request.model = "scripted";
    request.stream = stream;
    ChatMessage user;
    user.text = prompt;
    request.messages = {user};
    ChatCallbacks cb;
    cb.on_delta = [this](const StreamDelta& d) {
      if (d.kind == Kind::kText) deltas.push_back(d.text);
    };
    cb.on_retry = [this](const RetryNotice& n) { retries.push_back(n); };
    cb.on_done = [this](Result<ChatResult> r) {
      done_at = clock.NowMs();
      result.emplace(std::move(r));
    };
    return provider_.Chat(std::move(request), std::move(cb));
  }

  FakeClock clock{0};
  RecordingObserver observer;
  MockProvider provider_;
  std::vector<std::string> deltas;
  std::vector<RetryNotice> retries;
  std::optional<Result<ChatResult>> result;
  int64_t done_at = -1;
};

TEST_F(MockProviderTest, PlaysTheModelsReply) {
  EXPECT_EQ(provider_.name(), "mock");
  auto call = Chat("#mock reply=\"one two three\"");
  clock.AdvanceMs(10'000);
  ASSERT_TRUE(result && result->ok()) << (result ? result->status().ToString() : "no result");
  EXPECT_EQ((*result)->message.text, "one two three");
  EXPECT_THAT(deltas, ElementsAre("one ", "two ", "three"));
  EXPECT_EQ(done_at, 300);  // 100 ms to the first token, then 10 per second
}

TEST_F(MockProviderTest, RetriesAScriptedRateLimitAndCoolsTheProviderDown) {
  auto call = Chat("#mock fail=429 times=1 retry_after=2s reply=ok");
  clock.AdvanceMs(100'000);
  ASSERT_TRUE(result && result->ok()) << result->status().ToString();
  EXPECT_EQ((*result)->message.text, "ok");
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_EQ(retries[0].delay_ms, 2000);
  EXPECT_THAT(retries[0].reason, HasSubstr("mock: HTTP 429 rate_limit_error"));
  EXPECT_THAT(observer.cooldowns, ElementsAre("mock:2000"));
  EXPECT_EQ(done_at, 2000 + 100);
}

TEST_F(MockProviderTest, RefusedRequestIsNotRetried) {
  auto call = Chat("#mock tps=oops");
  clock.AdvanceMs(100'000);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result->status().message(),
              HasSubstr("mock: HTTP 400 invalid_request_error: in the last user message: mock "
                        "directive 'tps=oops'"));
  EXPECT_THAT(retries, IsEmpty());
}

TEST_F(MockProviderTest, RetriesADroppedStreamFromTheStart) {
  auto call = Chat("#mock drop_after=1 times=1 reply=\"a b\" tps=0 latency=0");
  clock.AdvanceMs(100'000);
  ASSERT_TRUE(result && result->ok()) << result->status().ToString();
  ASSERT_EQ(retries.size(), 1u);
  EXPECT_TRUE(retries[0].discarded_partial);
  EXPECT_EQ(retries[0].reason, "mock: connection reset after 1 delta");
  EXPECT_THAT(deltas, ElementsAre("a ", "a ", "b"));
}

TEST_F(MockProviderTest, GivesUpAfterTheAttemptsAllowed) {
  auto call = Chat("#mock fail=503");
  clock.AdvanceMs(100'000);
  ASSERT_TRUE(result);
  EXPECT_EQ(result->status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result->status().message(), HasSubstr("(after 3 attempts)"));
  EXPECT_EQ(retries.size(), 2u);
}

TEST_F(MockProviderTest, NonStreamedRequest) {
  auto call = Chat("#mock reply=\"x y\"", /*stream=*/false);
  clock.AdvanceMs(10'000);
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->message.text, "x y");
  EXPECT_THAT(deltas, IsEmpty());
  EXPECT_EQ(done_at, 100);
}

TEST_F(MockProviderTest, CancelStopsTheRequest) {
  auto call = Chat("#mock tokens=100");
  clock.AdvanceMs(350);
  EXPECT_EQ(deltas.size(), 3u);
  call->Cancel();
  clock.AdvanceMs(100'000);
  EXPECT_EQ(deltas.size(), 3u);
  EXPECT_FALSE(result);
}

}  // namespace
}  // namespace troupe
