// The HTTP providers against a scripted loopback server: what goes on the wire, how replies,
// errors, retries and broken streams come back. (Against `troupe mock-llm` see
// mock_llm/provider_integration_test.cc.)
#include "llm/http_chat_client.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/event_loop.h"
#include "core/testing/http_test_server.h"
#include "core/testing/loop_runner.h"
#include "llm/codec_test_streams.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::HttpTestServer;
using ::testing::Not;
using testing::RecordedRequest;
using testing::RunLoopUntil;
using testing::ScriptedResponse;
using Framing = ScriptedResponse::Framing;

constexpr char kKey[] = "sk-test-SECRET-0123456789";

class RecordingObserver : public RateLimitObserver {
 public:
  void OnProviderCooldown(std::string_view provider, int64_t ms) override {
    cooldowns.push_back(std::string(provider) + ":" + std::to_string(ms));
  }
  void OnRateLimitInfo(std::string_view, const RateLimitInfo& info) override {
    infos.push_back(info);
  }
  std::vector<std::string> cooldowns;
  std::vector<RateLimitInfo> infos;
};

ScriptedResponse Sse(std::string_view stream, Framing framing = Framing::kChunked) {
  ScriptedResponse r;
  r.headers = {{"Content-Type", "text/event-stream"}};
  r.framing = framing;
  // Cut the stream into small pieces so the client sees events split across reads.
  for (size_t i = 0; i < stream.size(); i += 37) {
    r.body.emplace_back(std::string(stream.substr(i, 37)));
  }
  return r;
}

class HttpChatClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto server = HttpTestServer::Start(io_);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = std::move(server).value();
  }

  HttpChatOptions Options(WireFormat format) {
    HttpChatOptions o;
    o.provider = format == WireFormat::kAnthropic ? "anthropic" : "openai";
    o.format = format;
    o.base_url = format == WireFormat::kAnthropic ? server_->Url("") : server_->Url("/v1");
    while (o.base_url.back() == '/') o.base_url.pop_back();
    o.api_key = kKey;
    o.extra_headers = {{"X-Title", "troupe tests"}};
    o.retry.random = [] { return 0.0; };
    return o;
  }

  ChatRequest Request(std::string model = "gpt-4o-mini") {
    ChatRequest r;
    r.model = std::move(model);
    r.system = "Be brief.";
    r.messages.push_back(UserMessage("Say hello"));
    return r;
  }

  // Runs one chat to its end (or a 10 s bound) and keeps what it reported.
  void Chat(HttpChatOptions options, ChatRequest request) {
    provider_ = MakeHttpChatProvider(&http_, &clock_, &observer_, std::move(options));
    ChatCallbacks cb;
    cb.on_delta = [this](const StreamDelta& d) { deltas_.push_back(d); };
    cb.on_bytes = [this](int64_t n) { bytes_ += n; };
    cb.on_retry = [this](const RetryNotice& n) { retries_.push_back(n); };
    cb.on_done = [this](Result<ChatResult> r) {
      ++done_count_;
      result_ = std::move(r);
    };
    call_ = provider_->Chat(std::move(request), std::move(cb));
    ASSERT_TRUE(RunLoopUntil(io_, [this] { return done_count_ > 0; }));
  }

  boost::asio::io_context io_;
  LoopClock clock_{io_};
  HttpClient http_{io_};
  std::unique_ptr<HttpTestServer> server_;
  RecordingObserver observer_;
  std::unique_ptr<Provider> provider_;
  std::unique_ptr<ChatCall> call_;
  std::vector<StreamDelta> deltas_;
  std::vector<RetryNotice> retries_;
  int64_t bytes_ = 0;
  int done_count_ = 0;
  Result<ChatResult> result_ = Status::Internal("no result");
};

TEST_F(HttpChatClientTest, OpenAiStreamsTextWithKeyHeadersAndUsage) {
  server_->SetHandler([](const RecordedRequest&) { return Sse(codec_test::kOpenAiTextStream); });
  Chat(Options(WireFormat::kOpenAi), Request());
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "Bonjour — 世界 🎉");
  EXPECT_EQ(result_.value().finish, FinishReason::kStop);
  EXPECT_EQ(result_.value().usage.input_tokens, 1200 - 1024);
  EXPECT_EQ(result_.value().usage.cache_read_tokens, 1024);
  EXPECT_GT(bytes_, 0);
  EXPECT_FALSE(deltas_.empty());

  ASSERT_EQ(server_->requests().size(), 1u);
  const RecordedRequest& req = server_->requests()[0];
  EXPECT_EQ(req.method, "POST");
  EXPECT_EQ(req.target, "/v1/chat/completions");
  EXPECT_EQ(req.Header("authorization"), std::string("Bearer ") + kKey);
  EXPECT_EQ(req.Header("x-title"), "troupe tests");
  EXPECT_EQ(req.Header("accept"), "text/event-stream");
  nlohmann::json body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body["model"], "gpt-4o-mini");
  EXPECT_EQ(body["stream"], true);
  EXPECT_EQ(body["stream_options"]["include_usage"], true);
  EXPECT_EQ(body["messages"][0]["role"], "system");
  EXPECT_EQ(body["max_tokens"], 8192);
}

TEST_F(HttpChatClientTest, OpenAiReasoningModelsGetMaxCompletionTokens) {
  server_->SetHandler([](const RecordedRequest&) { return Sse(codec_test::kOpenAiTextStream); });
  Chat(Options(WireFormat::kOpenAi), Request("o3-mini"));
  nlohmann::json body = nlohmann::json::parse(server_->requests().at(0).body);
  EXPECT_FALSE(body.contains("max_tokens"));
  EXPECT_EQ(body["max_completion_tokens"], 8192);
}

TEST_F(HttpChatClientTest, OpenAiResponsesPostsToResponsesAndDecodesItsEvents) {
  server_->SetHandler([](const RecordedRequest&) { return Sse(codec_test::kResponsesTextStream); });
  Chat(Options(WireFormat::kOpenAiResponses), Request("gpt-5"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "Bonjour — 世界 🎉");
  EXPECT_EQ(result_.value().usage.cache_read_tokens, 1024);
  const RecordedRequest& req = server_->requests().at(0);
  EXPECT_EQ(req.target, "/v1/responses");
  EXPECT_EQ(req.Header("authorization"), std::string("Bearer ") + kKey);
  nlohmann::json body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body["model"], "gpt-5");
  EXPECT_EQ(body["store"], false);
  EXPECT_EQ(body["max_output_tokens"], 8192);
  EXPECT_TRUE(body.contains("input"));
  EXPECT_FALSE(body.contains("messages"));
}

// Azure OpenAI's classic deployment endpoint: the api-version query after the path, the key in
// `api-key`, no Authorization header.
TEST_F(HttpChatClientTest, AzureDeploymentEndpointGetsItsQueryAndApiKeyHeader) {
  server_->SetHandler([](const RecordedRequest&) { return Sse(codec_test::kOpenAiTextStream); });
  HttpChatOptions options = Options(WireFormat::kOpenAi);
  options.base_url = server_->Url("/openai/deployments/gpt4o-prod?api-version=2024-10-21");
  options.api_key_header = "api-key";
  Chat(options, Request("gpt4o-prod"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  const RecordedRequest& req = server_->requests().at(0);
  EXPECT_EQ(req.target, "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21");
  EXPECT_EQ(req.Header("api-key"), kKey);
  EXPECT_FALSE(req.Header("authorization").has_value());
}

TEST_F(HttpChatClientTest, AnthropicStreamsParallelToolCallsWithItsHeaders) {
  server_->SetHandler(
      [](const RecordedRequest&) { return Sse(codec_test::kAnthropicParallelToolStream); });
  Chat(Options(WireFormat::kAnthropic), Request("claude-sonnet-4-5"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().finish, FinishReason::kToolCalls);
  EXPECT_EQ(result_.value().message.tool_calls.size(), 2u);

  const RecordedRequest& req = server_->requests().at(0);
  EXPECT_EQ(req.target, "/v1/messages");
  EXPECT_EQ(req.Header("x-api-key"), kKey);
  EXPECT_EQ(req.Header("anthropic-version"), kAnthropicVersion);
  EXPECT_EQ(req.Header("authorization"), std::nullopt);
  nlohmann::json body = nlohmann::json::parse(req.body);
  EXPECT_EQ(body["system"], "Be brief.");
  EXPECT_EQ(body["max_tokens"], 8192);
}

TEST_F(HttpChatClientTest, NonStreamedReplyIsDecodedWhole) {
  server_->SetHandler([](const RecordedRequest&) {
    return ScriptedResponse::Text(
        200, R"({"id":"chatcmpl-9","model":"gpt-4o-mini","choices":[{"index":0,"message":)"
             R"({"role":"assistant","content":"plain"},"finish_reason":"stop"}],)"
             R"("usage":{"prompt_tokens":5,"completion_tokens":1}})");
  });
  ChatRequest r = Request();
  r.stream = false;
  Chat(Options(WireFormat::kOpenAi), r);
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "plain");
  EXPECT_TRUE(deltas_.empty());
  EXPECT_EQ(server_->requests().at(0).Header("accept"), "application/json");
}

TEST_F(HttpChatClientTest, AuthErrorIsClearNotRetriedAndNeverShowsTheKey) {
  server_->SetHandler([](const RecordedRequest&) {
    return ScriptedResponse::Text(
        401, R"({"error":{"message":"Incorrect API key provided: sk-test-***6789.",)"
             R"("type":"invalid_request_error","code":"invalid_api_key"}})");
  });
  Chat(Options(WireFormat::kOpenAi), Request());
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(server_->requests().size(), 1u);
  EXPECT_TRUE(retries_.empty());
  EXPECT_THAT(result_.status().message(), HasSubstr("HTTP 401"));
  EXPECT_THAT(result_.status().message(), HasSubstr("Incorrect API key"));
  EXPECT_THAT(result_.status().message(), Not(HasSubstr(kKey)));
}

TEST_F(HttpChatClientTest, RateLimitIsRetriedAfterTheServersWaitAndCoolsTheProviderDown) {
  int n = 0;
  server_->SetHandler([&n](const RecordedRequest&) {
    if (n++ == 0) {
      ScriptedResponse r = ScriptedResponse::Text(
          429, R"({"type":"error","error":{"type":"rate_limit_error","message":"slow down"}})");
      r.headers.push_back({"retry-after-ms", "20"});
      r.headers.push_back({"anthropic-ratelimit-requests-remaining", "0"});
      return r;
    }
    return Sse(codec_test::kAnthropicParallelToolStream);
  });
  Chat(Options(WireFormat::kAnthropic), Request("claude-sonnet-4-5"));
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(server_->requests().size(), 2u);
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_EQ(retries_[0].delay_ms, 20);
  EXPECT_THAT(retries_[0].reason, HasSubstr("rate_limit_error: slow down"));
  EXPECT_THAT(observer_.cooldowns, ElementsAre("anthropic:20"));
  ASSERT_FALSE(observer_.infos.empty());
  EXPECT_EQ(observer_.infos[0].requests.remaining, 0);
}

TEST_F(HttpChatClientTest, StreamCutOffIsRetriedNotTruncated) {
  int n = 0;
  server_->SetHandler([&n](const RecordedRequest&) {
    std::string_view full = codec_test::kOpenAiTextStream;
    if (n++ == 0) {
      // The first attempt breaks off after the second event: no finish_reason, no [DONE].
      ScriptedResponse r = Sse(full.substr(0, full.find("data:", full.find("Bonjour"))));
      r.close_mid_body = true;
      return r;
    }
    return Sse(full);
  });
  HttpChatOptions o = Options(WireFormat::kOpenAi);
  o.retry.max_attempts = 2;
  Chat(o, Request());
  ASSERT_TRUE(result_.ok()) << result_.status().ToString();
  EXPECT_EQ(result_.value().message.text, "Bonjour — 世界 🎉");
  ASSERT_EQ(retries_.size(), 1u);
  EXPECT_TRUE(retries_[0].discarded_partial);
  EXPECT_EQ(retries_[0].delay_ms, 500);  // backoff, jitter 0
}

TEST_F(HttpChatClientTest, StreamEndingWithoutItsEndMarkerIsAnErrorAfterRetries) {
  server_->SetHandler([](const RecordedRequest&) {
    std::string_view full = codec_test::kOpenAiTextStream;
    // A clean HTTP end, but the SSE stream stops before finish_reason and [DONE].
    return Sse(full.substr(0, full.find("data:", full.find("Bonjour"))));
  });
  HttpChatOptions o = Options(WireFormat::kOpenAi);
  o.retry.max_attempts = 2;
  Chat(o, Request());
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(server_->requests().size(), 2u);
  EXPECT_THAT(result_.status().message(), HasSubstr("truncated"));
  EXPECT_THAT(result_.status().message(), HasSubstr("after 2 attempts"));
}

TEST_F(HttpChatClientTest, MalformedChunkFailsAtOnceNamingIt) {
  server_->SetHandler([](const RecordedRequest&) {
    return Sse(
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"a\"}}]}\n\n"
        "data: {not json\n\n");
  });
  Chat(Options(WireFormat::kOpenAi), Request());
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(server_->requests().size(), 1u);
  EXPECT_THAT(result_.status().message(), HasSubstr("chunk 2"));
}

TEST_F(HttpChatClientTest, RefusedConnectionIsRetriedThenNamed) {
  auto port = testing::UnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  HttpChatOptions o = Options(WireFormat::kOpenAi);
  o.base_url = "http://127.0.0.1:" + std::to_string(port.value()) + "/v1";
  o.retry.max_attempts = 2;
  Chat(o, Request());
  ASSERT_FALSE(result_.ok());
  EXPECT_EQ(retries_.size(), 1u);
  EXPECT_EQ(result_.status().code(), StatusCode::kUnavailable);
  EXPECT_THAT(result_.status().message(), HasSubstr("127.0.0.1"));
  EXPECT_THAT(result_.status().message(), HasSubstr("after 2 attempts"));
}

TEST_F(HttpChatClientTest, CancelMidStreamClosesTheConnection) {
  auto gate = std::make_shared<testing::TestGate>();
  server_->SetHandler([gate](const RecordedRequest&) {
    ScriptedResponse r = Sse(codec_test::kOpenAiTextStream);
    r.body.insert(r.body.begin() + 3, ScriptedResponse::Piece("", 0, gate));
    return r;
  });
  provider_ = MakeHttpChatProvider(&http_, &clock_, &observer_, Options(WireFormat::kOpenAi));
  ChatCallbacks cb;
  cb.on_bytes = [this](int64_t n) { bytes_ += n; };
  cb.on_done = [this](Result<ChatResult>) { ++done_count_; };
  call_ = provider_->Chat(Request(), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [this] { return bytes_ > 0; }));
  call_->Cancel();
  ASSERT_TRUE(RunLoopUntil(io_, [this] { return server_->peer_closes() == 1; }));
  gate->Open();
  testing::RunLoopFor(io_, std::chrono::milliseconds(20));
  EXPECT_EQ(done_count_, 0);
  EXPECT_EQ(http_.active_calls(), 0u);
}

TEST(ChatEndpointUrlTest, FollowsTheSdkConventions) {
  HttpChatOptions o;
  EXPECT_EQ(ChatEndpointUrl(o), "https://api.openai.com/v1/chat/completions");
  o.format = WireFormat::kAnthropic;
  EXPECT_EQ(ChatEndpointUrl(o), "https://api.anthropic.com/v1/messages");
  o.format = WireFormat::kOpenAi;
  o.base_url = "http://localhost:11434/v1/";
  EXPECT_EQ(ChatEndpointUrl(o), "http://localhost:11434/v1/chat/completions");
  o.format = WireFormat::kOpenAiResponses;
  EXPECT_EQ(ChatEndpointUrl(o), "http://localhost:11434/v1/responses");
  o.base_url = "";
  EXPECT_EQ(ChatEndpointUrl(o), "https://api.openai.com/v1/responses");
}

TEST(ChatEndpointUrlTest, KeepsTheQueryAtTheEnd) {
  HttpChatOptions o;
  o.base_url = "https://res.openai.azure.com/openai/deployments/gpt4o-prod?api-version=2024-10-21";
  EXPECT_EQ(ChatEndpointUrl(o),
            "https://res.openai.azure.com/openai/deployments/gpt4o-prod/chat/completions"
            "?api-version=2024-10-21");
  o.base_url =
      "https://res.openai.azure.com/openai/deployments/d/?api-version=2025-04-01-preview#x";
  EXPECT_EQ(ChatEndpointUrl(o),
            "https://res.openai.azure.com/openai/deployments/d/chat/completions"
            "?api-version=2025-04-01-preview");
}

TEST(DefaultApiKeyHeaderTest, AzureHostsGetApiKey) {
  EXPECT_EQ(DefaultApiKeyHeader(WireFormat::kOpenAi, "https://api.openai.com/v1"), "Authorization");
  EXPECT_EQ(DefaultApiKeyHeader(WireFormat::kOpenAi,
                                "https://Res.OpenAI.Azure.com/openai/deployments/d?api-version=1"),
            "api-key");
  EXPECT_EQ(DefaultApiKeyHeader(WireFormat::kOpenAi,
                                "https://res.cognitiveservices.azure.com:443/openai/v1"),
            "api-key");
  EXPECT_EQ(DefaultApiKeyHeader(WireFormat::kOpenAi, "https://openai.azure.com.evil.example/v1"),
            "Authorization");
  EXPECT_EQ(DefaultApiKeyHeader(WireFormat::kAnthropic, "https://api.anthropic.com"), "x-api-key");
}

}  // namespace
}  // namespace troupe
