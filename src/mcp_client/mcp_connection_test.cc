#include "mcp_client/mcp_connection.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "core/fake_clock.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;

// A channel the test plays the server of.
class FakeChannel : public McpChannel {
 public:
  Status Open(McpChannelCallbacks callbacks) override {
    cb = std::move(callbacks);
    return Status::Ok();
  }
  void Send(const json& message) override {
    sent.push_back(message);
    sent_headers.emplace_back();
  }
  void SendWithHeaders(const json& message,
                       const std::vector<std::pair<std::string, std::string>>& headers) override {
    sent.push_back(message);
    sent_headers.push_back(headers);
  }
  bool HasHeaders() const override { return http; }
  void Abandon(const json& id) override { abandoned.push_back(id); }
  void Close() override { closed = true; }
  void SetProtocolVersion(const std::string& v) override { version = v; }
  bool CancelsByClosing() const override { return http; }
  std::string Describe() const override { return "fake"; }

  bool http = false;
  McpChannelCallbacks cb;
  std::vector<json> sent;
  std::vector<std::vector<std::pair<std::string, std::string>>> sent_headers;
  std::vector<json> abandoned;
  bool closed = false;
  std::string version;
};

json Answer(int id, json result) { return {{"jsonrpc", "2.0"}, {"id", id}, {"result", result}}; }

struct Fixture : ::testing::Test {
  FakeClock clock;
  FakeChannel* channel = nullptr;
  std::unique_ptr<McpConnection> conn;
  Status started = Status::Internal("not yet");
  bool start_done = false;

  void SetUp() override { Make(/*probe_modern=*/false); }
  void Make(bool probe_modern, bool http = false) {
    auto c = std::make_unique<FakeChannel>();
    c->http = http;
    channel = c.get();
    conn = std::make_unique<McpConnection>(std::move(c), &clock, probe_modern);
  }
  void Initialize(const std::string& version = "2025-11-25") {
    conn->Start(1000, [this](Status s) {
      started = s;
      start_done = true;
    }, [](Status) {});
    ASSERT_EQ(channel->sent.size(), 1u);
    EXPECT_EQ(channel->sent[0]["method"], "initialize");
    EXPECT_EQ(channel->sent[0]["params"]["protocolVersion"], "2025-11-25");
    channel->cb.on_message(Answer(1, {{"protocolVersion", version},
                                      {"capabilities", json::object()},
                                      {"serverInfo", {{"name", "srv"}, {"version", "1.2"}}}}));
  }
};

TEST_F(Fixture, InitializesAcceptingAnOlderVersionAndSaysInitialized) {
  Initialize("2025-06-18");
  ASSERT_TRUE(start_done);
  EXPECT_TRUE(started.ok()) << started.ToString();
  EXPECT_EQ(conn->protocol_version(), "2025-06-18");
  EXPECT_EQ(channel->version, "2025-06-18");
  EXPECT_EQ(conn->server_name(), "srv");
  ASSERT_EQ(channel->sent.size(), 2u);
  EXPECT_EQ(channel->sent[1]["method"], "notifications/initialized");
  EXPECT_FALSE(channel->sent[1].contains("id"));
}

TEST_F(Fixture, RefusesAnUnknownVersion) {
  Initialize("2030-01-01");
  EXPECT_THAT(started.message(), HasSubstr("the server speaks MCP 2030-01-01"));
}

TEST_F(Fixture, ListsToolsAcrossPagesKeepingSchemas) {
  Initialize();
  std::vector<McpToolInfo> tools;
  conn->ListTools(1000, [&](Result<std::vector<McpToolInfo>> r) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    tools = *r;
  });
  const json schema = {{"type", "object"},
                       {"properties", {{"q", {{"type", "string"}, {"minLength", 1}}}}},
                       {"required", {"q"}}};
  channel->cb.on_message(Answer(2, {{"tools", {{{"name", "a"}, {"inputSchema", schema},
                                                {"description", "does a"}}}},
                                    {"nextCursor", "p2"}}));
  ASSERT_EQ(channel->sent.back()["params"]["cursor"], "p2");
  channel->cb.on_message(
      Answer(3, {{"tools", {{{"name", "b"}, {"inputSchema", {{"type", "object"}}}}}}}));
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0].input_schema, schema);
  EXPECT_EQ(tools[0].description, "does a");
  EXPECT_EQ(tools[1].name, "b");
}

TEST_F(Fixture, ACallTimesOutAndIsCancelledAtTheServer) {
  Initialize();
  std::optional<Result<json>> got;
  conn->CallTool("slow", json::object(), 500, [&](Result<json> r) { got = std::move(r); });
  clock.AdvanceMs(499);
  EXPECT_FALSE(got.has_value());
  clock.AdvanceMs(1);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(got->status().message(), HasSubstr("tools/call timed out after"));
  const json& cancel = channel->sent.back();
  EXPECT_EQ(cancel["method"], "notifications/cancelled");
  EXPECT_EQ(cancel["params"]["requestId"], 2);
  // A late answer is dropped.
  channel->cb.on_message(Answer(2, {{"content", json::array()}}));
}

TEST_F(Fixture, CancelSendsNotificationsCancelledAndNoCallback) {
  Initialize();
  bool called = false;
  const uint64_t id =
      conn->CallTool("t", {{"x", 1}}, 5000, [&](Result<json>) { called = true; });
  EXPECT_EQ(channel->sent.back()["params"]["arguments"], json({{"x", 1}}));
  conn->Cancel(id, "the task was cancelled");
  EXPECT_EQ(channel->sent.back()["method"], "notifications/cancelled");
  EXPECT_EQ(channel->sent.back()["params"]["reason"], "the task was cancelled");
  EXPECT_EQ(channel->abandoned.back(), json(id));
  channel->cb.on_message(Answer(static_cast<int>(id), json::object()));
  clock.AdvanceMs(10000);
  EXPECT_FALSE(called);
  EXPECT_EQ(conn->pending(), 0u);
}

TEST_F(Fixture, AClosedChannelFailsPendingCallsWithTheReason) {
  Initialize();
  std::optional<Result<json>> got;
  conn->CallTool("t", json::object(), 5000, [&](Result<json> r) { got = std::move(r); });
  channel->cb.on_closed(Status::Unavailable("the process exited with code 1"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().message(), "the server stopped: the process exited with code 1");
}

TEST_F(Fixture, AnswersPingAndRefusesOtherServerRequests) {
  Initialize();
  channel->cb.on_message({{"jsonrpc", "2.0"}, {"id", "s1"}, {"method", "ping"}});
  EXPECT_EQ(channel->sent.back(), json({{"jsonrpc", "2.0"}, {"id", "s1"}, {"result", json::object()}}));
  channel->cb.on_message({{"jsonrpc", "2.0"}, {"id", 7}, {"method", "sampling/createMessage"}});
  EXPECT_EQ(channel->sent.back()["error"]["code"], -32601);
  channel->cb.on_message({{"jsonrpc", "2.0"}, {"method", "notifications/tools/list_changed"}});
  EXPECT_TRUE(conn->tools_stale());
}

json ErrorAnswer(int id, int code, json data = nullptr) {
  json error = {{"code", code}, {"message", "no"}};
  if (!data.is_null()) error["data"] = data;
  return {{"jsonrpc", "2.0"}, {"id", id}, {"error", error}};
}

constexpr const char* kVersionKey = "io.modelcontextprotocol/protocolVersion";

// A server of revision 2026-07-28: the probe's answer and the first tools/list.
struct ModernFixture : Fixture {
  void SetUp() override { Make(/*probe_modern=*/true); }
  void Discover(int64_t ttl_ms = 60000) {
    conn->Start(1000, [this](Status s) {
      started = s;
      start_done = true;
    }, [](Status) {});
    ASSERT_EQ(channel->sent.size(), 1u);
    const json& probe = channel->sent[0];
    EXPECT_EQ(probe["method"], "server/discover");
    EXPECT_EQ(probe["params"]["_meta"][kVersionKey], "2026-07-28");
    EXPECT_TRUE(probe["params"]["_meta"]["io.modelcontextprotocol/clientCapabilities"]
                     ["extensions"]
                         .contains("io.modelcontextprotocol/tasks"));
    channel->cb.on_message(Answer(
        1, {{"resultType", "complete"},
            {"supportedVersions", {"2026-07-28", "2025-11-25"}},
            {"capabilities", {{"tools", json::object()}}},
            {"_meta", {{"io.modelcontextprotocol/serverInfo", {{"name", "m"}, {"version", "2"}}}}}}));
    ASSERT_TRUE(started.ok()) << started.ToString();
    std::vector<McpToolInfo> tools;
    conn->ListTools(1000, [&](Result<std::vector<McpToolInfo>> r) { tools = *r; });
    EXPECT_EQ(channel->sent.back()["params"]["_meta"][kVersionKey], "2026-07-28");
    channel->cb.on_message(Answer(2, {{"resultType", "complete"},
                                      {"tools", {{{"name", "t"}, {"inputSchema", {{"type", "object"}}}}}},
                                      {"ttlMs", ttl_ms}, {"cacheScope", "public"}}));
    ASSERT_EQ(tools.size(), 1u);
  }
  int LastId() { return channel->sent.back()["id"].get<int>(); }
};

TEST_F(ModernFixture, ADiscoverResultWithTheRevisionMakesTheConnectionStateless) {
  Discover();
  EXPECT_TRUE(conn->modern());
  EXPECT_EQ(conn->protocol_version(), "2026-07-28");
  EXPECT_EQ(channel->version, "2026-07-28");
  EXPECT_EQ(conn->server_name(), "m");
  for (const json& m : channel->sent) EXPECT_NE(m["method"], "initialize");
  std::optional<Result<json>> got;
  conn->CallTool("t", {{"x", 1}}, 5000, [&](Result<json> r) { got = std::move(r); });
  const json call = channel->sent.back();
  EXPECT_EQ(call["params"]["_meta"][kVersionKey], "2026-07-28");
  EXPECT_EQ(call["params"]["arguments"], json({{"x", 1}}));
  channel->cb.on_message(Answer(LastId(), {{"resultType", "complete"},
                                           {"content", {{{"type", "text"}, {"text", "ok"}}}}}));
  ASSERT_TRUE(got.has_value() && got->ok());
  EXPECT_EQ((**got)["content"][0]["text"], "ok");
  EXPECT_EQ(conn->calls(), 0u);
}

TEST_F(ModernFixture, FallsBackToInitializeOnMethodNotFoundAndOnAVersionlessResult) {
  for (json answer : {ErrorAnswer(1, -32601), Answer(1, {{"content", json::array()}}),
                      ErrorAnswer(1, -32022, {{"supported", {"2025-11-25"}}})}) {
    Make(true);
    started = Status::Internal("not yet");
    conn->Start(1000, [this](Status s) { started = s; }, [](Status) {});
    channel->cb.on_message(answer);
    ASSERT_EQ(channel->sent.size(), 2u) << answer;
    EXPECT_EQ(channel->sent[1]["method"], "initialize");
    EXPECT_FALSE(channel->sent[1]["params"].contains("_meta"));
    channel->cb.on_message(Answer(2, {{"protocolVersion", "2025-11-25"},
                                      {"capabilities", json::object()}}));
    EXPECT_TRUE(started.ok()) << started.ToString();
    EXPECT_FALSE(conn->modern());
  }
}

TEST_F(ModernFixture, HttpErrorsDecideAsTheSdkDoes) {
  // A 2025 server's 400 falls back; 401 and 5xx fail the start; a -32022 body listing only
  // other modern versions fails it naming them.
  struct Case {
    json data;
    bool falls_back;
  };
  for (const Case& c :
       {Case{{{"httpStatus", 400}}, true},
        Case{{{"httpStatus", 404}, {"rpcError", {{"code", -32601}, {"message", "x"}}}}, true},
        Case{{{"httpStatus", 401}}, false}, Case{{{"httpStatus", 502}}, false},
        Case{{{"transport", true}}, false},
        Case{{{"httpStatus", 400},
              {"rpcError", {{"code", -32022}, {"message", "x"},
                            {"data", {{"supported", {"2027-01-01"}}}}}}},
             false}}) {
    Make(true, /*http=*/true);
    started = Status::Internal("not yet");
    conn->Start(1000, [this](Status s) { started = s; }, [](Status) {});
    channel->cb.on_message(ErrorAnswer(1, -32603, c.data));
    EXPECT_EQ(channel->sent.back()["method"] == "initialize", c.falls_back) << c.data;
    if (!c.falls_back) {
      EXPECT_FALSE(started.ok()) << c.data;
    }
  }
  EXPECT_THAT(started.message(), HasSubstr("the server speaks MCP 2027-01-01"));
}

TEST_F(ModernFixture, AStdioProbeThatTimesOutFallsBackWithinTheStartTime) {
  conn->Start(1000, [this](Status s) { started = s; }, [](Status) {});
  clock.AdvanceMs(500);
  ASSERT_EQ(channel->sent.back()["method"], "initialize");
  channel->cb.on_message(Answer(2, {{"protocolVersion", "2025-11-25"}}));
  EXPECT_TRUE(started.ok()) << started.ToString();
}

TEST_F(ModernFixture, AStdioServerThatExitsOnTheProbeIsMarked) {
  conn->Start(1000, [this](Status s) { started = s; }, [](Status) {});
  channel->cb.on_closed(Status::Unavailable("the process exited with code 1"));
  EXPECT_FALSE(started.ok());
  EXPECT_TRUE(conn->probe_closed());
}

TEST_F(ModernFixture, ATaskIsPolledUntilCompletedHonouringPollInterval) {
  Discover();
  std::optional<Result<json>> got;
  conn->CallTool("t", json::object(), 60000, [&](Result<json> r) { got = std::move(r); });
  channel->cb.on_message(Answer(LastId(), {{"resultType", "task"},
                                           {"taskId", "task-1"},
                                           {"status", "working"},
                                           {"createdAt", "2026-01-01T00:00:00Z"},
                                           {"lastUpdatedAt", "2026-01-01T00:00:00Z"},
                                           {"ttlMs", nullptr},
                                           {"pollIntervalMs", 200}}));
  const size_t sent = channel->sent.size();
  clock.AdvanceMs(199);
  EXPECT_EQ(channel->sent.size(), sent);
  clock.AdvanceMs(1);
  ASSERT_EQ(channel->sent.back()["method"], "tasks/get");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "task-1");
  EXPECT_EQ(channel->sent.back()["params"]["_meta"][kVersionKey], "2026-07-28");
  channel->cb.on_message(Answer(LastId(), {{"resultType", "complete"},
                                           {"taskId", "task-1"},
                                           {"status", "working"},
                                           {"pollIntervalMs", 1000}}));
  clock.AdvanceMs(999);
  EXPECT_EQ(channel->sent.back()["id"], LastId());
  const int before = LastId();
  clock.AdvanceMs(1);
  EXPECT_EQ(LastId(), before + 1);
  EXPECT_FALSE(got.has_value());
  channel->cb.on_message(Answer(
      LastId(), {{"resultType", "complete"},
                 {"taskId", "task-1"},
                 {"status", "completed"},
                 {"result", {{"content", {{{"type", "text"}, {"text", "done"}}}}}}}));
  ASSERT_TRUE(got.has_value() && got->ok()) << (got ? got->status().ToString() : "none");
  EXPECT_EQ((**got)["content"][0]["text"], "done");
}

TEST_F(ModernFixture, AFailedOrCancelledTaskIsAnError) {
  Discover();
  for (json end : {json{{"status", "failed"}, {"error", {{"code", -32000}, {"message", "boom"}}}},
                   json{{"status", "cancelled"}}}) {
    std::optional<Result<json>> got;
    conn->CallTool("t", json::object(), 60000, [&](Result<json> r) { got = std::move(r); });
    channel->cb.on_message(Answer(LastId(), {{"resultType", "task"}, {"taskId", "k"},
                                             {"status", "working"}, {"pollIntervalMs", 50}}));
    clock.AdvanceMs(50);
    end["taskId"] = "k";
    channel->cb.on_message(Answer(LastId(), end));
    ASSERT_TRUE(got.has_value());
    EXPECT_FALSE(got->ok());
  }
}

TEST_F(ModernFixture, InputRequiredIsAClearErrorAndATaskAskingForInputIsCancelled) {
  Discover();
  std::optional<Result<json>> got;
  conn->CallTool("t", json::object(), 60000, [&](Result<json> r) { got = std::move(r); });
  channel->cb.on_message(Answer(LastId(), {{"resultType", "input_required"},
                                           {"inputRequests", json::object()}}));
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(got->status().message(), HasSubstr("troupe has no user to ask"));
  got.reset();
  conn->CallTool("t", json::object(), 60000, [&](Result<json> r) { got = std::move(r); });
  channel->cb.on_message(Answer(LastId(), {{"resultType", "task"}, {"taskId", "k2"},
                                           {"status", "input_required"}}));
  ASSERT_TRUE(got.has_value());
  EXPECT_THAT(got->status().message(), HasSubstr("input_required"));
  EXPECT_EQ(channel->sent.back()["method"], "tasks/cancel");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "k2");
}

TEST_F(ModernFixture, ATimeoutOrCancelOfATaskSendsTasksCancel) {
  Discover();
  std::optional<Result<json>> got;
  conn->CallTool("t", json::object(), 1000, [&](Result<json> r) { got = std::move(r); });
  channel->cb.on_message(Answer(LastId(), {{"resultType", "task"}, {"taskId", "slow"},
                                           {"status", "working"}, {"pollIntervalMs", 300}}));
  clock.AdvanceMs(1000);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_THAT(got->status().message(), HasSubstr("task slow of t timed out"));
  EXPECT_EQ(channel->sent.back()["method"], "tasks/cancel");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "slow");

  bool called = false;
  const uint64_t id = conn->CallTool("t", json::object(), 60000, [&](Result<json>) { called = true; });
  channel->cb.on_message(Answer(LastId(), {{"resultType", "task"}, {"taskId", "k3"},
                                           {"status", "working"}}));
  conn->Cancel(id, "the task was cancelled");
  EXPECT_EQ(channel->sent.back()["method"], "tasks/cancel");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "k3");
  clock.AdvanceMs(60000);
  EXPECT_FALSE(called);
  EXPECT_EQ(conn->calls(), 0u);
}

TEST_F(ModernFixture, ALateTaskAnswerToACallGivenUpIsCancelledAtTheServer) {
  Discover();
  // Timed out before any answer: notifications/cancelled, then the server's late answer says it
  // had made the call a task.
  std::optional<Result<json>> got;
  conn->CallTool("t", json::object(), 1000, [&](Result<json> r) { got = std::move(r); });
  const int timed_out = LastId();
  clock.AdvanceMs(1000);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(got->status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_EQ(channel->sent.back()["method"], "notifications/cancelled");
  EXPECT_EQ(channel->sent.back()["params"]["requestId"], timed_out);
  channel->cb.on_message(
      Answer(timed_out, {{"resultType", "task"}, {"taskId", "late-1"}, {"status", "working"}}));
  EXPECT_EQ(channel->sent.back()["method"], "tasks/cancel");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "late-1");
  // Only once: the same answer again is not a second cancel.
  size_t sent = channel->sent.size();
  channel->cb.on_message(Answer(timed_out, {{"resultType", "task"}, {"taskId", "late-1"}}));
  EXPECT_EQ(channel->sent.size(), sent);

  // Cancelled by its task: the same.
  bool called = false;
  const uint64_t id =
      conn->CallTool("t", json::object(), 60000, [&](Result<json>) { called = true; });
  const int cancelled = LastId();
  conn->Cancel(id, "the task was cancelled");
  channel->cb.on_message(
      Answer(cancelled, {{"resultType", "task"}, {"taskId", "late-2"}, {"status", "working"}}));
  EXPECT_EQ(channel->sent.back()["method"], "tasks/cancel");
  EXPECT_EQ(channel->sent.back()["params"]["taskId"], "late-2");
  EXPECT_FALSE(called);

  // A late complete answer, or one for a request never given up, sends nothing.
  conn->CallTool("t", json::object(), 1000, [](Result<json>) {});
  const int plain = LastId();
  clock.AdvanceMs(1000);
  sent = channel->sent.size();
  channel->cb.on_message(Answer(plain, {{"resultType", "complete"}, {"content", json::array()}}));
  channel->cb.on_message(Answer(9999, {{"resultType", "task"}, {"taskId", "never-asked"}}));
  EXPECT_EQ(channel->sent.size(), sent);
}

TEST_F(ModernFixture, OverHttpAnnotatedParametersAreMirroredAndInvalidToolsLeftOut) {
  Make(true, /*http=*/true);
  Discover();
  std::vector<McpToolInfo> tools;
  conn->ListTools(1000, [&](Result<std::vector<McpToolInfo>> r) { tools = *r; });
  channel->cb.on_message(Answer(LastId(), json::parse(R"({"resultType": "complete", "tools": [
    {"name": "execute_sql", "inputSchema": {"type": "object", "properties": {
      "region": {"type": "string", "x-mcp-header": "Region"}, "query": {"type": "string"}}}},
    {"name": "bad", "inputSchema": {"type": "object", "properties": {
      "n": {"type": "number", "x-mcp-header": "N"}}}},
    {"name": "plain", "inputSchema": {"type": "object"}}]})")));
  ASSERT_EQ(tools.size(), 2u);
  EXPECT_EQ(tools[0].name, "execute_sql");
  EXPECT_EQ(tools[1].name, "plain");
  ASSERT_EQ(conn->rejected_tools().size(), 1u);
  EXPECT_THAT(conn->rejected_tools()[0], HasSubstr("bad: x-mcp-header of property n"));

  conn->CallTool("execute_sql", {{"region", "us-west1"}, {"query", "SELECT 1"}}, 1000,
                 [](Result<json>) {});
  EXPECT_EQ(channel->sent.back()["params"]["arguments"]["region"], "us-west1");
  EXPECT_EQ(channel->sent_headers.back(),
            (std::vector<std::pair<std::string, std::string>>{{"Mcp-Param-Region", "us-west1"}}));
  conn->CallTool("plain", json::object(), 1000, [](Result<json>) {});
  EXPECT_TRUE(channel->sent_headers.back().empty());
}

TEST_F(ModernFixture, OverStdioAnnotationsAreIgnored) {
  Discover();
  std::vector<McpToolInfo> tools;
  conn->ListTools(1000, [&](Result<std::vector<McpToolInfo>> r) { tools = *r; });
  channel->cb.on_message(Answer(LastId(), json::parse(R"({"resultType": "complete", "tools": [
    {"name": "bad", "inputSchema": {"type": "object", "properties": {
      "n": {"type": "number", "x-mcp-header": "N"}}}}]})")));
  EXPECT_EQ(tools.size(), 1u) << "stdio clients may ignore x-mcp-header";
}

TEST_F(ModernFixture, OverHttpACancelledCallIsTheAbortedPostAlone) {
  Make(true, /*http=*/true);
  Discover();
  const uint64_t id = conn->CallTool("t", json::object(), 60000, [](Result<json>) {});
  const int request = LastId();
  const size_t sent = channel->sent.size();
  conn->Cancel(id, "the task was cancelled");
  EXPECT_EQ(channel->sent.size(), sent);
  EXPECT_EQ(channel->abandoned.back(), json(request));
}

TEST_F(ModernFixture, TheToolListGoesStaleAfterItsTtl) {
  Discover(/*ttl_ms=*/5000);
  EXPECT_FALSE(conn->tools_stale());
  clock.AdvanceMs(5000);
  EXPECT_TRUE(conn->tools_stale());
}

TEST(McpProbeTest, ADiscoverResultNeedsTheRevisionAmongItsVersions) {
  EXPECT_EQ(McpDiscoverResultOutcome({{"supportedVersions", {"2026-07-28"}},
                                      {"capabilities", json::object()}}),
            McpProbeOutcome::kModern);
  EXPECT_EQ(McpDiscoverResultOutcome({{"supportedVersions", {"2025-11-25"}},
                                      {"capabilities", json::object()}}),
            McpProbeOutcome::kLegacy);
  EXPECT_EQ(McpDiscoverResultOutcome(json::array()), McpProbeOutcome::kLegacy);
}

TEST(ParseMcpToolTest, NeedsANameAndAnObjectSchema) {
  EXPECT_FALSE(ParseMcpTool(json::object()).ok());
  EXPECT_THAT(ParseMcpTool({{"name", "x"}}).status().message(),
              HasSubstr("tool \"x\" has no \"inputSchema\" object"));
}

}  // namespace
}  // namespace troupe
