// The mock-llm server's faults and timing as a client sees them over real loopback HTTP: drops,
// truncated streams, malformed events, error events, stalls, delays, a client that leaves, and
// many streams at once.
// Timing tests run the server on a FakeClock, so nothing depends on how fast the machine is.
#include "mock_llm/mock_llm_server.h"
#include "mock_llm/mock_llm_server_test_fixture.h"

namespace troupe::mock_llm_test {
namespace {

using Fault = MockPlan::StreamFault;
using ::testing::Not;

MockPlan TenDeltaPlan() { return PlanFor(Reply("0123456789"), 1); }

TEST_F(MockLlmServerTest, DropResetsTheConnectionMidStream) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kDrop;
    plan.fault_after_deltas = 3;
    return plan;
  };
  Exchange e = Fetch(Chat(WireProtocol::kOpenAi, Hello()));
  EXPECT_FALSE(e.status.ok());
  EXPECT_EQ(e.kind, HttpErrorKind::kReset) << e.status.ToString();
  EXPECT_EQ(e.http_status(), 200);
  DecodedStream decoded = DecodeSse<OpenAiStreamDecoder>(e.body);
  EXPECT_EQ(decoded.deltas.size(), 3u);  // what was sent before the drop arrived
  EXPECT_FALSE(decoded.result.ok());     // and the stream is truncated
  ASSERT_TRUE(RunUntilLogged(1));
  EXPECT_EQ(LastEntry().outcome, "dropped");
  EXPECT_EQ(LastEntry().deltas_sent, 3);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->open_connections() == 0; }));
}

TEST_F(MockLlmServerTest, DropOfANonStreamedRequestAnswersNothing) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kDrop;
    return plan;
  };
  Exchange e = Fetch(Chat(WireProtocol::kAnthropic, Hello(false)));
  EXPECT_FALSE(e.status.ok());
  EXPECT_FALSE(e.head.has_value());
  ASSERT_TRUE(RunUntilLogged(1));
  EXPECT_EQ(LastEntry().outcome, "dropped");
  EXPECT_EQ(LastEntry().status, 0);
}

TEST_F(MockLlmServerTest, TruncateEndsTheHttpResponseCleanlyButNotTheStream) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kTruncate;
    plan.fault_after_deltas = 4;
    return plan;
  };
  for (WireProtocol protocol : {WireProtocol::kOpenAi, WireProtocol::kAnthropic}) {
    Exchange e = Fetch(Chat(protocol, Hello()));
    ASSERT_TRUE(e.status.ok()) << e.status.ToString();  // the HTTP framing is complete
    EXPECT_EQ(e.http_status(), 200);
    DecodedStream decoded = protocol == WireProtocol::kOpenAi
                                ? DecodeSse<OpenAiStreamDecoder>(e.body)
                                : DecodeSse<AnthropicStreamDecoder>(e.body);
    EXPECT_EQ(decoded.deltas.size(), 4u);
    ASSERT_FALSE(decoded.result.ok());  // no [DONE] / message_stop
    EXPECT_THAT(decoded.result.status().message(), HasSubstr("ended early"));
    ASSERT_TRUE(RunUntilLogged(protocol == WireProtocol::kOpenAi ? 1 : 2));
    EXPECT_EQ(LastEntry().outcome, "truncated");
    EXPECT_EQ(LastEntry().deltas_sent, 4);
  }
}

TEST_F(MockLlmServerTest, MalformedChunkReachesTheClientsDecoder) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kMalformedChunk;
    plan.fault_after_deltas = 2;
    return plan;
  };
  for (WireProtocol protocol : {WireProtocol::kOpenAi, WireProtocol::kAnthropic}) {
    Exchange e = Fetch(Chat(protocol, Hello()));
    ASSERT_TRUE(e.status.ok()) << e.status.ToString();  // the HTTP exchange itself is fine
    DecodedStream decoded = protocol == WireProtocol::kOpenAi
                                ? DecodeSse<OpenAiStreamDecoder>(e.body)
                                : DecodeSse<AnthropicStreamDecoder>(e.body);
    ASSERT_FALSE(decoded.result.ok());
    EXPECT_THAT(decoded.result.status().message(), HasSubstr("is not valid JSON"));
    EXPECT_EQ(decoded.deltas.size(), 2u);
    EXPECT_EQ(LastEntry().outcome, "completed");
  }
}

TEST_F(MockLlmServerTest, ErrorEventEndsTheStream) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kErrorEvent;
    plan.fault_after_deltas = 4;
    plan.error_message = "Overloaded";
    return plan;
  };
  for (WireProtocol protocol : {WireProtocol::kOpenAi, WireProtocol::kAnthropic}) {
    Exchange e = Fetch(Chat(protocol, Hello()));
    ASSERT_TRUE(e.status.ok()) << e.status.ToString();  // a complete chunked body
    DecodedStream decoded = protocol == WireProtocol::kOpenAi
                                ? DecodeSse<OpenAiStreamDecoder>(e.body)
                                : DecodeSse<AnthropicStreamDecoder>(e.body);
    ASSERT_FALSE(decoded.result.ok());
    EXPECT_EQ(decoded.result.status().code(), StatusCode::kUnavailable);
    EXPECT_THAT(decoded.result.status().message(), HasSubstr("Overloaded"));
    EXPECT_EQ(decoded.deltas.size(), 4u);
    EXPECT_EQ(LastEntry().outcome, "error_event");
    EXPECT_EQ(LastEntry().deltas_sent, 4);
  }
}

TEST_F(MockLlmServerTest, StallSendsNothingUntilTheStallIsOver) {
  StartServer({}, /*fake=*/true);
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.fault = Fault::kStall;
    plan.fault_after_deltas = 2;
    plan.stall_ms = 180'000;
    return plan;
  };
  Exchange e;
  auto call = Start(Chat(WireProtocol::kOpenAi, Hello()), &e);
  ASSERT_TRUE(
      RunLoopUntil(io_, [&] { return DecodeSse<OpenAiStreamDecoder>(e.body).deltas.size() == 2; }));
  // Time stands still on the fake clock: nothing more can come, however long the loop runs.
  const std::string before = e.body;
  RunLoopFor(io_, std::chrono::milliseconds(50));
  EXPECT_EQ(e.body, before);
  EXPECT_FALSE(e.done());
  fake_clock_.AdvanceMs(180'000);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return e.done(); }));
  EXPECT_TRUE(e.status.ok());
  EXPECT_TRUE(DecodeSse<OpenAiStreamDecoder>(e.body).result.ok());
}

TEST_F(MockLlmServerTest, HeadDelayHoldsTheWholeResponse) {
  StartServer({}, /*fake=*/true);
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.head_delay_ms = 3'600'000;  // "accepts and never answers"
    return plan;
  };
  Exchange e;
  auto call = Start(Chat(WireProtocol::kAnthropic, Hello()), &e);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->busy_connections() == 1; }));
  RunLoopFor(io_, std::chrono::milliseconds(20));
  EXPECT_FALSE(e.head.has_value());
  EXPECT_EQ(LastEntry().first_byte_ms, -1);
  fake_clock_.AdvanceMs(3'600'000);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return e.done(); }));
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_EQ(LastEntry().first_byte_ms - LastEntry().received_ms, 3'600'000);
}

TEST_F(MockLlmServerTest, ClientThatLeavesMidStreamStopsTheStream) {
  StartServer({}, /*fake=*/true);
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.tokens_per_second = 1;  // one delta per fake second
    return plan;
  };
  Exchange e;
  auto call = Start(Chat(WireProtocol::kOpenAi, Hello()), &e);
  ASSERT_TRUE(
      RunLoopUntil(io_, [&] { return !DecodeSse<OpenAiStreamDecoder>(e.body).deltas.empty(); }));
  fake_clock_.AdvanceMs(1000);
  ASSERT_TRUE(
      RunLoopUntil(io_, [&] { return DecodeSse<OpenAiStreamDecoder>(e.body).deltas.size() == 2; }));
  EXPECT_EQ(fake_clock_.pending_timers(), 1u);  // the next delta's

  call->Cancel();  // closes the connection mid-stream
  ASSERT_TRUE(RunUntilLogged(1));
  RequestLogEntry entry = LastEntry();
  EXPECT_EQ(entry.outcome, "client_closed");
  EXPECT_EQ(entry.deltas_sent, 2);
  EXPECT_EQ(fake_clock_.pending_timers(), 0u);  // the stream's timer is gone
  EXPECT_EQ(server_->busy_connections(), 0u);
  EXPECT_EQ(server_->open_connections(), 0u);
}

TEST_F(MockLlmServerTest, StoppingTheServerEndsStreamsInProgress) {
  StartServer({}, /*fake=*/true);
  plan_ = [](const ChatRequest&) {
    MockPlan plan = TenDeltaPlan();
    plan.tokens_per_second = 1;
    return plan;
  };
  Exchange e;
  auto call = Start(Chat(WireProtocol::kOpenAi, Hello()), &e);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->busy_connections() == 1; }));
  std::vector<RequestLogEntry> before = server_->log().Snapshot();
  ASSERT_EQ(before.size(), 1u);
  server_.reset();
  EXPECT_EQ(fake_clock_.pending_timers(), 0u);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return e.done(); }));
  EXPECT_FALSE(e.status.ok());  // the body never ended
}

TEST_F(MockLlmServerTest, ServesManyConcurrentStreams) {
  constexpr int kStreams = 300;
  plan_ = [](const ChatRequest&) {
    MockPlan plan = PlanFor(Reply("a reply of some forty bytes, in pieces."), 2);
    plan.tokens_per_second = 500;
    return plan;
  };
  std::vector<Exchange> exchanges(kStreams);
  std::vector<std::unique_ptr<HttpCall>> calls;
  for (int i = 0; i < kStreams; ++i) {
    calls.push_back(
        Start(Chat(i % 2 == 0 ? WireProtocol::kOpenAi : WireProtocol::kAnthropic, Hello()),
              &exchanges[i]));
  }
  ASSERT_TRUE(RunLoopUntil(
      io_,
      [&] {
        return std::all_of(exchanges.begin(), exchanges.end(),
                           [](const Exchange& e) { return e.done(); });
      },
      std::chrono::seconds(60)));
  for (int i = 0; i < kStreams; ++i) {
    ASSERT_TRUE(exchanges[i].status.ok()) << i << ": " << exchanges[i].status.ToString();
    DecodedStream decoded = i % 2 == 0 ? DecodeSse<OpenAiStreamDecoder>(exchanges[i].body)
                                       : DecodeSse<AnthropicStreamDecoder>(exchanges[i].body);
    ASSERT_TRUE(decoded.result.ok()) << i << ": " << decoded.result.status().ToString();
    EXPECT_EQ(decoded.result->message.text, "a reply of some forty bytes, in pieces.");
  }
  ASSERT_TRUE(RunUntilLogged(kStreams));
  std::vector<RequestLogEntry> entries = server_->log().Snapshot();
  ASSERT_EQ(entries.size(), size_t(kStreams));
  for (const RequestLogEntry& entry : entries) EXPECT_EQ(entry.outcome, "completed");
  EXPECT_EQ(server_->busy_connections(), 0u);
}

}  // namespace
}  // namespace troupe::mock_llm_test
