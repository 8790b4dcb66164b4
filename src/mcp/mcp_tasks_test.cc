// MCP tasks end to end: McpSession (and McpHttpHandler) over EngineMcpTools over a real
// TaskManager (fake clock, scripted runner, in-memory store). Task-augmented delegate_task,
// tasks/get through a task's life, tasks/result, tasks/list and ownership, tasks/cancel, the
// notices pushed when a task ends, and the same over streamable HTTP.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/engine_test_fixture.h"
#include "engine/testing/test_scripts.h"
#include "http/testing/fake_exchange.h"
#include "mcp/mcp_engine_tasks.h"
#include "mcp/mcp_http.h"
#include "mcp/mcp_server.h"
#include "mcp/mcp_tools.h"
#include "mcp/testing/mcp_engine_test.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;

json Args(const std::string& prompt) {
  return {{"description", fmt::format("d {}", prompt)}, {"prompt", prompt}, {"agent", "explore"}};
}

json Request(const json& id, const std::string& method, json params = nullptr) {
  json m = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) m["params"] = std::move(params);
  return m;
}

json ToolCall(const json& id, const std::string& tool, json arguments, json task = nullptr) {
  json params = {{"name", tool}, {"arguments", std::move(arguments)}};
  if (!task.is_null()) params["task"] = std::move(task);
  return Request(id, "tools/call", std::move(params));
}

// The messages of `out` with this method.
std::vector<json> WithMethod(const std::vector<json>& out, const std::string& method) {
  std::vector<json> found;
  for (const json& m : out) {
    if (m.value("method", "") == method) found.push_back(m);
  }
  return found;
}

// A client: its session and what it was sent.
struct Client {
  std::unique_ptr<McpSession> session;
  std::vector<json> sent;

  std::vector<json> Take() {
    std::vector<json> out = std::move(sent);
    sent.clear();
    return out;
  }
};

class McpTasksTest : public testing::McpEngineTest {
 protected:
  void ForgetCalls() override { clients_.clear(); }

  // An initialized session `id` on `version`.
  Client& Open(const std::string& id, const std::string& version = "2025-11-25",
               size_t task_page_size = 50) {
    auto client = std::make_unique<Client>();
    McpSessionOptions options;
    options.session_id = id;
    options.task_page_size = task_page_size;
    Client* raw = client.get();
    client->session = std::make_unique<McpSession>(
        tools_.get(), options, [raw](json message) { raw->sent.push_back(std::move(message)); });
    clients_[id] = std::move(client);
    json init = Send(*raw, Request(0, "initialize", {{"protocolVersion", version}}));
    EXPECT_TRUE(init.contains("result")) << init.dump();
    raw->session->Receive(R"({"jsonrpc":"2.0","method":"notifications/initialized"})");
    return *raw;
  }

  // Sends a request that is answered at once and returns the answer (other messages sent
  // meanwhile stay in client.sent).
  json Send(Client& client, const json& message) {
    client.session->Receive(message.dump());
    for (auto it = client.sent.begin(); it != client.sent.end(); ++it) {
      if (it->contains("id") && !it->contains("method") && (*it)["id"] == message["id"]) {
        json answer = std::move(*it);
        client.sent.erase(it);
        return answer;
      }
    }
    ADD_FAILURE() << "no answer to " << message.dump();
    return json();
  }

  // Starts delegate_task as a task and returns its Task.
  json LaunchTask(Client& client, const std::string& prompt) {
    json answer = Send(client, ToolCall(next_id_++, "delegate_task", Args(prompt), json::object()));
    EXPECT_TRUE(answer.contains("result")) << answer.dump();
    return answer["result"]["task"];
  }

  json GetTask(Client& client, const std::string& task_id) {
    return Send(client, Request(next_id_++, "tasks/get", {{"taskId", task_id}}))["result"];
  }

  static void ExpectError(const json& answer, int code, const std::string& what) {
    ASSERT_TRUE(answer.contains("error")) << answer.dump();
    EXPECT_EQ(answer["error"]["code"], code) << answer.dump();
    EXPECT_THAT(answer["error"]["message"].get<std::string>(), HasSubstr(what));
  }

  std::map<std::string, std::unique_ptr<Client>> clients_;
  int next_id_ = 100;
};

TEST_F(McpTasksTest, EngineToolsDeclareTasksOnTheLatestVersionOnly) {
  Client& latest = Open("s1");
  EXPECT_TRUE(latest.session->tasks_enabled());
  Client& older = Open("s2", "2025-06-18");
  EXPECT_FALSE(older.session->tasks_enabled());
}

TEST_F(McpTasksTest, TaskAugmentedDelegateTaskQueuesWhenThePoolIsFull) {
  Start(1);
  Client& c = Open("s1");
  json first = LaunchTask(c, "slow a");
  EXPECT_EQ(first["status"], "working");
  EXPECT_EQ(first["statusMessage"], "running for 0ms");
  EXPECT_EQ(first["createdAt"], "2026-01-01T00:00:00.000Z");
  EXPECT_EQ(first["ttl"], nullptr);
  EXPECT_EQ(first["pollInterval"], 500);
  EXPECT_THAT(first["taskId"].get<std::string>(), StartsWith("bg_"));

  // background=false changes nothing for a task: it answers at once.
  clock_.AdvanceMs(250);
  json answer = Send(c, ToolCall(1, "delegate_task",
                                 {{"description", "read docs"},
                                  {"prompt", "b"},
                                  {"agent", "librarian"},
                                  {"background", false}},
                                 {{"ttl", 5000}}));
  ASSERT_TRUE(answer["result"].contains("task")) << answer.dump();
  const json& second = answer["result"]["task"];
  EXPECT_EQ(second["status"], "working");
  EXPECT_EQ(second["ttl"], nullptr);  // troupe keeps tasks; the requested ttl is overridden
  EXPECT_EQ(second["createdAt"], "2026-01-01T00:00:00.250Z");
  const std::string message = second["statusMessage"];
  EXPECT_THAT(message, StartsWith("queued: position 1 in pool default:mock/scripted ("));
  EXPECT_THAT(message, HasSubstr("full (1/1 running)"));

  TaskView stored = ViewOf(second["taskId"]);
  EXPECT_EQ(stored.task.state, TaskState::kPending);
  EXPECT_EQ(stored.task.owner, "mcp:s1");
  EXPECT_EQ(stored.task.agent, "librarian");
  EXPECT_TRUE(c.Take().empty());  // no notice, no stray message
}

TEST_F(McpTasksTest, InvalidArgumentsOfATaskAreInvalidParamsWithTheToolsMessage) {
  Client& c = Open("s1");
  struct Case {
    json arguments;
    const char* what;
  };
  for (const Case& k :
       {Case{{{"prompt", "p"}, {"agent", "explore"}}, "`description`"},
        Case{{{"description", "d"}, {"prompt", "p"}, {"agent", "oracle"}},
             "known agents: explore, librarian"},
        Case{{{"description", "d"}, {"prompt", "p"}, {"background", "no"}}, "`background`"},
        Case{{{"description", "d"}, {"prompt", "p"}, {"session_id", "ses_x"}}, "`session_id`"}}) {
    SCOPED_TRACE(k.arguments.dump());
    ExpectError(Send(c, ToolCall(1, "delegate_task", k.arguments, json::object())),
                jsonrpc::kInvalidParams, k.what);
  }
  EXPECT_EQ(manager_->active_tasks(), 0u);
}

TEST_F(McpTasksTest, TaskOnAToolWithoutTaskSupportIsMethodNotFound) {
  Client& c = Open("s1");
  for (const char* tool :
       {"background_list", "background_output", "background_wait", "background_cancel"}) {
    json answer = Send(c, ToolCall(1, tool, json::object(), json::object()));
    ExpectError(answer, jsonrpc::kMethodNotFound, fmt::format("Tool {} does not support", tool));
  }
}

TEST_F(McpTasksTest, OlderVersionRunsATaskAugmentedCallAsAnOrdinaryCall) {
  Client& c = Open("s1", "2025-06-18");
  json answer = Send(c, ToolCall(1, "delegate_task", Args("quick"), {{"ttl", "ignored"}}));
  ASSERT_TRUE(answer.contains("result")) << answer.dump();
  EXPECT_FALSE(answer["result"].contains("task"));
  EXPECT_THAT(answer["result"]["content"][0]["text"].get<std::string>(),
              HasSubstr("Background task launched."));
  ExpectError(Send(c, Request(2, "tasks/list")), jsonrpc::kMethodNotFound, "tasks/list");
}

TEST_F(McpTasksTest, TasksGetFollowsPendingRunningCompleted) {
  Start(1);
  Client& c = Open("s1");
  const std::string first = LaunchTask(c, "slow first")["taskId"];
  const std::string id = LaunchTask(c, "quick")["taskId"];

  json pending = GetTask(c, id);
  EXPECT_EQ(pending["status"], "working");
  EXPECT_THAT(pending["statusMessage"].get<std::string>(), StartsWith("queued: position 1"));

  clock_.AdvanceMs(3000);  // the first ends, this one starts
  EXPECT_EQ(GetTask(c, first)["status"], "completed");
  clock_.AdvanceMs(600);
  json running = GetTask(c, id);
  EXPECT_EQ(running["status"], "working");
  EXPECT_EQ(running["statusMessage"], "running for 600ms; last tool: grep");
  EXPECT_EQ(running["createdAt"], "2026-01-01T00:00:00.000Z");

  clock_.AdvanceMs(400);
  json done = GetTask(c, id);
  EXPECT_EQ(done["status"], "completed");
  EXPECT_EQ(done["statusMessage"], "completed in 1.0s");
  EXPECT_EQ(done["lastUpdatedAt"], "2026-01-01T00:00:04.000Z");
  EXPECT_EQ(done["taskId"], id);
}

TEST_F(McpTasksTest, TasksResultBlocksUntilTheTaskCompletes) {
  Client& c = Open("s1");
  const std::string id = LaunchTask(c, "slow work")["taskId"];
  json request = Request("r1", "tasks/result", {{"taskId", id}, {"_meta", {{"progressToken", 7}}}});
  c.session->Receive(request.dump());
  std::vector<json> out = c.Take();  // the wait begins
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["method"], "notifications/progress");
  EXPECT_EQ(out[0]["params"]["message"], fmt::format("waiting for {} running", id));
  EXPECT_EQ(out[0]["params"]["progress"], 1);
  EXPECT_EQ(c.session->calls_in_flight(), 1u);

  clock_.AdvanceMs(1500);  // progress: grep
  out = c.Take();
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]["method"], "notifications/progress");
  EXPECT_EQ(out[0]["params"]["progressToken"], 7);
  EXPECT_EQ(out[0]["params"]["message"], fmt::format("{} running grep", id));
  EXPECT_EQ(out[0]["params"]["progress"], 2);

  clock_.AdvanceMs(1499);
  EXPECT_TRUE(WithMethod(c.Take(), "notifications/progress").empty());
  clock_.AdvanceMs(1);
  out = c.Take();
  // The end is the answer, not one more notification.
  EXPECT_TRUE(WithMethod(out, "notifications/progress").empty());
  std::vector<json> answers;
  for (const json& m : out) {
    if (m.contains("id")) answers.push_back(m);
  }
  ASSERT_EQ(answers.size(), 1u);
  const json& result = answers[0]["result"];
  EXPECT_EQ(answers[0]["id"], "r1");
  EXPECT_EQ(result["isError"], false);
  ASSERT_EQ(result["content"].size(), 1u);  // its own notice is not repeated
  const std::string text = result["content"][0]["text"];
  EXPECT_THAT(text, HasSubstr("Task Result"));
  EXPECT_THAT(text, HasSubstr("done: slow work"));
  EXPECT_EQ(result["structuredContent"]["state"], "completed");
  EXPECT_EQ(result["structuredContent"]["task_id"], id);
  EXPECT_EQ(result["_meta"], json({{"io.modelcontextprotocol/related-task", {{"taskId", id}}}}));
  EXPECT_EQ(c.session->calls_in_flight(), 0u);
  // The notices were pushed too, but the outbox notice went with the answer: nothing left.
  EXPECT_EQ(WithMethod(out, "notifications/tasks/status").size(), 1u);
  json list = Send(c, ToolCall(2, "background_list", json::object()));
  EXPECT_EQ(list["result"]["content"].size(), 1u);

  // Asked again, it answers at once with the same result.
  json again = Send(c, Request("r2", "tasks/result", {{"taskId", id}}));
  EXPECT_EQ(again["result"]["content"], result["content"]);
  EXPECT_EQ(again["result"]["structuredContent"], result["structuredContent"]);
}

TEST_F(McpTasksTest, TasksResultAnswersLikeForegroundDelegateTask) {
  // Two sessions, so that neither answer carries the other's completion notice.
  Client& by_task_client = Open("s1");
  Client& by_call_client = Open("s2");
  const std::string task_id = LaunchTask(by_task_client, "quick one")["taskId"];
  by_task_client.session->Receive(Request("r", "tasks/result", {{"taskId", task_id}}).dump());
  by_call_client.session->Receive(ToolCall("f", "delegate_task",
                                           {{"description", "d quick one"},
                                            {"prompt", "quick one"},
                                            {"agent", "explore"},
                                            {"background", false}})
                                      .dump());
  clock_.AdvanceMs(1000);
  auto answer = [](Client& client, const json& id) {
    for (const json& m : client.Take()) {
      if (m.value("id", json()) == id) return m["result"];
    }
    return json();
  };
  json by_task = answer(by_task_client, "r");
  json by_call = answer(by_call_client, "f");
  ASSERT_TRUE(by_task.is_object());
  ASSERT_TRUE(by_call.is_object());
  EXPECT_EQ(by_task["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], task_id);
  by_task.erase("_meta");
  // The same answer but for the ids of the task and its session.
  const std::string call_id = by_call["structuredContent"]["task_id"];
  auto normalized = [](json result, const std::string& id) {
    std::string text = result.dump();
    const std::string session = result["structuredContent"]["session_id"];
    for (const std::string& from : {id, session}) {
      for (size_t pos; (pos = text.find(from)) != std::string::npos;) {
        text.replace(pos, from.size(), "<id>");
      }
    }
    return text;
  };
  EXPECT_EQ(normalized(by_task, task_id), normalized(by_call, call_id));
  EXPECT_EQ(by_task["content"].size(), 1u);
}

TEST_F(McpTasksTest, TasksResultCancelledByNotificationLeavesTheTaskRunning) {
  Client& c = Open("s1");
  const std::string id = LaunchTask(c, "slow one")["taskId"];
  const size_t watches = tools_->task_watches();
  const size_t subscribers = manager_->events().subscribers();
  c.session->Receive(Request(5, "tasks/result", {{"taskId", id}}).dump());
  EXPECT_EQ(tools_->task_watches(), watches + 1);
  EXPECT_EQ(manager_->events().subscribers(), subscribers);  // no subscription of its own
  c.session->Receive(
      R"({"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":5}})");
  EXPECT_EQ(c.session->calls_in_flight(), 0u);
  EXPECT_EQ(tools_->task_watches(), watches);
  clock_.AdvanceMs(3000);
  for (const json& m : c.Take()) EXPECT_FALSE(m.contains("id")) << m.dump();
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
}

TEST_F(McpTasksTest, CloseCancelsTasksResultAndEndsTheWatch) {
  Client& c = Open("s1");
  const std::string id = LaunchTask(c, "slow one")["taskId"];
  c.session->Receive(Request(5, "tasks/result", {{"taskId", id}}).dump());
  EXPECT_EQ(tools_->task_watches(), 2u);  // the session's, and the wait
  c.session->Close();
  EXPECT_EQ(tools_->task_watches(), 0u);
  clock_.AdvanceMs(3000);
  EXPECT_TRUE(c.Take().empty());
}

struct EndedCase {
  const char* name;
  const char* prompt;
  bool cancel;
  const char* status;
  const char* report;
  const char* reason;
};

class McpTasksEndedTest : public McpTasksTest, public ::testing::WithParamInterface<EndedCase> {};

TEST_P(McpTasksEndedTest, TasksResultOfATaskThatEndedWithoutAResult) {
  const EndedCase& k = GetParam();
  Client& c = Open("s1");
  const std::string id = LaunchTask(c, k.prompt)["taskId"];
  c.session->Receive(Request("waiting", "tasks/result", {{"taskId", id}}).dump());
  if (k.cancel) {
    json cancelled = Send(c, Request(1, "tasks/cancel", {{"taskId", id}}));
    EXPECT_EQ(cancelled["result"]["status"], "cancelled");
  }
  clock_.AdvanceMs(1000);
  json waited;
  for (const json& m : c.Take()) {
    if (m.value("id", json()) == "waiting") waited = m["result"];
  }
  json now = Send(c, Request("now", "tasks/result", {{"taskId", id}}))["result"];
  for (const json& result : {waited, now}) {
    ASSERT_TRUE(result.is_object()) << result.dump();
    EXPECT_EQ(result["isError"], true);
    const std::string text = result["content"].back()["text"];
    EXPECT_THAT(text, HasSubstr(k.report));
    EXPECT_THAT(text, HasSubstr(k.reason));
    EXPECT_EQ(result["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id);
  }
  json task = GetTask(c, id);
  EXPECT_EQ(task["status"], k.status);
  EXPECT_THAT(task["statusMessage"].get<std::string>(), HasSubstr(k.reason));
}

INSTANTIATE_TEST_SUITE_P(
    Table, McpTasksEndedTest,
    ::testing::Values(EndedCase{"failed", "fail now", false, "failed", "Task Error",
                                "provider exploded"},
                      EndedCase{"cancelled", "slow one", true, "cancelled", "Task Cancelled",
                                "cancelled by MCP session s1"}),
    [](const ::testing::TestParamInfo<EndedCase>& info) { return std::string(info.param.name); });

TEST_F(McpTasksTest, ForegroundDelegateTaskOfAFailedTaskIsAnError) {
  Client& c = Open("s1");
  c.session->Receive(ToolCall("f", "delegate_task",
                              {{"description", "d"},
                               {"prompt", "fail hard"},
                               {"agent", "explore"},
                               {"background", false}})
                         .dump());
  clock_.AdvanceMs(1000);
  json result;
  for (const json& m : c.Take()) {
    if (m.value("id", json()) == "f") result = m["result"];
  }
  EXPECT_EQ(result["isError"], true);
  EXPECT_THAT(result["content"].back()["text"].get<std::string>(), HasSubstr("Task Error"));
}

TEST_F(McpTasksTest, TasksListPaginatesTheSessionsOwnTasks) {
  Client& mine = Open("s1", "2025-11-25", /*task_page_size=*/2);
  Client& theirs = Open("s2");
  Client& stranger = Open("s3");
  std::vector<std::string> ids;
  ids.push_back(LaunchTask(mine, "slow 1")["taskId"]);
  const std::string foreign = LaunchTask(theirs, "slow theirs")["taskId"];
  ids.push_back(LaunchTask(mine, "slow 2")["taskId"]);
  // An ordinary background delegate_task belongs to the session as well.
  json plain = Send(mine, ToolCall(1, "delegate_task", Args("slow 3")));
  ids.push_back(plain["result"]["structuredContent"]["task_id"]);
  ids.push_back(LaunchTask(mine, "slow 4")["taskId"]);

  std::vector<std::string> listed;
  json params = json::object();
  int pages = 0;
  for (;;) {
    json page = Send(mine, Request(2, "tasks/list", params))["result"];
    ++pages;
    for (const json& t : page["tasks"]) listed.push_back(t["taskId"]);
    if (!page.contains("nextCursor")) break;
    params = {{"cursor", page["nextCursor"]}};
    ASSERT_LT(pages, 5);
  }
  EXPECT_EQ(pages, 2);
  EXPECT_EQ(listed, ids);  // oldest first, without the other session's
  ExpectError(Send(mine, Request(3, "tasks/list", {{"cursor", "offset:9"}})),
              jsonrpc::kInvalidParams, "params.cursor");

  json other = Send(theirs, Request(4, "tasks/list"))["result"];
  ASSERT_EQ(other["tasks"].size(), 1u);
  EXPECT_EQ(other["tasks"][0]["taskId"], foreign);
  EXPECT_EQ(Send(stranger, Request(5, "tasks/list"))["result"], json({{"tasks", json::array()}}));
  for (const char* method : {"tasks/get", "tasks/cancel", "tasks/result"}) {
    ExpectError(Send(stranger, Request(6, method, {{"taskId", ids[0]}})), jsonrpc::kInvalidParams,
                fmt::format("no task {} in this session", ids[0]));
  }
  ExpectError(Send(stranger, Request(7, "tasks/get", {{"taskId", "bg_nope"}})),
              jsonrpc::kInvalidParams, "no task bg_nope in this session");
  EXPECT_EQ(StateOf(ids[0]), TaskState::kRunning);
}

TEST_F(McpTasksTest, TasksCancelWorkingAndTerminalTasks) {
  Start(1);
  Client& c = Open("s1");
  const std::string running = LaunchTask(c, "slow r")["taskId"];
  const std::string pending = LaunchTask(c, "slow p")["taskId"];
  for (const std::string& id : {pending, running}) {
    json cancelled = Send(c, Request(1, "tasks/cancel", {{"taskId", id}}));
    ASSERT_TRUE(cancelled.contains("result")) << cancelled.dump();
    EXPECT_EQ(cancelled["result"]["taskId"], id);
    EXPECT_EQ(cancelled["result"]["status"], "cancelled");
    EXPECT_EQ(cancelled["result"]["statusMessage"], "cancelled by MCP session s1");
    EXPECT_EQ(StateOf(id), TaskState::kCancelled);
    ExpectError(Send(c, Request(2, "tasks/cancel", {{"taskId", id}})), jsonrpc::kInvalidParams,
                "Cannot cancel task: it is already cancelled");
  }
  const std::string completed = LaunchTask(c, "quick")["taskId"];
  const std::string failed = LaunchTask(c, "fail")["taskId"];
  clock_.AdvanceMs(2000);
  ExpectError(Send(c, Request(3, "tasks/cancel", {{"taskId", completed}})), jsonrpc::kInvalidParams,
              "Cannot cancel task: it is already completed");
  ExpectError(Send(c, Request(4, "tasks/cancel", {{"taskId", failed}})), jsonrpc::kInvalidParams,
              "Cannot cancel task: it is already failed");
}

TEST_F(McpTasksTest, EndedTasksArePushedToTheirSessionOnly) {
  Client& c = Open("s1");
  Client& older = Open("s2", "2025-06-18");
  Client& other = Open("s3");
  const std::string ok = LaunchTask(c, "quick job")["taskId"];
  const std::string bad = LaunchTask(c, "fail job")["taskId"];
  json plain = Send(older, ToolCall(1, "delegate_task", Args("quick older")));
  const std::string old_id = plain["result"]["structuredContent"]["task_id"];
  c.Take();
  clock_.AdvanceMs(1000);

  std::vector<json> out = c.Take();
  std::vector<json> messages = WithMethod(out, "notifications/message");
  std::vector<json> statuses = WithMethod(out, "notifications/tasks/status");
  ASSERT_EQ(messages.size(), 2u);
  ASSERT_EQ(statuses.size(), 2u);
  EXPECT_EQ(out.size(), 4u);
  std::map<std::string, json> by_task;
  for (const json& m : messages) by_task[m["params"]["data"]["task_id"]] = m["params"];
  const json& done = by_task[ok];
  EXPECT_EQ(done["level"], "info");
  EXPECT_EQ(done["logger"], "troupe");
  const std::string session_id = ViewOf(ok).task.session_id;
  EXPECT_EQ(done["data"], json({{"task_id", ok},
                                {"session_id", session_id},
                                {"agent", "explore"},
                                {"description", "d quick job"},
                                {"state", "completed"},
                                {"duration_ms", 1000},
                                {"summary", fmt::format("{} (explore: d quick job) completed after "
                                                        "1.0s",
                                                        ok)}}));
  EXPECT_EQ(by_task[bad]["level"], "warning");
  EXPECT_EQ(by_task[bad]["data"]["state"], "error");
  for (const json& s : statuses) {
    const std::string id = s["params"]["taskId"];
    EXPECT_EQ(s["params"]["status"], id == ok ? "completed" : "failed");
    EXPECT_EQ(s["params"]["lastUpdatedAt"], "2026-01-01T00:00:01.000Z");
  }

  // The older version hears of its own task in notifications/message only.
  std::vector<json> old_out = older.Take();
  ASSERT_EQ(old_out.size(), 1u);
  EXPECT_EQ(old_out[0]["method"], "notifications/message");
  EXPECT_EQ(old_out[0]["params"]["data"]["task_id"], old_id);
  EXPECT_TRUE(other.Take().empty());

  // The outbox was not claimed: the next tool result carries both notices once, with the same
  // summaries as the pushed messages.
  json next = Send(c, ToolCall(2, "background_list", json::object()));
  ASSERT_EQ(next["result"]["content"].size(), 2u);
  const std::string reminder = next["result"]["content"][0]["text"];
  EXPECT_THAT(reminder, StartsWith("<system-reminder>"));
  for (const json& m : messages) {
    EXPECT_THAT(reminder, HasSubstr(fmt::format(
                              "- {}\n", m["params"]["data"]["summary"].get<std::string>())));
  }
  EXPECT_EQ(Send(c, ToolCall(3, "background_list", json::object()))["result"]["content"].size(),
            1u);
}

TEST_F(McpTasksTest, PushedMessagesFollowTheLoggingLevel) {
  Client& c = Open("s1");
  Send(c, Request(1, "logging/setLevel", {{"level", "warning"}}));
  LaunchTask(c, "quick job");
  const std::string bad = LaunchTask(c, "fail job")["taskId"];
  c.Take();
  clock_.AdvanceMs(1000);
  std::vector<json> out = c.Take();
  std::vector<json> messages = WithMethod(out, "notifications/message");
  ASSERT_EQ(messages.size(), 1u);  // the completed one was below the level
  EXPECT_EQ(messages[0]["params"]["data"]["task_id"], bad);
  EXPECT_EQ(WithMethod(out, "notifications/tasks/status").size(), 2u);
}

TEST_F(McpTasksTest, ManySessionsShareOneEngineSubscription) {
  const size_t subscribers = manager_->events().subscribers();
  for (int i = 0; i < 200; ++i) Open(fmt::format("s{}", i));
  EXPECT_EQ(manager_->events().subscribers(), subscribers);
  EXPECT_EQ(tools_->task_watches(), 200u);
  const std::string id = LaunchTask(*clients_["s7"], "quick")["taskId"];
  for (auto& [name, client] : clients_) client->Take();
  clock_.AdvanceMs(1000);
  for (auto& [name, client] : clients_) {
    EXPECT_EQ(client->Take().size(), name == "s7" ? 2u : 0u) << name;
  }
  clients_.clear();
  EXPECT_EQ(tools_->task_watches(), 0u);
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
}

TEST_F(McpTasksTest, ToolsDestroyedBeforeTheSessions) {
  Client& c = Open("s1");
  const std::string id = LaunchTask(c, "slow x")["taskId"];
  c.session->Receive(Request(1, "tasks/result", {{"taskId", id}}).dump());
  tools_.reset();
  clock_.AdvanceMs(3000);
  EXPECT_TRUE(WithMethod(c.Take(), "notifications/tasks/status").empty());
  c.session->Close();  // the watches it holds outlived the tools harmlessly
}

TEST(McpTaskMappingTest, StatusOfEveryState) {
  struct Case {
    TaskState state;
    McpTaskStatus status;
  };
  for (const Case& c : {Case{TaskState::kPending, McpTaskStatus::kWorking},
                        Case{TaskState::kRunning, McpTaskStatus::kWorking},
                        Case{TaskState::kInterrupted, McpTaskStatus::kWorking},
                        Case{TaskState::kCompleted, McpTaskStatus::kCompleted},
                        Case{TaskState::kError, McpTaskStatus::kFailed},
                        Case{TaskState::kCancelled, McpTaskStatus::kCancelled}}) {
    EXPECT_EQ(McpTaskStatusOf(c.state), c.status) << TaskStateName(c.state);
  }
}

TEST(McpTaskMappingTest, StatusMessages) {
  const int64_t now = 1'767'225'700'000;
  auto view = [&](TaskState state) {
    TaskView v;
    v.task.id = "bg_1";
    v.task.state = state;
    v.task.created_at_ms = now - 20'000;
    v.task.queued_at_ms = now - 20'000;
    v.task.started_at_ms = now - 12'000;
    v.task.finished_at_ms = now - 8'800;
    return v;
  };
  TaskView pending = view(TaskState::kPending);
  pending.queue_position = 2;
  pending.pool = "model:anthropic/claude-sonnet-4";
  pending.waiting_reason = "pool model:anthropic/claude-sonnet-4 full (2/2 running), position 2";
  EXPECT_EQ(McpTaskStatusMessage(pending, now),
            "queued: position 2 in pool model:anthropic/claude-sonnet-4 (pool "
            "model:anthropic/claude-sonnet-4 full (2/2 running), position 2)");
  TaskView unqueued = view(TaskState::kPending);
  EXPECT_EQ(McpTaskStatusMessage(unqueued, now), "queued: waiting for a slot");
  TaskView running = view(TaskState::kRunning);
  EXPECT_EQ(McpTaskStatusMessage(running, now), "running for 12s");
  running.task.last_tool = "grep";
  EXPECT_EQ(McpTaskStatusMessage(running, now), "running for 12s; last tool: grep");
  EXPECT_THAT(McpTaskStatusMessage(view(TaskState::kInterrupted), now),
              HasSubstr("resumes when the daemon starts again"));
  EXPECT_EQ(McpTaskStatusMessage(view(TaskState::kCompleted), now), "completed in 3.2s");
  TaskView failed = view(TaskState::kError);
  failed.task.error = "task TTL of 30m 0s exceeded";
  EXPECT_EQ(McpTaskStatusMessage(failed, now), "task TTL of 30m 0s exceeded");
  EXPECT_EQ(McpTaskStatusMessage(view(TaskState::kError), now), "failed");
  TaskView cancelled = view(TaskState::kCancelled);
  cancelled.task.error = "cancelled by the user";
  EXPECT_EQ(McpTaskStatusMessage(cancelled, now), "cancelled by the user");
}

TEST(McpTaskEventsTest, DispatchesByRecipientAndByTask) {
  EventBus bus;
  auto events = std::make_unique<McpTaskEvents>(&bus);
  EXPECT_EQ(bus.subscribers(), 1u);
  std::vector<std::string> seen;
  auto watch = [&](const std::string& label) {
    return [&seen, label](const EngineEvent& e) {
      seen.push_back(fmt::format("{}:{}:{}", label, e.task->id, TaskStateName(e.task->state)));
    };
  };
  std::unique_ptr<McpTaskWatch> owner = events->WatchEnds("mcp:a", watch("owner"));
  std::unique_ptr<McpTaskWatch> parent = events->WatchEnds("ses_parent", watch("parent"));
  std::unique_ptr<McpTaskWatch> task = events->WatchTask("bg_1", watch("task"));
  EXPECT_EQ(events->watches(), 3u);

  auto publish = [&](const std::string& id, TaskState from, TaskState to,
                     const std::string& parent_session, EngineEvent::Kind kind) {
    TaskRecord r;
    r.id = id;
    r.owner = "mcp:a";
    r.parent_session_id = parent_session;
    r.state = to;
    EngineEvent e;
    e.kind = kind;
    e.from = from;
    e.task = &r;
    bus.Publish(e);
  };
  publish("bg_1", TaskState::kPending, TaskState::kRunning, "", EngineEvent::Kind::kState);
  publish("bg_1", TaskState::kRunning, TaskState::kRunning, "", EngineEvent::Kind::kProgress);
  publish("bg_1", TaskState::kRunning, TaskState::kCompleted, "", EngineEvent::Kind::kState);
  // A delegated task's notice goes to its parent session, not to the owner.
  publish("bg_2", TaskState::kRunning, TaskState::kError, "ses_parent", EngineEvent::Kind::kState);
  publish("bg_3", TaskState::kRunning, TaskState::kInterrupted, "", EngineEvent::Kind::kState);
  EXPECT_EQ(seen, (std::vector<std::string>{"task:bg_1:running", "task:bg_1:running",
                                            "task:bg_1:completed", "owner:bg_1:completed",
                                            "parent:bg_2:error"}));

  // A callback may end its own watch and another one while the event is dispatched.
  seen.clear();
  std::unique_ptr<McpTaskWatch> other;
  std::unique_ptr<McpTaskWatch> self = events->WatchTask("bg_4", [&](const EngineEvent&) {
    seen.push_back("self");
    self.reset();
    other.reset();
  });
  other = events->WatchTask("bg_4", watch("other"));
  publish("bg_4", TaskState::kRunning, TaskState::kCancelled, "", EngineEvent::Kind::kState);
  EXPECT_EQ(seen, (std::vector<std::string>{"self", "owner:bg_4:cancelled"}));
  EXPECT_EQ(events->watches(), 3u);

  // Watches outliving the dispatcher end harmlessly; the subscription is gone.
  events.reset();
  EXPECT_EQ(bus.subscribers(), 0u);
  owner.reset();
  task.reset();
}

// ---- over streamable HTTP ----

class McpTasksHttpTest : public McpTasksTest {
 protected:
  void SetUp() override {
    McpTasksTest::SetUp();
    http_ = std::make_unique<McpHttpHandler>(&clock_, tools_.get());
  }
  void TearDown() override { http_.reset(); }

  std::shared_ptr<testing::FakeExchange> Post(const json& message, const std::string& session) {
    auto ex = testing::FakeExchange::Make("POST", "/mcp", message.dump());
    ex->mutable_request().headers["accept"] = "application/json, text/event-stream";
    if (!session.empty()) ex->mutable_request().headers["mcp-session-id"] = session;
    http_->Handle(ex);
    return ex;
  }

  std::string Initialize() {
    auto ex = Post(Request(1, "initialize", {{"protocolVersion", "2025-11-25"}}), "");
    std::string id;
    for (const auto& [k, v] : ex->response()->headers) {
      if (k == "Mcp-Session-Id") id = v;
    }
    EXPECT_FALSE(id.empty());
    EXPECT_TRUE(ex->json()["result"]["capabilities"].contains("tasks"));
    Post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, id);
    return id;
  }

  std::unique_ptr<McpHttpHandler> http_;
};

TEST_F(McpTasksHttpTest, TasksResultOverSseAndNoticesOnTheGetStream) {
  const std::string session = Initialize();
  auto get = testing::FakeExchange::Make("GET", "/mcp", "");
  get->mutable_request().headers["accept"] = "text/event-stream";
  get->mutable_request().headers["mcp-session-id"] = session;
  http_->Handle(get);
  ASSERT_TRUE(get->streaming());

  auto created = Post(ToolCall(2, "delegate_task", Args("slow http"), json::object()), session);
  ASSERT_EQ(created->status(), 200);
  EXPECT_FALSE(created->streaming());
  const std::string id = created->json()["result"]["task"]["taskId"];

  auto result = Post(
      Request(3, "tasks/result", {{"taskId", id}, {"_meta", {{"progressToken", "tok"}}}}), session);
  ASSERT_TRUE(result->streaming());  // answered later, on this POST's event stream
  clock_.AdvanceMs(3000);
  ASSERT_TRUE(result->closed());
  std::vector<json> events = testing::SseMessages(result->streamed());
  ASSERT_GE(events.size(), 2u) << result->streamed();
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    EXPECT_EQ(events[i]["method"], "notifications/progress") << events[i].dump();
    EXPECT_EQ(events[i]["params"]["progressToken"], "tok");
  }
  const json& answer = events.back();
  EXPECT_EQ(answer["id"], 3);
  EXPECT_THAT(answer["result"]["content"][0]["text"].get<std::string>(),
              HasSubstr("done: slow http"));
  EXPECT_EQ(answer["result"]["_meta"]["io.modelcontextprotocol/related-task"]["taskId"], id);

  // The notices tied to no request went to the GET stream.
  std::vector<json> pushed = testing::SseMessages(get->streamed());
  ASSERT_EQ(pushed.size(), 2u) << get->streamed();
  EXPECT_EQ(pushed[0]["method"], "notifications/message");
  EXPECT_EQ(pushed[0]["params"]["data"]["task_id"], id);
  EXPECT_EQ(pushed[1]["method"], "notifications/tasks/status");
  EXPECT_EQ(pushed[1]["params"]["status"], "completed");
}

TEST_F(McpTasksHttpTest, NoticesWithoutAGetStreamAreDroppedAndDeleteEndsTheWatch) {
  const std::string session = Initialize();
  EXPECT_EQ(tools_->task_watches(), 1u);
  auto created = Post(ToolCall(2, "delegate_task", Args("quick"), json::object()), session);
  clock_.AdvanceMs(1000);  // nowhere to send the notices: dropped, nothing breaks
  auto del = testing::FakeExchange::Make("DELETE", "/mcp", "");
  del->mutable_request().headers["mcp-session-id"] = session;
  http_->Handle(del);
  EXPECT_EQ(del->status(), 204);
  EXPECT_EQ(tools_->task_watches(), 0u);
}

}  // namespace
}  // namespace troupe
