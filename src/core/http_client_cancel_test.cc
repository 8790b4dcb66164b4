// Cancelling calls at every stage, many concurrent calls, and destroying the client mid-flight.
#include "core/http_client.h"
#include "core/http_client_test_fixture.h"

namespace troupe::http_client_testing {
namespace {

// --- Cancellation -------------------------------------------------------------------------

TEST_F(HttpClientTest, CancelBeforeConnectRunsNoCallbackAndOpensNoConnection) {
  Outcome o;
  auto call = client_->Start(Get(server_->Url("/")), Record(&o));
  EXPECT_EQ(client_->active_calls(), 1u);
  call->Cancel();
  call->Cancel();  // idempotent
  EXPECT_EQ(client_->active_calls(), 0u);
  RunLoopFor(io_, milliseconds(50));
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(server_->accepted_connections(), 0);
}

TEST_F(HttpClientTest, CancelWhileWaitingForTheResponseClosesTheConnection) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.never_answer = true;
    return r;
  });
  Outcome o;
  auto call = client_->Start(Get(server_->Url("/")), Record(&o));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->requests().size() == 1; }));
  call->Cancel();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 1; }));
  EXPECT_TRUE(o.events.empty());
  EXPECT_EQ(client_->active_calls(), 0u);
}

TEST_F(HttpClientTest, CancelInsideOnHeadStopsBodyAndDone) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"never seen"}, {"nor this", 20}};
    return r;
  });
  Outcome o;
  std::unique_ptr<HttpCall> call;
  HttpCallbacks cb = Record(&o);
  cb.on_head = [&, record = cb.on_head](const HttpResponseHead& head) {
    record(head);
    call->Cancel();
  };
  call = client_->Start(Get(server_->Url("/")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 1; }));
  RunLoopFor(io_, milliseconds(30));
  EXPECT_EQ(o.events, Events({"head"}));
}

TEST_F(HttpClientTest, DestroyingTheHandleInsideOnDataCancels) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"first"}, {"second", 20}, {"third", 20}};
    return r;
  });
  Outcome o;
  std::unique_ptr<HttpCall> call;
  HttpCallbacks cb = Record(&o);
  cb.on_data = [&, record = cb.on_data](std::string_view chunk) {
    record(chunk);
    call.reset();  // destroying the handle from inside its own callback is allowed
  };
  call = client_->Start(Get(server_->Url("/")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 1; }));
  RunLoopFor(io_, milliseconds(60));
  EXPECT_EQ(o.events, Events({"head", "data"}));
  EXPECT_EQ(o.body, "first");
  EXPECT_EQ(client_->active_calls(), 0u);
}

TEST_F(HttpClientTest, CancelInsideOnDataOfTheSameCall) {
  server_->SetHandler([](const RecordedRequest&) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"first"}, {"second", 20}};
    return r;
  });
  Outcome o;
  std::unique_ptr<HttpCall> call;
  HttpCallbacks cb = Record(&o);
  cb.on_data = [&, record = cb.on_data](std::string_view chunk) {
    record(chunk);
    call->Cancel();
    call->Cancel();
  };
  call = client_->Start(Get(server_->Url("/")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 1; }));
  RunLoopFor(io_, milliseconds(40));
  EXPECT_EQ(o.events, Events({"head", "data"}));
}

TEST_F(HttpClientTest, CancelInsideOnDoneOfAnotherCall) {
  server_->SetHandler([](const RecordedRequest& req) {
    ScriptedResponse r = ScriptedResponse::Text(200, "quick");
    if (req.target == "/slow") r.never_answer = true;
    return r;
  });
  Outcome slow, quick;
  auto slow_call = client_->Start(Get(server_->Url("/slow")), Record(&slow));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->requests().size() == 1; }));
  HttpCallbacks cb = Record(&quick);
  cb.on_done = [&, record = cb.on_done](Status s, HttpErrorKind k) {
    record(std::move(s), k);
    slow_call->Cancel();
  };
  auto quick_call = client_->Start(Get(server_->Url("/quick")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return quick.done() && server_->peer_closes() == 1; }));
  EXPECT_TRUE(quick.status.ok());
  EXPECT_TRUE(slow.events.empty());
  quick_call->Cancel();  // after done: no effect
  EXPECT_EQ(client_->active_calls(), 0u);
}

TEST_F(HttpClientTest, CallsQueuedInTheSameTurnAsAFailureStillDeliverInOrder) {
  // Both calls finish in one loop turn; the first callback cancels the second one mid-delivery.
  Outcome a, b;
  std::unique_ptr<HttpCall> call_b;
  HttpCallbacks cb = Record(&a);
  cb.on_done = [&, record = cb.on_done](Status s, HttpErrorKind k) {
    record(std::move(s), k);
    call_b->Cancel();
  };
  auto call_a = client_->Start(Get("bad://a"), std::move(cb));
  call_b = client_->Start(Get("bad://b"), Record(&b));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return a.done(); }));
  RunLoopFor(io_, milliseconds(20));
  EXPECT_EQ(b.done_count, 0);
}

// --- Scale and teardown -------------------------------------------------------------------

TEST_F(HttpClientTest, TwoHundredConcurrentStreamsComplete) {
  constexpr int kCalls = 200;
  server_->SetHandler([](const RecordedRequest& req) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{req.target + ":a"}, {req.target + ":b", 5}, {req.target + ":c", 5}};
    return r;
  });
  std::vector<Outcome> outcomes(kCalls);
  std::vector<std::unique_ptr<HttpCall>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(
        client_->Start(Get(server_->Url("/s" + std::to_string(i))), Record(&outcomes[i])));
  }
  EXPECT_EQ(client_->active_calls(), static_cast<size_t>(kCalls));
  int finished = 0;
  ASSERT_TRUE(RunLoopUntil(io_, [&] {
    finished = 0;
    for (const Outcome& o : outcomes) finished += o.done() ? 1 : 0;
    return finished == kCalls;
  }));
  for (int i = 0; i < kCalls; ++i) {
    const std::string t = "/s" + std::to_string(i);
    ASSERT_TRUE(outcomes[i].status.ok()) << i << ": " << outcomes[i].status.ToString();
    EXPECT_EQ(outcomes[i].body, t + ":a" + t + ":b" + t + ":c");
    EXPECT_EQ(outcomes[i].events.front(), "head");
    EXPECT_EQ(outcomes[i].done_count, 1);
  }
  EXPECT_EQ(client_->active_calls(), 0u);
}

TEST_F(HttpClientTest, DestroyingTheClientAbortsCallsWithoutCallbacks) {
  auto never = std::make_shared<TestGate>();
  server_->SetHandler([&](const RecordedRequest& req) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"start"}, {"end", 0, never}};
    if (req.target == "/silent") r.never_answer = true;
    return r;
  });
  constexpr int kCalls = 10;
  std::vector<Outcome> outcomes(kCalls);
  std::vector<std::unique_ptr<HttpCall>> calls;
  for (int i = 0; i < kCalls; ++i) {
    calls.push_back(
        client_->Start(Get(server_->Url(i % 2 ? "/silent" : "/stream")), Record(&outcomes[i])));
  }
  ASSERT_TRUE(
      RunLoopUntil(io_, [&] { return server_->requests().size() == static_cast<size_t>(kCalls); }));
  RunLoopFor(io_, milliseconds(20));
  for (Outcome& o : outcomes) o.events.clear();

  client_.reset();
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == kCalls; }));
  for (const Outcome& o : outcomes) EXPECT_TRUE(o.events.empty());
  for (auto& call : calls) call->Cancel();  // the client is gone: harmless
  calls.clear();
}

TEST_F(HttpClientTest, DestroyingTheClientInsideACallbackStopsEverything) {
  server_->SetHandler([](const RecordedRequest& req) {
    ScriptedResponse r;
    r.framing = Framing::kChunked;
    r.body = {{"x"}, {"y", 50}};
    return r;
  });
  Outcome first, other;
  HttpCallbacks cb = Record(&first);
  cb.on_data = [&, record = cb.on_data](std::string_view chunk) {
    record(chunk);
    client_.reset();
  };
  auto other_call = client_->Start(Get(server_->Url("/other")), Record(&other));
  auto first_call = client_->Start(Get(server_->Url("/first")), std::move(cb));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return client_ == nullptr; }));
  ASSERT_TRUE(RunLoopUntil(io_, [&] { return server_->peer_closes() == 2; }));
  EXPECT_EQ(first.events, Events({"head", "data"}));
  EXPECT_FALSE(other.done());
  first_call.reset();
  other_call.reset();
}

}  // namespace
}  // namespace troupe::http_client_testing
