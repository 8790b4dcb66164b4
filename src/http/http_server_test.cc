// The HTTP server against real clients on a real loop (http_server_test_fixture.h).
#include <curl/curl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "http/http_server_test_fixture.h"

namespace troupe::http_test {
namespace {

// --- Requests on both listeners ---

TEST_F(HttpServerTest, GetAndPostOnTheUnixSocket) {
  ASSERT_TRUE(kCurlReady);
  StartServer();
  CurlResponse get = GetUnix("/v1/status");
  ASSERT_EQ(get.code, CURLE_OK) << curl_easy_strerror(get.code);
  EXPECT_EQ(get.status, 200);
  EXPECT_THAT(get.head, HasSubstr("Content-Type: application/json"));
  json g = get.Json();
  EXPECT_EQ(g["method"], "GET");
  EXPECT_EQ(g["path"], "/v1/status");
  EXPECT_EQ(g["transport"], "unix");

  CurlRequest post;
  post.url = "http://localhost/v1/tasks";
  post.unix_socket = SocketPath();
  post.method = "POST";
  post.body = R"({"prompt":"hi"})";
  post.headers = {"Content-Type: application/json", "X-Custom-Thing: v1"};
  CurlResponse p = Fetch(io_, post);
  ASSERT_EQ(p.code, CURLE_OK);
  EXPECT_EQ(p.status, 200);
  json pj = p.Json();
  EXPECT_EQ(pj["method"], "POST");
  EXPECT_EQ(pj["body"], R"({"prompt":"hi"})");
  EXPECT_EQ(pj["headers"]["content-type"], "application/json");
  EXPECT_EQ(pj["headers"]["x-custom-thing"], "v1");
  EXPECT_EQ(statuses_, (std::vector<int>{200, 200}));
}

TEST_F(HttpServerTest, GetAndPostOnTcpWithTheToken) {
  StartServer();
  ASSERT_GT(server_->tcp_port(), 0);
  CurlRequest get;
  get.url = TcpUrl("/v1/status");
  get.headers = {std::string("Authorization: Bearer ") + kToken};
  CurlResponse g = Fetch(io_, get);
  ASSERT_EQ(g.code, CURLE_OK) << curl_easy_strerror(g.code);
  EXPECT_EQ(g.status, 200);
  EXPECT_EQ(g.Json()["transport"], "tcp");

  CurlRequest post = get;
  post.method = "POST";
  post.body = "payload";
  CurlResponse p = Fetch(io_, post);
  EXPECT_EQ(p.status, 200);
  EXPECT_EQ(p.Json()["body"], "payload");
  EXPECT_EQ(p.Json()["method"], "POST");
}

TEST_F(HttpServerTest, RepeatedHeadersAreJoined) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send(Request("GET", "/", "X-Dup: a\r\nx-dup: b\r\n"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Json()["headers"]["x-dup"], "a, b");
}

// --- Targets ---

TEST_F(HttpServerTest, PathAndQueryAreDecoded) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  const std::string target =
      "/v1/a%20b/c%2Fd?x=1&y=hello+world&z=%41%42&empty=&flag&&x=2&sp%20ace=a%26b%3D";
  client->Send(Request("GET", target));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  json j = responses[0].Json();
  EXPECT_EQ(j["target"], target);
  EXPECT_EQ(j["path"], "/v1/a b/c/d");
  EXPECT_EQ(j["query"], json({{"x", "2"},
                              {"y", "hello world"},
                              {"z", "AB"},
                              {"empty", ""},
                              {"flag", ""},
                              {"sp ace", "a&b="}}));
  ASSERT_EQ(handler_.requests.size(), 1u);
  EXPECT_EQ(handler_.requests[0].Query("y"), "hello world");
  EXPECT_EQ(handler_.requests[0].Query("missing"), "");
}

TEST_F(HttpServerTest, PlusInThePathStaysAPlus) {
  StartServer();
  CurlResponse r = GetUnix("/v1/a+b");
  EXPECT_EQ(r.Json()["path"], "/v1/a+b");
}

TEST_F(HttpServerTest, BadEscapeIs400AndTheConnectionStaysUsable) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  for (const std::string target : {"/v1/a%zz", "/v1/ok?x=%4", "/v1/ok?x=%", "/v1/%0", "/a%00b"}) {
    SCOPED_TRACE(target);
    client->Clear();
    client->Send(Request("GET", target));
    auto responses = ReadResponses(*client, 1);
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 400);
    json e = responses[0].Json()["error"];
    EXPECT_EQ(e["code"], "invalid_argument");
    EXPECT_EQ(e["status"], 400);
    EXPECT_THAT(e["message"].get<std::string>(), Not(HasSubstr("\n")));
  }
  EXPECT_TRUE(handler_.requests.empty());
  // Keep-alive: the same connection still answers a good request.
  client->Clear();
  client->Send(Request("GET", "/fine"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(server_->connections(), 1u);
  EXPECT_EQ(statuses_, (std::vector<int>{400, 400, 400, 400, 400, 200}));
}

TEST_F(HttpServerTest, TargetThatIsNotAPathIs400) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "http://example.com/x"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 400);
  EXPECT_TRUE(handler_.requests.empty());
}

// --- Auth ---

TEST_F(HttpServerTest, TcpNeedsTheBearerToken) {
  StartServer();
  const std::vector<std::vector<std::string>> refused = {
      {},
      {"Authorization: Bearer wrong"},
      {"Authorization: Bearer s3cret-token-0123456780"},  // same length, last byte differs
      {std::string("Authorization: Bearer ") + kToken + "x"},
      {std::string("Authorization: Basic ") + kToken},
      {"Authorization: Bearer"},
  };
  for (const auto& headers : refused) {
    CurlRequest r;
    r.url = TcpUrl("/v1/status");
    r.headers = headers;
    CurlResponse out = Fetch(io_, r);
    ASSERT_EQ(out.code, CURLE_OK);
    EXPECT_EQ(out.status, 401);
    EXPECT_THAT(out.head, HasSubstr("WWW-Authenticate: Bearer"));
    EXPECT_EQ(out.Json()["error"]["code"], "unauthorized");
    EXPECT_EQ(out.Json()["error"]["status"], 401);
  }
  EXPECT_TRUE(handler_.requests.empty());

  CurlRequest ok;
  ok.url = TcpUrl("/v1/status");
  ok.headers = {std::string("authorization: bearer  ") + kToken};
  EXPECT_EQ(Fetch(io_, ok).status, 200);
  // The Unix socket needs none.
  EXPECT_EQ(GetUnix("/v1/status").status, 200);
  EXPECT_EQ(handler_.requests.size(), 2u);
}

TEST_F(HttpServerTest, UnauthorizedPostIsRefusedBeforeItsBodyIsRead) {
  StartServer();
  auto client = RawClient::Tcp(server_->tcp_port());
  ASSERT_NE(client, nullptr);
  // The head promises a body that never comes; the answer does not wait for it.
  client->Send("POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 401);
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(WaitForEof(*client));
}

// --- Limits ---

TEST_F(HttpServerTest, LargeContentLengthIs413WithoutReadingTheBody) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send("POST /v1/tasks HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_EQ(responses[0].Json()["error"]["code"], "payload_too_large");
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_TRUE(WaitForEof(*client));
  EXPECT_EQ(statuses_, (std::vector<int>{413}));
}

TEST_F(HttpServerTest, OversizedBodyAlreadySentStillGetsA413) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  StartServer(options);
  auto client = RawClient::Tcp(server_->tcp_port());
  ASSERT_NE(client, nullptr);
  // The client sends the whole body at once; the server answers and closes without resetting
  // the connection before the client has read the answer.
  client->Send("POST /v1/tasks HTTP/1.1\r\nHost: x\r\n" + Auth() + "Content-Length: 50000\r\n\r\n" +
               std::string(50000, 'b'));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_TRUE(WaitForEof(*client));
}

TEST_F(HttpServerTest, ChunkedBodyOverTheLimitIs413) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  StartServer(options);
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  std::string chunk = "200\r\n" + std::string(512, 'c') + "\r\n";
  client->Send("POST /v1/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk +
               chunk + chunk + chunk + "0\r\n\r\n");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_TRUE(WaitForEof(*client));
}

TEST_F(HttpServerTest, ChunkedBodyWithinTheLimitIsRead) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  StartServer(options);
  auto client = RawClient::Unix(SocketPath());
  client->Send(
      "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Json()["body"], "hello world");
}

TEST_F(HttpServerTest, APathWithItsOwnLimitTakesALargerBody) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  handler_.body_limits["/big"] = 8192;
  StartServer(options);
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send("POST /big?x=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
               std::string(5000, 'b'));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].Json()["body"].get<std::string>().size(), 5000u);
  ASSERT_EQ(handler_.requests.size(), 1u);
  // The same body elsewhere is over the server's limit.
  auto other = RawClient::Unix(SocketPath());
  ASSERT_NE(other, nullptr);
  other->Send("POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
              std::string(5000, 'b'));
  responses = ReadResponses(*other, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_EQ(responses[0].Json()["error"]["code"], "payload_too_large");
  EXPECT_THAT(responses[0].Json()["error"]["message"].get<std::string>(), HasSubstr("1024 bytes"));
  EXPECT_EQ(handler_.requests.size(), 1u);
}

TEST_F(HttpServerTest, ABodyOverAPathsLimitGetsTheHandlersAnswerBeforeItIsRead) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 1024;
  handler_.body_limits["/big"] = 4096;
  ApiResponse refusal;
  refusal.status = 413;
  refusal.body = R"({"jsonrpc":"2.0","id":null,"error":{"code":-32600,"message":"too big"}})";
  handler_.too_large = refusal;
  StartServer(options);
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_EQ(responses[0].Json()["error"]["code"], -32600);
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(WaitForEof(*client));
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_EQ(handler_.too_large_asked,
            (std::vector<std::pair<std::string, size_t>>{{"/big", 4096}}));
  EXPECT_EQ(statuses_, (std::vector<int>{413}));
}

TEST_F(HttpServerTest, AChunkedBodyOverAPathsLimitGetsTheHandlersAnswer) {
  HttpServerOptions options = Options();
  options.max_body_bytes = 512;
  handler_.body_limits["/big"] = 1024;
  ApiResponse refusal;
  refusal.status = 413;
  refusal.body = R"({"refused":true})";
  handler_.too_large = refusal;
  StartServer(options);
  const std::string chunk = "200\r\n" + std::string(512, 'c') + "\r\n";
  // Two chunks (1024 bytes) fit; three do not.
  auto fits = RawClient::Unix(SocketPath());
  ASSERT_NE(fits, nullptr);
  fits->Send("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
             "0\r\n\r\n");
  auto responses = ReadResponses(*fits, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  auto over = RawClient::Unix(SocketPath());
  ASSERT_NE(over, nullptr);
  over->Send("POST /big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + chunk + chunk +
             chunk + "0\r\n\r\n");
  responses = ReadResponses(*over, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 413);
  EXPECT_EQ(responses[0].Json()["refused"], true);
  EXPECT_TRUE(WaitForEof(*over));
  EXPECT_EQ(handler_.requests.size(), 1u);
}

TEST_F(HttpServerTest, HugeHeadersAre431) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send(Request("GET", "/v1/status", "X-Big: " + std::string(20000, 'a') + "\r\n"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 431);
  EXPECT_EQ(responses[0].Json()["error"]["status"], 431);
  EXPECT_TRUE(handler_.requests.empty());
  EXPECT_TRUE(WaitForEof(*client));
}

TEST_F(HttpServerTest, HeadersJustUnderTheLimitAreFine) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/", "X-Big: " + std::string(15000, 'a') + "\r\n"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
}

TEST_F(HttpServerTest, MalformedRequestIs400AndCloses) {
  StartServer();
  for (const std::string garbage :
       {"THIS IS NOT HTTP\r\n\r\n", "GET / HTTP/1.1\r\nBad Header Line\r\n\r\n",
        "GET / HTTP/1.1\r\nContent-Length: nope\r\n\r\n"}) {
    SCOPED_TRACE(garbage);
    auto client = RawClient::Unix(SocketPath());
    ASSERT_NE(client, nullptr);
    client->Send(garbage);
    auto responses = ReadResponses(*client, 1);
    ASSERT_EQ(responses.size(), 1u);
    EXPECT_EQ(responses[0].status, 400);
    EXPECT_EQ(responses[0].Json()["error"]["code"], "bad_request");
    EXPECT_TRUE(WaitForEof(*client));
  }
  EXPECT_TRUE(handler_.requests.empty());
}

// --- Keep-alive and timing ---

TEST_F(HttpServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  ASSERT_NE(client, nullptr);
  client->Send(Request("GET", "/one"));
  ASSERT_EQ(ReadResponses(*client, 1).size(), 1u);
  client->Send(Request("POST", "/two", "", "body"));
  auto responses = ReadResponses(*client, 2);
  ASSERT_EQ(responses.size(), 2u);
  EXPECT_EQ(responses[0].Json()["path"], "/one");
  EXPECT_EQ(responses[1].Json()["path"], "/two");
  EXPECT_EQ(responses[1].Json()["body"], "body");
  EXPECT_EQ(server_->connections(), 1u);
  EXPECT_FALSE(client->eof());
}

TEST_F(HttpServerTest, PipelinedRequestsAreAnsweredInOrder) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/one") + Request("GET", "/two") + Request("GET", "/three"));
  auto responses = ReadResponses(*client, 3);
  ASSERT_EQ(responses.size(), 3u);
  EXPECT_EQ(responses[0].Json()["path"], "/one");
  EXPECT_EQ(responses[1].Json()["path"], "/two");
  EXPECT_EQ(responses[2].Json()["path"], "/three");
}

TEST_F(HttpServerTest, CurlReusesTheConnection) {
  StartServer();
  CurlRequest r;
  r.url = TcpUrl("/a");
  r.headers = {std::string("Authorization: Bearer ") + kToken};
  CurlRequest r2 = r;
  r2.url = TcpUrl("/b");
  auto out = FetchAll(io_, {r, r2});
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].status, 200);
  EXPECT_EQ(out[1].status, 200);
  EXPECT_EQ(out[1].connects, 0);  // the second call made no new connection
}

TEST_F(HttpServerTest, ConnectionCloseIsHonoured) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/", "Connection: close\r\n"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(WaitForEof(*client));
}

TEST_F(HttpServerTest, ExpectContinueGetsA100First) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(
      "POST /v1/tasks HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n");
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    client->Pump();
    return client->data().find("\r\n\r\n") != std::string::npos;
  }));
  EXPECT_EQ(client->data(), "HTTP/1.1 100 Continue\r\n\r\n");
  client->Clear();
  client->Send("hello");
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Json()["body"], "hello");
}

TEST_F(HttpServerTest, HeadGetsNoBody) {
  StartServer();
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("HEAD", "/x"));
  auto responses = ReadResponses(*client, 1, /*head_request=*/true);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_NE(responses[0].Header("content-length"), "0");
  EXPECT_TRUE(responses[0].body.empty());
  // Nothing but the head was sent: the next request's answer follows right after it.
  client->Send(Request("GET", "/y"));
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    client->Pump();
    return client->data().find("\"/y\"") != std::string::npos;
  }));
  const size_t second = client->data().find("HTTP/1.1", 1);
  ASSERT_NE(second, std::string::npos);
  EXPECT_EQ(client->data().find("\r\n\r\n") + 4, second);
}

TEST_F(HttpServerTest, DelayedAnswerOnALaterLoopTurn) {
  HttpServerOptions options = Options();
  options.idle_timeout_ms = 100;  // waiting for the handler is not idleness
  StartServer(options);
  asio::steady_timer timer(io_);
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    timer.expires_after(milliseconds(300));
    timer.async_wait([exchange](const boost::system::error_code&) {
      ApiResponse r;
      r.status = 202;
      r.body = R"({"late":true})";
      r.headers = {{"Retry-After", "1"}};
      exchange->Respond(r);
    });
  };
  const auto start = std::chrono::steady_clock::now();
  CurlResponse r = GetUnix("/v1/slow");
  EXPECT_EQ(r.code, CURLE_OK);
  EXPECT_EQ(r.status, 202);
  EXPECT_EQ(r.body, R"({"late":true})");
  EXPECT_THAT(r.head, HasSubstr("Retry-After: 1"));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));
}

TEST_F(HttpServerTest, IdleConnectionClosesAfterTheTimeout) {
  HttpServerOptions options = Options();
  options.idle_timeout_ms = 200;
  StartServer(options);
  const auto start = std::chrono::steady_clock::now();
  auto silent = RawClient::Unix(SocketPath());
  auto used = RawClient::Unix(SocketPath());
  used->Send(Request("GET", "/"));
  ASSERT_EQ(ReadResponses(*used, 1).size(), 1u);
  ASSERT_TRUE(WaitForEof(*silent));
  ASSERT_TRUE(WaitForEof(*used));  // idle after its answer
  // Both idle timers started after `start` (at accept, and at the answer): never earlier.
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(200));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0; }));
}

TEST_F(HttpServerTest, AnswerTheClientNeverTakesIsDroppedAfterTheIdleTimeout) {
  HttpServerOptions options = Options();
  options.idle_timeout_ms = 200;
  StartServer(options);
  handler_.on_request = [](std::shared_ptr<HttpExchange> exchange) {
    ApiResponse r;
    r.body = std::string(8 << 20, 'x');  // far more than the socket buffers hold
    exchange->Respond(r);
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/big"));
  ASSERT_TRUE(WaitForRequests(1));
  ASSERT_TRUE(RunLoopUntil(
      io_, [&] { return server_->connections() == 0; }, milliseconds(5000)));
}

TEST_F(HttpServerTest, UnansweredRequestGets500) {
  StartServer();
  handler_.on_request = [](std::shared_ptr<HttpExchange>) {};  // drops it
  CurlResponse r = GetUnix("/v1/forgotten");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.Json()["error"]["code"], "internal");
}

TEST_F(HttpServerTest, ThrowingHandlerGets500) {
  StartServer();
  handler_.on_request = [](std::shared_ptr<HttpExchange>) { throw std::runtime_error("boom"); };
  CurlResponse r = GetUnix("/v1/throws");
  EXPECT_EQ(r.status, 500);
  EXPECT_THAT(r.Json()["error"]["message"].get<std::string>(), HasSubstr("boom"));
  EXPECT_EQ(GetUnix("/after").status, 500);  // and the server goes on
}

TEST_F(HttpServerTest, HandlerHeadersAreSanitized) {
  StartServer();
  handler_.on_request = [](std::shared_ptr<HttpExchange> exchange) {
    ApiResponse r;
    r.body = "{}";
    r.headers = {{"X-Ok", "yes"},
                 {"X-Bad", "a\r\nInjected: 1"},
                 {"Content-Length", "999"},
                 {"Bad Name", "x"}};
    exchange->Respond(r);
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Header("x-ok"), "yes");
  EXPECT_EQ(responses[0].Header("injected"), "");
  EXPECT_EQ(responses[0].Header("content-length"), "2");
  EXPECT_EQ(responses[0].body, "{}");
}

// --- Exchanges that end early ---

TEST_F(HttpServerTest, ClientLeavingBeforeTheAnswerFiresOnClose) {
  StartServer();
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OnClose([&] { ++on_close; });
    handler_.held.push_back(std::move(exchange));  // a long poll
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/tasks/bg_1/wait"));
  ASSERT_TRUE(WaitForRequests(1));
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 0);
  client->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return on_close > 0; }));
  auto exchange = handler_.held.at(0);
  EXPECT_TRUE(exchange->closed());
  exchange->Respond(ApiResponse{});  // ignored
  EXPECT_FALSE(exchange->OpenStream({}));
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 1);
  EXPECT_TRUE(statuses_.empty());
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(HttpServerTest, OnCloseRegisteredAfterTheClientLeftStillFires) {
  StartServer();
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    handler_.held.push_back(std::move(exchange));
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/"));
  ASSERT_TRUE(WaitForRequests(1));
  client->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0; }));
  int on_close = 0;
  handler_.held[0]->OnClose([&] { ++on_close; });
  EXPECT_EQ(on_close, 0);  // not from inside OnClose
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return on_close > 0; }));
  handler_.held[0]->OnClose([&] { ++on_close; });  // once only
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 1);
}

TEST_F(HttpServerTest, CloseWithoutAnswerDropsTheConnectionAndOnCloseIsPosted) {
  StartServer();
  bool called = false;
  bool called_inside_close = true;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OnClose([&] { called = true; });
    exchange->Close();
    called_inside_close = called;
    EXPECT_TRUE(exchange->closed());
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/"));
  ASSERT_TRUE(WaitForEof(*client));
  EXPECT_TRUE(client->data().empty());
  EXPECT_FALSE(called_inside_close);
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return called; }));
}

TEST_F(HttpServerTest, NoOnCloseAfterAPlainRespond) {
  StartServer();
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OnClose([&] { ++on_close; });
    TestHandler::Echo(*exchange);
    exchange->OnClose([&] { ++on_close; });  // ignored after the answer
    handler_.held.push_back(std::move(exchange));
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/"));
  ASSERT_EQ(ReadResponses(*client, 1).size(), 1u);
  client->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0; }));
  RunLoopFor(io_, milliseconds(30));
  EXPECT_EQ(on_close, 0);
  EXPECT_FALSE(handler_.held[0]->closed());
}

// --- Streams ---

TEST_F(HttpServerTest, StreamDeliversWritesAsChunksInOrder) {
  StartServer();
  std::shared_ptr<HttpExchange> stream;
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    if (exchange->request().path != "/v1/events") {
      TestHandler::Echo(*exchange);
      return;
    }
    ASSERT_TRUE(exchange->OpenStream(
        {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}}));
    EXPECT_FALSE(exchange->OpenStream({}));
    exchange->Respond(ApiResponse{});  // ignored
    exchange->OnClose([&] { ++on_close; });
    stream = exchange;
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/events"));
  ASSERT_TRUE(WaitForRequests(1));
  ASSERT_TRUE(stream->Write("a"));
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    client->Pump();
    return client->data().find("1\r\na\r\n") != std::string::npos;
  }));
  ASSERT_TRUE(stream->Write("bb"));
  RunLoopFor(io_, milliseconds(5));
  ASSERT_TRUE(stream->Write("ccc"));
  ASSERT_TRUE(stream->Write(""));  // nothing to send
  ASSERT_TRUE(stream->Write(std::string(300, 'x')));
  stream->Close();
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("late"));
  EXPECT_EQ(on_close, 0);  // posted, not called from inside Close
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    client->Pump();
    return client->data().find("0\r\n\r\n") != std::string::npos;
  }));
  const std::string& data = client->data();
  const size_t body_start = data.find("\r\n\r\n") + 4;
  const std::string head = data.substr(0, body_start);
  EXPECT_THAT(head, HasSubstr("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(head, HasSubstr("Transfer-Encoding: chunked\r\n"));
  EXPECT_THAT(head, HasSubstr("Content-Type: text/event-stream\r\n"));
  EXPECT_THAT(head, HasSubstr("Cache-Control: no-cache\r\n"));
  EXPECT_THAT(head, Not(HasSubstr("Content-Length")));
  EXPECT_EQ(data.substr(body_start),
            "1\r\na\r\n2\r\nbb\r\n3\r\nccc\r\n12c\r\n" + std::string(300, 'x') + "\r\n0\r\n\r\n");
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return on_close == 1; }));
  EXPECT_EQ(statuses_, (std::vector<int>{200}));

  // The stream ended cleanly: the connection serves the next request.
  client->Clear();
  client->Send(Request("GET", "/after"));
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].Json()["path"], "/after");
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 1);
}

TEST_F(HttpServerTest, StreamReadByCurl) {
  StartServer();
  asio::steady_timer timer(io_);
  std::shared_ptr<HttpExchange> stream;
  int sent = 0;
  std::function<void()> tick = [&] {
    if (sent == 5) {
      stream->Close();
      return;
    }
    stream->Write("data: " + std::to_string(sent++) + "\n\n");
    timer.expires_after(milliseconds(10));
    timer.async_wait([&](const boost::system::error_code&) { tick(); });
  };
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({{"Content-Type", "text/event-stream"}});
    stream = exchange;
    tick();
  };
  CurlRequest r;
  r.url = TcpUrl("/v1/events");
  r.headers = {std::string("Authorization: Bearer ") + kToken};
  CurlResponse out = Fetch(io_, r);
  EXPECT_EQ(out.code, CURLE_OK);
  EXPECT_EQ(out.body, "data: 0\n\ndata: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\n");
}

TEST_F(HttpServerTest, QuietStreamOutlivesTheIdleTimeout) {
  HttpServerOptions options = Options();
  options.idle_timeout_ms = 100;
  StartServer(options);
  std::shared_ptr<HttpExchange> stream;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({});
    stream = exchange;
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/events"));
  ASSERT_TRUE(WaitForRequests(1));
  RunLoopFor(io_, milliseconds(350));
  EXPECT_FALSE(stream->closed());
  ASSERT_TRUE(stream->Write("still here"));
  stream->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    client->Pump();
    return client->data().find("0\r\n\r\n") != std::string::npos;
  }));
  EXPECT_THAT(client->data(), HasSubstr("a\r\nstill here\r\n0\r\n\r\n"));
}

TEST_F(HttpServerTest, Http10StreamIsUnframedAndEndsByClosing) {
  StartServer();
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({{"Content-Type", "text/event-stream"}});
    exchange->Write("one ");
    exchange->Write("two");
    exchange->Close();
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send("GET /v1/events HTTP/1.0\r\n\r\n");
  ASSERT_TRUE(WaitForEof(*client));
  const std::string& data = client->data();
  EXPECT_THAT(data, Not(HasSubstr("chunked")));
  EXPECT_THAT(data, HasSubstr("Connection: close\r\n"));
  EXPECT_EQ(data.substr(data.find("\r\n\r\n") + 4), "one two");
}

TEST_F(HttpServerTest, ClientLeavingAStreamFiresOnClose) {
  StartServer();
  std::shared_ptr<HttpExchange> stream;
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({});
    exchange->OnClose([&] { ++on_close; });
    stream = exchange;
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/events"));
  ASSERT_TRUE(WaitForRequests(1));
  client->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return on_close == 1; }));
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("x"));
  EXPECT_EQ(server_->connections(), 0u);
}

TEST_F(HttpServerTest, SlowStreamReaderIsCutOffWithoutBlockingOthers) {
  HttpServerOptions options = Options();
  options.max_stream_buffer_bytes = 256 << 10;
  StartServer(options);
  std::shared_ptr<HttpExchange> stream;
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    if (exchange->request().path != "/v1/events") {
      TestHandler::Echo(*exchange);
      return;
    }
    exchange->OpenStream({{"Content-Type", "text/event-stream"}});
    exchange->OnClose([&] { ++on_close; });
    stream = exchange;
  };
  // This client asks for a stream and then never reads.
  auto slow = RawClient::Unix(SocketPath());
  slow->Send(Request("GET", "/v1/events"));
  ASSERT_TRUE(WaitForRequests(1));

  const std::string event = "data: " + std::string(16 << 10, 'e') + "\n\n";
  size_t max_buffered = 0;
  bool queued = false;
  for (int i = 0; i < 2000 && !queued; ++i) {
    ASSERT_TRUE(stream->Write(event));
    RunLoopFor(io_, milliseconds(1));
    queued = stream->buffered() > 0;  // the kernel's buffers are full: bytes wait in the server
    max_buffered = std::max(max_buffered, stream->buffered());
  }
  ASSERT_TRUE(queued);

  // The loop is not blocked: another client is served meanwhile.
  CurlRequest other;
  other.url = TcpUrl("/v1/status");
  other.headers = {std::string("Authorization: Bearer ") + kToken};
  EXPECT_EQ(Fetch(io_, other).status, 200);
  EXPECT_EQ(on_close, 0);

  bool cut = false;
  for (int i = 0; i < 2000 && !cut; ++i) {
    cut = !stream->Write(event);
    max_buffered = std::max(max_buffered, stream->buffered());
    if (!cut) RunLoopFor(io_, milliseconds(1));
  }
  ASSERT_TRUE(cut);
  EXPECT_LE(max_buffered, options.max_stream_buffer_bytes);
  EXPECT_TRUE(stream->closed());
  EXPECT_EQ(stream->buffered(), 0u);
  EXPECT_FALSE(stream->Write("x"));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return on_close == 1; }));
  EXPECT_EQ(server_->connections(), 0u);
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 1);
}

// --- Stopping ---

TEST_F(HttpServerTest, StopClosesAnOpenStreamAndAnIdleConnection) {
  StartServer();
  std::shared_ptr<HttpExchange> stream;
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({{"Content-Type", "text/event-stream"}});
    exchange->OnClose([&] { ++on_close; });
    exchange->Write("hello");
    stream = exchange;
  };
  auto streaming = RawClient::Unix(SocketPath());
  streaming->Send(Request("GET", "/v1/events"));
  auto idle = RawClient::Tcp(server_->tcp_port());
  ASSERT_TRUE(WaitForRequests(1));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 2; }));

  server_->Stop();
  EXPECT_EQ(handler_.shutdowns, 1);
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
  EXPECT_EQ(RawClient::Unix(SocketPath()), nullptr);  // no longer listening
  ASSERT_TRUE(WaitForEof(*idle));
  ASSERT_TRUE(WaitForEof(*streaming));
  EXPECT_THAT(streaming->data(), HasSubstr("5\r\nhello\r\n0\r\n\r\n"));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0 && on_close == 1; }));
  EXPECT_TRUE(stream->closed());
  EXPECT_FALSE(stream->Write("more"));
  server_->Stop();  // again: nothing
  EXPECT_EQ(handler_.shutdowns, 1);
}

TEST_F(HttpServerTest, StopLetsAnAnswerInFlightFinish) {
  StartServer();
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    handler_.held.push_back(std::move(exchange));
  };
  // The handler answers its long polls when told to shut down.
  handler_.on_shutdown = [&] {
    for (auto& exchange : handler_.held) {
      ApiResponse r;
      r.body = R"({"done":true})";
      exchange->Respond(r);
    }
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/wait"));
  ASSERT_TRUE(WaitForRequests(1));
  server_->Stop();
  auto responses = ReadResponses(*client, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  EXPECT_EQ(responses[0].body, R"({"done":true})");
  EXPECT_EQ(responses[0].Header("connection"), "close");
  EXPECT_TRUE(WaitForEof(*client));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0; }));
}

TEST_F(HttpServerTest, StopAnswersALateAnswerAndForceClosesAfterTheDrainLimit) {
  HttpServerOptions options = Options();
  options.drain_timeout_ms = 300;
  StartServer(options);
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OnClose([&] { ++on_close; });
    handler_.held.push_back(std::move(exchange));
  };
  auto late = RawClient::Unix(SocketPath());
  late->Send(Request("GET", "/late"));
  auto never = RawClient::Unix(SocketPath());
  never->Send(Request("GET", "/never"));
  ASSERT_TRUE(WaitForRequests(2));
  const auto start = std::chrono::steady_clock::now();
  server_->Stop();
  RunLoopFor(io_, milliseconds(50));
  EXPECT_EQ(server_->connections(), 2u);
  // Answered within the drain limit: written, then closed.
  handler_.held[0]->Respond(ApiResponse{});
  auto responses = ReadResponses(*late, 1);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].status, 200);
  // Never answered: closed at the limit, and the handler hears of it.
  ASSERT_TRUE(WaitForEof(*never));
  EXPECT_GE(std::chrono::steady_clock::now() - start, milliseconds(250));
  EXPECT_TRUE(never->data().empty());
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0 && on_close == 1; }));
  EXPECT_TRUE(handler_.held[1]->closed());
}

TEST_F(HttpServerTest, DestroyingTheServerStopsIt) {
  StartServer();
  int on_close = 0;
  handler_.on_request = [&](std::shared_ptr<HttpExchange> exchange) {
    exchange->OpenStream({});
    exchange->OnClose([&] { ++on_close; });
    handler_.held.push_back(std::move(exchange));
  };
  auto client = RawClient::Unix(SocketPath());
  client->Send(Request("GET", "/v1/events"));
  ASSERT_TRUE(WaitForRequests(1));
  server_.reset();
  EXPECT_EQ(handler_.shutdowns, 1);
  EXPECT_EQ(on_close, 1);  // before the server is gone, so it never runs after the handler is
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
  EXPECT_TRUE(handler_.held[0]->closed());
  EXPECT_TRUE(WaitForEof(*client));
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(on_close, 1);
}

// --- Starting ---

TEST_F(HttpServerTest, StartRefusesANonLoopbackHost) {
  for (const std::string host : {"0.0.0.0", "192.168.1.10", "::", "example.com", "10.0.0.1"}) {
    HttpServerOptions options = Options();
    options.tcp_host = host;
    auto started = HttpServer::Start(io_, &handler_, options);
    ASSERT_FALSE(started.ok()) << host;
    EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument) << host;
    EXPECT_THAT(started.status().message(), HasSubstr("loopback"));
    EXPECT_FALSE(std::filesystem::exists(SocketPath()));
  }
}

TEST_F(HttpServerTest, StartAcceptsLoopbackSpellings) {
  for (const std::string host : {"127.0.0.1", "localhost", "::1", "[::1]"}) {
    HttpServerOptions options = Options();
    options.unix_socket_path.clear();
    options.tcp_host = host;
    auto started = HttpServer::Start(io_, &handler_, options);
    if (!started.ok() && host.find(':') != std::string::npos) continue;  // no IPv6 here
    ASSERT_TRUE(started.ok()) << host << ": " << started.status().ToString();
    EXPECT_GT((*started)->tcp_port(), 0);
  }
}

TEST_F(HttpServerTest, StartRefusesTcpWithoutAToken) {
  HttpServerOptions options = Options();
  options.bearer_token.clear();
  auto started = HttpServer::Start(io_, &handler_, options);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(started.status().message(), HasSubstr("token"));
}

TEST_F(HttpServerTest, StartRefusesNothingToListenOn) {
  HttpServerOptions options;
  EXPECT_EQ(HttpServer::Start(io_, &handler_, options).status().code(),
            StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, StartRefusesARegularFileAtTheSocketPath) {
  const std::string path = dir_.Write("api.sock", "precious");
  auto started = HttpServer::Start(io_, &handler_, Options());
  ASSERT_FALSE(started.ok());
  EXPECT_THAT(started.status().message(), HasSubstr("not a socket"));
  EXPECT_THAT(started.status().message(), HasSubstr(path));
  EXPECT_EQ(testing::ReadFileBytes(path), "precious");
}

TEST_F(HttpServerTest, StartRefusesADirectoryAtTheSocketPath) {
  std::filesystem::create_directory(SocketPath());
  auto started = HttpServer::Start(io_, &handler_, Options());
  ASSERT_FALSE(started.ok());
  EXPECT_TRUE(std::filesystem::is_directory(SocketPath()));
}

TEST_F(HttpServerTest, StartRefusesATooLongSocketPath) {
  HttpServerOptions options = Options();
  options.unix_socket_path = dir_.File(std::string(120, 's'));
  auto started = HttpServer::Start(io_, &handler_, options);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(HttpServerTest, StartReportsAPortInUse) {
  asio::ip::tcp::acceptor taken(io_,
                                asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  const int port = taken.local_endpoint().port();
  HttpServerOptions options = Options();
  options.tcp_port = port;
  auto started = HttpServer::Start(io_, &handler_, options);
  ASSERT_FALSE(started.ok());
  EXPECT_EQ(started.status().message(),
            "cannot listen on 127.0.0.1:" + std::to_string(port) + ": address in use");
  // Nothing was left behind.
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
}

TEST_F(HttpServerTest, StaleSocketFileIsReplaced) {
  // A socket file whose owner is gone, as a crashed daemon leaves it.
  {
    const int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", SocketPath().c_str());
    ASSERT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
    close(fd);
  }
  ASSERT_TRUE(std::filesystem::is_socket(SocketPath()));
  StartServer();
  EXPECT_EQ(GetUnix("/v1/status").status, 200);
}

TEST_F(HttpServerTest, SocketFileIsPrivateAndRemovedOnStop) {
  StartServer();
  struct stat st;
  ASSERT_EQ(lstat(SocketPath().c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  server_->Stop();
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
}

TEST_F(HttpServerTest, UnixOnlyAndTcpOnly) {
  HttpServerOptions unix_only = Options();
  unix_only.tcp_host.clear();
  unix_only.bearer_token.clear();
  StartServer(unix_only);
  EXPECT_EQ(server_->tcp_port(), 0);
  EXPECT_EQ(GetUnix("/").status, 200);
  server_.reset();

  HttpServerOptions tcp_only = Options();
  tcp_only.unix_socket_path.clear();
  StartServer(tcp_only);
  EXPECT_FALSE(std::filesystem::exists(SocketPath()));
  CurlRequest r;
  r.url = TcpUrl("/");
  r.headers = {std::string("Authorization: Bearer ") + kToken};
  EXPECT_EQ(Fetch(io_, r).status, 200);
}

TEST_F(HttpServerTest, ConnectionsAreCounted) {
  StartServer();
  EXPECT_EQ(server_->connections(), 0u);
  auto a = RawClient::Unix(SocketPath());
  auto b = RawClient::Tcp(server_->tcp_port());
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 2; }));
  a->Close();
  a->Pump();
  b->Close();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->connections() == 0; }));
}

}  // namespace
}  // namespace troupe::http_test
