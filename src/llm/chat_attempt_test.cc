#include "llm/chat_attempt.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "core/fake_clock.h"
#include "llm/stream_deltas.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A scripted attempt: on a 0 ms timer, emits its deltas then reports its outcome.
struct FakeAttempt {
  std::vector<StreamDelta> deltas;
  AttemptOutcome outcome;
};

class FakeAttemptCall : public ChatCall {
 public:
  FakeAttemptCall(FakeClock* clock, FakeAttempt script, AttemptCallbacks cb, int* cancels)
      : timer_(clock), cancels_(cancels) {
    timer_.Start(0, [script = std::move(script), cb = std::move(cb)]() mutable {
      for (const StreamDelta& d : script.deltas) cb.on_delta(d);
      script.outcome.streamed_deltas = !script.deltas.empty();
      cb.on_done(std::move(script.outcome));
    });
  }
  void Cancel() override {
    if (timer_.armed()) ++*cancels_;
    timer_.Cancel();
  }

 private:
  Timer timer_;
  int* cancels_;
};

AttemptOutcome Ok(std::string text) {
  AttemptOutcome o;
  o.result.emplace();
  o.result->message.role = ChatRole::kAssistant;
  o.result->message.text = std::move(text);
  o.result->finish = FinishReason::kStop;
  return o;
}

AttemptOutcome HttpFailure(int status, std::vector<HttpHeader> headers = {}) {
  AttemptOutcome o;
  o.error.status = Status::Unavailable("test: HTTP " + std::to_string(status));
  o.error.http_status = status;
  o.error.headers = std::move(headers);
  return o;
}

AttemptOutcome TransportFailure(TransportError e, std::string message) {
  AttemptOutcome o;
  o.error.status = Status::Unavailable(std::move(message));
  o.error.transport = e;
  return o;
}

class RecordingObserver : public RateLimitObserver {
 public:
  void OnProviderCooldown(std::string_view provider, int64_t ms) override {
    cooldowns.push_back(std::string(provider) + ":" + std::to_string(ms));
  }
  void OnAttemptFailed(std::string_view provider, std::string_view reason,
                       bool will_retry) override {
    failures.push_back(std::string(provider) + ":" + std::string(reason) +
                       (will_retry ? ":retry" : ":final"));
    if (on_failure) on_failure();
  }
  std::vector<std::string> cooldowns;
  std::vector<std::string> failures;  // "provider:reason:retry|final"
  std::function<void()> on_failure;
};

class StartWithRetriesTest : public ::testing::Test {
 protected:
  std::unique_ptr<ChatCall> Start(std::deque<FakeAttempt> script, int max_attempts = 3) {
    script_ = std::move(script);
    RetryOptions options;
    options.max_attempts = max_attempts;
    options.random = [] { return 0.0; };  // no jitter: backoff is exactly 500 ms * 2^n
    ChatCallbacks cb;
    cb.on_delta = [this](const StreamDelta& d) { deltas_.push_back(d.text); };
    cb.on_retry = [this](const RetryNotice& n) {
      retries_.push_back(n);
      retry_times_.push_back(clock_.NowMs());
      if (cancel_in_retry_) call_->Cancel();
    };
    cb.on_done = [this](Result<ChatResult> r) {
      ++done_count_;
      result_ = std::move(r);
      if (destroy_in_done_) call_.reset();
    };
    return StartWithRetries(
        &clock_, "acme", &observer_, options,
        [this](AttemptCallbacks cb) -> std::unique_ptr<ChatCall> {
          attempt_times_.push_back(clock_.NowMs());
          FakeAttempt next = script_.front();
          script_.pop_front();
          return std::make_unique<FakeAttemptCall>(&clock_, std::move(next), std::move(cb),
                                                   &cancels_);
        },
        std::move(cb));
  }

  FakeClock clock_{0, 1'767'225'600'000};
  RecordingObserver observer_;
  std::deque<FakeAttempt> script_;
  std::unique_ptr<ChatCall> call_;
  std::vector<std::string> deltas_;
  std::vector<RetryNotice> retries_;
  std::vector<int64_t> retry_times_;
  std::vector<int64_t> attempt_times_;
  Result<ChatResult> result_ = Status::Internal("no result");
  int done_count_ = 0;
  int cancels_ = 0;
  bool destroy_in_done_ = false;
  bool cancel_in_retry_ = false;
};

TEST_F(StartWithRetriesTest, FirstSuccessIsReportedOnceAndNeverSynchronously) {
  call_ = Start({{{stream_deltas::Text("hi")}, Ok("hi")}});
  EXPECT_EQ(done_count_, 0);  // nothing runs inside StartWithRetries
  clock_.RunDue();
  ASSERT_EQ(done_count_, 1);
  ASSERT_TRUE(result_.ok());
  EXPECT_EQ(result_.value().message.text, "hi");
  EXPECT_THAT(deltas_, ElementsAre("hi"));
  EXPECT_TRUE(retries_.empty());
}

TEST_F(StartWithRetriesTest, RetryAfterHeaderSetsTheWaitAndCoolsTheProviderDown) {
  call_ = Start({{{}, HttpFailure(429, {{"retry-after", "3"}})}, {{}, Ok("done")}});
  clock_.RunDue();
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_EQ(retries_[0].delay_ms, 3000);
  EXPECT_EQ(retries_[0].attempt, 1);
  EXPECT_THAT(observer_.cooldowns, ElementsAre("acme:3000"));
  clock_.AdvanceMs(2999);
  EXPECT_EQ(attempt_times_.size(), 1u);
  clock_.AdvanceMs(1);
  ASSERT_EQ(attempt_times_.size(), 2u);
  EXPECT_EQ(attempt_times_[1], 3000);
  clock_.RunDue();
  ASSERT_TRUE(result_.ok());
  EXPECT_EQ(result_.value().message.text, "done");
}

TEST_F(StartWithRetriesTest, ExponentialBackoffWithoutHintsAndGivesUpAfterMaxAttempts) {
  call_ = Start({{{}, HttpFailure(500)}, {{}, HttpFailure(503)}, {{}, HttpFailure(500)}});
  while (clock_.AdvanceToNextTimer()) {
  }
  EXPECT_THAT(attempt_times_, ElementsAre(0, 500, 1500));
  ASSERT_EQ(done_count_, 1);
  ASSERT_FALSE(result_.ok());
  EXPECT_THAT(result_.status().message(), HasSubstr("HTTP 500 (after 3 attempts)"));
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(observer_.cooldowns.empty());  // a 500 is not a rate limit
}

TEST_F(StartWithRetriesTest, ShouldRetryFalseWinsOverTheStatus) {
  call_ = Start({{{}, HttpFailure(529, {{"x-should-retry", "false"}})}});
  clock_.RunDue();
  ASSERT_EQ(done_count_, 1);
  EXPECT_TRUE(retries_.empty());
  EXPECT_THAT(observer_.cooldowns, ElementsAre("acme:1000"));  // still overloaded: cool down
}

TEST_F(StartWithRetriesTest, ClientErrorsAreNotRetried) {
  call_ = Start({{{}, HttpFailure(400)}});
  clock_.RunDue();
  ASSERT_EQ(done_count_, 1);
  EXPECT_TRUE(retries_.empty());
  EXPECT_THAT(result_.status().message(), "test: HTTP 400");  // no "(after …)" for one attempt
}

TEST_F(StartWithRetriesTest, MalformedRepliesAreNotRetried) {
  AttemptOutcome bad;
  bad.error.status = Status::InvalidArgument("openai stream: chunk 3: not JSON");
  call_ = Start({{{}, bad}});
  clock_.RunDue();
  ASSERT_EQ(done_count_, 1);
  EXPECT_TRUE(retries_.empty());
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(StartWithRetriesTest, BrokenStreamIsRetriedAndItsPartialReplyDiscarded) {
  call_ = Start({{{stream_deltas::Text("Hel")},
                  TransportFailure(TransportError::kReset, "connection reset after 3 bytes")},
                 {{stream_deltas::Text("Hello")}, Ok("Hello")}});
  while (clock_.AdvanceToNextTimer()) {
  }
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_TRUE(retries_[0].discarded_partial);
  EXPECT_EQ(retries_[0].reason, "connection reset after 3 bytes");
  EXPECT_THAT(deltas_, ElementsAre("Hel", "Hello"));
  ASSERT_TRUE(result_.ok());
  EXPECT_EQ(result_.value().message.text, "Hello");
}

TEST_F(StartWithRetriesTest, CancelDuringTheWaitStartsNoFurtherAttempt) {
  call_ = Start({{{}, HttpFailure(429)}, {{}, Ok("never")}});
  clock_.RunDue();
  ASSERT_EQ(retries_.size(), 1u);
  call_->Cancel();
  while (clock_.AdvanceToNextTimer()) {
  }
  EXPECT_EQ(attempt_times_.size(), 1u);
  EXPECT_EQ(done_count_, 0);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(StartWithRetriesTest, DestroyingTheCallCancelsTheAttemptInFlight) {
  call_ = Start({{{}, Ok("never")}});
  call_.reset();
  EXPECT_EQ(cancels_, 1);
  clock_.RunDue();
  EXPECT_EQ(done_count_, 0);
}

TEST_F(StartWithRetriesTest, CallMayBeDestroyedFromInsideOnDone) {
  destroy_in_done_ = true;
  call_ = Start({{{}, Ok("bye")}});
  clock_.RunDue();
  EXPECT_EQ(done_count_, 1);
  EXPECT_EQ(call_, nullptr);
}

TEST_F(StartWithRetriesTest, CancelFromInsideOnRetryStopsEverything) {
  cancel_in_retry_ = true;
  call_ = Start({{{}, HttpFailure(500)}, {{}, Ok("never")}});
  clock_.RunDue();
  ASSERT_EQ(retries_.size(), 1u);
  clock_.AdvanceMs(10'000);
  EXPECT_EQ(attempt_times_.size(), 1u);
  EXPECT_EQ(done_count_, 0);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

TEST_F(StartWithRetriesTest, ObserverIsToldOfEveryFailedAttemptAndWhetherItIsRetried) {
  call_ = Start({{{}, HttpFailure(429)},
                 {{}, TransportFailure(TransportError::kReset, "connection reset")},
                 {{}, HttpFailure(500)}});
  while (clock_.AdvanceToNextTimer()) {
  }
  EXPECT_THAT(observer_.failures,
              ElementsAre("acme:test: HTTP 429:retry", "acme:connection reset:retry",
                          "acme:test: HTTP 500:final"));
  EXPECT_EQ(retries_.size(), 2u);
  EXPECT_EQ(done_count_, 1);
}

TEST_F(StartWithRetriesTest, ObserverIsToldOfAFailureThatIsNeverRetried) {
  AttemptOutcome bad;
  bad.error.status = Status::InvalidArgument("openai stream: chunk 3: not JSON");
  call_ = Start({{{}, HttpFailure(400)}});
  clock_.RunDue();
  EXPECT_THAT(observer_.failures, ElementsAre("acme:test: HTTP 400:final"));
  call_ = Start({{{}, bad}});
  clock_.RunDue();
  EXPECT_THAT(observer_.failures, ElementsAre("acme:test: HTTP 400:final",
                                              "acme:openai stream: chunk 3: not JSON:final"));
}

TEST_F(StartWithRetriesTest, SuccessAndCancelAreNotFailures) {
  call_ = Start({{{}, Ok("fine")}});
  clock_.RunDue();
  call_ = Start({{{}, Ok("never")}});
  call_->Cancel();
  clock_.RunDue();
  EXPECT_TRUE(observer_.failures.empty());
}

TEST_F(StartWithRetriesTest, CancelFromInsideOnAttemptFailedStopsEverything) {
  observer_.on_failure = [this] { call_->Cancel(); };
  call_ = Start({{{}, HttpFailure(500)}, {{}, Ok("never")}});
  clock_.RunDue();
  ASSERT_EQ(observer_.failures.size(), 1u);
  clock_.AdvanceMs(10'000);
  EXPECT_TRUE(retries_.empty());  // cancelled before on_retry
  EXPECT_EQ(attempt_times_.size(), 1u);
  EXPECT_EQ(done_count_, 0);
  EXPECT_EQ(clock_.pending_timers(), 0u);
}

}  // namespace
}  // namespace troupe
