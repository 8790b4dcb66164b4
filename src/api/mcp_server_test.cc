// Tests of api/mcp_server.h over a fake McpToolHost: the lifecycle on each protocol version,
// version negotiation, pagination, the error for each malformed request (table-driven),
// deferred results, progress, cancellation, logging, ids echoed with their type, and junk.
#include "api/mcp_server.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

namespace troupe {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;

// A tool call the fake host keeps for the test to finish, report progress on, or see cancelled.
struct PendingCall {
  McpCallContext context;
  std::string name;
  json arguments;
  std::function<void(McpToolResult)> done;
  std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
};

class FakeCall : public McpCall {
 public:
  explicit FakeCall(std::shared_ptr<bool> cancelled) : cancelled_(std::move(cancelled)) {}
  void Cancel() override { *cancelled_ = true; }

 private:
  std::shared_ptr<bool> cancelled_;
};

// Tools: "echo" answers at once (text = arguments, structured = arguments), "fail" answers at
// once with isError, "slow" waits for the test, "throw" throws; plus `extra` filler tools.
class FakeToolHost : public McpToolHost {
 public:
  explicit FakeToolHost(int extra = 0) : extra_(extra) {}

  json ListTools() const override {
    json tools = json::array();
    for (const char* name : {"echo", "fail", "slow", "throw"}) {
      tools.push_back({{"name", name}, {"inputSchema", {{"type", "object"}}}});
    }
    for (int i = 0; i < extra_; ++i) {
      tools.push_back(
          {{"name", "extra" + std::to_string(i)}, {"inputSchema", {{"type", "object"}}}});
    }
    return tools;
  }

  std::unique_ptr<McpCall> Call(const McpCallContext& context, const std::string& name,
                                const json& arguments,
                                std::function<void(McpToolResult)> done) override {
    contexts.push_back(context);
    if (name == "throw") throw std::runtime_error("tool host exploded");
    if (name == "echo") {
      McpToolResult result = McpToolResult::Text(arguments.dump());
      result.structured = arguments;
      done(std::move(result));
      return nullptr;
    }
    if (name == "fail") {
      done(McpToolResult::Error("it failed"));
      return std::make_unique<FakeCall>(std::make_shared<bool>(false));
    }
    auto pending = std::make_shared<PendingCall>();
    pending->context = context;
    pending->name = name;
    pending->arguments = arguments;
    pending->done = std::move(done);
    pending_.push_back(pending);
    return std::make_unique<FakeCall>(pending->cancelled);
  }

  std::shared_ptr<PendingCall> pending(size_t i) { return pending_.at(i); }
  size_t pending_count() const { return pending_.size(); }

  std::vector<McpCallContext> contexts;

 private:
  int extra_;
  std::vector<std::shared_ptr<PendingCall>> pending_;
};

class McpSessionTest : public ::testing::Test {
 protected:
  explicit McpSessionTest(int extra_tools = 0, size_t page_size = 50) : host_(extra_tools) {
    McpSessionOptions options;
    options.session_id = "s1";
    options.instructions = "Delegate work to troupe agents.";
    options.page_size = page_size;
    session_ = std::make_unique<McpSession>(&host_, options,
                                            [this](json message) { sent_.push_back(message); });
  }

  // Receives `message` and returns what was sent in answer (and cleared).
  std::vector<json> Exchange(const json& message) { return ExchangeText(message.dump()); }
  std::vector<json> ExchangeText(const std::string& text) {
    sent_.clear();
    session_->Receive(text);
    std::vector<json> out = std::move(sent_);
    sent_.clear();
    return out;
  }
  // Sends a request and returns the one response.
  json Call(const json& id, const std::string& method, json params = nullptr) {
    json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
    if (!params.is_null()) message["params"] = std::move(params);
    std::vector<json> out = Exchange(message);
    EXPECT_EQ(out.size(), 1u) << message.dump();
    return out.empty() ? json() : out[0];
  }
  void Notify(const std::string& method, json params = nullptr) {
    json message = {{"jsonrpc", "2.0"}, {"method", method}};
    if (!params.is_null()) message["params"] = std::move(params);
    EXPECT_TRUE(Exchange(message).empty()) << message.dump();
  }
  json Initialize(const std::string& version = "2025-11-25") {
    json response = Call(0, "initialize",
                         {{"protocolVersion", version},
                          {"capabilities", json::object()},
                          {"clientInfo", {{"name", "test-client"}, {"version", "1"}}}});
    Notify("notifications/initialized");
    return response;
  }
  json ToolCall(const json& id, const std::string& name, json arguments = json::object(),
                json meta = nullptr) {
    json params = {{"name", name}, {"arguments", std::move(arguments)}};
    if (!meta.is_null()) params["_meta"] = std::move(meta);
    return {{"jsonrpc", "2.0"}, {"id", id}, {"method", "tools/call"}, {"params", params}};
  }

  FakeToolHost host_;
  std::vector<json> sent_;
  std::unique_ptr<McpSession> session_;
};

void ExpectError(const json& response, const json& id, int code, const std::string& what) {
  EXPECT_EQ(response.value("jsonrpc", ""), "2.0") << response.dump();
  EXPECT_EQ(response["id"], id) << response.dump();
  ASSERT_TRUE(response.contains("error")) << response.dump();
  EXPECT_EQ(response["error"]["code"], code) << response.dump();
  EXPECT_THAT(response["error"]["message"].get<std::string>(), HasSubstr(what));
}

// ---- lifecycle, per version ----

class McpLifecycleTest : public McpSessionTest,
                         public ::testing::WithParamInterface<const char*> {};

TEST_P(McpLifecycleTest, WholeLifecycle) {
  const std::string version = GetParam();
  json init = Call(1, "initialize",
                   {{"protocolVersion", version},
                    {"capabilities", {{"roots", json::object()}}},
                    {"clientInfo", {{"name", "claude-code"}, {"version", "2.0"}}}});
  ASSERT_TRUE(init.contains("result")) << init.dump();
  EXPECT_EQ(init["id"], 1);
  const json& result = init["result"];
  EXPECT_EQ(result["protocolVersion"], version);
  EXPECT_EQ(result["serverInfo"],
            json({{"name", "troupe"}, {"title", "troupe"}, {"version", "0.1.0"}}));
  EXPECT_EQ(result["capabilities"],
            json({{"tools", {{"listChanged", false}}}, {"logging", json::object()}}));
  EXPECT_EQ(result["instructions"], "Delegate work to troupe agents.");
  EXPECT_TRUE(session_->initialized());
  EXPECT_FALSE(session_->ready());
  EXPECT_EQ(session_->protocol_version(), version);
  EXPECT_EQ(session_->client_info()["name"], "claude-code");

  Notify("notifications/initialized");
  EXPECT_TRUE(session_->ready());

  EXPECT_EQ(Call(2, "ping"), json({{"jsonrpc", "2.0"}, {"id", 2}, {"result", json::object()}}));
  EXPECT_EQ(Call(3, "logging/setLevel", {{"level", "warning"}})["result"], json::object());

  json list = Call(4, "tools/list");
  ASSERT_TRUE(list.contains("result"));
  EXPECT_EQ(list["result"]["tools"].size(), 4u);
  EXPECT_FALSE(list["result"].contains("nextCursor"));

  std::vector<json> out = Exchange(ToolCall(5, "echo", {{"x", 1}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["id"], 5);
  EXPECT_EQ(out[0]["result"]["content"], json::array({{{"type", "text"}, {"text", R"({"x":1})"}}}));
  EXPECT_EQ(out[0]["result"]["structuredContent"], json({{"x", 1}}));
  EXPECT_EQ(out[0]["result"]["isError"], false);
  EXPECT_EQ(host_.contexts.back().session_id, "s1");

  out = Exchange(ToolCall(6, "fail"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["result"]["isError"], true);
  EXPECT_FALSE(out[0]["result"].contains("structuredContent"));

  session_->Close();
  EXPECT_TRUE(Exchange(ToolCall(7, "echo")).empty());
}

INSTANTIATE_TEST_SUITE_P(Versions, McpLifecycleTest, ::testing::Values("2025-11-25", "2025-06-18"));

struct NegotiationCase {
  const char* requested;
  const char* answered;
};

class McpNegotiationTest : public McpSessionTest,
                           public ::testing::WithParamInterface<NegotiationCase> {};

TEST_P(McpNegotiationTest, AnswersASupportedVersion) {
  json init = Call(1, "initialize", {{"protocolVersion", GetParam().requested}});
  EXPECT_EQ(init["result"]["protocolVersion"], GetParam().answered);
  EXPECT_EQ(NegotiateMcpProtocolVersion(GetParam().requested), GetParam().answered);
}

INSTANTIATE_TEST_SUITE_P(Table, McpNegotiationTest,
                         ::testing::Values(NegotiationCase{"2025-11-25", "2025-11-25"},
                                           NegotiationCase{"2025-06-18", "2025-06-18"},
                                           NegotiationCase{"2025-03-26", "2025-03-26"},
                                           NegotiationCase{"2024-11-05", "2025-11-25"},
                                           NegotiationCase{"2099-01-01", "2025-11-25"},
                                           NegotiationCase{"", "2025-11-25"}));

TEST_F(McpSessionTest, OldestVersionGetsNoStructuredContent) {
  Initialize("2025-03-26");
  std::vector<json> out = Exchange(ToolCall(1, "echo", {{"x", 1}}));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0]["result"].contains("structuredContent"));
  EXPECT_EQ(out[0]["result"]["content"][0]["text"], R"({"x":1})");
}

TEST_F(McpSessionTest, RequestsBeforeInitializeAreRefusedButPingWorks) {
  ExpectError(Call(1, "tools/list"), 1, jsonrpc::kInvalidRequest, "server not initialized");
  ExpectError(Call(2, "tools/call", {{"name", "echo"}}), 2, jsonrpc::kInvalidRequest,
              "send \"initialize\" before \"tools/call\"");
  EXPECT_EQ(Call(3, "ping")["result"], json::object());
  Notify("notifications/initialized");  // ignored: not initialized yet
  EXPECT_FALSE(session_->ready());
  session_->Log(McpLogLevel::kEmergency, "x", "dropped before initialize");
  EXPECT_TRUE(sent_.empty());
  Initialize();
  ExpectError(Call(4, "initialize", {{"protocolVersion", "2025-11-25"}}), 4,
              jsonrpc::kInvalidRequest, "already initialized");
  EXPECT_EQ(session_->protocol_version(), "2025-11-25");
}

TEST_F(McpSessionTest, RequestsBeforeInitializedNotificationAreServed) {
  Call(1, "initialize", {{"protocolVersion", "2025-06-18"}});
  EXPECT_FALSE(session_->ready());
  EXPECT_TRUE(Call(2, "tools/list").contains("result"));
}

// ---- pagination ----

class McpPaginationTest : public McpSessionTest {
 protected:
  McpPaginationTest() : McpSessionTest(/*extra_tools=*/116, /*page_size=*/50) {}
};

TEST_F(McpPaginationTest, ThreePages) {
  Initialize();
  std::vector<std::string> names;
  json params = json::object();
  int pages = 0;
  for (;;) {
    json response = Call(pages + 1, "tools/list", params);
    ASSERT_TRUE(response.contains("result")) << response.dump();
    ++pages;
    for (const json& tool : response["result"]["tools"]) names.push_back(tool["name"]);
    if (!response["result"].contains("nextCursor")) break;
    ASSERT_TRUE(response["result"]["nextCursor"].is_string());
    params = {{"cursor", response["result"]["nextCursor"]}};
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(names.size(), 120u);
  EXPECT_EQ(names[0], "echo");
  EXPECT_EQ(names[50], "extra46");
  EXPECT_EQ(names[119], "extra115");
}

TEST_F(McpPaginationTest, BadCursors) {
  Initialize();
  for (const json& cursor :
       {json("x"), json("offset:0"), json("offset:120"), json("offset:-1"), json("offset:5x"),
        json("offset:"), json(""), json("offset:99999999999999999999999")}) {
    ExpectError(Call(1, "tools/list", {{"cursor", cursor}}), 1, jsonrpc::kInvalidParams,
                "params.cursor");
  }
  ExpectError(Call(2, "tools/list", {{"cursor", 50}}), 2, jsonrpc::kInvalidParams,
              "params.cursor: expected a string, got an integer");
  EXPECT_EQ(Call(3, "tools/list", {{"cursor", "offset:119"}})["result"]["tools"].size(), 1u);
}

// ---- malformed requests, table-driven ----

struct BadRequestCase {
  const char* name;
  json message;
  int code;
  const char* what;
};

class McpBadRequestTest : public McpSessionTest,
                          public ::testing::WithParamInterface<BadRequestCase> {};

TEST_P(McpBadRequestTest, AnswersTheRightError) {
  Initialize();
  const BadRequestCase& c = GetParam();
  std::vector<json> out = Exchange(c.message);
  ASSERT_EQ(out.size(), 1u) << c.message.dump();
  json id =
      c.message.contains("id") && jsonrpc::IsValidId(c.message["id"]) ? c.message["id"] : json();
  ExpectError(out[0], id, c.code, c.what);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
}

json Req(const char* method, json params) {
  json message = {{"jsonrpc", "2.0"}, {"id", 9}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  return message;
}

INSTANTIATE_TEST_SUITE_P(
    Table, McpBadRequestTest,
    ::testing::Values(
        BadRequestCase{"unknown_method", Req("resources/list", nullptr), jsonrpc::kMethodNotFound,
                       "Method not found: \"resources/list\""},
        BadRequestCase{"call_no_params", Req("tools/call", nullptr), jsonrpc::kInvalidParams,
                       "params.name: expected a string, got null"},
        BadRequestCase{"call_params_array", Req("tools/call", json::array({1})),
                       jsonrpc::kInvalidParams, "params: expected an object, got an array"},
        BadRequestCase{"call_name_number", Req("tools/call", {{"name", 3}}),
                       jsonrpc::kInvalidParams, "params.name: expected a string, got an integer"},
        BadRequestCase{"call_unknown_tool", Req("tools/call", {{"name", "nope"}}),
                       jsonrpc::kInvalidParams, "Unknown tool: nope"},
        BadRequestCase{"call_arguments_array",
                       Req("tools/call", {{"name", "echo"}, {"arguments", json::array()}}),
                       jsonrpc::kInvalidParams,
                       "params.arguments: expected an object, got an array"},
        BadRequestCase{"call_arguments_string",
                       Req("tools/call", {{"name", "echo"}, {"arguments", "{}"}}),
                       jsonrpc::kInvalidParams, "params.arguments: expected an object"},
        BadRequestCase{"call_meta_string", Req("tools/call", {{"name", "echo"}, {"_meta", "x"}}),
                       jsonrpc::kInvalidParams, "params._meta: expected an object"},
        BadRequestCase{"call_progress_token_float",
                       Req("tools/call", {{"name", "echo"}, {"_meta", {{"progressToken", 1.5}}}}),
                       jsonrpc::kInvalidParams,
                       "params._meta.progressToken: expected a string or an integer"},
        BadRequestCase{"call_throwing_host", Req("tools/call", {{"name", "throw"}}),
                       jsonrpc::kInternalError, "tool host exploded"},
        BadRequestCase{"set_level_missing", Req("logging/setLevel", json::object()),
                       jsonrpc::kInvalidParams, "params.level: expected one of debug, info"},
        BadRequestCase{"set_level_unknown", Req("logging/setLevel", {{"level", "verbose"}}),
                       jsonrpc::kInvalidParams, "got \"verbose\""},
        BadRequestCase{"set_level_number", Req("logging/setLevel", {{"level", 3}}),
                       jsonrpc::kInvalidParams, "got an integer"},
        BadRequestCase{"list_params_array", Req("tools/list", json::array()),
                       jsonrpc::kInvalidParams, "params: expected an object"},
        BadRequestCase{"ping_params_array", Req("ping", json::array()), jsonrpc::kInvalidParams,
                       "params: expected an object"},
        BadRequestCase{"params_string", Req("ping", "x"), jsonrpc::kInvalidRequest,
                       "params: expected an object or an array"},
        BadRequestCase{"id_null", json({{"jsonrpc", "2.0"}, {"id", nullptr}, {"method", "ping"}}),
                       jsonrpc::kInvalidRequest, "id: expected a string or an integer"},
        BadRequestCase{"id_float", json({{"jsonrpc", "2.0"}, {"id", 2.5}, {"method", "ping"}}),
                       jsonrpc::kInvalidRequest, "id: expected"},
        BadRequestCase{"no_version", json({{"id", 1}, {"method", "ping"}}),
                       jsonrpc::kInvalidRequest, "jsonrpc: missing"},
        BadRequestCase{"method_array", json({{"jsonrpc", "2.0"}, {"id", 1}, {"method", {1}}}),
                       jsonrpc::kInvalidRequest, "method: expected a string"},
        BadRequestCase{"batch", json::array({Req("ping", nullptr)}), jsonrpc::kInvalidRequest,
                       "batches are not supported"}),
    [](const ::testing::TestParamInfo<BadRequestCase>& info) {
      return std::string(info.param.name);
    });

TEST_F(McpSessionTest, InitializeParamErrors) {
  ExpectError(Call(1, "initialize", json::object()), 1, jsonrpc::kInvalidParams,
              "params.protocolVersion: expected a string, got null");
  ExpectError(Call(2, "initialize", {{"protocolVersion", 20251125}}), 2, jsonrpc::kInvalidParams,
              "params.protocolVersion: expected a string, got an integer");
  ExpectError(Call(3, "initialize", {{"protocolVersion", "2025-11-25"}, {"capabilities", 1}}), 3,
              jsonrpc::kInvalidParams, "params.capabilities: expected an object");
  ExpectError(Call(4, "initialize", {{"protocolVersion", "2025-11-25"}, {"clientInfo", "x"}}), 4,
              jsonrpc::kInvalidParams, "params.clientInfo: expected an object");
  EXPECT_FALSE(session_->initialized());
}

TEST_F(McpSessionTest, ParseErrorHasNullId) {
  std::vector<json> out = ExchangeText("{\"jsonrpc\":\"2.0\",\"id\":1,");
  ASSERT_EQ(out.size(), 1u);
  ExpectError(out[0], nullptr, jsonrpc::kParseError, "not valid JSON");
}

TEST_F(McpSessionTest, DeeplyNestedArgumentsAreRefused) {
  Initialize();
  std::string text = R"({"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"echo",)"
                     R"("arguments":{"a":)" +
                     std::string(100'000, '[') + std::string(100'000, ']') + "}}}";
  std::vector<json> out = ExchangeText(text);
  ASSERT_EQ(out.size(), 1u);
  ExpectError(out[0], nullptr, jsonrpc::kInvalidRequest, "deeper than");
  EXPECT_TRUE(host_.contexts.empty());
}

// ---- ids ----

TEST_F(McpSessionTest, IdsAreEchoedWithTheirType) {
  Initialize();
  for (const json& id : {json("abc"), json("1"), json(""), json(0), json(-5),
                         json(9007199254740993LL), json(18446744073709551615ULL)}) {
    json response = Call(id, "ping");
    EXPECT_EQ(response["id"], id);
    // Exactly the same text on the wire (the test's round trip through text turns a signed 0
    // into an unsigned one, so types are compared as the wire sees them).
    EXPECT_EQ(response["id"].dump(), id.dump());
    EXPECT_EQ(response["id"].is_string(), id.is_string());
    std::vector<json> out = Exchange(ToolCall(id, "echo"));
    ASSERT_EQ(out.size(), 1u);
    EXPECT_EQ(out[0]["id"], id);
    EXPECT_EQ(out[0]["id"].dump(), id.dump());
    // Serialized, the id reads back the same.
    EXPECT_EQ(json::parse(jsonrpc::Serialize(out[0]))["id"], id);
  }
}

TEST_F(McpSessionTest, DuplicateIdInFlightIsRefused) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall(1, "slow")).empty());
  ExpectError(Exchange(ToolCall(1, "echo")).at(0), 1, jsonrpc::kInvalidRequest,
              "id: 1 is already used by a request in flight");
  ExpectError(Call(1, "ping"), 1, jsonrpc::kInvalidRequest, "already used");
  // "1" is another id.
  EXPECT_EQ(Exchange(ToolCall("1", "echo")).at(0)["id"], "1");
  ASSERT_EQ(host_.pending_count(), 1u);
  host_.pending(0)->done(McpToolResult::Text("done"));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["id"], 1);
  EXPECT_EQ(sent_[0]["result"]["content"][0]["text"], "done");
  // Free again.
  EXPECT_EQ(Exchange(ToolCall(1, "echo")).at(0)["result"]["isError"], false);
}

// ---- deferred results, progress, cancellation ----

TEST_F(McpSessionTest, DeferredResultArrivesLater) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall("job", "slow", {{"n", 1}})).empty());
  EXPECT_EQ(session_->calls_in_flight(), 1u);
  ASSERT_EQ(host_.pending_count(), 1u);
  EXPECT_EQ(host_.pending(0)->arguments, json({{"n", 1}}));
  EXPECT_FALSE(host_.pending(0)->context.progress);  // no token, no progress
  McpToolResult result = McpToolResult::Text("ok");
  result.structured = {{"status", "completed"}};
  host_.pending(0)->done(std::move(result));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0], json({{"jsonrpc", "2.0"},
                            {"id", "job"},
                            {"result",
                             {{"content", {{{"type", "text"}, {"text", "ok"}}}},
                              {"isError", false},
                              {"structuredContent", {{"status", "completed"}}}}}}));
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  // A second `done` (a host bug) is ignored.
  host_.pending(0)->done(McpToolResult::Text("again"));
  EXPECT_EQ(sent_.size(), 1u);
}

TEST_F(McpSessionTest, ProgressCarriesTheToken) {
  Initialize();
  for (const json& token : {json("tok-1"), json(42)}) {
    sent_.clear();
    EXPECT_TRUE(Exchange(ToolCall(7, "slow", json::object(), {{"progressToken", token}})).empty());
    auto call = host_.pending(host_.pending_count() - 1);
    ASSERT_TRUE(call->context.progress);
    call->context.progress(1, 4, "one of four");
    call->context.progress(2, std::nullopt, "");
    ASSERT_EQ(sent_.size(), 2u);
    EXPECT_EQ(sent_[0], json({{"jsonrpc", "2.0"},
                              {"method", "notifications/progress"},
                              {"params",
                               {{"progressToken", token},
                                {"progress", 1.0},
                                {"total", 4.0},
                                {"message", "one of four"}}}}));
    EXPECT_EQ(sent_[1]["params"], json({{"progressToken", token}, {"progress", 2.0}}));
    EXPECT_EQ(sent_[1]["params"]["progressToken"].dump(), token.dump());
    call->done(McpToolResult::Text("x"));
    ASSERT_EQ(sent_.size(), 3u);
    EXPECT_EQ(sent_[2]["id"], 7);
    // Progress after the result is dropped.
    call->context.progress(3, 4, "late");
    EXPECT_EQ(sent_.size(), 3u);
  }
}

TEST_F(McpSessionTest, CancelledCallGetsNoResponse) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall(5, "slow", json::object(), {{"progressToken", "p"}})).empty());
  auto call = host_.pending(0);
  Notify("notifications/cancelled", {{"requestId", 5}, {"reason", "user pressed escape"}});
  EXPECT_TRUE(*call->cancelled);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  // A host that still answers is not heard.
  call->context.progress(1, std::nullopt, "late");
  call->done(McpToolResult::Text("too late"));
  EXPECT_TRUE(sent_.empty());
  // The id is free again.
  EXPECT_EQ(Exchange(ToolCall(5, "echo")).size(), 1u);
}

TEST_F(McpSessionTest, CancelOfUnknownOrFinishedOrMistypedIdIsIgnored) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall(5, "slow")).empty());
  auto call = host_.pending(0);
  Notify("notifications/cancelled", {{"requestId", "5"}});  // a string is another id
  Notify("notifications/cancelled", {{"requestId", 6}});
  Notify("notifications/cancelled", {{"requestId", nullptr}});
  Notify("notifications/cancelled", json::object());
  Notify("notifications/cancelled", json::array({5}));
  Notify("notifications/cancelled");
  EXPECT_FALSE(*call->cancelled);
  EXPECT_EQ(session_->calls_in_flight(), 1u);
  call->done(McpToolResult::Text("ok"));
  EXPECT_EQ(sent_.size(), 1u);
  Notify("notifications/cancelled", {{"requestId", 5}});  // finished already
}

TEST_F(McpSessionTest, CloseCancelsEverythingInFlight) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall(1, "slow")).empty());
  EXPECT_TRUE(Exchange(ToolCall("2", "slow")).empty());
  session_->Close();
  EXPECT_TRUE(*host_.pending(0)->cancelled);
  EXPECT_TRUE(*host_.pending(1)->cancelled);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  host_.pending(0)->done(McpToolResult::Text("late"));
  session_->Log(McpLogLevel::kEmergency, "", "after close");
  EXPECT_TRUE(Exchange(ToolCall(3, "echo")).empty());
  EXPECT_TRUE(sent_.empty());
  session_->Close();  // idempotent
}

TEST_F(McpSessionTest, HostCallbacksAfterTheSessionIsGoneAreHarmless) {
  Initialize();
  EXPECT_TRUE(Exchange(ToolCall(1, "slow", json::object(), {{"progressToken", 1}})).empty());
  auto call = host_.pending(0);
  session_.reset();
  EXPECT_TRUE(*call->cancelled);
  call->context.progress(1, std::nullopt, "");
  call->done(McpToolResult::Text("late"));
  EXPECT_TRUE(sent_.empty());
}

// ---- logging ----

TEST_F(McpSessionTest, LoggingFilterFollowsSetLevel) {
  Initialize();
  EXPECT_EQ(session_->log_level(), McpLogLevel::kInfo);
  session_->Log(McpLogLevel::kDebug, "engine", "hidden");
  EXPECT_TRUE(sent_.empty());
  session_->Log(McpLogLevel::kInfo, "engine", {{"task", "t1"}});
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(
      sent_[0],
      json({{"jsonrpc", "2.0"},
            {"method", "notifications/message"},
            {"params", {{"level", "info"}, {"logger", "engine"}, {"data", {{"task", "t1"}}}}}}));
  sent_.clear();

  Call(1, "logging/setLevel", {{"level", "error"}});
  EXPECT_EQ(session_->log_level(), McpLogLevel::kError);
  for (McpLogLevel level : {McpLogLevel::kDebug, McpLogLevel::kInfo, McpLogLevel::kNotice,
                            McpLogLevel::kWarning, McpLogLevel::kError, McpLogLevel::kCritical,
                            McpLogLevel::kAlert, McpLogLevel::kEmergency}) {
    session_->Log(level, "", "m");
  }
  ASSERT_EQ(sent_.size(), 4u);
  EXPECT_EQ(sent_[0]["params"]["level"], "error");
  EXPECT_EQ(sent_[3]["params"]["level"], "emergency");
  EXPECT_FALSE(sent_[0]["params"].contains("logger"));

  sent_.clear();
  Call(2, "logging/setLevel", {{"level", "debug"}});
  session_->Log(McpLogLevel::kDebug, "", "m");
  EXPECT_EQ(sent_.size(), 1u);
}

TEST(McpLogLevelTest, NamesRoundTrip) {
  for (int i = 0; i <= static_cast<int>(McpLogLevel::kEmergency); ++i) {
    auto level = static_cast<McpLogLevel>(i);
    EXPECT_EQ(ParseMcpLogLevel(McpLogLevelName(level)), level);
  }
  EXPECT_FALSE(ParseMcpLogLevel("INFO"));
  EXPECT_FALSE(ParseMcpLogLevel(""));
}

// ---- ignored messages ----

TEST_F(McpSessionTest, ClientResponsesAndUnknownNotificationsAreIgnored) {
  Initialize();
  EXPECT_TRUE(Exchange({{"jsonrpc", "2.0"}, {"id", 1}, {"result", json::object()}}).empty());
  EXPECT_TRUE(
      Exchange({{"jsonrpc", "2.0"}, {"id", "x"}, {"error", {{"code", 1}, {"message", "m"}}}})
          .empty());
  Notify("notifications/roots/list_changed");
  Notify("notifications/whatever", {{"a", 1}});
  Notify("notifications/initialized");  // again: harmless
}

TEST_F(McpSessionTest, ParsedJsonOverloadWorks) {
  sent_.clear();
  session_->ReceiveParsed(json({{"jsonrpc", "2.0"}, {"id", 1}, {"method", "ping"}}));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["result"], json::object());
}

// ---- junk ----

// Every message the server sends is a valid JSON-RPC response or notification.
void ExpectWellFormed(const json& message) {
  ASSERT_TRUE(message.is_object()) << message.dump();
  EXPECT_EQ(message.value("jsonrpc", ""), "2.0") << message.dump();
  if (message.contains("method")) {
    EXPECT_TRUE(message["method"].is_string());
    return;
  }
  ASSERT_TRUE(message.contains("id")) << message.dump();
  EXPECT_TRUE(message["id"].is_null() || jsonrpc::IsValidId(message["id"]));
  EXPECT_NE(message.contains("result"), message.contains("error")) << message.dump();
  if (message.contains("error")) {
    EXPECT_TRUE(message["error"]["code"].is_number_integer());
    EXPECT_FALSE(message["error"]["message"].get<std::string>().empty());
  }
  EXPECT_FALSE(jsonrpc::Serialize(message).empty());
}

TEST_F(McpSessionTest, JunkNeverCrashesAndAnswersAreWellFormed) {
  Initialize();
  std::mt19937 rng(777);
  const std::vector<json> values = {nullptr,
                                    true,
                                    0,
                                    -1,
                                    1.5,
                                    "",
                                    "x",
                                    json::array(),
                                    json::object(),
                                    json::array({1, "a"}),
                                    json({{"k", json::array()}})};
  const std::vector<std::string> methods = {"initialize",
                                            "ping",
                                            "tools/list",
                                            "tools/call",
                                            "logging/setLevel",
                                            "notifications/cancelled",
                                            "notifications/initialized",
                                            "x"};
  const std::vector<std::string> keys = {
      "jsonrpc",   "id",    "method", "params", "result",    "error",         "name",
      "arguments", "_meta", "cursor", "level",  "requestId", "progressToken", "protocolVersion"};
  auto random_value = [&](auto& self, int depth) -> json {
    int pick = static_cast<int>(rng() % (depth > 3 ? values.size() : values.size() + 3));
    if (pick < static_cast<int>(values.size())) return values[pick];
    json object = json::object();
    int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) object[keys[rng() % keys.size()]] = self(self, depth + 1);
    if (rng() % 2 == 0) object["name"] = rng() % 2 ? "echo" : "slow";
    return object;
  };
  for (int i = 0; i < 5000; ++i) {
    json message = {{"jsonrpc", rng() % 8 ? json("2.0") : random_value(random_value, 0)},
                    {"method", rng() % 6 ? json(methods[rng() % methods.size()])
                                         : random_value(random_value, 0)}};
    if (rng() % 3)
      message["id"] =
          rng() % 5 ? json(static_cast<int>(rng() % 20)) : random_value(random_value, 0);
    if (rng() % 4) message["params"] = random_value(random_value, 0);
    if (rng() % 10 == 0) message.erase("method");
    if (rng() % 10 == 0) message["result"] = random_value(random_value, 0);
    std::string text = message.dump();
    if (rng() % 5 == 0) text[rng() % text.size()] = "{}[]\",:x0"[rng() % 9];
    for (const json& out : ExchangeText(text)) ExpectWellFormed(out);
    // Occasionally finish or report on a pending call, as the host would.
    if (host_.pending_count() > 0 && rng() % 3 == 0) {
      auto call = host_.pending(rng() % host_.pending_count());
      if (call->context.progress) call->context.progress(1, std::nullopt, "p");
      if (!*call->cancelled) call->done(McpToolResult::Text("r"));
      for (const json& out : sent_) ExpectWellFormed(out);
      sent_.clear();
    }
  }
  session_->Close();
}

}  // namespace
}  // namespace troupe
