// Both production providers (llm/http_chat_client.h) against the mock-llm server playing the
// real scripted model, over loopback HTTP: replies, tool-call round trips, and every scripted
// fault ending as the retry policy says. Retries and waits are read from the server's request
// log (what actually reached the wire), not from sleeps.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/http_client.h"
#include "core/testing/loop_runner.h"
#include "llm/http_chat_client.h"
#include "llm/mock_model.h"
#include "mock_llm/mock_llm_server.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using testing::RunLoopUntil;

class CooldownRecorder : public RateLimitObserver {
 public:
  void OnProviderCooldown(std::string_view provider, int64_t ms) override {
    cooldowns.push_back(std::string(provider) + ":" + std::to_string(ms));
  }
  std::vector<std::string> cooldowns;
};

MockModelOptions Quick() {
  MockModelOptions o;
  o.first_token_delay_ms = 0;
  o.tokens_per_second = 0;
  return o;
}

class ProviderIntegrationTest : public ::testing::TestWithParam<WireFormat> {
 protected:
  void SetUp() override {
    MockLlmServerOptions options;
    auto server = MockLlmServer::Start(
        io_, &clock_, [this](const ChatRequest& r) { return model_.Plan(r); }, options);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  bool anthropic() const { return GetParam() == WireFormat::kAnthropic; }
  // The protocol mock-llm records for requests of this wire format.
  std::string protocol() const {
    if (GetParam() == WireFormat::kOpenAiResponses) return "openai-responses";
    return anthropic() ? "anthropic" : "openai";
  }

  HttpChatOptions Options() {
    HttpChatOptions o;
    o.provider = anthropic() ? "anthropic" : "openai";
    o.format = GetParam();
    o.base_url = anthropic() ? server_->Url("") : server_->Url("/v1");
    o.api_key = "sk-integration-key";
    o.retry.random = [] { return 0.0; };
    return o;
  }

  ChatRequest Request(std::string prompt) {
    ChatRequest r;
    r.model = "scripted";
    r.system = "You are under test.";
    r.messages.push_back(UserMessage(std::move(prompt)));
    r.max_tokens = 4096;
    return r;
  }

  // Sends `request` and runs the loop until the reply (or 20 s).
  void Chat(ChatRequest request, HttpChatOptions options) {
    done_ = false;
    deltas_.clear();
    retries_.clear();
    provider_ = MakeHttpChatProvider(&http_, &clock_, &observer_, std::move(options));
    ChatCallbacks cb;
    cb.on_delta = [this](const StreamDelta& d) { deltas_.push_back(d); };
    cb.on_retry = [this](const RetryNotice& n) { retries_.push_back(n); };
    cb.on_done = [this](Result<ChatResult> r) {
      done_ = true;
      result_ = std::move(r);
    };
    call_ = provider_->Chat(std::move(request), std::move(cb));
    ASSERT_TRUE(RunLoopUntil(
        io_, [this] { return done_; }, std::chrono::seconds(20)));
  }
  void Chat(ChatRequest request) { Chat(std::move(request), Options()); }

  std::vector<RequestLogEntry> Log() { return server_->log().Snapshot(); }
  // The log once every request in it has ended: the server records the end after its last
  // write completes, which can be after the client has read the bytes.
  std::vector<RequestLogEntry> SettledLog() {
    RunLoopUntil(io_, [this] {
      for (const RequestLogEntry& e : Log()) {
        if (e.outcome == "in_progress") return false;
      }
      return true;
    });
    return Log();
  }

  boost::asio::io_context io_;
  LoopClock clock_{io_};
  HttpClient http_{io_};
  MockModel model_{Quick()};
  std::unique_ptr<MockLlmServer> server_;
  CooldownRecorder observer_;
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<ChatCall> call_;
  std::vector<StreamDelta> deltas_;
  std::vector<RetryNotice> retries_;
  bool done_ = false;
  Result<ChatResult> result_ = Status::Internal("no reply");
};

TEST_P(ProviderIntegrationTest, StreamsTextWithUsage) {
  Chat(Request("#mock reply=\"Hello from the scripted model\" usage_in=42 usage_out=5 id=t1\nhi"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "Hello from the scripted model");
  EXPECT_EQ(result_.value().finish, FinishReason::kStop);
  EXPECT_EQ(result_.value().usage.input_tokens, 42);
  EXPECT_EQ(result_.value().usage.output_tokens, 5);
  int text_deltas = 0;
  for (const StreamDelta& d : deltas_) text_deltas += d.kind == StreamDelta::Kind::kText;
  EXPECT_GE(text_deltas, 5);  // streamed word by word, not in one piece
  auto log = SettledLog();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_EQ(log[0].protocol, protocol());
  EXPECT_TRUE(log[0].stream);
  EXPECT_EQ(log[0].marker, "t1");
  EXPECT_EQ(log[0].outcome, "completed");
}

TEST_P(ProviderIntegrationTest, NonStreamedReply) {
  ChatRequest r = Request("#mock reply=\"whole answer\"\nhi");
  r.stream = false;
  Chat(std::move(r));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "whole answer");
  EXPECT_TRUE(deltas_.empty());
  EXPECT_FALSE(Log().at(0).stream);
}

TEST_P(ProviderIntegrationTest, ParallelToolCallsAndTheirResultsRoundTrip) {
  ChatRequest r = Request("Where is the SseParser defined?");
  nlohmann::json schema = {
      {"type", "object"},
      {"properties", {{"pattern", {{"type", "string"}}}, {"path", {{"type", "string"}}}}},
      {"required", {"pattern"}}};
  r.tools = {{"grep", "Search file contents", schema}, {"glob", "Find files", schema}};
  Chat(r);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  const ChatResult first = result_.value();
  EXPECT_EQ(first.finish, FinishReason::kToolCalls);
  ASSERT_EQ(first.message.tool_calls.size(), 2u);  // grep and glob in one turn
  EXPECT_EQ(first.message.tool_calls[0].name, "grep");
  EXPECT_THAT(first.message.tool_calls[0].arguments_json, HasSubstr("SseParser"));

  // Answer both calls; the model's summary must come from what the tools returned.
  r.messages.push_back(first.message);
  r.messages.push_back(ToolResultMessage(first.message.tool_calls[0].id, "grep",
                                         "src/wire/sse_parser.h:52:class SseParser {"));
  r.messages.push_back(
      ToolResultMessage(first.message.tool_calls[1].id, "glob", "src/wire/sse_parser.h"));
  r.tools.push_back({"read", "Read a file", schema});
  Chat(r);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  ChatResult second = result_.value();
  if (second.finish == FinishReason::kToolCalls) {  // the agent reads the file it found
    ASSERT_EQ(second.message.tool_calls[0].name, "read");
    EXPECT_THAT(second.message.tool_calls[0].arguments_json, HasSubstr("src/wire/sse_parser.h"));
    r.messages.push_back(second.message);
    r.messages.push_back(ToolResultMessage(second.message.tool_calls[0].id, "read",
                                           "    52\tclass SseParser {\n    53\t public:"));
    Chat(r);
    ASSERT_TRUE(result_.ok()) << result_.status().ToString();
    second = result_.value();
  }
  EXPECT_EQ(second.finish, FinishReason::kStop);
  EXPECT_THAT(second.message.text, HasSubstr("src/wire/sse_parser.h"));
  auto log = SettledLog();
  EXPECT_EQ(log.back().messages, int(r.messages.size()));
  EXPECT_EQ(log.back().tools.size(), 3u);
}

// Interleaved thinking over HTTP: mock-llm sends signed thinking and redacted_thinking blocks
// around the tool_use blocks and refuses the next turn (400, as the API does) unless every block
// comes back unchanged and in its place.
TEST_P(ProviderIntegrationTest, AnthropicSignedAndRedactedThinkingGoBackUnchangedAndInPlace) {
  if (!anthropic()) GTEST_SKIP() << "thinking blocks are Anthropic's";
  for (const bool stream : {true, false}) {
    SCOPED_TRACE(stream ? "streamed" : "not streamed");
    ChatRequest r = Request(
        "#mock signed_thinking tool=grep:{\"pattern\":\"a\"} tool=glob:{\"pattern\":\"*\"} "
        "tool=read:{\"path\":\"x\"} reply=done\ngo");
    r.stream = stream;
    Chat(r);
    ASSERT_TRUE(result_.ok()) << result_.status().ToString();
    const ChatMessage first = result_.value().message;
    ASSERT_EQ(first.tool_calls.size(), 3u);
    // Kept as they came: a signed and a redacted block first, one signed block before each
    // later call.
    EXPECT_EQ(first.provider_replay["anthropic"], MockSignedThinking(1, 3));

    r.messages.push_back(first);
    for (const ToolCall& call : first.tool_calls) {
      r.messages.push_back(ToolResultMessage(call.id, call.name, "ok"));
    }
    Chat(r);
    ASSERT_TRUE(result_.ok()) << result_.status().ToString();
    EXPECT_EQ(result_.value().message.text, "done");
    EXPECT_EQ(result_.value().message.provider_replay["anthropic"], MockSignedThinking(2, 0));

    // What troupe sent before it kept the blocks: the reasoning as one block with the last
    // signature, the redacted block dropped. Refused.
    r.messages[1].provider_replay = nullptr;
    Chat(r);
    ASSERT_FALSE(result_.ok());
    EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(result_.status().message(),
                HasSubstr("the thinking of turn 1 was not sent back unchanged"));
  }
}

TEST_P(ProviderIntegrationTest, RateLimitIsRetriedAfterTheServersWaitAndCoolsTheProviderDown) {
  Chat(Request("#mock fail=429 times=2 retry_after_ms=80 id=rl reply=finally\nhi"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "finally");
  auto log = SettledLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].status, 429);
  EXPECT_EQ(log[1].status, 429);
  EXPECT_EQ(log[2].outcome, "completed");
  // The client waited at least what the server asked before each retry.
  EXPECT_GE(log[1].received_ms - log[0].received_ms, 80);
  EXPECT_GE(log[2].received_ms - log[1].received_ms, 80);
  ASSERT_EQ(retries_.size(), 2u);
  EXPECT_EQ(retries_[0].delay_ms, 80);
  EXPECT_EQ(observer_.cooldowns.size(), 2u);
}

TEST_P(ProviderIntegrationTest, ServerErrorsBackOffExponentiallyThenGiveUp) {
  HttpChatOptions o = Options();
  o.retry.max_attempts = 3;
  Chat(Request("#mock fail=500\nhi"), o);
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result_.status().message(), HasSubstr("HTTP 500"));
  EXPECT_THAT(result_.status().message(), HasSubstr("after 3 attempts"));
  auto log = SettledLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_GE(log[1].received_ms - log[0].received_ms, 500);   // 0.5 s backoff (no jitter)
  EXPECT_GE(log[2].received_ms - log[1].received_ms, 1000);  // then 1 s
  EXPECT_TRUE(observer_.cooldowns.empty());
}

TEST_P(ProviderIntegrationTest, OverloadedWithShouldRetryFalseIsNotRetried) {
  Chat(Request("#mock fail=529 should_retry=false\nhi"));
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(Log().size(), 1u);
  EXPECT_THAT(result_.status().message(), HasSubstr("529"));
  EXPECT_EQ(observer_.cooldowns.size(), 1u);  // an overloaded provider still cools down
}

TEST_P(ProviderIntegrationTest, ConnectionDroppedMidStreamIsRetriedAndThePartialDiscarded) {
  Chat(Request("#mock drop_after=3 times=1 id=drop reply=\"one two three four five six\"\nhi"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "one two three four five six");
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_TRUE(retries_[0].discarded_partial);
  auto log = SettledLog();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].outcome, "dropped");
  EXPECT_EQ(log[1].outcome, "completed");
}

TEST_P(ProviderIntegrationTest, ErrorEventMidStreamIsRetried) {
  Chat(Request("#mock error_event=\"Overloaded\" error_after=2 times=1 reply=\"a b c d\"\nhi"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "a b c d");
  ASSERT_EQ(SettledLog().size(), 2u);
  EXPECT_EQ(Log()[0].outcome, "error_event");
  EXPECT_THAT(retries_.at(0).reason, HasSubstr("Overloaded"));
}

TEST_P(ProviderIntegrationTest, MalformedChunkFailsWithoutRetryNamingIt) {
  Chat(Request("#mock malformed_after=2 reply=\"a b c d\"\nhi"));
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(result_.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(result_.status().message(),
              HasSubstr(GetParam() == WireFormat::kOpenAi ? "chunk" : "event"));
  EXPECT_EQ(Log().size(), 1u);
  EXPECT_TRUE(retries_.empty());
}

// A provider that streams without end: the attempt ends at the size cap with a clear error, is
// not retried, and the server sees the client leave.
TEST_P(ProviderIntegrationTest, AStreamPastTheSizeCapEndsTheAttempt) {
  HttpChatOptions o = Options();
  o.max_body_bytes = 256 << 10;
  Chat(Request("#mock tokens=100000\nhi"), o);
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(result_.status().code(), StatusCode::kResourceExhausted);
  EXPECT_THAT(result_.status().message(), HasSubstr("the reply exceeds 262144 bytes"));
  EXPECT_THAT(result_.status().message(), HasSubstr("max_reply_bytes"));
  EXPECT_TRUE(retries_.empty());
  ASSERT_TRUE(RunLoopUntil(io_, [this] { return Log().at(0).outcome != "in_progress"; }));
  EXPECT_EQ(Log().at(0).outcome, "client_closed");
  EXPECT_EQ(Log().size(), 1u);
}

TEST_P(ProviderIntegrationTest, StalledStreamHitsTheIdleTimeoutAndTheServerSeesTheClientLeave) {
  HttpChatOptions o = Options();
  o.idle_timeout_ms = 200;
  o.retry.max_attempts = 1;
  Chat(Request("#mock stall=30s stall_after=1 reply=\"a b c\"\nhi"), o);
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(result_.status().code(), StatusCode::kDeadlineExceeded);
  ASSERT_TRUE(RunLoopUntil(io_, [this] { return Log().at(0).outcome != "in_progress"; }));
  EXPECT_EQ(Log().at(0).outcome, "client_closed");
}

TEST_P(ProviderIntegrationTest, CancelMidStreamClosesTheConnectionPromptly) {
  provider_ = MakeHttpChatProvider(&http_, &clock_, &observer_, Options());
  int deltas = 0;
  bool finished = false;
  ChatCallbacks cb;
  cb.on_delta = [&deltas](const StreamDelta&) { ++deltas; };
  cb.on_done = [&finished](Result<ChatResult>) { finished = true; };
  // 2,000 tokens at 100/s: twenty seconds of stream if nobody stops it.
  call_ = provider_->Chat(Request("#mock tokens=2000 tps=100\nstream"), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&deltas] { return deltas > 0; }));
  call_->Cancel();
  ASSERT_TRUE(RunLoopUntil(
      io_, [this] { return Log().at(0).outcome != "in_progress"; }, std::chrono::seconds(3)));
  EXPECT_EQ(Log().at(0).outcome, "client_closed");
  EXPECT_LT(Log().at(0).deltas_sent, 2000);
  EXPECT_FALSE(finished);
  EXPECT_EQ(http_.active_calls(), 0u);
}

TEST_P(ProviderIntegrationTest, MissingKeyIsRefusedClearlyAndNotRetried) {
  HttpChatOptions o = Options();
  o.api_key.clear();
  Chat(Request("hi"), o);
  ASSERT_FALSE(result_.ok());
  EXPECT_THAT(result_.status().message(), HasSubstr("HTTP 401"));
  EXPECT_THAT(result_.status().message(), HasSubstr("API key"));
  EXPECT_EQ(Log().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(EveryWireFormat, ProviderIntegrationTest,
                         ::testing::Values(WireFormat::kOpenAi, WireFormat::kAnthropic,
                                           WireFormat::kOpenAiResponses),
                         [](const auto& info) {
                           switch (info.param) {
                             case WireFormat::kAnthropic:
                               return "Anthropic";
                             case WireFormat::kOpenAiResponses:
                               return "OpenAiResponses";
                             case WireFormat::kOpenAi:
                               break;
                           }
                           return "OpenAi";
                         });

}  // namespace
}  // namespace troupe
