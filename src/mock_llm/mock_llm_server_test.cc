// The mock-llm server over real loopback HTTP, with the repo's HttpClient as the client: replies,
// errors and refusals in both protocols, the routes, keep-alive and the request log.
#include "mock_llm/mock_llm_server.h"

#include <unistd.h>

#include <fstream>

#include "mock_llm/mock_llm_server_test_fixture.h"

namespace troupe::mock_llm_test {
namespace {

ChatResult AsDecoded(ChatResult result, WireProtocol protocol) {
  if (protocol == WireProtocol::kOpenAi) {
    result.raw_finish_reason = result.finish == FinishReason::kToolCalls ? "tool_calls" : "stop";
  } else {
    result.raw_finish_reason = result.finish == FinishReason::kToolCalls ? "tool_use" : "end_turn";
  }
  return result;
}

DecodedStream DecodeBody(WireProtocol protocol, const std::string& body) {
  return protocol == WireProtocol::kOpenAi ? DecodeSse<OpenAiStreamDecoder>(body)
                                           : DecodeSse<AnthropicStreamDecoder>(body);
}

class ServerProtocolTest : public MockLlmServerTest,
                           public ::testing::WithParamInterface<WireProtocol> {};

TEST_P(ServerProtocolTest, StreamsTextThatDecodesToThePlansReply) {
  const WireProtocol protocol = GetParam();
  ChatResult reply = Reply("Hello, streaming world!");
  reply.response_id = "resp-1";
  reply.model = "mock-1";
  const MockPlan plan = PlanFor(reply, 3);
  plan_ = [&](const ChatRequest&) { return plan; };

  Exchange e = Fetch(Chat(protocol, Hello()));
  ASSERT_TRUE(e.status.ok()) << e.status.ToString();
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_EQ(e.Header("content-type"), "text/event-stream; charset=utf-8");
  EXPECT_EQ(e.Header("transfer-encoding"), "chunked");
  DecodedStream decoded = DecodeBody(protocol, e.body);
  ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
  EXPECT_EQ(Text(*decoded.result), Text(AsDecoded(reply, protocol)));
  EXPECT_EQ(Text(decoded.deltas), Text(plan.deltas));

  // The planner saw the request as the client built it.
  ASSERT_EQ(requests_.size(), 1u);
  EXPECT_EQ(Text(requests_[0]), Text(Hello()));
}

TEST_P(ServerProtocolTest, StreamsParallelToolCalls) {
  const WireProtocol protocol = GetParam();
  ChatResult reply = Reply("Reading.",
                           {Call("call_1", "read", R"({"path":"a.cc"})"),
                            Call("call_2", "grep", R"({"path":"src","q":"main"})")},
                           FinishReason::kToolCalls);
  plan_ = [&](const ChatRequest&) { return PlanFor(reply, 5); };
  Exchange e = Fetch(Chat(protocol, Hello()));
  ASSERT_TRUE(e.status.ok()) << e.status.ToString();
  DecodedStream decoded = DecodeBody(protocol, e.body);
  ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
  EXPECT_EQ(decoded.result->finish, FinishReason::kToolCalls);
  ASSERT_EQ(decoded.result->message.tool_calls.size(), 2u);
  EXPECT_EQ(decoded.result->message.tool_calls[1].id, "call_2");
  EXPECT_EQ(decoded.result->message.tool_calls[1].arguments_json, R"({"path":"src","q":"main"})");
  // The server filled in what the plan left empty.
  EXPECT_EQ(decoded.result->model, "mock-1");
  EXPECT_FALSE(decoded.result->response_id.empty());
}

TEST_P(ServerProtocolTest, AnswersANonStreamedRequestWithOneJsonBody) {
  const WireProtocol protocol = GetParam();
  ChatResult reply = Reply("Whole answer.", {Call("call_1", "read", R"({"path":"a.cc"})")},
                           FinishReason::kToolCalls);
  reply.response_id = "resp-2";
  reply.model = "mock-1";
  plan_ = [&](const ChatRequest&) { return PlanFor(reply); };
  Exchange e = Fetch(Chat(protocol, Hello(/*stream=*/false)));
  ASSERT_TRUE(e.status.ok()) << e.status.ToString();
  EXPECT_EQ(e.Header("content-type"), "application/json");
  EXPECT_EQ(e.Header("transfer-encoding"), "");
  Result<ChatResult> decoded = protocol == WireProtocol::kOpenAi ? DecodeOpenAiResponse(e.body)
                                                                 : DecodeAnthropicResponse(e.body);
  ASSERT_TRUE(decoded.ok()) << decoded.status().ToString();
  EXPECT_EQ(Text(*decoded), Text(AsDecoded(reply, protocol)));
  EXPECT_FALSE(LastEntry().stream);
}

TEST_P(ServerProtocolTest, HttpErrorsCarryTheirStatusHeadersAndProtocolBody) {
  const WireProtocol protocol = GetParam();
  for (auto [status, type] : std::vector<std::pair<int, std::string>>{
           {429, "rate_limit_error"}, {529, "overloaded_error"}, {500, "server_error"}}) {
    plan_ = [&](const ChatRequest&) {
      MockPlan plan;
      plan.http_error = MockPlan::HttpError{
          status, {{"retry-after", "2"}, {"x-should-retry", "true"}}, type, "try later"};
      return plan;
    };
    Exchange e = Fetch(Chat(protocol, Hello()));
    ASSERT_TRUE(e.status.ok()) << e.status.ToString();
    EXPECT_EQ(e.http_status(), status);
    EXPECT_EQ(e.Header("retry-after"), "2");
    EXPECT_EQ(e.Header("x-should-retry"), "true");
    Status s = protocol == WireProtocol::kOpenAi ? DecodeOpenAiError(status, e.body)
                                                 : DecodeAnthropicError(status, e.body);
    EXPECT_THAT(s.message(), HasSubstr(type + ": try later"));
    EXPECT_EQ(LastEntry().outcome, "http_error");
    EXPECT_EQ(LastEntry().status, status);
  }
}

TEST_P(ServerProtocolTest, RefusesBadJsonNamingTheField) {
  const WireProtocol protocol = GetParam();
  HttpRequest request = Chat(protocol, Hello());
  json body = json::parse(request.body);
  body["messages"][0]["content"] = 42;
  request.body = body.dump();
  Exchange e = Fetch(request);
  EXPECT_EQ(e.http_status(), 400);
  Status s = protocol == WireProtocol::kOpenAi ? DecodeOpenAiError(400, e.body)
                                               : DecodeAnthropicError(400, e.body);
  EXPECT_THAT(s.message(), HasSubstr("invalid_request_error: messages[0].content is neither a "
                                     "string nor an array (it is an integer)"));
  EXPECT_EQ(LastEntry().outcome, "bad_request");
  EXPECT_THAT(LastEntry().error, HasSubstr("messages[0].content"));
  EXPECT_TRUE(requests_.empty());  // the planner never saw it

  request.body = "{not json";
  e = Fetch(request);
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_THAT(e.body, HasSubstr("is not valid JSON"));
}

TEST_P(ServerProtocolTest, RequiresCredentialsUnlessDisabled) {
  const WireProtocol protocol = GetParam();
  const auto without_credentials = [&] {
    HttpRequest request = Chat(protocol, Hello());
    std::erase_if(request.headers, [](const HttpHeader& h) {
      return h.name == "Authorization" || h.name == "x-api-key";
    });
    return request;
  };
  HttpRequest bare = without_credentials();
  Exchange e = Fetch(bare);
  EXPECT_EQ(e.http_status(), 401);
  if (protocol == WireProtocol::kOpenAi) {
    EXPECT_EQ(e.Json()["error"]["type"], "invalid_request_error");
  } else {
    EXPECT_EQ(e.Json()["type"], "error");
    EXPECT_EQ(e.Json()["error"]["type"], "authentication_error");
  }
  EXPECT_EQ(LastEntry().outcome, "bad_request");

  HttpRequest basic = bare;
  basic.headers.push_back({"Authorization", "Basic dXNlcjpwYXNz"});
  EXPECT_EQ(Fetch(basic).http_status(), 401);

  MockLlmServerOptions no_auth;
  no_auth.require_auth = false;
  StartServer(no_auth);
  EXPECT_EQ(Fetch(without_credentials()).http_status(), 200);
}

INSTANTIATE_TEST_SUITE_P(Protocols, ServerProtocolTest,
                         ::testing::Values(WireProtocol::kOpenAi, WireProtocol::kAnthropic),
                         [](const auto& info) {
                           return std::string(WireProtocolName(info.param));
                         });

TEST_F(MockLlmServerTest, AnthropicNeedsItsVersionHeader) {
  HttpRequest request = Chat(WireProtocol::kAnthropic, Hello());
  std::erase_if(request.headers, [](const HttpHeader& h) { return h.name == "anthropic-version"; });
  Exchange e = Fetch(request);
  EXPECT_EQ(e.http_status(), 400);
  EXPECT_THAT(e.body, HasSubstr("anthropic-version"));
  // A bearer token is accepted in place of x-api-key (OAuth clients send one).
  request = Chat(WireProtocol::kAnthropic, Hello());
  std::erase_if(request.headers, [](const HttpHeader& h) { return h.name == "x-api-key"; });
  request.headers.push_back({"Authorization", "Bearer token"});
  EXPECT_EQ(Fetch(request).http_status(), 200);
}

TEST_F(MockLlmServerTest, ServesTheOpenAiPathWithoutV1) {
  HttpRequest request = Chat(WireProtocol::kOpenAi, Hello());
  request.url = server_->Url("/chat/completions?api-version=1");
  Exchange e = Fetch(request);
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_TRUE(DecodeSse<OpenAiStreamDecoder>(e.body).result.ok());
}

TEST_F(MockLlmServerTest, UnknownPathIs404AndWrongMethodIs405) {
  Exchange e = Fetch(Get("/v2/whatever"));
  EXPECT_EQ(e.http_status(), 404);
  EXPECT_THAT(e.Json()["error"]["message"].get<std::string>(), HasSubstr("/v2/whatever"));

  e = Fetch(Get("/v1/chat/completions"));
  EXPECT_EQ(e.http_status(), 405);
  EXPECT_EQ(e.Header("allow"), "POST");
  e = Fetch(Get("/v1/messages"));
  EXPECT_EQ(e.http_status(), 405);
  EXPECT_EQ(e.Json()["type"], "error");  // Anthropic's shape on Anthropic's path
  e = Fetch(Post("/v1/models", "{}"));
  EXPECT_EQ(e.http_status(), 405);
  EXPECT_EQ(e.Header("allow"), "GET");
  EXPECT_EQ(LastEntry().outcome, "bad_request");
}

TEST_F(MockLlmServerTest, BodyOverTheLimitIs413) {
  MockLlmServerOptions small;
  small.max_body_bytes = 1024;
  StartServer(small);
  ChatRequest big = Hello();
  big.messages[0].text = std::string(4096, 'x');
  Exchange e = Fetch(Chat(WireProtocol::kAnthropic, big));
  EXPECT_EQ(e.http_status(), 413);
  EXPECT_EQ(e.Json()["error"]["type"], "request_too_large");
  EXPECT_EQ(LastEntry().status, 413);
  EXPECT_EQ(LastEntry().outcome, "bad_request");
  EXPECT_TRUE(requests_.empty());
  // The server is fine afterwards.
  EXPECT_EQ(Fetch(Chat(WireProtocol::kAnthropic, Hello())).http_status(), 200);
}

TEST_F(MockLlmServerTest, ListsModelsAndAnswersHealth) {
  MockLlmServerOptions options;
  options.models = {"mock-fast", "mock-smart"};
  StartServer(options);
  Exchange e = Fetch(Get("/v1/models"));
  ASSERT_EQ(e.http_status(), 200);
  json models = e.Json();
  EXPECT_EQ(models["object"], "list");
  ASSERT_EQ(models["data"].size(), 2u);
  EXPECT_EQ(models["data"][0]["id"], "mock-fast");
  EXPECT_EQ(models["data"][0]["object"], "model");
  EXPECT_EQ(models["data"][1]["type"], "model");
  EXPECT_EQ(models["has_more"], false);

  e = Fetch(Get("/health"));
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_EQ(e.Json()["status"], "ok");
  ASSERT_EQ(server_->log().size(), 1u);  // /v1/models only: /health is not recorded
}

TEST_F(MockLlmServerTest, RecordsEachRequestInTheLog) {
  plan_ = [](const ChatRequest&) {
    MockPlan plan = PlanFor(Reply("0123456789"), 2);
    plan.marker = "t42";
    return plan;
  };
  HttpRequest request = Chat(WireProtocol::kOpenAi, Hello());
  request.headers.push_back({"x-troupe-task", "bg_7"});
  ASSERT_TRUE(Fetch(request).status.ok());

  RequestLogEntry entry = LastEntry();
  EXPECT_EQ(entry.id, 1u);
  EXPECT_EQ(entry.method, "POST");
  EXPECT_EQ(entry.path, "/v1/chat/completions");
  EXPECT_EQ(entry.protocol, "openai");
  EXPECT_EQ(entry.model, "mock-1");
  EXPECT_TRUE(entry.stream);
  EXPECT_EQ(entry.marker, "t42");
  EXPECT_EQ(entry.task, "bg_7");
  EXPECT_EQ(entry.messages, 1);
  EXPECT_EQ(entry.tools, (std::vector<std::string>{"read", "grep"}));
  EXPECT_EQ(entry.status, 200);
  EXPECT_EQ(entry.deltas_sent, 5);
  EXPECT_EQ(entry.outcome, "completed");
  EXPECT_GT(entry.wall_ms, 0);
  EXPECT_LE(entry.received_ms, entry.first_byte_ms);
  EXPECT_LE(entry.first_byte_ms, entry.last_byte_ms);
  EXPECT_GT(entry.connection, 0u);
}

TEST_F(MockLlmServerTest, RecordsMicrosecondTimesFromItsMicrosecondClock) {
  int64_t now_us = 1'000'000;
  MockLlmServerOptions options;
  options.now_us = [&now_us] { return now_us += 7; };  // every reading is 7 us after the last
  StartServer(std::move(options));
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, Hello())).status.ok());

  RequestLogEntry entry = LastEntry();
  EXPECT_GT(entry.head_received_us, 1'000'000);
  EXPECT_GT(entry.first_write_us, entry.head_received_us);
  EXPECT_GT(entry.last_write_us, entry.first_write_us);  // the head, the events, then the end
  EXPECT_LE(entry.last_write_us, now_us);
}

TEST_F(MockLlmServerTest, MicrosecondTimesDefaultToTheClock) {
  StartServer({}, /*fake=*/true);
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, Hello())).status.ok());

  RequestLogEntry entry = LastEntry();
  EXPECT_EQ(entry.head_received_us, fake_clock_.NowMs() * 1000);
  EXPECT_EQ(entry.first_write_us, fake_clock_.NowMs() * 1000);
  EXPECT_EQ(entry.last_write_us, fake_clock_.NowMs() * 1000);
}

TEST_F(MockLlmServerTest, ServesTheLogOverHttpAndClearsIt) {
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, Hello())).status.ok());
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, Hello(false))).status.ok());
  Exchange e = Fetch(Get("/v1/mock/requests"));
  ASSERT_EQ(e.http_status(), 200);
  json log = e.Json();
  ASSERT_EQ(log.size(), 2u);  // reading the log is not recorded
  EXPECT_EQ(log[0]["protocol"], "anthropic");
  EXPECT_EQ(log[0]["marker"], "hello");
  EXPECT_EQ(log[1]["protocol"], "openai");
  EXPECT_EQ(log[1]["stream"], false);
  EXPECT_EQ(log[1]["outcome"], "completed");

  e = Fetch(Get("/v1/mock/requests", "DELETE"));
  EXPECT_EQ(e.Json()["cleared"], 2);
  EXPECT_EQ(Fetch(Get("/v1/mock/requests")).Json(), json::array());
}

TEST_F(MockLlmServerTest, KeepsBodiesInTheLogOnlyWhenAsked) {
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, Hello())).status.ok());
  EXPECT_FALSE(Fetch(Get("/v1/mock/requests")).Json()[0].contains("body"));

  MockLlmServerOptions options;
  options.log_bodies = true;
  StartServer(std::move(options));
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, Hello())).status.ok());
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, Hello())).status.ok());
  const json log = Fetch(Get("/v1/mock/requests")).Json();
  ASSERT_EQ(log.size(), 2u);
  // As sent: the Anthropic body has max_tokens and the system prompt at the top level, the
  // OpenAI one the system prompt as a message.
  EXPECT_TRUE(log[0]["body"].contains("max_tokens")) << log[0]["body"];
  EXPECT_EQ(log[0]["body"]["messages"][0]["role"], "user");
  EXPECT_EQ(log[1]["body"]["messages"][0]["role"], "system") << log[1]["body"];
  EXPECT_FALSE(log[0].contains("conversation"));
}

TEST_F(MockLlmServerTest, KeepsConversationsInTheLogOnlyWhenAsked) {
  ChatRequest request = Hello();
  ChatMessage call;
  call.role = ChatRole::kAssistant;
  call.tool_calls.push_back({"toolu_1", "grep", R"({"pattern":"x"})"});
  request.messages.push_back(call);
  request.messages.push_back(ToolResultMessage("toolu_1", "grep", "<system-reminder>done"));
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, request)).status.ok());
  EXPECT_FALSE(Fetch(Get("/v1/mock/requests")).Json()[0].contains("conversation"));

  MockLlmServerOptions options;
  options.log_conversations = true;
  StartServer(std::move(options));
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, request)).status.ok());
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, request)).status.ok());
  const json log = Fetch(Get("/v1/mock/requests")).Json();
  ASSERT_EQ(log.size(), 2u);
  for (const json& entry : log) {
    const json& conversation = entry["conversation"];
    EXPECT_EQ(conversation["system"], "You are a test.") << entry["protocol"];
    ASSERT_EQ(conversation["messages"].size(), 3u) << entry["protocol"];
    EXPECT_EQ(conversation["messages"][0]["text"], "Say hello");
    EXPECT_EQ(conversation["messages"][1]["tool_calls"][0]["name"], "grep");
    EXPECT_EQ(conversation["messages"][2]["role"], "tool");
    EXPECT_EQ(conversation["messages"][2]["tool_call_id"], "toolu_1");
    EXPECT_EQ(conversation["messages"][2]["text"], "<system-reminder>done");
  }
}

TEST_F(MockLlmServerTest, KeepAliveServesSequentialRequestsOnOneConnection) {
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, Hello())).status.ok());
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kAnthropic, Hello(false))).status.ok());
  ASSERT_TRUE(Fetch(Get("/v1/models")).status.ok());
  std::vector<RequestLogEntry> entries = server_->log().Snapshot();
  ASSERT_EQ(entries.size(), 3u);
  EXPECT_EQ(entries[0].connection, entries[1].connection);
  EXPECT_EQ(entries[1].connection, entries[2].connection);
  EXPECT_EQ(server_->open_connections(), 1u);
  EXPECT_EQ(server_->busy_connections(), 0u);
}

TEST_F(MockLlmServerTest, PipelinedRequestsAreAnsweredInOrder) {
  RawClient raw(io_, server_->port());
  const std::string get = "GET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string body = EncodeOpenAiRequest(Hello(false)).dump();
  const std::string post =
      "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer k\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  raw.Send(get + post + get);
  ASSERT_TRUE(RunUntilLogged(3));
  const auto responses = [&] {
    size_t n = 0;
    for (size_t at = raw.received().find("HTTP/1.1 200"); at != std::string::npos;
         at = raw.received().find("HTTP/1.1 200", at + 1)) {
      ++n;
    }
    return n;
  };
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return responses() == 3; }));
  const size_t reply = raw.received().find("chat.completion");
  EXPECT_LT(raw.received().find("HTTP/1.1 200"), reply);
  EXPECT_GT(raw.received().rfind("HTTP/1.1 200"), reply);
  std::vector<RequestLogEntry> entries = server_->log().Snapshot();
  EXPECT_EQ(entries[0].path, "/v1/models");
  EXPECT_EQ(entries[1].path, "/v1/chat/completions");
  EXPECT_EQ(entries[2].path, "/v1/models");
  EXPECT_EQ(entries[0].connection, entries[2].connection);
}

TEST_F(MockLlmServerTest, StreamsToAnHttp10ClientUntilClose) {
  RawClient raw(io_, server_->port());
  const std::string body = EncodeOpenAiRequest(Hello()).dump();
  raw.Send("POST /v1/chat/completions HTTP/1.0\r\nAuthorization: Bearer k\r\nContent-Length: " +
           std::to_string(body.size()) + "\r\n\r\n" + body);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return raw.closed(); }));
  const std::string& received = raw.received();
  const size_t head_end = received.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head = received.substr(0, head_end);
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 200 OK"));
  EXPECT_THAT(head, HasSubstr("Connection: close"));
  EXPECT_THAT(head, ::testing::Not(HasSubstr("chunked")));
  DecodedStream decoded = DecodeSse<OpenAiStreamDecoder>(received.substr(head_end + 4));
  ASSERT_TRUE(decoded.result.ok()) << decoded.result.status().ToString();
  EXPECT_EQ(decoded.result->message.text, "Hello from the mock.");
}

TEST_F(MockLlmServerTest, MalformedHttpIs400AndCloses) {
  RawClient raw(io_, server_->port());
  raw.Send("THIS IS NOT HTTP\r\n\r\n");
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return raw.closed(); }));
  EXPECT_THAT(raw.received(), ::testing::StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(raw.received(), HasSubstr("Connection: close"));
  EXPECT_EQ(LastEntry().outcome, "bad_request");
}

TEST_F(MockLlmServerTest, AnswersExpect100Continue) {
  HttpRequest request = Chat(WireProtocol::kOpenAi, Hello());
  request.headers.push_back({"Expect", "100-continue"});
  Exchange e = Fetch(request);
  EXPECT_EQ(e.http_status(), 200);
  EXPECT_TRUE(DecodeSse<OpenAiStreamDecoder>(e.body).result.ok());
}

TEST_F(MockLlmServerTest, AppendsFinishedRequestsToTheLogFile) {
  char path[] = "/tmp/troupe_mock_llm_log_XXXXXX";
  const int fd = mkstemp(path);
  ASSERT_GE(fd, 0);
  close(fd);
  MockLlmServerOptions options;
  options.log_path = path;
  StartServer(options);
  ASSERT_TRUE(Fetch(Chat(WireProtocol::kOpenAi, Hello())).status.ok());
  ASSERT_TRUE(Fetch(Get("/nope")).status.ok());
  std::ifstream in(path);
  std::vector<json> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(json::parse(line));
  unlink(path);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0]["outcome"], "completed");
  EXPECT_EQ(lines[0]["marker"], "hello");
  EXPECT_EQ(lines[1]["status"], 404);
}

TEST_F(MockLlmServerTest, FailsToStartOnAPortInUse) {
  MockLlmServerOptions options;
  options.port = server_->port();
  auto second = MockLlmServer::Start(io_, &loop_clock_, plan_, options);
  ASSERT_FALSE(second.ok());
  EXPECT_THAT(second.status().message(), HasSubstr("cannot listen on 127.0.0.1"));
}

}  // namespace
}  // namespace troupe::mock_llm_test
