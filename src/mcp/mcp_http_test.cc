// Tests of mcp/mcp_http.h over FakeExchange, FakeClock and a fake McpToolHost: session ids,
// the status codes of the Streamable HTTP transport, JSON and SSE answers, the GET stream,
// DELETE, Origin checks, disconnects, idle expiry and shutdown.
#include "mcp/mcp_http.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "core/fake_clock.h"
#include "engine/testing/test_scripts.h"
#include "http/testing/fake_exchange.h"

namespace troupe {
namespace {

using nlohmann::json;
using testing::FakeExchange;

class HttpFakeCall : public McpCall {
 public:
  explicit HttpFakeCall(std::shared_ptr<bool> cancelled) : cancelled_(std::move(cancelled)) {}
  void Cancel() override { *cancelled_ = true; }

 private:
  std::shared_ptr<bool> cancelled_;
};

struct HeldCall {
  McpCallContext context;
  std::function<void(McpToolResult)> done;
  std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
};

// "echo" answers at once; "slow" waits for the test.
class HttpFakeHost : public McpToolHost {
 public:
  json ListTools() const override {
    json tools = json::array();
    for (const char* name : {"echo", "slow"}) {
      tools.push_back({{"name", name}, {"inputSchema", {{"type", "object"}}}});
    }
    return tools;
  }
  std::unique_ptr<McpCall> Call(const McpCallContext& context, const std::string& name,
                                const json& arguments,
                                std::function<void(McpToolResult)> done) override {
    contexts.push_back(context);
    if (name == "echo") {
      done(McpToolResult::Text(arguments.dump()));
      return nullptr;
    }
    auto held = std::make_shared<HeldCall>();
    held->context = context;
    held->done = std::move(done);
    calls.push_back(held);
    return std::make_unique<HttpFakeCall>(held->cancelled);
  }

  std::vector<McpCallContext> contexts;
  std::vector<std::shared_ptr<HeldCall>> calls;
};

std::string HeaderOf(const ApiResponse& r, const std::string& name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "";
}

class McpHttpTest : public ::testing::Test {
 protected:
  McpHttpTest() {
    McpHttpOptions options;
    options.max_sessions = 3;
    options.idle_expiry_ms = 60'000;
    options.session.instructions = "Use troupe.";
    handler_ = std::make_unique<McpHttpHandler>(&clock_, &host_, options);
  }

  std::shared_ptr<FakeExchange> Make(const std::string& method, const std::string& body,
                                     const std::string& session = "") {
    auto ex = FakeExchange::Make(method, "/mcp", body);
    ex->mutable_request().headers["accept"] = "application/json, text/event-stream";
    if (!session.empty()) ex->mutable_request().headers["mcp-session-id"] = session;
    return ex;
  }
  std::shared_ptr<FakeExchange> Post(const json& message, const std::string& session = "") {
    auto ex = Make("POST", message.dump(), session);
    handler_->Handle(ex);
    return ex;
  }
  static json Request(const json& id, const std::string& method, json params = nullptr) {
    json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) m["params"] = std::move(params);
    return m;
  }
  // Initializes a session and returns its id.
  std::string Initialize() {
    auto ex = Post(Request(1, "initialize",
                           {{"protocolVersion", "2025-06-18"},
                            {"capabilities", json::object()},
                            {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
    EXPECT_EQ(ex->status(), 200);
    std::string id = ex->response() ? HeaderOf(*ex->response(), "Mcp-Session-Id") : "";
    EXPECT_EQ(Post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, id)->status(),
              202);
    return id;
  }

  FakeClock clock_;
  HttpFakeHost host_;
  std::unique_ptr<McpHttpHandler> handler_;
};

TEST_F(McpHttpTest, InitializeAssignsASessionIdAndNegotiates) {
  auto ex = Post(Request(1, "initialize",
                         {{"protocolVersion", "2025-06-18"},
                          {"capabilities", json::object()},
                          {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->response()->content_type, "application/json");
  const std::string id = HeaderOf(*ex->response(), "Mcp-Session-Id");
  EXPECT_EQ(id.size(), 32u);
  EXPECT_EQ(id.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(ex->json()["id"], 1);
  EXPECT_EQ(ex->json()["result"]["protocolVersion"], "2025-06-18");
  EXPECT_EQ(ex->json()["result"]["instructions"], "Use troupe.");
  EXPECT_EQ(handler_->sessions(), 1u);
  EXPECT_NE(Initialize(), id);  // each initialize is a new session
}

TEST_F(McpHttpTest, RefusedInitializeKeepsNoSession) {
  auto ex = Post(Request(1, "initialize", {{"protocolVersion", 5}}));
  EXPECT_TRUE(ex->json().contains("error")) << ex->response()->body;
  EXPECT_EQ(HeaderOf(*ex->response(), "Mcp-Session-Id"), "");
  EXPECT_EQ(handler_->sessions(), 0u);
}

TEST_F(McpHttpTest, MissingSessionIs400AndUnknownIs404) {
  Initialize();
  EXPECT_EQ(Post(Request(2, "tools/list"))->status(), 400);
  auto unknown = Post(Request(2, "tools/list"), "0123");
  EXPECT_EQ(unknown->status(), 404);
  EXPECT_EQ(unknown->json()["error"]["code"], jsonrpc::kInvalidRequest);
}

TEST_F(McpHttpTest, NotificationIs202WithNoBody) {
  const std::string id = Initialize();
  auto ex = Post({{"jsonrpc", "2.0"}, {"method", "notifications/whatever"}}, id);
  EXPECT_EQ(ex->status(), 202);
  EXPECT_EQ(ex->response()->body, "");
  EXPECT_EQ(ex->response()->content_type, "");
}

TEST_F(McpHttpTest, ToolsListAndImmediateCallAnswerJson) {
  const std::string id = Initialize();
  auto list = Post(Request("a", "tools/list"), id);
  ASSERT_EQ(list->status(), 200);
  EXPECT_EQ(list->json()["id"], "a");
  EXPECT_EQ(list->json()["result"]["tools"].size(), 2u);
  auto call = Post(Request(3, "tools/call", {{"name", "echo"}, {"arguments", {{"x", 1}}}}), id);
  ASSERT_EQ(call->status(), 200);
  EXPECT_FALSE(call->streaming());
  EXPECT_EQ(call->json()["result"]["isError"], false);
  ASSERT_EQ(host_.contexts.size(), 1u);
  EXPECT_EQ(host_.contexts[0].session_id, id);
}

TEST_F(McpHttpTest, DeferredCallStreamsProgressThenTheResponse) {
  const std::string id = Initialize();
  auto ex =
      Post(Request(7, "tools/call", {{"name", "slow"}, {"_meta", {{"progressToken", "p1"}}}}), id);
  ASSERT_TRUE(ex->streaming());
  EXPECT_EQ(ex->stream_headers()[0].second, "text/event-stream");
  ASSERT_EQ(host_.calls.size(), 1u);
  host_.calls[0]->context.progress(1, 3, "working");
  EXPECT_FALSE(ex->closed());
  host_.calls[0]->done(McpToolResult::Text("finished"));
  EXPECT_TRUE(ex->closed());
  host_.calls[0]->context.progress(2, 3, "late");  // nothing follows the answer
  std::vector<json> events = testing::SseMessages(ex->streamed());
  ASSERT_EQ(events.size(), 2u) << ex->streamed();
  EXPECT_EQ(events[0]["method"], "notifications/progress");
  EXPECT_EQ(events[0]["params"]["progressToken"], "p1");
  EXPECT_EQ(events[0]["params"]["progress"], 1);
  EXPECT_EQ(events[1]["id"], 7);
  EXPECT_EQ(events[1]["result"]["content"][0]["text"], "finished");
  EXPECT_FALSE(*host_.calls[0]->cancelled);
}

TEST_F(McpHttpTest, ExplicitCancelEndsTheStreamWithoutAResponse) {
  const std::string id = Initialize();
  auto ex = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  ASSERT_TRUE(ex->streaming());
  auto cancel = Post(
      {{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 7}}}},
      id);
  EXPECT_EQ(cancel->status(), 202);
  EXPECT_TRUE(*host_.calls[0]->cancelled);
  EXPECT_TRUE(ex->closed());
  EXPECT_TRUE(testing::SseMessages(ex->streamed()).empty());
}

TEST_F(McpHttpTest, CancelForAnotherIdLeavesTheStreamOpen) {
  const std::string id = Initialize();
  auto ex = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  Post({{"jsonrpc", "2.0"}, {"method", "notifications/cancelled"}, {"params", {{"requestId", 8}}}},
       id);
  EXPECT_FALSE(ex->closed());
  EXPECT_FALSE(*host_.calls[0]->cancelled);
  host_.calls[0]->done(McpToolResult::Text("ok"));
  EXPECT_EQ(testing::SseMessages(ex->streamed()).size(), 1u);
}

TEST_F(McpHttpTest, DuplicateIdInFlightIs409) {
  const std::string id = Initialize();
  auto first = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  auto second = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  EXPECT_EQ(second->status(), 409);
  EXPECT_EQ(host_.calls.size(), 1u);
  EXPECT_FALSE(first->closed());
}

TEST_F(McpHttpTest, DisconnectMidStreamCancelsTheCall) {
  const std::string id = Initialize();
  auto ex = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  ASSERT_TRUE(ex->streaming());
  ex->Disconnect();
  clock_.RunDue();
  EXPECT_TRUE(*host_.calls[0]->cancelled);
  // The id is free again and the session still works.
  auto again = Post(Request(7, "tools/call", {{"name", "echo"}}), id);
  EXPECT_EQ(again->status(), 200);
}

TEST_F(McpHttpTest, SlowReaderLosingTheStreamCancelsTheCall) {
  const std::string id = Initialize();
  auto ex =
      Post(Request(7, "tools/call", {{"name", "slow"}, {"_meta", {{"progressToken", 1}}}}), id);
  ex->StopReading(10);
  host_.calls[0]->context.progress(1, std::nullopt, "a long enough progress message");
  EXPECT_TRUE(ex->closed());
  clock_.RunDue();
  EXPECT_TRUE(*host_.calls[0]->cancelled);
}

TEST_F(McpHttpTest, DeleteEndsTheSession) {
  const std::string id = Initialize();
  auto pending = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  auto del = Make("DELETE", "", id);
  handler_->Handle(del);
  EXPECT_EQ(del->status(), 204);
  EXPECT_TRUE(*host_.calls[0]->cancelled);
  EXPECT_TRUE(pending->closed());
  EXPECT_EQ(Post(Request(2, "tools/list"), id)->status(), 404);
  EXPECT_EQ(handler_->sessions(), 0u);
}

TEST_F(McpHttpTest, OriginMustBeLoopback) {
  const std::string id = Initialize();
  for (const char* bad : {"http://evil.example", "http://localhost.evil.example", "null",
                          "http://127.0.0.1.nip.io:80", "http://localhost:80x"}) {
    auto ex = Make("POST", Request(2, "tools/list").dump(), id);
    ex->mutable_request().headers["origin"] = bad;
    handler_->Handle(ex);
    EXPECT_EQ(ex->status(), 403) << bad;
  }
  for (const char* good : {"http://localhost", "http://localhost:3000", "http://127.0.0.1:8080",
                           "http://[::1]:5173", "https://LOCALHOST"}) {
    auto ex = Make("POST", Request(2, "tools/list").dump(), id);
    ex->mutable_request().headers["origin"] = good;
    handler_->Handle(ex);
    EXPECT_EQ(ex->status(), 200) << good;
  }
}

TEST_F(McpHttpTest, ProtocolVersionHeaderMustBeSupported) {
  const std::string id = Initialize();
  auto bad = Make("POST", Request(2, "tools/list").dump(), id);
  bad->mutable_request().headers["mcp-protocol-version"] = "2024-01-01";
  handler_->Handle(bad);
  EXPECT_EQ(bad->status(), 400);
  auto good = Make("POST", Request(2, "tools/list").dump(), id);
  good->mutable_request().headers["mcp-protocol-version"] = "2025-06-18";
  handler_->Handle(good);
  EXPECT_EQ(good->status(), 200);
}

TEST_F(McpHttpTest, InvalidJsonIs400WithAJsonRpcError) {
  const std::string id = Initialize();
  auto ex = Make("POST", "{not json", id);
  handler_->Handle(ex);
  EXPECT_EQ(ex->status(), 400);
  EXPECT_EQ(ex->json()["error"]["code"], jsonrpc::kParseError);
  EXPECT_TRUE(ex->json()["id"].is_null());
}

TEST_F(McpHttpTest, OversizedBodyIs413) {
  const std::string id = Initialize();
  auto ex = Make("POST", std::string(jsonrpc::kMaxMessageBytes + 1, ' '), id);
  handler_->Handle(ex);
  EXPECT_EQ(ex->status(), 413);
}

TEST_F(McpHttpTest, BodiesUpToTheJsonRpcLimitAreReadAndLargerOnesGetAJsonRpc413) {
  // The server's default body limit (1 MiB) is for the REST API; /mcp takes what JSON-RPC does.
  EXPECT_EQ(handler_->BodyLimit("/mcp"), jsonrpc::kMaxMessageBytes);
  std::optional<ApiResponse> refusal = handler_->BodyTooLarge("/mcp", jsonrpc::kMaxMessageBytes);
  ASSERT_TRUE(refusal.has_value());
  EXPECT_EQ(refusal->status, 413);
  const json body = json::parse(refusal->body);
  EXPECT_EQ(body["jsonrpc"], "2.0");
  EXPECT_TRUE(body["id"].is_null());
  EXPECT_EQ(body["error"]["code"], jsonrpc::kInvalidRequest);
  EXPECT_THAT(body["error"]["message"].get<std::string>(),
              ::testing::HasSubstr(std::to_string(jsonrpc::kMaxMessageBytes)));
  // A 2 MiB ping is a ping.
  const std::string id = Initialize();
  json ping = Request(7, "ping", {{"_meta", {{"pad", std::string(2 << 20, 'x')}}}});
  auto ex = Post(ping, id);
  EXPECT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["id"], 7);
  EXPECT_TRUE(ex->json()["result"].is_object());
}

TEST_F(McpHttpTest, InitializeMayResumeTheIdOfASessionThatIsGone) {
  auto init = [&](const std::string& resume) {
    auto ex = Make("POST", Request(1, "initialize",
                                   {{"protocolVersion", "2025-06-18"},
                                    {"capabilities", json::object()},
                                    {"clientInfo", {{"name", "t"}, {"version", "1"}}}})
                               .dump());
    if (!resume.empty()) ex->mutable_request().headers["troupe-resume-session"] = resume;
    handler_->Handle(ex);
    EXPECT_EQ(ex->status(), 200);
    return ex->response() ? HeaderOf(*ex->response(), "Mcp-Session-Id") : std::string();
  };
  const std::string live = init("");
  ASSERT_TRUE(IsSessionIdShape(live));
  const std::string gone(32, 'a');
  // A dead id of the right shape is given again; the session works under it.
  EXPECT_EQ(init(gone), gone);
  EXPECT_EQ(Post(Request(2, "ping"), gone)->status(), 200);
  // A live session's id, or one of another shape, is never handed out: a new id instead.
  const std::string other = init(live);
  EXPECT_NE(other, live);
  EXPECT_TRUE(IsSessionIdShape(other));
  for (const std::string& bad :
       std::vector<std::string>{"short", std::string(32, 'G'), std::string(33, 'a'), "../x"}) {
    const std::string made = init(bad);
    EXPECT_NE(made, bad);
    EXPECT_TRUE(IsSessionIdShape(made)) << made;
  }
}

TEST_F(McpHttpTest, OtherMethodsAre405) {
  auto ex = Make("PUT", "");
  handler_->Handle(ex);
  EXPECT_EQ(ex->status(), 405);
  EXPECT_EQ(HeaderOf(*ex->response(), "Allow"), "GET, POST, DELETE");
}

TEST_F(McpHttpTest, GetStreamCarriesMessagesTiedToNoRequest) {
  const std::string id = Initialize();
  auto get = Make("GET", "", id);
  get->mutable_request().headers["accept"] = "text/event-stream";
  handler_->Handle(get);
  ASSERT_TRUE(get->streaming());
  // A request's progress never goes to the GET stream; with no token it is simply not sent.
  auto call = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  host_.calls[0]->done(McpToolResult::Text("x"));
  EXPECT_EQ(testing::SseMessages(call->streamed()).size(), 1u);
  EXPECT_TRUE(testing::SseMessages(get->streamed()).empty());
  handler_->Log(McpLogLevel::kWarning, "pool", "all busy");
  handler_->Log(McpLogLevel::kDebug, "pool", "below the default level");
  std::vector<json> logged = testing::SseMessages(get->streamed());
  ASSERT_EQ(logged.size(), 1u) << get->streamed();
  EXPECT_EQ(logged[0]["method"], "notifications/message");
  EXPECT_EQ(logged[0]["params"]["data"], "all busy");
  EXPECT_EQ(logged[0]["params"]["level"], "warning");
  // A second GET replaces the first.
  auto get2 = Make("GET", "", id);
  get2->mutable_request().headers["accept"] = "text/event-stream";
  handler_->Handle(get2);
  EXPECT_TRUE(get->closed());
  EXPECT_FALSE(get2->closed());
  auto no_accept = Make("GET", "", id);
  no_accept->mutable_request().headers["accept"] = "application/json";
  handler_->Handle(no_accept);
  EXPECT_EQ(no_accept->status(), 406);
}

TEST_F(McpHttpTest, IdleSessionsExpireButBusyOnesStay) {
  const std::string idle = Initialize();
  const std::string busy = Initialize();
  auto call = Post(Request(7, "tools/call", {{"name", "slow"}}), busy);
  clock_.AdvanceMs(61'000);
  EXPECT_EQ(Post(Request(2, "tools/list"), idle)->status(), 404);
  EXPECT_EQ(Post(Request(2, "tools/list"), busy)->status(), 200);
}

TEST_F(McpHttpTest, FullTableEvictsTheLeastRecentlyUsedIdleSession) {
  const std::string a = Initialize();
  clock_.AdvanceMs(10);
  const std::string b = Initialize();
  clock_.AdvanceMs(10);
  const std::string c = Initialize();
  auto busy = Post(Request(7, "tools/call", {{"name", "slow"}}), a);  // a is busy
  const std::string d = Initialize();
  EXPECT_FALSE(d.empty());
  EXPECT_EQ(handler_->sessions(), 3u);
  EXPECT_EQ(Post(Request(2, "tools/list"), b)->status(), 404);
  EXPECT_EQ(Post(Request(2, "tools/list"), c)->status(), 200);
}

TEST_F(McpHttpTest, ShutdownClosesStreamsAndRefusesLaterRequests) {
  const std::string id = Initialize();
  auto call = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  auto get = Make("GET", "", id);
  handler_->Handle(get);
  ASSERT_TRUE(get->streaming());
  handler_->Shutdown();
  EXPECT_TRUE(call->closed());
  EXPECT_TRUE(get->closed());
  EXPECT_TRUE(*host_.calls[0]->cancelled);
  EXPECT_EQ(Post(Request(2, "tools/list"), id)->status(), 503);
  host_.calls[0]->done(McpToolResult::Text("late"));  // ignored, nothing crashes
}

TEST_F(McpHttpTest, HandlerDestroyedWithAPendingCancelTimer) {
  const std::string id = Initialize();
  auto ex = Post(Request(7, "tools/call", {{"name", "slow"}}), id);
  ex->Disconnect();
  handler_.reset();
  clock_.RunDue();                          // the deferred cancel finds no handler and does nothing
  EXPECT_TRUE(*host_.calls[0]->cancelled);  // the session's Close cancelled it
}

}  // namespace
}  // namespace troupe
