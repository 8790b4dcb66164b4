#include "rest/rest_api.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "agent/builtin_agents.h"
#include "core/testing/test_dir.h"
#include "engine/engine_test_fixture.h"
#include "http/testing/fake_exchange.h"
#include "rest/task_json.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::FakeExchange;

constexpr int64_t kWall0 = 1'767'225'600'000;  // FakeClock's wall time at start

// Records what a mounted handler was given.
class RecordingHandler : public HttpHandler {
 public:
  void Handle(std::shared_ptr<HttpExchange> exchange) override {
    paths.push_back(exchange->request().path);
    ApiResponse r;
    r.body = "mounted\n";
    exchange->Respond(std::move(r));
  }
  void Shutdown() override { ++shutdowns; }
  std::vector<std::string> paths;
  int shutdowns = 0;
};

class RestApiTest : public EngineTest {
 protected:
  void SetUp() override {
    std::vector<AgentDefinition> agents = BuiltinAgents();
    for (auto& a : agents) {
      if (a.name == "oracle") a.config_overrides = {"model"};
    }
    catalog_ = AgentCatalog(std::move(agents), {});
    runner_.set_chooser([](const RunRequest& r) -> Script {
      auto starts = [&](const char* p) { return r.prompt.rfind(p, 0) == 0; };
      if (starts("hang")) return {};
      if (starts("fast")) return {ScriptStep::Complete(100, "fast done")};
      if (starts("slow")) return {ScriptStep::Complete(1000, "slow done")};
      return {ScriptStep::Complete(1000, "result: " + r.prompt)};
    });
    TaskManagerOptions options;
    options.limits.default_concurrency = 2;
    options.default_workspace = dir_.path().string();
    options.prepare_launch = [this](LaunchRequest* r) -> Status {
      if (!launch_refusal_.ok()) return launch_refusal_;
      if (r->agent.empty()) return Status::Ok();
      return catalog_.Find(r->agent).status();
    };
    Build(options);
    MakeApi();
  }

  void MakeApi() {
    RestApiDeps deps;
    deps.clock = &clock_;
    deps.manager = manager_.get();
    deps.store = store_.get();
    deps.agents = &catalog_;
    deps.info.version = "0.1.0";
    deps.info.commit = "0123456789ab-dirty";
    deps.info.pid = 4242;
    deps.info.started_at_ms = kWall0 - 5000;
    deps.info.data_dir = "/data";
    deps.info.socket = "/data/troupe.sock";
    deps.info.tcp_port = 0;
    deps.info.default_model = default_model_;
    deps.request_shutdown = [this] { ++shutdown_requests_; };
    deps.mounts["/mcp"] = &mounted_;
    api_ = std::make_unique<RestApi>(std::move(deps));
  }

  std::shared_ptr<FakeExchange> Call(const std::string& method, const std::string& target,
                                     const std::string& body = "") {
    auto ex = FakeExchange::Make(method, target, body);
    api_->Handle(ex);
    return ex;
  }
  std::shared_ptr<FakeExchange> Post(const std::string& target, const json& body) {
    return Call("POST", target, body.dump());
  }

  // Launches through the API and returns the task object.
  json LaunchTask(const json& body) {
    auto ex = Post("/v1/tasks", body);
    EXPECT_EQ(ex->status(), 201) << (ex->response() ? ex->response()->body : "");
    return ex->json()["task"];
  }
  std::string LaunchId(const std::string& prompt, const std::string& owner = "cli") {
    return LaunchTask({{"prompt", prompt}, {"agent", "explore"}, {"owner", owner}})["id"];
  }

  size_t TaskCount() {
    auto tasks = store_->ListTasks(TaskFilter{});
    EXPECT_TRUE(tasks.ok());
    return tasks.ok() ? tasks->size() : 0;
  }
  size_t EventCount() {
    auto events = store_->ListEvents(0);
    EXPECT_TRUE(events.ok());
    return events.ok() ? events->size() : 0;
  }

  static void ExpectError(const FakeExchange& ex, int status, const std::string& code) {
    EXPECT_EQ(ex.status(), status) << (ex.response() ? ex.response()->body : "(no response)");
    EXPECT_EQ(ex.json()["error"]["status"], status);
    EXPECT_EQ(ex.json()["error"]["code"], code);
  }

  testing::TestDir dir_;
  Status launch_refusal_;  // when set, what the engine answers every launch with
  AgentCatalog catalog_;
  RecordingHandler mounted_;
  int shutdown_requests_ = 0;
  DefaultModel default_model_{.model = "mock/scripted",
                              .source = DefaultModelSource::kOffline,
                              .key_envs = {"ANTHROPIC_API_KEY", "OPENAI_API_KEY"}};
  std::unique_ptr<RestApi> api_;
};

// --- launch

TEST_F(RestApiTest, LaunchAnswers201WithTheTaskObject) {
  auto ex = Post(
      "/v1/tasks",
      {{"prompt", "Map the source tree\nthen report"}, {"agent", "explore"}, {"owner", "cli"}});
  ASSERT_EQ(ex->status(), 201) << ex->response()->body;
  EXPECT_EQ(ex->response()->content_type, "application/json");
  EXPECT_EQ(ex->response()->body.back(), '\n');
  const json t = ex->json()["task"];
  EXPECT_EQ(t["id"].get<std::string>().rfind("bg_", 0), 0u);
  EXPECT_EQ(t["session_id"].get<std::string>().rfind("ses_", 0), 0u);
  EXPECT_EQ(t["parent_session_id"], "");
  EXPECT_EQ(t["owner"], "cli");
  EXPECT_EQ(t["description"], "Map the source tree");
  EXPECT_EQ(t["prompt"], "Map the source tree\nthen report");
  EXPECT_EQ(t["agent"], "explore");
  EXPECT_EQ(t["model"], "mock/scripted");
  EXPECT_EQ(t["state"], "running");
  EXPECT_EQ(t["attempt"], 1);
  EXPECT_EQ(t["depth"], 0);
  EXPECT_EQ(t["result"], "");
  EXPECT_EQ(t["error"], "");
  EXPECT_EQ(t["created_at_ms"], kWall0);
  EXPECT_EQ(t["started_at_ms"], kWall0);
  EXPECT_EQ(t["finished_at_ms"], 0);
  EXPECT_EQ(t["queued_ms"], 0);
  EXPECT_EQ(t["duration_ms"], 0);
  EXPECT_EQ(t["pool"], "default:mock/scripted");
  EXPECT_EQ(t["queue_position"], 0);
  EXPECT_EQ(t["last_activity_at_ms"], kWall0);
  EXPECT_EQ(TaskCount(), 1u);
}

TEST_F(RestApiTest, TasksShowTheirSpendAndTreeAndBudgetsShowsTheDay) {
  const json lead = LaunchTask({{"prompt", "hang lead"},
                                {"agent", "explore"},
                                {"model", "mock/m"},
                                {"max_tokens", 10000},
                                {"tree_max_tasks", 7}});
  EXPECT_EQ(lead["budget"]["max_tokens"], 10000);
  ProgressUpdate request;
  request.requests = 1;
  request.input_tokens = 1200;
  request.output_tokens = 34;
  request.cache_read_tokens = 1000;
  ASSERT_TRUE(runner_.Progress(lead["id"], request));
  auto ex = Call("GET", "/v1/tasks/" + lead["id"].get<std::string>());
  ASSERT_EQ(ex->status(), 200);
  json t = ex->json()["task"];
  EXPECT_FALSE(t.contains("tree"));  // a final task's object never changes: the tree's does
  auto spend = Call("GET", "/v1/tasks/" + lead["id"].get<std::string>() + "/spend");
  ASSERT_EQ(spend->status(), 200) << spend->response()->body;
  t["tree"] = spend->json()["tree"];
  t["requests"] = spend->json()["requests"];
  EXPECT_EQ(t["usage"]["requests"], 1);
  EXPECT_EQ(t["usage"]["cache_read_tokens"], 1000);
  EXPECT_EQ(t["usage"]["cost_usd"], nullptr);  // mock/m has no price
  EXPECT_EQ(t["usage"]["cost"], "cost unknown");
  EXPECT_EQ(t["tree"]["root_session_id"], lead["session_id"]);
  EXPECT_EQ(t["tree"]["tasks"], 1);
  EXPECT_EQ(t["tree"]["max_tasks"], 7);
  EXPECT_EQ(t["tree"]["usage"]["input_tokens"], 1200);
  ASSERT_EQ(t["requests"].size(), 1u);
  EXPECT_EQ(t["requests"][0]["model"], "mock/m");
  EXPECT_EQ(t["requests"][0]["output_tokens"], 34);

  auto budgets = Call("GET", "/v1/budgets");
  ASSERT_EQ(budgets->status(), 200) << budgets->response()->body;
  const json b = budgets->json();
  EXPECT_EQ(b["day"], "2026-01-01");
  EXPECT_EQ(b["today"]["requests"], 1);
  EXPECT_EQ(b["budgets"]["tree_max_tasks"], 50);
  EXPECT_EQ(b["budgets"]["daily_max_cost_usd"], nullptr);
  EXPECT_EQ(b["daily_stopped"], "");
  ASSERT_EQ(b["trees"].size(), 1u);
  EXPECT_EQ(b["trees"][0]["running"], 1);

  auto bad = Post("/v1/tasks", {{"prompt", "x"}, {"max_cost_usd", -2}});
  ExpectError(*bad, 400, "invalid_argument");
  EXPECT_EQ(bad->json()["error"]["field"], "max_cost_usd");
}

TEST_F(RestApiTest, LaunchFillsDefaults) {
  const json t = LaunchTask({{"prompt", std::string(80, 'x') + "\nsecond line"}});
  EXPECT_EQ(t["agent"], "general");
  EXPECT_EQ(t["owner"], "api");
  EXPECT_EQ(t["description"], std::string(57, 'x') + "...");
  ASSERT_EQ(runner_.requests().size(), 1u);
  EXPECT_EQ(runner_.requests()[0].workspace, dir_.path().string());
}

TEST_F(RestApiTest, LaunchIntoAFullPoolIsPendingWithItsQueuePosition) {
  LaunchId("hang 1");
  LaunchId("hang 2");
  const json third = LaunchTask({{"prompt", "hang 3"}, {"agent", "explore"}});
  const json fourth = LaunchTask({{"prompt", "hang 4"}, {"agent", "explore"}});
  EXPECT_EQ(third["state"], "pending");
  EXPECT_EQ(third["queue_position"], 1);
  EXPECT_EQ(third["pool"], "default:mock/scripted");
  EXPECT_EQ(third["waiting_reason"], "pool default:mock/scripted full (2/2 running), position 1");
  EXPECT_EQ(third["attempt"], 0);
  EXPECT_EQ(fourth["queue_position"], 2);

  clock_.AdvanceMs(300);
  auto get = Call("GET", "/v1/tasks/" + third["id"].get<std::string>());
  EXPECT_EQ(get->json()["task"]["queued_ms"], 300);
  EXPECT_EQ(get->json()["task"]["state"], "pending");
  EXPECT_FALSE(get->json().contains("timed_out"));
}

TEST_F(RestApiTest, LaunchWithWaitMsAnswersWhenTheTaskIsDone) {
  auto ex = Post("/v1/tasks", {{"prompt", "slow job"}, {"agent", "explore"}, {"wait_ms", 5000}});
  EXPECT_FALSE(ex->answered());
  EXPECT_EQ(api_->pending_waits(), 1u);
  clock_.AdvanceMs(999);
  EXPECT_FALSE(ex->answered());
  clock_.AdvanceMs(1);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["timed_out"], false);
  EXPECT_EQ(ex->json()["task"]["state"], "completed");
  EXPECT_EQ(ex->json()["task"]["result"], "slow done");
  EXPECT_EQ(ex->json()["task"]["duration_ms"], 1000);
  EXPECT_EQ(api_->pending_waits(), 0u);
}

TEST_F(RestApiTest, LaunchWithWaitMsTimesOut) {
  auto ex = Post("/v1/tasks", {{"prompt", "hang"}, {"agent", "explore"}, {"wait_ms", 2000}});
  clock_.AdvanceMs(1999);
  EXPECT_FALSE(ex->answered());
  clock_.AdvanceMs(1);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["timed_out"], true);
  EXPECT_EQ(ex->json()["task"]["state"], "running");
  EXPECT_EQ(ex->json()["task"]["duration_ms"], 2000);
  EXPECT_EQ(api_->pending_waits(), 0u);

  // wait_ms 0: answered at once.
  auto now = Post("/v1/tasks", {{"prompt", "hang"}, {"agent", "explore"}, {"wait_ms", 0}});
  ASSERT_EQ(now->status(), 200);
  EXPECT_EQ(now->json()["timed_out"], true);
}

// --- one task, long polls

TEST_F(RestApiTest, GetTaskHasTheWholeResultAndPrompt) {
  const std::string prompt = std::string(500, 'p');
  const std::string id = LaunchTask({{"prompt", prompt}, {"agent", "explore"}})["id"];
  clock_.AdvanceMs(1000);
  auto ex = Call("GET", "/v1/tasks/" + id);
  ASSERT_EQ(ex->status(), 200);
  const json t = ex->json()["task"];
  EXPECT_EQ(t["prompt"], prompt);
  EXPECT_EQ(t["result"], "result: " + prompt);
  EXPECT_EQ(t["state"], "completed");
  EXPECT_EQ(t["finished_at_ms"], kWall0 + 1000);
  EXPECT_EQ(t["pool"], "");
  EXPECT_FALSE(t.contains("prompt_truncated"));

  auto missing = Call("GET", "/v1/tasks/bg_nope");
  ExpectError(*missing, 404, "not_found");
  EXPECT_EQ(missing->json()["error"]["message"], "task bg_nope does not exist");
}

TEST_F(RestApiTest, GetWithWaitMsAnswersWhenTheRunCompletes) {
  const std::string id = LaunchId("slow");
  auto ex = Call("GET", "/v1/tasks/" + id + "?wait_ms=5000");
  EXPECT_FALSE(ex->answered());
  EXPECT_EQ(api_->pending_waits(), 1u);
  clock_.AdvanceMs(1000);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["timed_out"], false);
  EXPECT_EQ(ex->json()["task"]["state"], "completed");
  EXPECT_EQ(api_->pending_waits(), 0u);
}

TEST_F(RestApiTest, GetWithWaitMsTimesOut) {
  const std::string id = LaunchId("hang");
  auto ex = Call("GET", "/v1/tasks/" + id + "?wait_ms=300");
  clock_.AdvanceMs(299);
  EXPECT_FALSE(ex->answered());
  clock_.AdvanceMs(1);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["timed_out"], true);
  EXPECT_EQ(ex->json()["task"]["state"], "running");
  EXPECT_EQ(api_->pending_waits(), 0u);
}

TEST_F(RestApiTest, WaitOnAFinalTaskAnswersAtOnce) {
  const std::string id = LaunchId("fast");
  clock_.AdvanceMs(100);
  auto ex = Call("GET", "/v1/tasks/" + id + "?wait_ms=5000");
  ASSERT_TRUE(ex->answered());
  EXPECT_EQ(ex->json()["timed_out"], false);
  EXPECT_EQ(ex->json()["task"]["state"], "completed");
  EXPECT_EQ(api_->pending_waits(), 0u);

  auto many = Post("/v1/wait", {{"task_ids", {id}}});
  ASSERT_TRUE(many->answered());
  EXPECT_EQ(many->json()["timed_out"], false);
}

TEST_F(RestApiTest, ClientDisconnectDuringALongPollDropsTheWatch) {
  const std::string id = LaunchId("slow");
  const size_t timers_before = clock_.pending_timers();
  auto ex = Call("GET", "/v1/tasks/" + id + "?wait_ms=60000");
  EXPECT_EQ(api_->pending_waits(), 1u);
  EXPECT_EQ(clock_.pending_timers(), timers_before + 1);  // the watch's timeout
  ex->Disconnect();
  EXPECT_EQ(api_->pending_waits(), 0u);
  // The manager's watcher is gone with its timer.
  EXPECT_EQ(clock_.pending_timers(), timers_before);
  clock_.AdvanceMs(1000);
  EXPECT_EQ(StateOf(id), TaskState::kCompleted);
  EXPECT_FALSE(ex->response().has_value());

  auto wait = Post("/v1/wait", {{"task_ids", {LaunchId("hang")}}, {"timeout_ms", 0}});
  EXPECT_EQ(api_->pending_waits(), 1u);
  wait->Disconnect();
  EXPECT_EQ(api_->pending_waits(), 0u);
}

TEST_F(RestApiTest, ShutdownAnswersPendingWaitsAndRefusesNewRequests) {
  const std::string a = LaunchId("hang a");
  const std::string b = LaunchId("hang b");
  auto get = Call("GET", "/v1/tasks/" + a + "?wait_ms=60000");
  auto wait = Post("/v1/wait", {{"task_ids", {a, b}}});
  EXPECT_EQ(api_->pending_waits(), 2u);
  api_->Shutdown();
  EXPECT_EQ(api_->pending_waits(), 0u);
  ASSERT_EQ(get->status(), 200);
  EXPECT_EQ(get->json()["timed_out"], true);
  EXPECT_EQ(get->json()["task"]["id"], a);
  ASSERT_EQ(wait->status(), 200);
  EXPECT_EQ(wait->json()["timed_out"], true);
  ASSERT_EQ(wait->json()["tasks"].size(), 2u);
  EXPECT_EQ(wait->json()["tasks"][1]["id"], b);
  EXPECT_EQ(mounted_.shutdowns, 1);

  auto late = Call("GET", "/v1/health");
  ExpectError(*late, 503, "unavailable");
  EXPECT_EQ(late->json()["error"]["message"], "troupe is shutting down");
  // Nothing fires later for the answered waits.
  clock_.AdvanceMs(120'000);
}

// --- cancel

TEST_F(RestApiTest, CancelIsIdempotent) {
  const std::string id = LaunchId("hang");
  auto ex = Post("/v1/tasks/" + id + "/cancel", {{"reason", "not needed any more"}});
  ASSERT_EQ(ex->status(), 200) << ex->response()->body;
  EXPECT_EQ(ex->json()["was"], "running");
  EXPECT_EQ(ex->json()["task"]["state"], "cancelled");
  EXPECT_EQ(ex->json()["task"]["error"], "not needed any more");
  EXPECT_EQ(runner_.cancelled().count(id), 1u);
  const size_t events = EventCount();

  auto again = Call("POST", "/v1/tasks/" + id + "/cancel");
  ASSERT_EQ(again->status(), 200);
  EXPECT_EQ(again->json()["was"], "cancelled");
  EXPECT_EQ(again->json()["task"]["state"], "cancelled");
  EXPECT_EQ(again->json()["task"]["error"], "not needed any more");
  EXPECT_EQ(EventCount(), events);

  ExpectError(*Call("POST", "/v1/tasks/bg_nope/cancel"), 404, "not_found");
}

TEST_F(RestApiTest, CancelAllByOwnerThenEverything) {
  const std::string a = LaunchId("hang a", "cli");
  const std::string b = LaunchId("hang b", "mcp:1");
  const std::string c = LaunchId("hang c", "cli");  // pending
  const std::string done = LaunchId("fast", "cli");
  ASSERT_EQ(StateOf(c), TaskState::kPending);

  auto mine = Post("/v1/tasks/cancel", {{"all", true}, {"owner", "cli"}});
  ASSERT_EQ(mine->status(), 200) << mine->response()->body;
  const json cancelled = mine->json()["cancelled"];
  ASSERT_EQ(cancelled.size(), 3u);
  std::vector<std::string> ids;
  for (const auto& t : cancelled) {
    ids.push_back(t["id"]);
    EXPECT_EQ(t["state"], "cancelled");
    EXPECT_EQ(t["owner"], "cli");
  }
  EXPECT_EQ(ids, (std::vector<std::string>{a, c, done}));
  EXPECT_EQ(StateOf(b), TaskState::kRunning);

  auto rest = Post("/v1/tasks/cancel", {{"all", true}});
  ASSERT_EQ(rest->status(), 200);
  ASSERT_EQ(rest->json()["cancelled"].size(), 1u);
  EXPECT_EQ(rest->json()["cancelled"][0]["id"], b);
  EXPECT_EQ(StateOf(b), TaskState::kCancelled);

  auto none = Post("/v1/tasks/cancel", {{"all", true}});
  EXPECT_EQ(none->json(), (json{{"cancelled", json::array()}}));
}

// --- sessions

TEST_F(RestApiTest, ContinueASessionWithSessionId) {
  const json first = LaunchTask({{"prompt", "fast first"}, {"agent", "explore"}});
  const std::string session = first["session_id"];

  // Busy while its task runs.
  auto busy = Post("/v1/tasks", {{"prompt", "more"}, {"session_id", session}});
  ExpectError(*busy, 409, "conflict");

  clock_.AdvanceMs(100);
  auto next = Post("/v1/tasks", {{"prompt", "fast second"}, {"session_id", session}});
  ASSERT_EQ(next->status(), 201) << next->response()->body;
  const json t = next->json()["task"];
  EXPECT_EQ(t["session_id"], session);
  EXPECT_EQ(t["agent"], "explore");  // the session's
  EXPECT_NE(t["id"], first["id"]);

  auto unknown = Post("/v1/tasks", {{"prompt", "x"}, {"session_id", "ses_nope"}});
  ExpectError(*unknown, 404, "not_found");
  EXPECT_EQ(unknown->json()["error"]["field"], "session_id");
}

TEST_F(RestApiTest, SessionWithTasksAndTodos) {
  const json first = LaunchTask({{"prompt", "fast one"}, {"agent", "explore"}, {"owner", "cli"}});
  const std::string session = first["session_id"];
  clock_.AdvanceMs(100);
  LaunchTask({{"prompt", "hang two"}, {"session_id", session}});
  ASSERT_TRUE(manager_
                  ->ReplaceTodos(session, {{"t1", "read", "completed", "high"},
                                           {"t2", "write", "pending", "low"}})
                  .ok());

  auto ex = Call("GET", "/v1/sessions/" + session);
  ASSERT_EQ(ex->status(), 200) << ex->response()->body;
  const json s = ex->json()["session"];
  EXPECT_EQ(s["id"], session);
  EXPECT_EQ(s["agent"], "explore");
  EXPECT_EQ(s["model"], "mock/scripted");
  EXPECT_EQ(s["workspace"], dir_.path().string());
  EXPECT_EQ(s["owner"], "cli");
  EXPECT_EQ(s["title"], "fast one");
  EXPECT_EQ(s["depth"], 0);
  EXPECT_EQ(s["created_at_ms"], kWall0);
  const json tasks = ex->json()["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0]["state"], "completed");
  EXPECT_EQ(tasks[1]["state"], "running");
  EXPECT_EQ(
      ex->json()["todos"],
      (json{{{"id", "t1"}, {"content", "read"}, {"status", "completed"}, {"priority", "high"}},
            {{"id", "t2"}, {"content", "write"}, {"status", "pending"}, {"priority", "low"}}}));

  ExpectError(*Call("GET", "/v1/sessions/ses_nope"), 404, "not_found");
}

TEST_F(RestApiTest, GetTaskHasTheStopReasonOfItsLastReply) {
  const json t = LaunchTask({{"prompt", "hang here"}, {"agent", "explore"}});
  const std::string id = t["id"];
  // No reply yet: null.
  EXPECT_EQ(Call("GET", "/v1/tasks/" + id)->json()["task"]["stop_reason"], nullptr);
  auto append = [&](const std::string& task, const std::string& role, const std::string& content) {
    MessageRecord m;
    m.session_id = t["session_id"];
    m.task_id = task;
    m.role = role;
    m.content = content;
    ASSERT_TRUE(manager_->AppendMessage(&m).ok());
  };
  append(id, "assistant", R"({"role":"assistant","content":"a","stop_reason":"tool_use"})");
  append(id, "tool", R"({"role":"tool","content":"r"})");
  append(id, "assistant", R"({"role":"assistant","content":"cut","stop_reason":"max_tokens"})");
  append("bg_other", "assistant", R"({"role":"assistant","stop_reason":"end_turn"})");
  auto ex = Call("GET", "/v1/tasks/" + id);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["task"]["stop_reason"], "max_tokens");
  // Listings leave it out: it costs a read of the session.
  auto list = Call("GET", "/v1/tasks");
  ASSERT_EQ(list->status(), 200);
  EXPECT_FALSE(list->json()["tasks"][0].contains("stop_reason"));
}

TEST(LastStopReasonTest, TheLastAssistantMessageOfTheTaskDecides) {
  auto record = [](std::string task, std::string role, std::string content) {
    MessageRecord m;
    m.task_id = std::move(task);
    m.role = std::move(role);
    m.content = std::move(content);
    return m;
  };
  EXPECT_EQ(LastStopReason({}, "t"), nullptr);
  EXPECT_EQ(LastStopReason({record("t", "assistant", R"({"stop_reason":"refusal"})"),
                            record("t", "user", R"({"content":"go on"})")},
                           "t"),
            "refusal");
  // The last reply gave none, or is not JSON: null, not an older reply's.
  EXPECT_EQ(LastStopReason({record("t", "assistant", R"({"stop_reason":"length"})"),
                            record("t", "assistant", R"({"content":"x"})")},
                           "t"),
            nullptr);
  EXPECT_EQ(LastStopReason({record("t", "assistant", "not json")}, "t"), nullptr);
}

TEST_F(RestApiTest, SessionMessages) {
  const json t = LaunchTask({{"prompt", "hang here"}, {"agent", "explore"}});
  const std::string session = t["session_id"];
  MessageRecord m;
  m.session_id = session;
  m.task_id = t["id"];
  m.role = "assistant";
  m.content = "not json";
  ASSERT_TRUE(manager_->AppendMessage(&m).ok());

  auto ex = Call("GET", "/v1/sessions/" + session + "/messages");
  ASSERT_EQ(ex->status(), 200);
  const json messages = ex->json()["messages"];
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0], (json{{"seq", 1},
                               {"task_id", t["id"]},
                               {"role", "user"},
                               {"created_at_ms", kWall0},
                               {"message", {{"role", "user"}, {"content", "hang here"}}}}));
  EXPECT_EQ(messages[1]["seq"], 2);
  EXPECT_EQ(messages[1]["message"], "not json");

  auto after = Call("GET", "/v1/sessions/" + session + "/messages?after=1");
  ASSERT_EQ(after->json()["messages"].size(), 1u);
  EXPECT_EQ(after->json()["messages"][0]["seq"], 2);

  ExpectError(*Call("GET", "/v1/sessions/ses_nope/messages"), 404, "not_found");
}

// --- wait for many

TEST_F(RestApiTest, WaitAnyAnswersWithTheFirstDoneInTheOrderAsked) {
  const std::string slow = LaunchId("slow");
  const std::string fast = LaunchId("fast");
  auto ex = Post("/v1/wait", {{"task_ids", {slow, fast}}, {"mode", "any"}, {"timeout_ms", 5000}});
  EXPECT_FALSE(ex->answered());
  clock_.AdvanceMs(100);
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json()["timed_out"], false);
  const json tasks = ex->json()["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0]["id"], slow);
  EXPECT_EQ(tasks[0]["state"], "running");
  EXPECT_EQ(tasks[1]["id"], fast);
  EXPECT_EQ(tasks[1]["state"], "completed");
  EXPECT_EQ(tasks[1]["result"], "fast done");
}

TEST_F(RestApiTest, WaitAllAnswersWhenAllAreDoneOrTimesOut) {
  const std::string slow = LaunchId("slow");
  const std::string fast = LaunchId("fast");
  auto all = Post("/v1/wait", {{"task_ids", {fast, slow}}});
  clock_.AdvanceMs(100);
  EXPECT_FALSE(all->answered());
  clock_.AdvanceMs(900);
  ASSERT_EQ(all->status(), 200);
  EXPECT_EQ(all->json()["timed_out"], false);
  EXPECT_EQ(all->json()["tasks"][0]["state"], "completed");
  EXPECT_EQ(all->json()["tasks"][1]["state"], "completed");

  const std::string hang = LaunchId("hang");
  auto timeout = Post("/v1/wait", {{"task_ids", {hang, fast}}, {"timeout_ms", 250}});
  clock_.AdvanceMs(250);
  ASSERT_EQ(timeout->status(), 200);
  EXPECT_EQ(timeout->json()["timed_out"], true);
  EXPECT_EQ(timeout->json()["tasks"][0]["state"], "running");
}

TEST_F(RestApiTest, WaitWithUnknownIdsNamesThem) {
  const std::string id = LaunchId("hang");
  for (const char* mode : {"any", "all"}) {
    auto ex = Post("/v1/wait", {{"task_ids", {"bg_x", id, "bg_y"}}, {"mode", mode}});
    ExpectError(*ex, 404, "not_found");
    EXPECT_EQ(ex->json()["error"]["message"], "task_ids: no such tasks: \"bg_x\", \"bg_y\"");
    EXPECT_EQ(ex->json()["error"]["field"], "task_ids");
    EXPECT_EQ(api_->pending_waits(), 0u);
  }
}

// --- listings

TEST_F(RestApiTest, ListingFiltersAndLimits) {
  const std::string done = LaunchId("fast", "cli");
  clock_.AdvanceMs(100);
  const json parent_task = LaunchTask({{"prompt", "hang parent"}, {"agent", "lead"}});
  const std::string other = LaunchId("hang other", "mcp:1");
  LaunchRequest child = Req("hang child", "mock/scripted");
  child.parent_session_id = parent_task["session_id"];
  const std::string child_id = LaunchOk(child);  // pending: the pool is full

  auto ids_of = [&](const std::string& target) {
    auto ex = Call("GET", target);
    EXPECT_EQ(ex->status(), 200) << target << ": " << ex->response()->body;
    std::vector<std::string> ids;
    const json body = ex->json();
    for (const auto& t : body["tasks"]) ids.push_back(t["id"]);
    return ids;
  };
  const std::string parent = parent_task["id"];
  EXPECT_EQ(ids_of("/v1/tasks"), (std::vector<std::string>{done, parent, other, child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?status=completed"), (std::vector<std::string>{done}));
  EXPECT_EQ(ids_of("/v1/tasks?status=pending"), (std::vector<std::string>{child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?status=active"), (std::vector<std::string>{parent, other, child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?status=completed,pending"),
            (std::vector<std::string>{done, child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?parent=" + parent_task["session_id"].get<std::string>()),
            (std::vector<std::string>{child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?session=" + parent_task["session_id"].get<std::string>()),
            (std::vector<std::string>{parent}));
  EXPECT_EQ(ids_of("/v1/tasks?owner=mcp:1"), (std::vector<std::string>{other}));
  EXPECT_EQ(ids_of("/v1/tasks?limit=2"), (std::vector<std::string>{other, child_id}));
  EXPECT_EQ(ids_of("/v1/tasks?status=active&limit=1"), (std::vector<std::string>{child_id}));

  auto pending = Call("GET", "/v1/tasks?status=pending");
  EXPECT_EQ(pending->json()["tasks"][0]["queue_position"], 1);
  EXPECT_EQ(pending->json()["tasks"][0]["parent_session_id"], parent_task["session_id"]);
  EXPECT_EQ(pending->json()["tasks"][0]["depth"], 1);
}

TEST_F(RestApiTest, PoolsListTheirWaitersInQueueOrder) {
  LaunchId("hang 1");
  LaunchId("hang 2");
  std::vector<std::string> waiting;
  for (int i = 0; i < 4; ++i) waiting.push_back(LaunchId("hang w" + std::to_string(i)));
  ASSERT_TRUE(Post("/v1/tasks/" + waiting[1] + "/cancel", json::object())->status() == 200);
  waiting.erase(waiting.begin() + 1);
  auto ex = Call("GET", "/v1/pools");
  EXPECT_EQ(ex->json()["pools"][0]["waiting"], json(waiting));
  EXPECT_EQ(ex->json()["pools"][0]["queued"], 3);
}

TEST_F(RestApiTest, ListingPagesNewestFirstWithACursorAndCounts) {
  std::vector<std::string> ids;
  for (int i = 0; i < 5; ++i) {
    ids.push_back(LaunchId("hang " + std::to_string(i)));
    clock_.AdvanceMs(1);
  }
  auto page = [&](const std::string& target) {
    auto ex = Call("GET", target);
    EXPECT_EQ(ex->status(), 200) << target << ": " << ex->response()->body;
    return ex->json();
  };
  json first = page("/v1/tasks?order=newest&limit=2");
  EXPECT_EQ(first["tasks"][0]["id"], ids[4]);
  EXPECT_EQ(first["tasks"][1]["id"], ids[3]);
  EXPECT_EQ(first["next_before"], ids[3]);
  EXPECT_EQ(first["counts"], (json{{"pending", 3}, {"running", 2}, {"completed", 0}, {"error", 0},
                                   {"cancelled", 0}, {"interrupted", 0}}));
  EXPECT_EQ(first["last_event_id"], static_cast<int64_t>(EventCount()));
  json second = page("/v1/tasks?order=newest&limit=2&before=" + ids[3]);
  EXPECT_EQ(second["tasks"][0]["id"], ids[2]);
  EXPECT_EQ(second["tasks"][1]["id"], ids[1]);
  json last = page("/v1/tasks?order=newest&limit=2&before=" + second["next_before"].get<std::string>());
  ASSERT_EQ(last["tasks"].size(), 1u);
  EXPECT_EQ(last["tasks"][0]["id"], ids[0]);
  EXPECT_EQ(last["next_before"], nullptr);
  // Oldest first (the default), the cursor is still the page's oldest task.
  json oldest = page("/v1/tasks?limit=2&before=" + ids[4]);
  EXPECT_EQ(oldest["tasks"][0]["id"], ids[2]);
  EXPECT_EQ(oldest["tasks"][1]["id"], ids[3]);
  EXPECT_EQ(oldest["next_before"], ids[2]);
  EXPECT_EQ(page("/v1/tasks?order=newest")["tasks"][0]["id"], ids[4]);
  ExpectError(*Call("GET", "/v1/tasks?order=sideways"), 400, "invalid_argument");
  ExpectError(*Call("GET", "/v1/tasks?before="), 400, "invalid_argument");
}

TEST_F(RestApiTest, ATreeIsListedAndCancelledByItsRoot) {
  const json lead = LaunchTask({{"prompt", "hang lead"}, {"agent", "lead"}});
  const std::string root = lead["root_session_id"];
  LaunchRequest child = Req("hang child", "mock/scripted");
  child.parent_session_id = lead["session_id"];
  const std::string child_id = LaunchOk(child);
  const std::string other = LaunchId("hang other");
  auto tree = Call("GET", "/v1/tasks?root=" + root);
  ASSERT_EQ(tree->status(), 200);
  ASSERT_EQ(tree->json()["tasks"].size(), 2u);
  EXPECT_EQ(tree->json()["tasks"][0]["id"], lead["id"]);
  EXPECT_EQ(tree->json()["tasks"][1]["id"], child_id);

  auto cancelled = Post("/v1/tasks/cancel", {{"root", root}});
  ASSERT_EQ(cancelled->status(), 200) << cancelled->response()->body;
  std::set<std::string> ids;
  const json answer = cancelled->json();  // held: a loop over a temporary's member would dangle
  for (const json& t : answer["cancelled"]) {
    ids.insert(t["id"].get<std::string>());
    EXPECT_EQ(t["state"], "cancelled");
  }
  // The child may go with its parent (a cascade) rather than by itself: either way, once.
  EXPECT_TRUE(ids.count(lead["id"].get<std::string>())) << cancelled->response()->body;
  EXPECT_EQ(manager_->Get(lead["id"].get<std::string>())->task.state, TaskState::kCancelled);
  EXPECT_EQ(manager_->Get(child_id)->task.state, TaskState::kCancelled);
  EXPECT_EQ(manager_->Get(other)->task.state, TaskState::kRunning);
}

TEST_F(RestApiTest, ListingLeavesOutResultAndCutsThePrompt) {
  std::string prompt = "fast ";
  for (int i = 0; i < 200; ++i) prompt += "é";
  const std::string id = LaunchTask({{"prompt", prompt}, {"agent", "explore"}})["id"];
  const std::string short_id = LaunchId("fast short");
  clock_.AdvanceMs(100);
  auto ex = Call("GET", "/v1/tasks");
  const json tasks = ex->json()["tasks"];
  ASSERT_EQ(tasks.size(), 2u);
  EXPECT_EQ(tasks[0]["id"], id);
  EXPECT_FALSE(tasks[0].contains("result"));
  EXPECT_EQ(tasks[0]["prompt"].get<std::string>(), prompt.substr(0, 199));  // whole "é"s only
  EXPECT_EQ(tasks[0]["prompt_truncated"], true);
  EXPECT_EQ(tasks[1]["prompt"], "fast short");
  EXPECT_FALSE(tasks[1].contains("prompt_truncated"));
  EXPECT_FALSE(tasks[1].contains("result"));
}

// --- pools, agents, health

TEST_F(RestApiTest, PoolsShowAFullPool) {
  LaunchId("hang 1");
  LaunchId("hang 2");
  const std::string third = LaunchId("hang 3");
  manager_->ReportRateLimit("mock", 5000);
  auto ex = Call("GET", "/v1/pools");
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json(), (json{{"pools",
                               {{{"key", "default:mock/scripted"},
                                 {"level", "default"},
                                 {"provider", "mock"},
                                 {"limit", 2},
                                 {"in_use", 2},
                                 {"queued", 1},
                                 {"cooldown_until_ms", kWall0 + 5000},
                                 {"cooldown_remaining_ms", 5000},
                                 {"waiting", {third}}}}},
                              {"global", {{"limit", 0}, {"running", 2}, {"pending", 1}}}}))
      << ex->json().dump(2);
}

TEST_F(RestApiTest, GlobalLimitComesFromTheConfig) {
  api_.reset();
  manager_.reset();
  TaskManagerOptions options;
  options.limits.global_concurrency = 3;
  Build(options);
  MakeApi();
  auto ex = Call("GET", "/v1/pools");
  EXPECT_EQ(ex->json()["pools"], json::array());
  EXPECT_EQ(ex->json()["global"], (json{{"limit", 3}, {"running", 0}, {"pending", 0}}));
}

TEST_F(RestApiTest, AgentsListTheCatalog) {
  auto ex = Call("GET", "/v1/agents");
  ASSERT_EQ(ex->status(), 200);
  const json agents = ex->json()["agents"];
  ASSERT_EQ(agents.size(), catalog_.List().size());
  std::vector<std::string> names;
  for (const auto& a : agents) names.push_back(a["name"]);
  EXPECT_EQ(names, catalog_.Names());
  const AgentDefinition* explore = catalog_.Get("explore");
  const json& e = agents[std::find(names.begin(), names.end(), "explore") - names.begin()];
  EXPECT_EQ(e["description"], explore->description);
  EXPECT_EQ(e["model"], explore->model);
  EXPECT_EQ(e["tools"], json(explore->tools));
  EXPECT_EQ(e["source"], "builtin");
  const json& o = agents[std::find(names.begin(), names.end(), "oracle") - names.begin()];
  EXPECT_EQ(o["source"], "config");
}

TEST_F(RestApiTest, AgentsAndHealthSayWhichModelAgentsWithoutOneGetAndWhy) {
  // The offline fallback: its origin and the notice its results carry.
  auto agents = Call("GET", "/v1/agents");
  ASSERT_EQ(agents->status(), 200);
  const json offline = {
      {"model", "mock/scripted"},
      {"source", "offline"},
      {"origin",
       "offline fallback: no ANTHROPIC_API_KEY or OPENAI_API_KEY in the daemon's environment"},
      {"hint", DefaultModelHint(default_model_)},
      {"notice", OfflineModelNotice(default_model_)}};
  EXPECT_EQ(agents->json()["default_model"], offline) << agents->json().dump(2);
  EXPECT_EQ(Call("GET", "/v1/health")->json()["default_model"], offline);

  // A key in the environment.
  default_model_ = {.model = "anthropic/claude-sonnet-4-5",
                    .source = DefaultModelSource::kEnvKey,
                    .key_env = "ANTHROPIC_API_KEY"};
  MakeApi();
  const json keyed = {{"model", "anthropic/claude-sonnet-4-5"},
                      {"source", "env"},
                      {"origin", "ANTHROPIC_API_KEY is set in the daemon's environment"},
                      {"env", "ANTHROPIC_API_KEY"}};
  EXPECT_EQ(Call("GET", "/v1/agents")->json()["default_model"], keyed);
  EXPECT_EQ(Call("GET", "/v1/health")->json()["default_model"], keyed);

  // The config's.
  default_model_ = {.model = "opus", .source = DefaultModelSource::kConfig};
  MakeApi();
  EXPECT_EQ(
      Call("GET", "/v1/health")->json()["default_model"],
      (json{{"model", "opus"}, {"source", "config"}, {"origin", "default_model in the config"}}));
}

TEST_F(RestApiTest, Health) {
  LaunchId("hang 1");
  LaunchId("hang 2");
  LaunchId("hang 3");
  clock_.AdvanceMs(250);
  auto ex = Call("GET", "/v1/health");
  ASSERT_EQ(ex->status(), 200);
  EXPECT_EQ(ex->json(), (json{{"ok", true},
                              {"version", "0.1.0"},
                              {"commit", "0123456789ab-dirty"},
                              {"pid", 4242},
                              {"started_at_ms", kWall0 - 5000},
                              {"uptime_ms", 5250},
                              {"data_dir", "/data"},
                              {"socket", "/data/troupe.sock"},
                              {"tcp_port", 0},
                              {"dashboard_port", 0},
                              {"default_model", DefaultModelJson(default_model_)},
                              {"tasks", {{"pending", 1}, {"running", 2}}}}));
}

// The database cannot be written (a full disk): launches are refused with 503 naming SQLite's
// error, a task that finishes meanwhile is answered as finished (a wait does not return it
// "running" at once), and health says degraded with the reason and since when.
class RestApiStoreFailureTest : public RestApiTest {
 protected:
  void SetUp() override {
    with_faults_ = true;
    RestApiTest::SetUp();
  }
};

TEST_F(RestApiStoreFailureTest, DiskFullIsA503SayingSoAndHealthTurnsDegraded) {
  const std::string id = LaunchId("slow");
  fault_->FailWritesFromNow();
  auto refused = Post("/v1/tasks", {{"prompt", "more"}, {"agent", "explore"}});
  ExpectError(*refused, 503, "store_unavailable");
  EXPECT_THAT(refused->json()["error"]["message"].get<std::string>(),
              ::testing::HasSubstr("database or disk is full"));

  auto waiting = Call("GET", "/v1/tasks/" + id + "?wait_ms=3000");
  EXPECT_FALSE(waiting->response().has_value());  // waits for the real end
  clock_.AdvanceMs(1000);                         // it completes; its write fails
  ASSERT_TRUE(waiting->response().has_value());
  EXPECT_EQ(waiting->status(), 200);
  EXPECT_EQ(waiting->json()["task"]["state"], "completed");
  EXPECT_EQ(waiting->json()["timed_out"], false);
  EXPECT_EQ(Call("GET", "/v1/tasks/" + id)->json()["task"]["state"], "completed");

  json health = Call("GET", "/v1/health")->json();
  EXPECT_EQ(health["ok"], true);
  EXPECT_EQ(health["status"], "degraded");
  EXPECT_EQ(health["store"]["status"], "degraded");
  EXPECT_EQ(health["store"]["degraded_since_ms"], kWall0 + 1000);
  EXPECT_THAT(health["store"]["last_error"].get<std::string>(),
              ::testing::HasSubstr("database or disk is full"));
  EXPECT_GT(health["store"]["write_failures"].get<int64_t>(), 0);
  EXPECT_GT(health["store"]["unsaved_writes"].get<int64_t>(), 0);

  fault_->Heal();
  clock_.AdvanceMs(TaskManagerOptions{}.store_retry_max_ms);
  health = Call("GET", "/v1/health")->json();
  EXPECT_EQ(health["status"], "ok");
  EXPECT_EQ(health["store"]["status"], "ok");
  EXPECT_FALSE(health["store"].contains("degraded_since_ms"));
  EXPECT_EQ(health["store"]["unsaved_writes"], 0);
  auto stored = store_->GetTask(id);
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->state, TaskState::kCompleted);
  EXPECT_EQ(Post("/v1/tasks", {{"prompt", "more"}, {"agent", "explore"}})->status(), 201);
}

TEST_F(RestApiTest, ShutdownEndpointCallsBackOnALaterTurn) {
  auto ex = Call("POST", "/v1/shutdown");
  ASSERT_EQ(ex->status(), 202);
  EXPECT_EQ(ex->json(), (json{{"stopping", true}}));
  EXPECT_EQ(shutdown_requests_, 0);
  clock_.RunDue();
  EXPECT_EQ(shutdown_requests_, 1);
  // Asked again: answered, but the daemon is told once.
  EXPECT_EQ(Call("POST", "/v1/shutdown", "{}")->status(), 202);
  clock_.RunDue();
  EXPECT_EQ(shutdown_requests_, 1);
}

// --- routing

TEST_F(RestApiTest, UnknownPathIs404NamingIt) {
  auto ex = Call("GET", "/v1/taskz");
  ExpectError(*ex, 404, "not_found");
  EXPECT_NE(ex->json()["error"]["message"].get<std::string>().find("/v1/taskz"), std::string::npos);
  ExpectError(*Call("GET", "/v1/tasks/"), 404, "not_found");
  ExpectError(*Call("GET", "/v1/tasks/bg_1/result"), 404, "not_found");
  ExpectError(*Call("GET", "/"), 404, "not_found");
}

// http_api_fuzz found that "/v1" alone was read past its one segment (seed
// src/rest/fuzz_corpus/http_api/crash_v1_alone).
TEST_F(RestApiTest, VersionAloneIs404) {
  ExpectError(*Call("GET", "/v1"), 404, "not_found");
  ExpectError(*Call("POST", "/v1", "{}"), 404, "not_found");
}

TEST_F(RestApiTest, WrongMethodIs405WithAllow) {
  struct Case {
    const char* method;
    const char* path;
    const char* allow;
  };
  for (const Case& c :
       {Case{"DELETE", "/v1/tasks", "GET, POST"}, Case{"GET", "/v1/wait", "POST"},
        Case{"POST", "/v1/tasks/bg_1", "GET"}, Case{"GET", "/v1/tasks/bg_1/cancel", "POST"},
        Case{"GET", "/v1/tasks/cancel", "POST"}, Case{"PUT", "/v1/health", "GET"},
        Case{"POST", "/metrics", "GET"}, Case{"GET", "/v1/shutdown", "POST"}}) {
    auto ex = Call(c.method, c.path);
    ExpectError(*ex, 405, "method_not_allowed");
    ASSERT_EQ(ex->response()->headers.size(), 1u) << c.path;
    EXPECT_EQ(ex->response()->headers[0].first, "Allow");
    EXPECT_EQ(ex->response()->headers[0].second, c.allow) << c.method << " " << c.path;
  }
}

TEST_F(RestApiTest, EventsAndMetricsWithoutTheirServicesAre404) {
  auto events = Call("GET", "/v1/events");
  ExpectError(*events, 404, "not_found");
  EXPECT_EQ(events->json()["error"]["message"], "event stream not enabled");
  ExpectError(*Call("GET", "/metrics"), 404, "not_found");
}

TEST_F(RestApiTest, EventsAndMetricsAreHandedToTheirServices) {
  EventStream events(&clock_, store_.get(), &manager_->events());
  Metrics metrics(&clock_, manager_.get(), store_.get());
  api_.reset();
  RestApiDeps deps;
  deps.clock = &clock_;
  deps.manager = manager_.get();
  deps.store = store_.get();
  deps.events = &events;
  deps.metrics = &metrics;
  api_ = std::make_unique<RestApi>(std::move(deps));

  auto stream = Call("GET", "/v1/events");
  EXPECT_TRUE(stream->streaming());
  EXPECT_EQ(events.subscribers(), 1u);

  auto scrape = Call("GET", "/metrics");
  ASSERT_EQ(scrape->status(), 200);
  EXPECT_EQ(scrape->response()->content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(scrape->response()->body.find("troupe_tasks"), std::string::npos);

  // Shutdown ends the streams too.
  api_->Shutdown();
  EXPECT_TRUE(stream->closed());
  EXPECT_EQ(events.subscribers(), 0u);
  api_.reset();  // before the services it points to
}

TEST_F(RestApiTest, MountsGetTheirPrefix) {
  EXPECT_EQ(Call("POST", "/mcp", "{}")->response()->body, "mounted\n");
  EXPECT_EQ(Call("GET", "/mcp/sse")->response()->body, "mounted\n");
  ExpectError(*Call("GET", "/mcpx"), 404, "not_found");
  EXPECT_EQ(mounted_.paths, (std::vector<std::string>{"/mcp", "/mcp/sse"}));
}

// --- malformed requests: precise errors, nothing changed

TEST_F(RestApiTest, MalformedRequestsAreRefusedPreciselyAndChangeNothing) {
  const std::string task = LaunchId("hang");
  const std::string session = manager_->Get(task)->task.session_id;
  const std::string file = dir_.Write("file.txt", "x");
  const std::string missing = dir_.File("missing");
  struct Case {
    std::string method;
    std::string target;
    std::string body;
    std::string content_type;  // "" = application/json when there is a body
    int status;
    std::string code;
    std::string field;
    std::string expected;
    std::string got;
  };
  const std::string ms = "an integer from 0 to 3600000";
  const std::string launch_fields =
      "one of prompt, agent, description, model, session_id, workspace, owner, wait_ms, "
      "max_tokens, max_cost_usd, tree_max_cost_usd, tree_max_tasks, isolation, base";
  const std::vector<Case> cases = {
      // Bodies that are not JSON objects.
      {"POST", "/v1/tasks", "{\"prompt\": ", "", 400, "invalid_json", "", "", ""},
      {"POST", "/v1/tasks", "", "", 400, "invalid_json", "", "", ""},
      {"POST", "/v1/tasks", "[1]", "", 400, "invalid_argument", "", "a JSON object", "array"},
      {"POST", "/v1/tasks", "\"prompt\"", "", 400, "invalid_argument", "", "a JSON object",
       "\"prompt\""},
      {"POST", "/v1/tasks", R"({"prompt":"x"})", "text/plain", 415, "unsupported_media_type", "",
       "application/json", "\"text/plain\""},
      {"POST", "/v1/tasks", "prompt=x", "application/x-www-form-urlencoded", 415,
       "unsupported_media_type", "", "application/json", "\"application/x-www-form-urlencoded\""},
      // Launch fields.
      {"POST", "/v1/tasks", R"({"promt":"x"})", "", 400, "invalid_argument", "promt", launch_fields,
       "\"promt\""},
      {"POST", "/v1/tasks", R"({})", "", 400, "invalid_argument", "prompt", "a non-empty string",
       "nothing"},
      {"POST", "/v1/tasks", R"({"prompt":5})", "", 400, "invalid_argument", "prompt",
       "a non-empty string", "number"},
      {"POST", "/v1/tasks", R"({"prompt":""})", "", 400, "invalid_argument", "prompt",
       "a non-empty string", "\"\""},
      {"POST", "/v1/tasks", R"({"prompt":"  \n"})", "", 400, "invalid_argument", "prompt",
       "a non-empty string", "\"  \\n\""},
      {"POST", "/v1/tasks", R"({"prompt":null})", "", 400, "invalid_argument", "prompt",
       "a non-empty string", "nothing"},
      {"POST", "/v1/tasks", R"({"prompt":"x","agent":7})", "", 400, "invalid_argument", "agent",
       "an agent name", "number"},
      {"POST", "/v1/tasks", R"({"prompt":"x","agent":"explorer"})", "", 400, "invalid_argument",
       "agent", "a known agent", "\"explorer\""},
      {"POST", "/v1/tasks", R"({"prompt":"x","description":[]})", "", 400, "invalid_argument",
       "description", "a string", "array"},
      {"POST", "/v1/tasks", R"({"prompt":"x","model":{}})", "", 400, "invalid_argument", "model",
       "a model written provider/model, or a list of 1 to 8 of them (the first the task's, the "
       "others its fallback models)",
       "object"},
      {"POST", "/v1/tasks", R"({"prompt":"x","model":"noslash"})", "", 400, "invalid_argument",
       "model", "a model of a configured provider", "\"noslash\""},
      {"POST", "/v1/tasks", R"({"prompt":"x","session_id":true})", "", 400, "invalid_argument",
       "session_id", "a session id", "boolean"},
      {"POST", "/v1/tasks", R"({"prompt":"x","session_id":"ses_nope"})", "", 404, "not_found",
       "session_id", "", ""},
      {"POST", "/v1/tasks", R"({"prompt":"x","session_id":")" + session + R"("})", "", 409,
       "conflict", "", "", ""},
      {"POST", "/v1/tasks", R"({"prompt":"x","workspace":1})", "", 400, "invalid_argument",
       "workspace", "an absolute path to an existing directory", "number"},
      {"POST", "/v1/tasks", R"({"prompt":"x","workspace":"rel/dir"})", "", 400, "invalid_argument",
       "workspace", "an absolute path to an existing directory", "\"rel/dir\""},
      {"POST", "/v1/tasks", json{{"prompt", "x"}, {"workspace", missing}}.dump(), "", 400,
       "invalid_argument", "workspace", "an existing directory",
       json(missing).dump() + " (does not exist)"},
      {"POST", "/v1/tasks", json{{"prompt", "x"}, {"workspace", file}}.dump(), "", 400,
       "invalid_argument", "workspace", "a directory", json(file).dump() + " (not a directory)"},
      {"POST", "/v1/tasks", R"({"prompt":"x","owner":1})", "", 400, "invalid_argument", "owner",
       "a string", "number"},
      {"POST", "/v1/tasks", R"({"prompt":"x","wait_ms":"10"})", "", 400, "invalid_argument",
       "wait_ms", ms, "\"10\""},
      {"POST", "/v1/tasks", R"({"prompt":"x","wait_ms":-1})", "", 400, "invalid_argument",
       "wait_ms", ms, "-1"},
      {"POST", "/v1/tasks", R"({"prompt":"x","wait_ms":3600001})", "", 400, "invalid_argument",
       "wait_ms", ms, "3600001"},
      {"POST", "/v1/tasks", R"({"prompt":"x","wait_ms":1.5})", "", 400, "invalid_argument",
       "wait_ms", ms, "1.5"},
      // A long bad string is quoted short.
      {"POST", "/v1/tasks", json{{"prompt", "x"}, {"agent", std::string(5000, 'm')}}.dump(), "",
       400, "invalid_argument", "agent", "a known agent", "\"" + std::string(40, 'm') + "\"…"},
      // Wait.
      {"POST", "/v1/wait", "", "", 400, "invalid_json", "", "", ""},
      {"POST", "/v1/wait", R"({})", "", 400, "invalid_argument", "task_ids",
       "a non-empty array of task ids", "nothing"},
      {"POST", "/v1/wait", R"({"task_ids":"bg_1"})", "", 400, "invalid_argument", "task_ids",
       "a non-empty array of task ids", "\"bg_1\""},
      {"POST", "/v1/wait", R"({"task_ids":[]})", "", 400, "invalid_argument", "task_ids",
       "a non-empty array of task ids", "an empty array"},
      {"POST", "/v1/wait", R"({"task_ids":[1]})", "", 400, "invalid_argument", "task_ids[0]",
       "a task id (non-empty string)", "number"},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"mode":"some"})", "", 400, "invalid_argument",
       "mode", "\"any\" or \"all\"", "\"some\""},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"mode":1})", "", 400, "invalid_argument", "mode",
       "\"any\" or \"all\"", "number"},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"timeout_ms":-5})", "", 400, "invalid_argument",
       "timeout_ms", ms, "-5"},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"timeout_ms":3600001})", "", 400,
       "invalid_argument", "timeout_ms", ms, "3600001"},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"timeout_ms":"5"})", "", 400, "invalid_argument",
       "timeout_ms", ms, "\"5\""},
      {"POST", "/v1/wait", R"({"task_ids":["bg_1"],"all":true})", "", 400, "invalid_argument",
       "all", "one of task_ids, mode, timeout_ms", "\"all\""},
      {"POST", "/v1/wait", R"({"task_ids":["bg_nope"]})", "", 404, "not_found", "task_ids",
       "ids of existing tasks", "\"bg_nope\""},
      // Cancel.
      {"POST", "/v1/tasks/" + task + "/cancel", R"({"reason":5})", "", 400, "invalid_argument",
       "reason", "a string", "number"},
      {"POST", "/v1/tasks/" + task + "/cancel", R"({"why":"x"})", "", 400, "invalid_argument",
       "why", "one of reason", "\"why\""},
      {"POST", "/v1/tasks/" + task + "/cancel", "{", "", 400, "invalid_json", "", "", ""},
      {"POST", "/v1/tasks/" + task + "/cancel", "reason", "text/plain", 415,
       "unsupported_media_type", "", "application/json", "\"text/plain\""},
      {"POST", "/v1/tasks/cancel", "", "", 400, "invalid_json", "", "", ""},
      {"POST", "/v1/tasks/cancel", R"({})", "", 400, "invalid_argument", "all", "true", "nothing"},
      {"POST", "/v1/tasks/cancel", R"({"all":false})", "", 400, "invalid_argument", "all", "true",
       "false"},
      {"POST", "/v1/tasks/cancel", R"({"all":"yes"})", "", 400, "invalid_argument", "all", "true",
       "\"yes\""},
      {"POST", "/v1/tasks/cancel", R"({"all":true,"owner":5})", "", 400, "invalid_argument",
       "owner", "a string", "number"},
      // Query parameters.
      {"GET", "/v1/tasks?limit=0", "", "", 400, "invalid_argument", "limit",
       "an integer from 1 to 100000", "\"0\""},
      {"GET", "/v1/tasks?limit=100001", "", "", 400, "invalid_argument", "limit",
       "an integer from 1 to 100000", "\"100001\""},
      {"GET", "/v1/tasks?limit=ten", "", "", 400, "invalid_argument", "limit",
       "an integer from 1 to 100000", "\"ten\""},
      {"GET", "/v1/tasks?status=done", "", "", 400, "invalid_argument", "status",
       "comma-separated states (pending, running, completed, error, cancelled, interrupted) or "
       "active",
       "\"done\""},
      {"GET", "/v1/tasks?sort=id", "", "", 400, "invalid_argument", "sort",
       "one of status, parent, session, owner, root, before, order, limit", "\"sort\""},
      {"GET", "/v1/tasks/" + task + "?wait_ms=-1", "", "", 400, "invalid_argument", "wait_ms", ms,
       "\"-1\""},
      {"GET", "/v1/tasks/" + task + "?wait_ms=3600001", "", "", 400, "invalid_argument", "wait_ms",
       ms, "\"3600001\""},
      {"GET", "/v1/tasks/" + task + "?wait_ms=soon", "", "", 400, "invalid_argument", "wait_ms", ms,
       "\"soon\""},
      {"GET", "/v1/sessions/" + session + "/messages?after=x", "", "", 400, "invalid_argument",
       "after", "a sequence number (an integer from 0)", "\"x\""},
      {"POST", "/v1/shutdown", R"({"now":true})", "", 400, "invalid_argument", "now", "no fields",
       "\"now\""},
  };

  const size_t tasks = TaskCount();
  const size_t events = EventCount();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " " + c.body.substr(0, 80));
    auto ex = FakeExchange::Make(c.method, c.target, c.body);
    if (!c.content_type.empty()) ex->mutable_request().headers["content-type"] = c.content_type;
    api_->Handle(ex);
    ASSERT_TRUE(ex->answered());
    EXPECT_EQ(ex->response()->body.back(), '\n');
    const json e = ex->json()["error"];
    EXPECT_EQ(ex->status(), c.status) << ex->response()->body;
    EXPECT_EQ(e["status"], c.status);
    EXPECT_EQ(e["code"], c.code);
    EXPECT_EQ(e.value("field", ""), c.field);
    EXPECT_EQ(e.value("expected", ""), c.expected);
    EXPECT_EQ(e.value("got", ""), c.got);
    EXPECT_FALSE(e.value("message", "").empty());
    if (!c.field.empty() && c.code == "invalid_argument") {
      EXPECT_EQ(e["message"].get<std::string>().rfind(c.field + ": ", 0), 0u) << e["message"];
    }
    EXPECT_EQ(TaskCount(), tasks);
    EXPECT_EQ(EventCount(), events);
    EXPECT_EQ(api_->pending_waits(), 0u);
  }
  EXPECT_EQ(StateOf(task), TaskState::kRunning);
  EXPECT_EQ(shutdown_requests_, 0);
}

// The API answers a refused launch from the Status's code and field, never its text: the
// engine's messages reworded (or made to look like another error's) leave status, code and field
// as they were.
TEST_F(RestApiTest, ALaunchRefusalMapsByItsTypedReasonNotItsMessage) {
  struct Case {
    Status refusal;
    int status;
    std::string code;
    std::string field;
  };
  const Case cases[] = {
      // What the agent catalog, the provider registry and TaskManager::Launch say, reworded.
      {Status::NotFound("no helper goes by that name").WithField("agent"), 400, "invalid_argument",
       "agent"},
      {Status::FailedPrecondition("the key of its provider is missing").WithField("model"), 400,
       "invalid_argument", "model"},
      {Status::NotFound("nothing called so here").WithField("model"), 400, "invalid_argument",
       "model"},
      {Status::NotFound("we never met").WithField("session_id"), 404, "not_found", "session_id"},
      {Status::FailedPrecondition("still chewing on the last one"), 409, "conflict", ""},
      {Status::InvalidArgument("say something").WithField("prompt"), 400, "invalid_argument",
       "prompt"},
      {Status::NotFound("the parent left").WithField("parent_session_id"), 400, "invalid_argument",
       "parent_session_id"},
      // Text that the API once read as an agent, model, session or prompt error, without field.
      {Status::Unavailable("unknown agent \"x\": the registry is reloading"), 503, "unavailable",
       ""},
      {Status::IoError("model \"a/b\" could not be saved: disk full"), 503, "store_unavailable",
       ""},
      {Status::NotFound("session ses_1 does not exist"), 400, "invalid_argument", ""},
      {Status::ResourceExhausted("prompt too deep: depth 4 exceeds maxDepth 3"), 429,
       "resource_exhausted", ""},
  };
  for (const Case& c : cases) {
    launch_refusal_ = c.refusal;
    auto ex = Post("/v1/tasks", {{"prompt", "x"}, {"agent", "explore"}, {"model", "mock/m"}});
    SCOPED_TRACE(c.refusal.ToString());
    ExpectError(*ex, c.status, c.code);
    const json e = ex->json()["error"];
    EXPECT_EQ(e.value("field", ""), c.field);
    // The message is the engine's, named by its field when the field is the caller's bad one.
    EXPECT_NE(e["message"].get<std::string>().find(c.refusal.message()), std::string::npos);
  }
  launch_refusal_ = Status::Ok();
  auto agent = Post("/v1/tasks", {{"prompt", "x"}, {"agent", "explorer"}});
  ExpectError(*agent, 400, "invalid_argument");
  EXPECT_EQ(agent->json()["error"]["field"], "agent");
  EXPECT_EQ(agent->json()["error"]["expected"], "a known agent");
  EXPECT_EQ(agent->json()["error"]["got"], "\"explorer\"");
}

TEST_F(RestApiTest, InvalidJsonNamesTheBytePosition) {
  auto ex = Call("POST", "/v1/tasks", "{\"prompt\": \"x\",, }");
  ExpectError(*ex, 400, "invalid_json");
  EXPECT_NE(ex->json()["error"]["message"].get<std::string>().find("at byte 16"), std::string::npos)
      << ex->json()["error"]["message"];
  auto unknown_agent = Post("/v1/tasks", {{"prompt", "x"}, {"agent", "explorer"}});
  EXPECT_EQ(unknown_agent->json()["error"]["message"].get<std::string>().rfind(
                "agent: unknown agent \"explorer\" (did you mean \"explore\"?)", 0),
            0u)
      << unknown_agent->json()["error"]["message"];
}

}  // namespace
}  // namespace troupe
