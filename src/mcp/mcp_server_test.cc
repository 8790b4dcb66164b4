// Tests of mcp/mcp_server.h over a fake McpToolHost: the lifecycle on each protocol version,
// version negotiation, pagination, the error for each malformed request (table-driven),
// deferred results, progress, cancellation, logging, ids echoed with their type, the task
// protocol (capability, task-augmented calls, tasks/*, pushed notices), and junk.
// (mcp/mcp_tasks_test.cc runs tasks over the real engine.)
#include "mcp/mcp_server.h"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
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
// "slow" declares taskSupport "optional" (see `task_support`). Tasks are "t1", "t2", … in the
// order started; arguments {"refuse": true} make StartTask refuse, {"explode": true} fail
// inside; Finish ends a task and tells its session's watch.
class FakeToolHost : public McpToolHost {
 public:
  explicit FakeToolHost(int extra = 0) : extra_(extra) {}

  json ListTools() const override {
    json tools = json::array();
    for (const char* name : {"echo", "fail", "slow", "throw"}) {
      json tool = {{"name", name}, {"inputSchema", {{"type", "object"}}}};
      if (auto it = task_support.find(name); it != task_support.end()) {
        tool["execution"] = {{"taskSupport", it->second}};
      }
      tools.push_back(std::move(tool));
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
    return Hold(context, name, arguments, std::move(done));
  }

  Result<McpTask> StartTask(const McpCallContext& context, const std::string& name,
                            const json& arguments) override {
    started.push_back(name);
    if (arguments.value("refuse", false)) return Status::InvalidArgument("slow: `refuse` is set");
    if (arguments.value("explode", false)) return Status::Internal("the store broke");
    FakeTask t;
    t.session = context.session_id;
    t.task.task_id = fmt::format("t{}", tasks_.size() + 1);
    t.task.status_message = "queued";
    t.task.created_at_ms = 1'767'225'600'000 + static_cast<int64_t>(tasks_.size());
    t.task.updated_at_ms = t.task.created_at_ms;
    tasks_.push_back(t);
    return t.task;
  }

  Result<McpTask> GetTask(const McpCallContext& context, const std::string& task_id) override {
    FakeTask* t = Find(context.session_id, task_id);
    if (t == nullptr) return Status::NotFound(fmt::format("no task {} in this session", task_id));
    return t->task;
  }

  Result<std::vector<McpTask>> ListTasks(const McpCallContext& context) override {
    std::vector<McpTask> out;
    for (const FakeTask& t : tasks_) {
      if (t.session == context.session_id) out.push_back(t.task);
    }
    return out;
  }

  Result<McpTask> CancelTask(const McpCallContext& context, const std::string& task_id) override {
    FakeTask* t = Find(context.session_id, task_id);
    if (t == nullptr) return Status::NotFound(fmt::format("no task {} in this session", task_id));
    t->task.status = McpTaskStatus::kCancelled;
    t->task.status_message = "cancelled by the client";
    return t->task;
  }

  std::unique_ptr<McpCall> AwaitTaskResult(const McpCallContext& context,
                                           const std::string& task_id,
                                           std::function<void(McpToolResult)> done) override {
    FakeTask* t = Find(context.session_id, task_id);
    if (t == nullptr) {
      done(McpToolResult::Error(fmt::format("no task {}", task_id)));
      return nullptr;
    }
    if (IsTerminal(t->task.status)) {
      McpToolResult result = McpToolResult::Text(fmt::format("result of {}", task_id));
      result.is_error = t->task.status != McpTaskStatus::kCompleted;
      done(std::move(result));
      return nullptr;
    }
    return Hold(context, "tasks/result", {{"taskId", task_id}}, std::move(done));
  }

  std::unique_ptr<McpTaskWatch> WatchTasks(
      const std::string& session_id, std::function<void(const McpTaskNotice&)> on_notice) override {
    watchers_[session_id] = std::move(on_notice);
    return std::make_unique<FakeWatch>(this, session_id);
  }

  // Ends task `task_id` with `status` and tells its session's watch, if any.
  void Finish(const std::string& task_id, McpTaskStatus status) {
    for (FakeTask& t : tasks_) {
      if (t.task.task_id != task_id) continue;
      t.task.status = status;
      t.task.status_message = McpTaskStatusName(status);
      t.task.updated_at_ms += 1500;
      auto it = watchers_.find(t.session);
      if (it == watchers_.end()) return;
      McpTaskNotice notice;
      notice.task = t.task;
      notice.details = {{"task_id", task_id}, {"state", McpTaskStatusName(status)}};
      auto callback = it->second;
      callback(notice);
      return;
    }
  }

  std::shared_ptr<PendingCall> pending(size_t i) { return pending_.at(i); }
  size_t pending_count() const { return pending_.size(); }
  size_t task_count() const { return tasks_.size(); }
  size_t watches() const { return watchers_.size(); }

  std::vector<McpCallContext> contexts;
  std::vector<std::string> started;  // tools StartTask was asked for
  std::map<std::string, std::string> task_support = {{"slow", "optional"}};

 private:
  struct FakeTask {
    std::string session;
    McpTask task;
  };
  class FakeWatch : public McpTaskWatch {
   public:
    FakeWatch(FakeToolHost* host, std::string session) : host_(host), session_(session) {}
    ~FakeWatch() override { host_->watchers_.erase(session_); }

   private:
    FakeToolHost* host_;
    std::string session_;
  };

  std::unique_ptr<McpCall> Hold(const McpCallContext& context, const std::string& name,
                                const json& arguments, std::function<void(McpToolResult)> done) {
    auto pending = std::make_shared<PendingCall>();
    pending->context = context;
    pending->name = name;
    pending->arguments = arguments;
    pending->done = std::move(done);
    pending_.push_back(pending);
    return std::make_unique<FakeCall>(pending->cancelled);
  }

  FakeTask* Find(const std::string& session, const std::string& task_id) {
    for (FakeTask& t : tasks_) {
      if (t.session == session && t.task.task_id == task_id) return &t;
    }
    return nullptr;
  }

  int extra_;
  std::vector<std::shared_ptr<PendingCall>> pending_;
  std::vector<FakeTask> tasks_;
  std::map<std::string, std::function<void(const McpTaskNotice&)>> watchers_;
};

class McpSessionTest : public ::testing::Test {
 protected:
  explicit McpSessionTest(int extra_tools = 0, size_t page_size = 50) : host_(extra_tools) {
    McpSessionOptions options;
    options.session_id = "s1";
    options.instructions = "Delegate work to troupe agents.";
    options.page_size = page_size;
    NewSession(options);
  }

  void NewSession(const McpSessionOptions& options) {
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
  json capabilities = {{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
  if (version == "2025-11-25") {
    capabilities["tasks"] = {{"list", json::object()},
                             {"cancel", json::object()},
                             {"requests", {{"tools", {{"call", json::object()}}}}}};
  }
  EXPECT_EQ(result["capabilities"], capabilities);
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
  // The 2026-07-28 revision's probe: "method not found", so that the client falls back to
  // initialize.
  ExpectError(Call("probe", "server/discover"), "probe", jsonrpc::kMethodNotFound,
              "send \"initialize\"");
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
        BadRequestCase{"task_number", Req("tools/call", {{"name", "slow"}, {"task", 5}}),
                       jsonrpc::kInvalidParams, "params.task: expected an object, got an integer"},
        BadRequestCase{"task_array", Req("tools/call", {{"name", "slow"}, {"task", json::array()}}),
                       jsonrpc::kInvalidParams, "params.task: expected an object, got an array"},
        BadRequestCase{"task_ttl_string",
                       Req("tools/call", {{"name", "slow"}, {"task", {{"ttl", "1h"}}}}),
                       jsonrpc::kInvalidParams, "params.task.ttl: expected an integer"},
        BadRequestCase{"task_ttl_float",
                       Req("tools/call", {{"name", "slow"}, {"task", {{"ttl", 1.5}}}}),
                       jsonrpc::kInvalidParams, "params.task.ttl: expected an integer"},
        BadRequestCase{"task_on_tool_without_support",
                       Req("tools/call", {{"name", "echo"}, {"task", json::object()}}),
                       jsonrpc::kMethodNotFound,
                       "Tool echo does not support task-augmented execution (its "
                       "execution.taskSupport is \"forbidden\")"},
        BadRequestCase{"task_unknown_tool",
                       Req("tools/call", {{"name", "nope"}, {"task", json::object()}}),
                       jsonrpc::kInvalidParams, "Unknown tool: nope"},
        BadRequestCase{
            "task_refused_arguments",
            Req("tools/call",
                {{"name", "slow"}, {"arguments", {{"refuse", true}}}, {"task", json::object()}}),
            jsonrpc::kInvalidParams, "slow: `refuse` is set"},
        BadRequestCase{
            "task_host_failure",
            Req("tools/call",
                {{"name", "slow"}, {"arguments", {{"explode", true}}}, {"task", json::object()}}),
            jsonrpc::kInternalError, "the store broke"},
        BadRequestCase{"tasks_get_no_params", Req("tasks/get", nullptr), jsonrpc::kInvalidParams,
                       "params.taskId: expected a string, got null"},
        BadRequestCase{"tasks_get_number", Req("tasks/get", {{"taskId", 1}}),
                       jsonrpc::kInvalidParams, "params.taskId: expected a string, got an integer"},
        BadRequestCase{"tasks_get_params_array", Req("tasks/get", json::array()),
                       jsonrpc::kInvalidParams, "params: expected an object, got an array"},
        BadRequestCase{"tasks_get_unknown", Req("tasks/get", {{"taskId", "t9"}}),
                       jsonrpc::kInvalidParams, "no task t9 in this session"},
        BadRequestCase{"tasks_cancel_missing", Req("tasks/cancel", json::object()),
                       jsonrpc::kInvalidParams, "params.taskId: expected a string, got null"},
        BadRequestCase{"tasks_cancel_unknown", Req("tasks/cancel", {{"taskId", "t9"}}),
                       jsonrpc::kInvalidParams, "no task t9 in this session"},
        BadRequestCase{"tasks_result_number", Req("tasks/result", {{"taskId", 7}}),
                       jsonrpc::kInvalidParams, "params.taskId: expected a string, got an integer"},
        BadRequestCase{"tasks_result_unknown", Req("tasks/result", {{"taskId", "t9"}}),
                       jsonrpc::kInvalidParams, "no task t9 in this session"},
        BadRequestCase{"tasks_result_progress_token_float",
                       Req("tasks/result", {{"taskId", "t9"}, {"_meta", {{"progressToken", 0.5}}}}),
                       jsonrpc::kInvalidParams, "params._meta.progressToken"},
        BadRequestCase{"tasks_list_cursor_number", Req("tasks/list", {{"cursor", 2}}),
                       jsonrpc::kInvalidParams, "params.cursor: expected a string"},
        BadRequestCase{"tasks_list_cursor_foreign", Req("tasks/list", {{"cursor", "offset:1"}}),
                       jsonrpc::kInvalidParams, "is not a cursor this server gave out"},
        BadRequestCase{"tasks_list_params_array", Req("tasks/list", json::array({1})),
                       jsonrpc::kInvalidParams, "params: expected an object, got an array"},
        BadRequestCase{"tasks_unknown_method", Req("tasks/frobnicate", json::object()),
                       jsonrpc::kMethodNotFound, "Method not found: \"tasks/frobnicate\""},
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

// ---- tasks ----

json TaskCall(const json& id, const std::string& name, json task = json::object(),
              json arguments = json::object()) {
  return {{"jsonrpc", "2.0"},
          {"id", id},
          {"method", "tools/call"},
          {"params", {{"name", name}, {"arguments", std::move(arguments)}, {"task", task}}}};
}

struct CapabilityCase {
  const char* version;
  bool host_runs_tasks;
  bool declared;
};

class McpTaskCapabilityTest : public McpSessionTest,
                              public ::testing::WithParamInterface<CapabilityCase> {};

TEST_P(McpTaskCapabilityTest, DeclaredOnlyOnTheLatestVersionWithATaskTool) {
  const CapabilityCase& c = GetParam();
  if (!c.host_runs_tasks) host_.task_support.clear();
  json init = Initialize(c.version);
  EXPECT_EQ(init["result"]["capabilities"].contains("tasks"), c.declared) << init.dump();
  EXPECT_EQ(session_->tasks_enabled(), c.declared);
  if (c.declared) {
    EXPECT_EQ(init["result"]["capabilities"]["tasks"],
              json({{"list", json::object()},
                    {"cancel", json::object()},
                    {"requests", {{"tools", {{"call", json::object()}}}}}}));
  }
  // Without the capability, tasks/* do not exist.
  json get = Call(1, "tasks/get", {{"taskId", "t1"}});
  if (c.declared) {
    ExpectError(get, 1, jsonrpc::kInvalidParams, "no task t1 in this session");
  } else {
    ExpectError(get, 1, jsonrpc::kMethodNotFound, "Method not found: \"tasks/get\"");
    ExpectError(Call(2, "tasks/list"), 2, jsonrpc::kMethodNotFound, "tasks/list");
    ExpectError(Call(3, "tasks/result", {{"taskId", "t1"}}), 3, jsonrpc::kMethodNotFound,
                "tasks/result");
    ExpectError(Call(4, "tasks/cancel", {{"taskId", "t1"}}), 4, jsonrpc::kMethodNotFound,
                "tasks/cancel");
  }
}

INSTANTIATE_TEST_SUITE_P(Table, McpTaskCapabilityTest,
                         ::testing::Values(CapabilityCase{"2025-11-25", true, true},
                                           CapabilityCase{"2025-06-18", true, false},
                                           CapabilityCase{"2025-03-26", true, false},
                                           CapabilityCase{"2025-11-25", false, false}));

TEST_F(McpSessionTest, OlderVersionIgnoresParamsTask) {
  Initialize("2025-06-18");
  // An ordinary call: in flight, answered by the tool — even with a task that is no object.
  EXPECT_TRUE(Exchange(TaskCall(1, "slow", {{"ttl", 1000}})).empty());
  EXPECT_TRUE(Exchange(TaskCall(2, "slow", 5)).empty());
  EXPECT_EQ(session_->calls_in_flight(), 2u);
  EXPECT_TRUE(host_.started.empty());
  host_.pending(0)->done(McpToolResult::Text("plain"));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["result"]["content"][0]["text"], "plain");
  EXPECT_FALSE(sent_[0]["result"].contains("task"));
  // A tool without task support takes params.task too.
  std::vector<json> out = Exchange(TaskCall(3, "echo"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["result"]["isError"], false);
}

TEST_F(McpSessionTest, TaskAugmentedCallAnswersACreateTaskResultAtOnce) {
  Initialize();
  json call = TaskCall(1, "slow", {{"ttl", 60000}}, {{"x", 1}});
  call["params"]["_meta"] = {{"progressToken", "p"}};  // accepted, unused
  std::vector<json> out = Exchange(call);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["id"], 1);
  EXPECT_EQ(out[0]["result"], json({{"task",
                                     {{"taskId", "t1"},
                                      {"status", "working"},
                                      {"statusMessage", "queued"},
                                      {"createdAt", "2026-01-01T00:00:00.000Z"},
                                      {"lastUpdatedAt", "2026-01-01T00:00:00.000Z"},
                                      {"ttl", nullptr},
                                      {"pollInterval", 500}}}}));
  EXPECT_EQ(host_.started, std::vector<std::string>{"slow"});
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  EXPECT_EQ(host_.pending_count(), 0u);  // Call was not used
}

TEST_F(McpSessionTest, RequiredTaskSupport) {
  host_.task_support["echo"] = "required";
  Initialize();
  ExpectError(Exchange(ToolCall(1, "echo")).at(0), 1, jsonrpc::kMethodNotFound,
              "Tool echo runs only as a task");
  std::vector<json> out = Exchange(TaskCall(2, "echo"));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["result"]["task"]["taskId"], "t1");
  // On an older version the tool cannot be called at all.
  NewSession(McpSessionOptions{});
  Initialize("2025-06-18");
  ExpectError(Exchange(ToolCall(3, "echo")).at(0), 3, jsonrpc::kMethodNotFound, "2025-11-25");
}

TEST_F(McpSessionTest, TasksGetAndCancel) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  Exchange(TaskCall(2, "slow"));
  json got = Call(3, "tasks/get", {{"taskId", "t2"}});
  EXPECT_EQ(got["result"]["taskId"], "t2");
  EXPECT_EQ(got["result"]["status"], "working");
  EXPECT_EQ(got["result"]["createdAt"], "2026-01-01T00:00:00.001Z");
  EXPECT_EQ(got["result"]["ttl"], nullptr);

  json cancelled = Call(4, "tasks/cancel", {{"taskId", "t1"}});
  EXPECT_EQ(cancelled["result"]["status"], "cancelled");
  EXPECT_EQ(cancelled["result"]["statusMessage"], "cancelled by the client");
  ExpectError(Call(5, "tasks/cancel", {{"taskId", "t1"}}), 5, jsonrpc::kInvalidParams,
              "Cannot cancel task: it is already cancelled");
  host_.Finish("t2", McpTaskStatus::kCompleted);
  ExpectError(Call(6, "tasks/cancel", {{"taskId", "t2"}}), 6, jsonrpc::kInvalidParams,
              "Cannot cancel task: it is already completed");
  Exchange(TaskCall(7, "slow"));
  host_.Finish("t3", McpTaskStatus::kFailed);
  ExpectError(Call(8, "tasks/cancel", {{"taskId", "t3"}}), 8, jsonrpc::kInvalidParams,
              "Cannot cancel task: it is already failed");
}

TEST_F(McpSessionTest, TasksOfAnotherSessionAreInvisible) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  McpSessionOptions other;
  other.session_id = "s2";
  NewSession(other);
  Initialize();
  EXPECT_EQ(Call(2, "tasks/list")["result"], json({{"tasks", json::array()}}));
  for (const char* method : {"tasks/get", "tasks/cancel", "tasks/result"}) {
    ExpectError(Call(3, method, {{"taskId", "t1"}}), 3, jsonrpc::kInvalidParams,
                "no task t1 in this session");
  }
  EXPECT_EQ(session_->calls_in_flight(), 0u);
}

class McpTaskPaginationTest : public McpSessionTest {
 protected:
  McpTaskPaginationTest() {
    McpSessionOptions options;
    options.session_id = "s1";
    options.task_page_size = 2;
    options.task_poll_interval_ms = 2000;
    NewSession(options);
  }
};

TEST_F(McpTaskPaginationTest, PagesOldestFirst) {
  Initialize();
  EXPECT_EQ(Call(1, "tasks/list")["result"], json({{"tasks", json::array()}}));
  for (int i = 0; i < 5; ++i) Exchange(TaskCall(10 + i, "slow"));
  std::vector<std::string> ids;
  json params = json::object();
  int pages = 0;
  for (;;) {
    json response = Call(pages + 1, "tasks/list", params);
    ASSERT_TRUE(response.contains("result")) << response.dump();
    ++pages;
    for (const json& task : response["result"]["tasks"]) {
      ids.push_back(task["taskId"]);
      EXPECT_EQ(task["pollInterval"], 2000);
    }
    if (!response["result"].contains("nextCursor")) break;
    params = {{"cursor", response["result"]["nextCursor"]}};
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(ids, (std::vector<std::string>{"t1", "t2", "t3", "t4", "t5"}));
  ExpectError(Call(9, "tasks/list", {{"cursor", "offset:5"}}), 9, jsonrpc::kInvalidParams,
              "params.cursor");
}

TEST_F(McpSessionTest, TasksResultIsACallInFlight) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  EXPECT_TRUE(Exchange({{"jsonrpc", "2.0"},
                        {"id", "r"},
                        {"method", "tasks/result"},
                        {"params", {{"taskId", "t1"}, {"_meta", {{"progressToken", 9}}}}}})
                  .empty());
  EXPECT_EQ(session_->calls_in_flight(), 1u);
  ASSERT_EQ(host_.pending_count(), 1u);
  auto wait = host_.pending(0);
  EXPECT_EQ(wait->name, "tasks/result");
  EXPECT_EQ(wait->arguments["taskId"], "t1");
  EXPECT_EQ(wait->context.session_id, "s1");
  // The id is taken while it waits.
  ExpectError(Call("r", "ping"), "r", jsonrpc::kInvalidRequest, "already used");
  ASSERT_TRUE(wait->context.progress);
  wait->context.progress(1, std::nullopt, "t1 running grep");
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0]["params"]["progressToken"], 9);
  sent_.clear();
  McpToolResult result = McpToolResult::Text("the report");
  result.structured = {{"state", "completed"}};
  wait->done(std::move(result));
  ASSERT_EQ(sent_.size(), 1u);
  EXPECT_EQ(sent_[0],
            json({{"jsonrpc", "2.0"},
                  {"id", "r"},
                  {"result",
                   {{"content", {{{"type", "text"}, {"text", "the report"}}}},
                    {"isError", false},
                    {"structuredContent", {{"state", "completed"}}},
                    {"_meta", {{"io.modelcontextprotocol/related-task", {{"taskId", "t1"}}}}}}}}));
  EXPECT_EQ(session_->calls_in_flight(), 0u);
}

TEST_F(McpSessionTest, TasksResultOfATerminalTaskAnswersAtOnce) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  Exchange(TaskCall(2, "slow"));
  host_.Finish("t1", McpTaskStatus::kCompleted);
  host_.Finish("t2", McpTaskStatus::kFailed);
  sent_.clear();
  json done = Call(3, "tasks/result", {{"taskId", "t1"}});
  EXPECT_EQ(done["result"]["content"][0]["text"], "result of t1");
  EXPECT_EQ(done["result"]["isError"], false);
  EXPECT_EQ(done["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], "t1");
  json failed = Call(4, "tasks/result", {{"taskId", "t2"}});
  EXPECT_EQ(failed["result"]["isError"], true);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
}

TEST_F(McpSessionTest, TasksResultCancelledByNotificationOrClose) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  EXPECT_TRUE(Exchange(Req("tasks/result", {{"taskId", "t1"}})).empty());
  auto first = host_.pending(0);
  Notify("notifications/cancelled", {{"requestId", 9}});
  EXPECT_TRUE(*first->cancelled);
  EXPECT_EQ(session_->calls_in_flight(), 0u);
  first->done(McpToolResult::Text("late"));
  EXPECT_TRUE(sent_.empty());

  EXPECT_TRUE(Exchange(Req("tasks/result", {{"taskId", "t1"}})).empty());
  auto second = host_.pending(1);
  EXPECT_EQ(host_.watches(), 1u);
  session_->Close();
  EXPECT_TRUE(*second->cancelled);
  EXPECT_EQ(host_.watches(), 0u);  // the watch on the session's tasks ended with it
  second->done(McpToolResult::Text("late"));
  EXPECT_TRUE(sent_.empty());
}

struct NoticeCase {
  const char* version;
  const char* log_level;  // set by the client, "" = default (info)
  McpTaskStatus status;
  const char* expected_level;  // of notifications/message; "" = none
  bool task_status;            // notifications/tasks/status expected
};

class McpTaskNoticeTest : public McpSessionTest,
                          public ::testing::WithParamInterface<NoticeCase> {};

TEST_P(McpTaskNoticeTest, PushedWhenATaskEnds) {
  const NoticeCase& c = GetParam();
  // Nothing is watched before initialize.
  EXPECT_EQ(host_.watches(), 0u);
  Initialize(c.version);
  EXPECT_EQ(host_.watches(), 1u);
  if (std::string(c.log_level) != "") Call(1, "logging/setLevel", {{"level", c.log_level}});
  // The fake host has tasks whatever the version; only the session decides what is sent.
  McpCallContext context;
  context.session_id = "s1";
  ASSERT_TRUE(host_.StartTask(context, "slow", json::object()).ok());
  sent_.clear();
  host_.Finish("t1", c.status);
  std::vector<json> out = std::move(sent_);
  sent_.clear();
  size_t next = 0;
  if (std::string(c.expected_level) != "") {
    ASSERT_GT(out.size(), next);
    EXPECT_EQ(out[next],
              json({{"jsonrpc", "2.0"},
                    {"method", "notifications/message"},
                    {"params",
                     {{"level", c.expected_level},
                      {"logger", "troupe"},
                      {"data", {{"task_id", "t1"}, {"state", McpTaskStatusName(c.status)}}}}}}));
    ++next;
  }
  if (c.task_status) {
    ASSERT_GT(out.size(), next);
    EXPECT_EQ(out[next]["method"], "notifications/tasks/status");
    EXPECT_EQ(out[next]["params"]["taskId"], "t1");
    EXPECT_EQ(out[next]["params"]["status"], McpTaskStatusName(c.status));
    EXPECT_EQ(out[next]["params"]["lastUpdatedAt"], "2026-01-01T00:00:01.500Z");
    EXPECT_EQ(out[next]["params"]["ttl"], nullptr);
    ++next;
  }
  EXPECT_EQ(out.size(), next);
}

INSTANTIATE_TEST_SUITE_P(
    Table, McpTaskNoticeTest,
    ::testing::Values(NoticeCase{"2025-11-25", "", McpTaskStatus::kCompleted, "info", true},
                      NoticeCase{"2025-11-25", "", McpTaskStatus::kFailed, "warning", true},
                      NoticeCase{"2025-11-25", "", McpTaskStatus::kCancelled, "warning", true},
                      NoticeCase{"2025-11-25", "warning", McpTaskStatus::kCompleted, "", true},
                      NoticeCase{"2025-11-25", "warning", McpTaskStatus::kFailed, "warning", true},
                      NoticeCase{"2025-11-25", "error", McpTaskStatus::kCancelled, "", true},
                      NoticeCase{"2025-11-25", "debug", McpTaskStatus::kCompleted, "info", true},
                      NoticeCase{"2025-06-18", "", McpTaskStatus::kCompleted, "info", false},
                      NoticeCase{"2025-03-26", "", McpTaskStatus::kFailed, "warning", false},
                      NoticeCase{"2025-06-18", "warning", McpTaskStatus::kCompleted, "", false}));

TEST_F(McpSessionTest, NoNoticesAfterClose) {
  Initialize();
  Exchange(TaskCall(1, "slow"));
  session_->Close();
  sent_.clear();
  host_.Finish("t1", McpTaskStatus::kCompleted);
  EXPECT_TRUE(sent_.empty());
}

TEST(McpTimestampTest, Iso8601WithMilliseconds) {
  struct Case {
    int64_t ms;
    const char* text;
  };
  for (const Case& c :
       {Case{0, "1970-01-01T00:00:00.000Z"}, Case{1'767'225'600'000, "2026-01-01T00:00:00.000Z"},
        Case{1'767'225'599'999, "2025-12-31T23:59:59.999Z"},
        Case{951'782'400'123, "2000-02-29T00:00:00.123Z"}, Case{-1, "1969-12-31T23:59:59.999Z"}}) {
    EXPECT_EQ(FormatMcpTimestamp(c.ms), c.text) << c.ms;
  }
}

TEST(McpTaskJsonTest, OmitsAnEmptyStatusMessage) {
  McpTask task;
  task.task_id = "bg_1";
  task.status = McpTaskStatus::kFailed;
  json j = McpTaskJson(task, 250);
  EXPECT_EQ(j["status"], "failed");
  EXPECT_EQ(j["pollInterval"], 250);
  EXPECT_FALSE(j.contains("statusMessage"));
  task.status_message = "boom";
  EXPECT_EQ(McpTaskJson(task, 250)["statusMessage"], "boom");
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
                                            "tasks/get",
                                            "tasks/list",
                                            "tasks/cancel",
                                            "tasks/result",
                                            "x"};
  const std::vector<std::string> keys = {
      "jsonrpc",   "id",    "method", "params", "result",    "error",         "name",
      "arguments", "_meta", "cursor", "level",  "requestId", "progressToken", "protocolVersion",
      "task",      "ttl",   "taskId"};
  auto random_value = [&](auto& self, int depth) -> json {
    int pick = static_cast<int>(rng() % (depth > 3 ? values.size() : values.size() + 3));
    if (pick < static_cast<int>(values.size())) return values[pick];
    json object = json::object();
    int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i) object[keys[rng() % keys.size()]] = self(self, depth + 1);
    if (rng() % 2 == 0) object["name"] = rng() % 2 ? "echo" : "slow";
    if (rng() % 3 == 0) object["task"] = rng() % 4 ? json::object() : values[rng() % values.size()];
    if (rng() % 3 == 0) object["taskId"] = fmt::format("t{}", 1 + rng() % 4);
    return object;
  };
  int tasks_answered = 0;
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
    for (const json& out : ExchangeText(text)) {
      ExpectWellFormed(out);
      if (out.contains("result") &&
          (out["result"].contains("taskId") || out["result"].contains("tasks"))) {
        ++tasks_answered;
      }
    }
    // Occasionally end a task, which pushes notices.
    if (host_.task_count() > 0 && rng() % 7 == 0) {
      const McpTaskStatus ends[] = {McpTaskStatus::kCompleted, McpTaskStatus::kFailed,
                                    McpTaskStatus::kCancelled};
      host_.Finish(fmt::format("t{}", 1 + rng() % host_.task_count()), ends[rng() % 3]);
      for (const json& out : sent_) ExpectWellFormed(out);
      sent_.clear();
    }
    // Occasionally finish or report on a pending call, as the host would.
    if (host_.pending_count() > 0 && rng() % 3 == 0) {
      auto call = host_.pending(rng() % host_.pending_count());
      if (call->context.progress) call->context.progress(1, std::nullopt, "p");
      if (!*call->cancelled) call->done(McpToolResult::Text("r"));
      for (const json& out : sent_) ExpectWellFormed(out);
      sent_.clear();
    }
  }
  // The tasks were reached: some started, and tasks/* answered more than errors.
  EXPECT_GT(host_.task_count(), 0u);
  EXPECT_GT(tasks_answered, 0);
  session_->Close();
}

}  // namespace
}  // namespace troupe
