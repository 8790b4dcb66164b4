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
  void Send(const json& message) override { sent.push_back(message); }
  void Abandon(const json& id) override { abandoned.push_back(id); }
  void Close() override { closed = true; }
  void SetProtocolVersion(const std::string& v) override { version = v; }
  std::string Describe() const override { return "fake"; }

  McpChannelCallbacks cb;
  std::vector<json> sent;
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

  void SetUp() override {
    auto c = std::make_unique<FakeChannel>();
    channel = c.get();
    conn = std::make_unique<McpConnection>(std::move(c), &clock);
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

TEST(ParseMcpToolTest, NeedsANameAndAnObjectSchema) {
  EXPECT_FALSE(ParseMcpTool(json::object()).ok());
  EXPECT_THAT(ParseMcpTool({{"name", "x"}}).status().message(),
              HasSubstr("tool \"x\" has no \"inputSchema\" object"));
}

}  // namespace
}  // namespace troupe
