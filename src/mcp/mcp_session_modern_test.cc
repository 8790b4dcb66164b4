// MCP revision 2026-07-28 end to end below the transports: McpSession (and McpHttpHandler) over
// EngineMcpTools over a real TaskManager (fake clock, scripted runner, in-memory store).
// server/discover, tools/list, session handles, the tasks extension (CreateTaskResult,
// tasks/get, tasks/cancel), subscriptions/listen, the era rules and the HTTP header checks.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "http/testing/fake_exchange.h"
#include "mcp/mcp_http.h"
#include "mcp/mcp_modern.h"
#include "mcp/mcp_server.h"
#include "mcp/testing/mcp_engine_test.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

json Meta(bool tasks = false, std::string version = "2026-07-28") {
  json capabilities = json::object();
  if (tasks) capabilities["extensions"] = {{"io.modelcontextprotocol/tasks", json::object()}};
  return {{"io.modelcontextprotocol/protocolVersion", std::move(version)},
          {"io.modelcontextprotocol/clientCapabilities", std::move(capabilities)}};
}

json Modern(const json& id, const std::string& method, json params = json::object(),
            bool tasks = false) {
  params["_meta"] = Meta(tasks);
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

json Delegate(const std::string& prompt, const std::string& handle = "") {
  json args = {{"description", "d " + prompt}, {"prompt", prompt}, {"agent", "explore"}};
  if (!handle.empty()) args["session"] = handle;
  return {{"name", "delegate_task"}, {"arguments", std::move(args)}};
}

std::string Text(const json& result) {
  std::string text;
  if (!result.is_object() || !result.contains("content"))
    return "(no content: " + result.dump() + ")";
  for (const json& block : result["content"]) text += block.value("text", "") + "\n";
  return text;
}

class McpModernSessionTest : public testing::McpEngineTest {
 protected:
  void ForgetCalls() override { session_.reset(); }

  McpSession& Session() {
    if (!session_) {
      McpSessionOptions options;
      options.session_id = "conn";
      options.new_handle = [this] {
        return "s26-" + std::string(23, '0') + std::to_string(++handles_ % 10);
      };
      session_ = std::make_unique<McpSession>(tools_.get(), options,
                                              [this](json m) { sent_.push_back(std::move(m)); });
    }
    return *session_;
  }

  // Sends `message` and returns its answer, which must come at once.
  json Ask(const json& message) {
    Session().Receive(message.dump());
    for (auto it = sent_.begin(); it != sent_.end(); ++it) {
      if (it->contains("id") && !it->contains("method") && (*it)["id"] == message["id"]) {
        json answer = std::move(*it);
        sent_.erase(it);
        return answer;
      }
    }
    ADD_FAILURE() << "no answer to " << message.dump();
    return json();
  }

  static void ExpectStamped(const json& result) {
    EXPECT_TRUE(result["resultType"].is_string()) << result.dump();
    EXPECT_EQ(result["_meta"]["io.modelcontextprotocol/serverInfo"]["name"], "troupe");
  }

  std::unique_ptr<McpSession> session_;
  std::vector<json> sent_;
  int handles_ = 0;
  int next_id_ = 1;
};

TEST_F(McpModernSessionTest, DiscoverOffersBothErasAndTheTasksExtension) {
  json answer = Ask(Modern(1, "server/discover"));
  const json& result = answer["result"];
  ExpectStamped(result);
  EXPECT_EQ(result["resultType"], "complete");
  EXPECT_EQ(result["supportedVersions"],
            json::array({"2026-07-28", "2025-11-25", "2025-06-18", "2025-03-26"}));
  EXPECT_TRUE(result["capabilities"]["extensions"].contains("io.modelcontextprotocol/tasks"));
  EXPECT_FALSE(Session().initialized()) << "a 2026 request opens no session";
}

TEST_F(McpModernSessionTest, ToolsListIsCacheableAndTakesASessionHandle) {
  const json result = Ask(Modern(1, "tools/list"))["result"];
  ExpectStamped(result);
  EXPECT_EQ(result["cacheScope"], "public");
  EXPECT_GT(result["ttlMs"].get<int64_t>(), 0);
  ASSERT_FALSE(result["tools"].empty());
  for (const json& tool : result["tools"]) {
    EXPECT_FALSE(tool.contains("execution")) << tool["name"];
    EXPECT_EQ(tool["inputSchema"]["properties"]["session"]["type"], "string") << tool["name"];
  }
}

TEST_F(McpModernSessionTest, ACallWithoutAHandleGetsOneAndItKeepsTheTasks) {
  Session().Receive(Modern(1, "tools/call", Delegate("quick")).dump());
  clock_.AdvanceMs(10);
  json first;
  for (const json& m : sent_) {
    if (m.value("id", json()) == 1) first = m.value("result", json());
  }
  ASSERT_TRUE(first.is_object()) << json(sent_).dump();
  ASSERT_TRUE(first.contains("content")) << first.dump();
  ExpectStamped(first);
  const std::string handle = first["_meta"]["dev.troupe/session"];
  EXPECT_THAT(Text(first), HasSubstr("troupe session: " + handle));
  const std::string task_id = first["structuredContent"].value("task_id", "");
  ASSERT_THAT(task_id, StartsWith("bg_")) << first.dump();

  clock_.AdvanceMs(5000);  // the task completes
  sent_.clear();
  json mine = Ask(
      Modern(2, "tools/call", {{"name", "background_list"}, {"arguments", {{"session", handle}}}}));
  ASSERT_TRUE(mine.contains("result")) << mine.dump();
  EXPECT_THAT(Text(mine["result"]), HasSubstr(task_id));
  EXPECT_FALSE(mine["result"]["_meta"].contains("dev.troupe/session")) << "given, not minted";
  // The completion notice came with this call, once.
  EXPECT_THAT(Text(mine["result"]), StartsWith("<system-reminder>"));
  json again = Ask(
      Modern(3, "tools/call", {{"name", "background_list"}, {"arguments", {{"session", handle}}}}));
  EXPECT_THAT(Text(again["result"]), ::testing::Not(StartsWith("<system-reminder>")));

  ASSERT_TRUE(again.contains("result")) << again.dump();
  json other =
      Ask(Modern(4, "tools/call", {{"name", "background_list"}, {"arguments", json::object()}}));
  ASSERT_TRUE(other.contains("result")) << other.dump();
  EXPECT_THAT(Text(other["result"]), ::testing::Not(HasSubstr(task_id)));
  EXPECT_NE(other["result"]["_meta"]["dev.troupe/session"], handle);
}

TEST_F(McpModernSessionTest, AHandleOfTheWrongShapeIsAToolError) {
  json answer = Ask(Modern(1, "tools/call", Delegate("quick", "my-session")));
  ExpectStamped(answer["result"]);
  EXPECT_EQ(answer["result"]["isError"], true);
  EXPECT_THAT(Text(answer["result"]), HasSubstr("omit \"session\" to start a new session"));
}

TEST_F(McpModernSessionTest, TheTasksExtensionRunsDelegateTaskAsATask) {
  Start(1);
  json first = Ask(Modern(1, "tools/call", Delegate("slow first"), /*tasks=*/true))["result"];
  ExpectStamped(first);
  EXPECT_EQ(first["resultType"], "task");
  EXPECT_EQ(first["status"], "working");
  EXPECT_TRUE(first["ttlMs"].is_null());
  EXPECT_EQ(first["pollIntervalMs"], 500);
  const std::string handle = first["_meta"]["dev.troupe/session"];
  json second = Ask(Modern(2, "tools/call", Delegate("quick", handle), /*tasks=*/true))["result"];
  const std::string id = second["taskId"];

  json queued = Ask(Modern(3, "tasks/get", {{"taskId", id}}))["result"];
  ExpectStamped(queued);
  EXPECT_EQ(queued["resultType"], "complete");
  EXPECT_EQ(queued["status"], "working");
  EXPECT_THAT(queued["statusMessage"].get<std::string>(), StartsWith("queued: position 1"));

  clock_.AdvanceMs(5000);
  json done = Ask(Modern(4, "tasks/get", {{"taskId", id}}))["result"];
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["result"]["isError"], false);
  EXPECT_FALSE(done["result"]["content"].empty());

  json unknown = Ask(Modern(5, "tasks/get", {{"taskId", "bg_nope"}}));
  EXPECT_EQ(unknown["error"]["code"], -32602);
}

TEST_F(McpModernSessionTest, TasksCancelEndsATaskCancelled) {
  Start(1);
  const std::string first =
      Ask(Modern(1, "tools/call", Delegate("slow first"), true))["result"]["taskId"];
  const std::string id = Ask(Modern(2, "tools/call", Delegate("quick"), true))["result"]["taskId"];
  json ack = Ask(Modern(3, "tasks/cancel", {{"taskId", id}}))["result"];
  ExpectStamped(ack);
  EXPECT_EQ(ack["resultType"], "complete");
  EXPECT_EQ(Ask(Modern(4, "tasks/get", {{"taskId", id}}))["result"]["status"], "cancelled");
  // Acknowledged again (cancellation is cooperative), the state unchanged.
  EXPECT_TRUE(Ask(Modern(5, "tasks/cancel", {{"taskId", id}})).contains("result"));
  EXPECT_EQ(Ask(Modern(6, "tasks/get", {{"taskId", first}}))["result"]["status"], "working");
}

TEST_F(McpModernSessionTest, ListenIsAcknowledgedAndStaysOpenUntilCancelled) {
  Session().Receive(
      Modern(7, "subscriptions/listen", {{"notifications", {{"toolsListChanged", true}}}}).dump());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["method"], "notifications/subscriptions/acknowledged");
  EXPECT_EQ(sent_[0]["params"]["notifications"]["toolsListChanged"], true);
  EXPECT_EQ(sent_[0]["params"]["_meta"]["io.modelcontextprotocol/subscriptionId"], 7);
  EXPECT_EQ(Session().listens_open(), 1u);
  Session().Receive(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}})");
  EXPECT_EQ(Session().calls_in_flight(), 0u);
  EXPECT_EQ(sent_.size(), 1u) << "a cancelled listen is not answered";
}

TEST_F(McpModernSessionTest, ListenWithTaskIdsPushesEachStateChangeAsNotificationsTasks) {
  Start(1);
  const std::string id =
      Ask(Modern(1, "tools/call", Delegate("quick"), /*tasks=*/true))["result"]["taskId"];
  sent_.clear();
  Session().Receive(Modern(2, "subscriptions/listen",
                           {{"notifications", {{"taskIds", {id, "bg_nope"}}}}}, /*tasks=*/true)
                        .dump());
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["method"], "notifications/subscriptions/acknowledged");
  EXPECT_EQ(sent_[0]["params"]["notifications"]["taskIds"], json::array({id}))
      << "an id tasks/get would not find is left out";
  clock_.AdvanceMs(5000);
  std::vector<json> pushed;
  for (const json& m : sent_) {
    if (m.value("method", "") == "notifications/tasks") pushed.push_back(m["params"]);
  }
  ASSERT_FALSE(pushed.empty());
  const json& last = pushed.back();
  EXPECT_EQ(last["taskId"], id);
  EXPECT_EQ(last["status"], "completed");
  EXPECT_EQ(last["result"]["isError"], false);
  EXPECT_EQ(last["_meta"]["io.modelcontextprotocol/subscriptionId"], 2);
  // What tasks/get answers, but for the subscription's _meta.
  json got = Ask(Modern(3, "tasks/get", {{"taskId", id}}))["result"];
  EXPECT_EQ(got["result"], last["result"]);

  // A later listen on the finished task is told its state at once.
  sent_.clear();
  Session().Receive(
      Modern(4, "subscriptions/listen", {{"notifications", {{"taskIds", {id}}}}}, true).dump());
  ASSERT_EQ(sent_.size(), 2u);
  EXPECT_EQ(sent_[1]["method"], "notifications/tasks");
  EXPECT_EQ(sent_[1]["params"]["status"], "completed");
  Session().Receive(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":2}})");
  Session().Receive(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":4}})");
  EXPECT_EQ(Session().listens_open(), 0u);
}

TEST_F(McpModernSessionTest, TaskNotificationsNeedTheExtensionDeclared) {
  json refused =
      Ask(Modern(1, "subscriptions/listen", {{"notifications", {{"taskIds", {"bg_1"}}}}}));
  EXPECT_EQ(refused["error"]["code"], kMcpMissingRequiredClientCapability);
  EXPECT_TRUE(refused["error"]["data"]["requiredCapabilities"]["extensions"].contains(
      "io.modelcontextprotocol/tasks"));
  json bad =
      Ask(Modern(2, "subscriptions/listen", {{"notifications", {{"taskIds", "bg_1"}}}}, true));
  EXPECT_EQ(bad["error"]["code"], -32602);
  EXPECT_EQ(Session().listens_open(), 0u);
}

TEST_F(McpModernSessionTest, TasksUpdateAcknowledgesAKnownTaskAndRefusesAnUnknownOne) {
  Start(1);
  const std::string id =
      Ask(Modern(1, "tools/call", Delegate("quick"), /*tasks=*/true))["result"]["taskId"];
  // troupe's tasks never ask for input: no key is outstanding, the responses are ignored.
  json ack =
      Ask(Modern(2, "tasks/update",
                 {{"taskId", id}, {"inputResponses", {{"q1", {{"action", "accept"}}}}}}, true));
  ExpectStamped(ack["result"]);
  EXPECT_EQ(ack["result"]["resultType"], "complete");
  EXPECT_EQ(Ask(Modern(3, "tasks/get", {{"taskId", id}}))["result"]["status"], "working");
  EXPECT_EQ(
      Ask(Modern(4, "tasks/update", {{"taskId", "bg_nope"}, {"inputResponses", json::object()}},
                 true))["error"]["code"],
      -32602);
  EXPECT_EQ(Ask(Modern(5, "tasks/update", {{"taskId", id}}, true))["error"]["code"], -32602);
}

TEST_F(McpModernSessionTest, EraRulesAndTheRevisionsErrors) {
  json unknown = Ask({{"jsonrpc", "2.0"},
                      {"id", 1},
                      {"method", "tools/list"},
                      {"params", {{"_meta", Meta(false, "2099-01-01")}}}});
  EXPECT_EQ(unknown["error"]["code"], kMcpUnsupportedProtocolVersion);
  EXPECT_EQ(unknown["error"]["data"]["requested"], "2099-01-01");

  json ping = Ask(Modern(2, "ping"));
  EXPECT_EQ(ping["error"]["code"], -32601);

  // The connection then initializes a 2025 session: 2026 requests are refused on it.
  json init = Ask({{"jsonrpc", "2.0"},
                   {"id", 3},
                   {"method", "initialize"},
                   {"params", {{"protocolVersion", "2025-11-25"}}}});
  ASSERT_TRUE(init.contains("result"));
  EXPECT_FALSE(init["result"].contains("resultType")) << "2025 answers are unchanged";
  json refused = Ask(Modern(4, "tools/list"));
  EXPECT_EQ(refused["error"]["code"], kMcpUnsupportedProtocolVersion);
  EXPECT_EQ(refused["error"]["data"]["supported"], json::array({"2025-11-25"}));
}

class McpModernHttpTest : public McpModernSessionTest {
 protected:
  void SetUp() override {
    McpModernSessionTest::SetUp();
    http_ = std::make_unique<McpHttpHandler>(&clock_, tools_.get());
  }
  void TearDown() override { http_.reset(); }

  std::shared_ptr<testing::FakeExchange> Post(const json& message, const std::string& name = "",
                                              const std::string& method = "") {
    auto ex = ::troupe::testing::FakeExchange::Make("POST", "/mcp", message.dump());
    auto& headers = ex->mutable_request().headers;
    headers["accept"] = "application/json, text/event-stream";
    headers["mcp-protocol-version"] = "2026-07-28";
    headers["mcp-method"] = method.empty() ? message["method"].get<std::string>() : method;
    if (!name.empty()) headers["mcp-name"] = name;
    http_->Handle(ex);
    return ex;
  }

  std::unique_ptr<McpHttpHandler> http_;
};

TEST_F(McpModernHttpTest, EachRequestStandsAloneAndLeavesNoSession) {
  auto discover = Post(Modern(1, "server/discover"));
  EXPECT_EQ(discover->status(), 200);
  EXPECT_EQ(discover->json()["result"]["resultType"], "complete");
  auto task = Post(Modern(2, "tools/call", Delegate("quick"), true), "delegate_task");
  EXPECT_EQ(task->json()["result"]["resultType"], "task");
  clock_.AdvanceMs(1);
  EXPECT_EQ(http_->sessions(), 0u);
}

TEST_F(McpModernHttpTest, HeadersThatDoNotMatchTheBodyAre400HeaderMismatch) {
  auto wrong_name = Post(Modern(1, "tools/call", Delegate("quick")), "background_list");
  EXPECT_EQ(wrong_name->status(), 400);
  EXPECT_EQ(wrong_name->json()["error"]["code"], kMcpHeaderMismatch);
  EXPECT_EQ(wrong_name->json()["id"], 1);
  auto wrong_method = Post(Modern(2, "tools/list"), "", "tools/call");
  EXPECT_EQ(wrong_method->status(), 400);
  EXPECT_EQ(wrong_method->json()["error"]["code"], kMcpHeaderMismatch);
  EXPECT_EQ(http_->sessions(), 0u);
}

TEST_F(McpModernHttpTest, TasksRequestsMustNameTheirTaskInMcpName) {
  auto task = Post(Modern(1, "tools/call", Delegate("quick"), true), "delegate_task");
  const std::string id = task->json()["result"]["taskId"];
  auto unnamed = Post(Modern(2, "tasks/get", {{"taskId", id}}));
  EXPECT_EQ(unnamed->status(), 400);
  EXPECT_EQ(unnamed->json()["error"]["code"], kMcpHeaderMismatch);
  auto other = Post(Modern(3, "tasks/cancel", {{"taskId", id}}), "bg_someoneelse");
  EXPECT_EQ(other->status(), 400);
  EXPECT_EQ(other->json()["error"]["code"], kMcpHeaderMismatch);
  auto named = Post(Modern(5, "tasks/get", {{"taskId", id}}), id);
  EXPECT_EQ(named->status(), 200);
  EXPECT_EQ(named->json()["result"]["taskId"], id);
  EXPECT_NE(named->json()["result"]["status"], "cancelled")
      << "the refused tasks/cancel cancelled nothing";
}

TEST_F(McpModernHttpTest, AnUnknownVersionHeaderIs400Unsupported) {
  auto ex = ::troupe::testing::FakeExchange::Make("POST", "/mcp", Modern(1, "tools/list").dump());
  ex->mutable_request().headers["mcp-protocol-version"] = "2099-01-01";
  http_->Handle(ex);
  EXPECT_EQ(ex->status(), 400);
  EXPECT_EQ(ex->json()["error"]["code"], kMcpUnsupportedProtocolVersion);
}

TEST_F(McpModernHttpTest, GetIsNotPartOf2026) {
  auto ex = ::troupe::testing::FakeExchange::Make("GET", "/mcp", "");
  ex->mutable_request().headers["accept"] = "text/event-stream";
  ex->mutable_request().headers["mcp-protocol-version"] = "2026-07-28";
  http_->Handle(ex);
  EXPECT_EQ(ex->status(), 405);
}

}  // namespace
}  // namespace troupe
