#include "core/http_client.h"

#include "core/http_client_test_fixture.h"

namespace troupe::http_client_testing {
namespace {

TEST_F(HttpClientTest, GetSendsHeadersAndReceivesHeadThenBody) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(200, "hello");
    r.headers.push_back({"X-Reply", "yes"});
    return r;
  });
  HttpRequest request = Get(server_->Url("/path?q=1"));
  request.headers.push_back({"X-Custom", "v"});
  request.headers.push_back({"X-Empty", ""});
  Outcome o = Fetch(request);

  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.kind, HttpErrorKind::kNone);
  EXPECT_EQ(o.events, Events({"head", "data", "done"}));
  ASSERT_TRUE(o.head.has_value());
  EXPECT_EQ(o.head->status, 200);
  EXPECT_EQ(o.head->Header("x-reply"), "yes");
  EXPECT_EQ(o.head->Header("CONTENT-TYPE"), "text/plain");
  EXPECT_EQ(o.body, "hello");

  ASSERT_EQ(server_->requests().size(), 1u);
  const RecordedRequest& got = server_->requests()[0];
  EXPECT_EQ(got.method, "GET");
  EXPECT_EQ(got.target, "/path?q=1");
  EXPECT_EQ(got.Header("x-custom"), "v");
  EXPECT_EQ(got.Header("x-empty"), "");
  EXPECT_THAT(got.Header("user-agent").value_or(""), HasSubstr("troupe/"));
  EXPECT_EQ(got.Header("content-type"), std::nullopt);
  EXPECT_EQ(client_->active_calls(), 0u);
}

TEST_F(HttpClientTest, PostSendsBodyAndOnlyTheGivenContentType) {
  server_->SetHandler([](const RecordedRequest& req) {
    return ScriptedResponse::Text(201, "got " + std::to_string(req.body.size()));
  });
  HttpRequest request;
  request.url = server_->Url("/v1/chat");
  request.headers.push_back({"Content-Type", "application/json"});
  request.body = std::string(5000, 'x');  // large enough for libcurl to consider Expect
  Outcome o = Fetch(request);

  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.head->status, 201);
  EXPECT_EQ(o.body, "got 5000");
  const RecordedRequest& got = server_->requests().at(0);
  EXPECT_EQ(got.method, "POST");
  EXPECT_EQ(got.body, request.body);
  EXPECT_EQ(got.Header("content-type"), "application/json");
  EXPECT_EQ(got.Header("expect"), std::nullopt);
}

TEST_F(HttpClientTest, OtherMethodsAndHead) {
  HttpRequest del = Get(server_->Url("/x"));
  del.method = "DELETE";
  EXPECT_TRUE(Fetch(del).status.ok());
  HttpRequest put = Get(server_->Url("/y"));
  put.method = "PUT";
  put.body = "data";
  EXPECT_TRUE(Fetch(put).status.ok());
  HttpRequest head = Get(server_->Url("/z"));
  head.method = "HEAD";
  Outcome o = Fetch(head);
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.events, Events({"head", "done"}));

  ASSERT_EQ(server_->requests().size(), 3u);
  EXPECT_EQ(server_->requests()[0].method, "DELETE");
  EXPECT_EQ(server_->requests()[0].body, "");
  EXPECT_EQ(server_->requests()[1].method, "PUT");
  EXPECT_EQ(server_->requests()[1].body, "data");
  EXPECT_EQ(server_->requests()[2].method, "HEAD");
}

TEST_F(HttpClientTest, ErrorStatusIsAResponseNotAFailure) {
  server_->SetHandler([](const RecordedRequest&) { return ScriptedResponse::Text(500, "boom"); });
  Outcome o = Fetch(Get(server_->Url("/")));
  EXPECT_TRUE(o.status.ok());
  EXPECT_EQ(o.head->status, 500);
  EXPECT_EQ(o.body, "boom");
}

TEST_F(HttpClientTest, StreamsChunksAsTheyArrive) {
  // The server holds each chunk back until the client has delivered the previous one, so the
  // call completes only if chunks are delivered while the response is still open.
  auto second = std::make_shared<TestGate>();
  auto third = std::make_shared<TestGate>();
  server_->SetHandler([&](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"one"}, {"two", 0, second}, {"three", 0, third}};
    return r;
  });
  Outcome o;
  HttpCallbacks cb = Record(&o);
  cb.on_data = [&, record = cb.on_data](std::string_view chunk) {
    record(chunk);
    if (chunk == "one") second->Open();
    if (chunk == "two") third->Open();
  };
  auto call = client_->Start(Get(server_->Url("/stream")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return o.done(); }));
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.chunks, (std::vector<std::string>{"one", "two", "three"}));
  EXPECT_EQ(o.events, Events({"head", "data", "data", "data", "done"}));
}

TEST_F(HttpClientTest, SequentialRequestsReuseOneConnection) {
  Outcome first, second, third;
  std::unique_ptr<HttpCall> second_call;
  HttpCallbacks cb = Record(&first);
  cb.on_done = [&, record = cb.on_done](Status s, HttpErrorKind k) {
    record(std::move(s), k);
    // Started from inside a callback: the connection is back in the cache by now.
    second_call = client_->Start(Get(server_->Url("/2")), Record(&second));
  };
  auto first_call = client_->Start(Get(server_->Url("/1")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return second.done(); }));
  auto third_call = client_->Start(Get(server_->Url("/3")), Record(&third));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return third.done(); }));

  EXPECT_TRUE(first.status.ok() && second.status.ok() && third.status.ok());
  EXPECT_EQ(server_->requests().size(), 3u);
  EXPECT_EQ(server_->accepted_connections(), 1);
}

TEST_F(HttpClientTest, ManySequentialConnectionsReuseFdNumbers) {
  // Each response closes its connection, so libcurl closes and reopens sockets and the kernel
  // hands out the same fd numbers again.
  server_->SetHandler([](const RecordedRequest& req) {
    ScriptedResponse r = ScriptedResponse::Text(200, req.target);
    r.close_after = true;
    return r;
  });
  for (int i = 0; i < 30; ++i) {
    Outcome o = Fetch(Get(server_->Url("/n" + std::to_string(i))));
    ASSERT_TRUE(o.status.ok()) << i << ": " << o.status.ToString();
    EXPECT_EQ(o.body, "/n" + std::to_string(i));
  }
  EXPECT_EQ(server_->accepted_connections(), 30);
}

TEST_F(HttpClientTest, ConnectionRefusedIsAConnectError) {
  auto port = testing::UnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  const std::string url = "http://127.0.0.1:" + std::to_string(*port) + "/v1/x";
  Outcome o = Fetch(Get(url + "?key=secret"));
  EXPECT_EQ(o.kind, HttpErrorKind::kConnect);
  EXPECT_EQ(o.status.code(), StatusCode::kUnavailable);
  EXPECT_THAT(o.status.message(), HasSubstr("GET " + url));
  EXPECT_THAT(o.status.message(), ::testing::Not(HasSubstr("secret")));
  EXPECT_EQ(o.events, Events({"done"}));
}

TEST_F(HttpClientTest, TlsHandshakeWithAPlainServerIsAConnectError) {
  Outcome o = Fetch(Get("https://127.0.0.1:" + std::to_string(server_->port()) + "/"));
  EXPECT_EQ(o.kind, HttpErrorKind::kConnect) << o.status.ToString();
  EXPECT_EQ(o.events, Events({"done"}));
}

TEST_F(HttpClientTest, ServerClosingMidBodyIsAReset) {
  for (Framing framing : {Framing::kContentLength, Framing::kChunked}) {
    server_->SetHandler([framing](const RecordedRequest&) {
      ScriptedResponse r;
      r.framing = framing;
      r.body = {{"partial"}, {"", 20}};
      r.close_mid_body = true;
      return r;
    });
    Outcome o = Fetch(Get(server_->Url("/cut")));
    EXPECT_EQ(o.kind, HttpErrorKind::kReset) << o.status.ToString();
    EXPECT_EQ(o.status.code(), StatusCode::kUnavailable);
    EXPECT_THAT(o.status.message(), HasSubstr(server_->Url("/cut")));
    EXPECT_EQ(o.events, Events({"head", "data", "done"}));
    EXPECT_EQ(o.body, "partial");
  }
}

TEST_F(HttpClientTest, IdleTimeoutFiresWhenTheServerStallsMidBody) {
  auto never = std::make_shared<TestGate>();
  server_->SetHandler([&](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"a"}, {"b", 0, never}};
    return r;
  });
  HttpRequest request = Get(server_->Url("/stall"));
  request.idle_timeout_ms = 150;
  Outcome o = Fetch(request);
  EXPECT_EQ(o.kind, HttpErrorKind::kIdleTimeout);
  EXPECT_EQ(o.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(o.status.message(), HasSubstr(server_->Url("/stall")));
  EXPECT_EQ(o.events, Events({"head", "data", "done"}));
  EXPECT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 1; }));
}

TEST_F(HttpClientTest, IdleTimeoutCountsFromStartWhenNothingArrives) {
  server_->set_stall_after_accept(true);
  HttpRequest request = Get(server_->Url("/"));
  request.idle_timeout_ms = 100;
  Outcome o = Fetch(request);
  EXPECT_EQ(o.kind, HttpErrorKind::kIdleTimeout);
  EXPECT_EQ(o.events, Events({"done"}));
}

TEST_F(HttpClientTest, IdleTimeoutIsRearmedByEveryByte) {
  // Eight pieces 100 ms apart: the response takes longer than the idle timeout, but no gap does.
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    for (int i = 0; i < 8; ++i) r.body.push_back({std::to_string(i), 100});
    return r;
  });
  HttpRequest request = Get(server_->Url("/slow"));
  request.idle_timeout_ms = 600;
  Outcome o = Fetch(request);
  EXPECT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.body, "01234567");
}

TEST_F(HttpClientTest, TotalTimeoutWhenTheServerNeverAnswers) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.never_answer = true;
    return r;
  });
  HttpRequest request = Get(server_->Url("/"));
  request.total_timeout_ms = 100;
  Outcome o = Fetch(request);
  EXPECT_EQ(o.kind, HttpErrorKind::kTimeout);
  EXPECT_EQ(o.status.code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(o.events, Events({"done"}));
}

TEST_F(HttpClientTest, InterimResponsesAreSkipped) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r = ScriptedResponse::Text(200, "final");
    r.interim_statuses = {100, 103};
    return r;
  });
  Outcome o = Fetch(Get(server_->Url("/")));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  EXPECT_EQ(o.head->status, 200);
  EXPECT_EQ(o.head->Header("x-interim"), std::nullopt);
  EXPECT_EQ(o.events, Events({"head", "data", "done"}));
}

TEST_F(HttpClientTest, RedirectsAreReturnedUnlessRequested) {
  server_->SetHandler([](const RecordedRequest& req) {
    if (req.target == "/final") return ScriptedResponse::Text(200, "final");
    ScriptedResponse r = ScriptedResponse::Text(302, "moved");
    r.headers.push_back({"Location", "/final"});
    return r;
  });
  Outcome kept = Fetch(Get(server_->Url("/start")));
  EXPECT_TRUE(kept.status.ok());
  EXPECT_EQ(kept.head->status, 302);
  EXPECT_EQ(kept.head->Header("location"), "/final");
  EXPECT_EQ(kept.body, "moved");
  EXPECT_EQ(server_->requests().size(), 1u);

  HttpRequest follow = Get(server_->Url("/start"));
  follow.max_redirects = 3;
  Outcome followed = Fetch(follow);
  EXPECT_TRUE(followed.status.ok());
  EXPECT_EQ(followed.head->status, 200);
  EXPECT_EQ(followed.body, "final");
  EXPECT_EQ(followed.events, Events({"head", "data", "done"}));
  EXPECT_EQ(server_->requests().size(), 3u);
}

TEST_F(HttpClientTest, InvalidRequestFailsFromTheLoopNotFromStart) {
  for (std::string url : {"ftp://127.0.0.1/x", "127.0.0.1/no-scheme", "http://a\r\nX: y"}) {
    Outcome o;
    auto call = client_->Start(Get(url), Record(&o));
    EXPECT_FALSE(o.done());  // not from inside Start
    ASSERT_TRUE(RunLoopUntil(io_, [&] { return o.done(); }));
    EXPECT_EQ(o.kind, HttpErrorKind::kOther);
    EXPECT_EQ(o.status.code(), StatusCode::kInvalidArgument) << o.status.ToString();
  }
  HttpRequest bad_header = Get(server_->Url("/"));
  bad_header.headers.push_back({"X-Injected", "a\r\nEvil: 1"});
  EXPECT_EQ(Fetch(bad_header).status.code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(server_->requests().empty());
}

TEST_F(HttpClientTest, ProxyIsTakenFromTheEnvironment) {
  // The test server plays the proxy: it receives the absolute URL.
  setenv("http_proxy", server_->Url("").c_str(), 1);
  Outcome o = Fetch(Get("http://example.invalid/via-proxy"));
  ASSERT_TRUE(o.status.ok()) << o.status.ToString();
  ASSERT_EQ(server_->requests().size(), 1u);
  EXPECT_EQ(server_->requests()[0].target, "http://example.invalid/via-proxy");

  // no_proxy bypasses it: a proxy that refuses connections is not used for 127.0.0.1.
  auto port = testing::UnusedLoopbackPort();
  ASSERT_TRUE(port.ok());
  setenv("http_proxy", ("http://127.0.0.1:" + std::to_string(*port)).c_str(), 1);
  setenv("no_proxy", "127.0.0.1", 1);
  Outcome direct = Fetch(Get(server_->Url("/direct")));
  EXPECT_TRUE(direct.status.ok()) << direct.status.ToString();
  EXPECT_EQ(server_->requests().at(1).target, "/direct");
}

}  // namespace
}  // namespace troupe::http_client_testing
