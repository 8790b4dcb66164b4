// The client commands run in-process (RunTroupeCli) against a fake daemon on a Unix socket:
// argument handling, what each command sends, what it prints, and its exit code.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <sstream>

#include "cli/cli_app.h"
#include "cli/exit_codes.h"
#include "cli/testing/fake_daemon.h"
#include "core/testing/scoped_env.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::FakeDaemon;
using testing::FakeRequest;
using testing::FakeResponse;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

struct CliRun {
  int code = -1;
  std::string out;
  std::string err;
};

json Task(const std::string& id, const std::string& state, int64_t created = 1) {
  return json{{"id", id},
              {"session_id", "ses_" + id.substr(3)},
              {"agent", "general"},
              {"model", "mock/scripted"},
              {"state", state},
              {"description", "Task " + id},
              {"created_at_ms", created},
              {"queue_position", state == "pending" ? 1 : 0},
              {"result", state == "completed" ? "the result of " + id : ""},
              {"error", state == "error" ? "boom" : ""}};
}

FakeResponse TaskAnswer(const json& task) { return FakeResponse::Json(200, {{"task", task}}); }

std::string StateEvent(int id, const std::string& task, const std::string& from,
                       const std::string& to) {
  return "id: " + std::to_string(id) + "\nevent: task.state\ndata: " +
         json{{"id", id}, {"task_id", task}, {"from", from}, {"state", to}}.dump() + "\n\n";
}

class CliCommandsTest : public ::testing::Test {
 protected:
  CliCommandsTest()
      : socket_(dir_.File("d.sock")),
        env_socket_("TROUPE_SOCKET", socket_.c_str()),
        env_data_("TROUPE_DATA_DIR", dir_.File("data").c_str()),
        env_autostart_("TROUPE_NO_AUTOSTART", "1"),
        env_url_("TROUPE_URL", nullptr),
        env_token_("TROUPE_TOKEN", nullptr) {}

  void StartFake(std::function<FakeResponse(const FakeRequest&)> handler) {
    fake_ = FakeDaemon::Start(socket_, [handler](const FakeRequest& r) {
      if (r.target == "/v1/health") return FakeResponse::Json(200, {{"ok", true}});
      return handler(r);
    });
    ASSERT_NE(fake_, nullptr);
  }

  CliRun Cli(std::vector<std::string> args, const std::string& input = "", bool in_tty = false) {
    std::istringstream in(input);
    std::ostringstream out;
    std::ostringstream err;
    CliIo io;
    io.in = &in;
    io.out = &out;
    io.err = &err;
    io.in_tty = in_tty;
    io.width = 200;
    std::vector<const char*> argv = {"troupe"};
    for (const std::string& a : args) argv.push_back(a.c_str());
    CliRun run;
    run.code = RunTroupeCli(static_cast<int>(argv.size()), argv.data(), io, build_);
    run.out = out.str();
    run.err = err.str();
    return run;
  }

  std::vector<FakeRequest> Posts(const std::string& target) const {
    std::vector<FakeRequest> out;
    for (const FakeRequest& r : fake_->requests()) {
      if (r.method == "POST" && r.target == target) out.push_back(r);
    }
    return out;
  }

  testing::TestDir dir_;
  BuildInfo build_{"0.1.0", "0123456789ab", false};
  std::string socket_;
  testing::ScopedEnv env_socket_;
  testing::ScopedEnv env_data_;
  testing::ScopedEnv env_autostart_;
  testing::ScopedEnv env_url_;
  testing::ScopedEnv env_token_;
  std::unique_ptr<FakeDaemon> fake_;
};

FakeResponse Created(const FakeRequest&) {
  return FakeResponse::Json(201, {{"task", Task("bg_1", "pending")}});
}

TEST_F(CliCommandsTest, RunReadsThePromptFromStdin) {
  StartFake(Created);
  CliRun run = Cli({"run"}, "fix the bug\n");
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "bg_1\n");
  EXPECT_EQ(run.err, "");  // stderr is not a terminal: no chatter
  const auto posts = Posts("/v1/tasks");
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].Json(), json({{"prompt", "fix the bug"},
                                   {"owner", "cli"},
                                   {"workspace", std::filesystem::current_path().string()}}));

  run = Cli({"run", "-"}, "line one\nline two\n");
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(Posts("/v1/tasks").back().Json()["prompt"], "line one\nline two");
}

TEST_F(CliCommandsTest, RunSendsTheOptions) {
  StartFake(Created);
  CliRun run = Cli({"run", "--agent", "explore", "--model", "mock/scripted", "--description",
                    "Map it", "--workspace", dir_.path().string(), "map", "the", "code"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(Posts("/v1/tasks").at(0).Json(), json({{"prompt", "map the code"},
                                                   {"owner", "cli"},
                                                   {"workspace", dir_.path().string()},
                                                   {"agent", "explore"},
                                                   {"model", "mock/scripted"},
                                                   {"description", "Map it"}}));

  run = Cli({"run", "--json", "x"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(json::parse(run.out)["task"]["id"], "bg_1");
}

TEST_F(CliCommandsTest, MissingPromptIsAUsageError) {
  StartFake(Created);
  CliRun run = Cli({"run"}, "", /*in_tty=*/true);
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err,
            "troupe run: no prompt (hint: give it as an argument, or on stdin: `echo PROMPT | "
            "troupe run`)\n");

  run = Cli({"run"}, "  \n\n");
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_EQ(run.err, "troupe run: the prompt read from stdin is empty (hint: troupe run --help)\n");

  run = Cli({"run", "--workspace", dir_.File("nope"), "x"});
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_THAT(run.err,
              StartsWith("troupe run: --workspace " + dir_.File("nope") + ": not a directory"));
  EXPECT_TRUE(Posts("/v1/tasks").empty());
}

TEST_F(CliCommandsTest, BadCommandLinesExit2WithOneLine) {
  CliRun run = Cli({"run", "--no-such-flag", "x"});
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_THAT(run.err, StartsWith("troupe run: "));
  EXPECT_THAT(run.err, HasSubstr("(hint: troupe run --help)"));
  EXPECT_EQ(std::count(run.err.begin(), run.err.end(), '\n'), 1);

  EXPECT_EQ(Cli({"wait", "--timeout", "soon"}).code, kExitUsage);
  EXPECT_EQ(Cli({"wait", "--timeout", "-5"}).code, kExitUsage);
  EXPECT_EQ(Cli({"show"}).code, kExitUsage);  // the id is required
  EXPECT_EQ(Cli({"no-such-command"}).code, kExitUsage);
  EXPECT_EQ(Cli({}).code, kExitUsage);
  run = Cli({"cancel"});
  EXPECT_EQ(run.code, kExitUsage);
  EXPECT_EQ(run.err,
            "troupe cancel: which tasks? give their ids, or --all (hint: troupe cancel "
            "--help)\n");
  EXPECT_EQ(Cli({"cancel", "--all", "bg_1"}).code, kExitUsage);
  EXPECT_EQ(Cli({"completion", "fish"}).code, kExitUsage);
}

TEST_F(CliCommandsTest, HelpListsOptionsAndExitCodes) {
  CliRun run = Cli({"run", "--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("--wait"));
  EXPECT_THAT(run.out, HasSubstr("--data-dir"));
  EXPECT_THAT(run.out, HasSubstr("TROUPE_SOCKET"));
  EXPECT_THAT(run.out, HasSubstr("Exit codes: 0 ok, 1 error (API/daemon), 2 usage, 3 a task"));
  for (const char* command :
       {"ps", "show", "output", "wait", "cancel", "continue", "pools", "agents", "events"}) {
    run = Cli({command, "--help"});
    EXPECT_EQ(run.code, 0) << command;
    EXPECT_THAT(run.out, HasSubstr("Exit codes:")) << command;
    EXPECT_THAT(run.out, HasSubstr("--url")) << command;
  }
  run = Cli({"--help"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("serve"));
}

TEST_F(CliCommandsTest, VersionNamesTheCommitItWasBuiltFrom) {
  CliRun run = Cli({"--version"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "troupe 0.1.0 (commit 0123456789ab)\n");
  EXPECT_EQ(run.err, "");
  build_ = {"0.2.0", "fedcba987654", true};
  EXPECT_EQ(Cli({"--version"}).out, "troupe 0.2.0 (commit fedcba987654, dirty)\n");
  EXPECT_THAT(Cli({"--help"}).out, HasSubstr("--version"));
}

TEST_F(CliCommandsTest, UnreachableDaemonExits5) {
  CliRun run = Cli({"ps"});
  EXPECT_EQ(run.code, kExitUnreachable);
  EXPECT_EQ(run.err, "troupe ps: cannot reach the troupe daemon at " + socket_ +
                         ": no socket there (hint: is `troupe serve` running? see " +
                         dir_.File("data/troupe.log") + ")\n");
  EXPECT_EQ(Cli({"run", "x"}).code, kExitUnreachable);
  // --socket on the command line wins over TROUPE_SOCKET.
  run = Cli({"pools", "--socket", dir_.File("other.sock")});
  EXPECT_THAT(run.err, HasSubstr(dir_.File("other.sock")));
}

TEST_F(CliCommandsTest, RunWaitShowsProgressThenTheResult) {
  std::atomic<int> gets{0};
  StartFake([&](const FakeRequest& r) {
    if (r.method == "POST") return Created(r);
    if (r.target.rfind("/v1/events", 0) == 0) {
      return FakeResponse::Stream(
          {{50, StateEvent(2, "bg_1", "pending", "running")},
           {0, "event: task.progress\ndata: {\"task_id\":\"bg_1\",\"tool\":\"grep\"}\n\n"},
           {0, "event: task.progress\ndata: {\"task_id\":\"bg_1\",\"output_tokens\":3}\n\n"},
           {20, StateEvent(3, "bg_1", "running", "completed")}},
          true);
    }
    // The first read (when the stream opens) finds it pending; the last one completed.
    return TaskAnswer(Task("bg_1", gets++ == 0 ? "pending" : "completed"));
  });
  CliRun run = Cli({"run", "--wait", "hello"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "the result of bg_1\n");
  EXPECT_THAT(run.err, HasSubstr("bg_1  new, pending (#1 in the queue of mock/scripted)\n"));
  EXPECT_THAT(run.err, HasSubstr("bg_1  pending → running\n"));
  EXPECT_THAT(run.err, HasSubstr("bg_1  tool grep\n"));
  EXPECT_THAT(run.err, HasSubstr("bg_1  running → completed\n"));
  EXPECT_THAT(run.err, Not(HasSubstr("output_tokens")));
  const auto streams = fake_->RequestsTo("/v1/events");
  ASSERT_EQ(streams.size(), 1u);
  EXPECT_EQ(streams[0].target, "/v1/events?task=bg_1");
}

TEST_F(CliCommandsTest, RunWaitOnAFailedTaskExits3) {
  std::atomic<int> gets{0};
  StartFake([&](const FakeRequest& r) {
    if (r.method == "POST") return Created(r);
    if (r.target.rfind("/v1/events", 0) == 0) {
      return FakeResponse::Stream({{20, StateEvent(3, "bg_1", "running", "error")}}, true);
    }
    return TaskAnswer(Task("bg_1", gets++ == 0 ? "running" : "error"));
  });
  CliRun run = Cli({"run", "--wait", "hello"});
  EXPECT_EQ(run.code, kExitTaskFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_THAT(run.err, HasSubstr("troupe run: bg_1 failed: boom (hint: `troupe show bg_1` has "
                                 "the details)\n"));
}

TEST_F(CliCommandsTest, RunWaitTimesOut) {
  StartFake([&](const FakeRequest& r) {
    if (r.method == "POST") return Created(r);
    if (r.target.rfind("/v1/events", 0) == 0) return FakeResponse::Stream({}, true);
    return TaskAnswer(Task("bg_1", "running"));
  });
  CliRun run = Cli({"run", "--wait", "--timeout", "200", "hello"});
  EXPECT_EQ(run.code, kExitTimeout);
  EXPECT_THAT(run.err, HasSubstr("troupe run: bg_1 is still running after 200ms"));
}

// Tasks bg_1 and bg_2: both running; the stream ends them as `ends` says.
void ServeTwoTasks(FakeDaemon* fake, std::map<std::string, std::string> ends,
                   std::atomic<bool>* streamed) {
  fake->SetHandler([ends, streamed](const FakeRequest& r) {
    if (r.target == "/v1/health") return FakeResponse::Json(200, {{"ok", true}});
    if (r.target.rfind("/v1/events", 0) == 0) {
      std::vector<std::pair<int64_t, std::string>> pieces;
      int id = 10;
      for (const auto& [task, state] : ends) {
        pieces.emplace_back(30, StateEvent(id++, task, "running", state));
      }
      *streamed = true;
      return FakeResponse::Stream(pieces, true);
    }
    if (r.target.rfind("/v1/tasks?", 0) == 0) {
      return FakeResponse::Json(
          200, {{"tasks", json::array({Task("bg_1", "running"), Task("bg_2", "running")})}});
    }
    const std::string id = r.target.substr(std::string("/v1/tasks/").size());
    // Before the stream: running; after: as scripted (or still running).
    auto it = ends.find(id);
    const bool ended = *streamed && it != ends.end();
    json task = Task(id, ended ? it->second : "running");
    return TaskAnswer(task);
  });
}

TEST_F(CliCommandsTest, WaitExitCodes) {
  StartFake([](const FakeRequest&) { return FakeResponse::Json(200, {}); });
  std::atomic<bool> streamed{false};

  ServeTwoTasks(fake_.get(), {{"bg_1", "completed"}, {"bg_2", "completed"}}, &streamed);
  CliRun run = Cli({"wait", "bg_1", "bg_2"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, HasSubstr("bg_1  completed"));
  EXPECT_THAT(run.out, HasSubstr("bg_2  completed"));
  EXPECT_EQ(fake_->RequestsTo("/v1/events").back().target, "/v1/events?task=bg_1,bg_2");

  streamed = false;
  ServeTwoTasks(fake_.get(), {{"bg_1", "completed"}, {"bg_2", "error"}}, &streamed);
  run = Cli({"wait", "bg_1", "bg_2"});
  EXPECT_EQ(run.code, kExitTaskFailed);
  EXPECT_THAT(run.err, HasSubstr("troupe wait: a task did not complete: bg_2"));

  streamed = false;
  ServeTwoTasks(fake_.get(), {{"bg_1", "completed"}}, &streamed);
  run = Cli({"wait", "bg_1", "bg_2", "--timeout", "300", "--json"});
  EXPECT_EQ(run.code, kExitTimeout);
  json answer = json::parse(run.out);
  EXPECT_EQ(answer["timed_out"], true);
  EXPECT_EQ(answer["tasks"][0]["state"], "completed");
  EXPECT_EQ(answer["tasks"][1]["state"], "running");
  EXPECT_THAT(run.err, HasSubstr("troupe wait: timed out after 300ms; still going: bg_2"));

  // --any: the first to end decides.
  streamed = false;
  ServeTwoTasks(fake_.get(), {{"bg_2", "cancelled"}}, &streamed);
  EXPECT_EQ(Cli({"wait", "--any", "bg_1", "bg_2"}).code, kExitTaskFailed);
  streamed = false;
  ServeTwoTasks(fake_.get(), {{"bg_1", "completed"}}, &streamed);
  EXPECT_EQ(Cli({"wait", "--any", "bg_1", "bg_2", "-q"}).code, 0);

  // No ids: every active task.
  streamed = false;
  ServeTwoTasks(fake_.get(), {{"bg_1", "completed"}, {"bg_2", "completed"}}, &streamed);
  run = Cli({"wait"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(fake_->RequestsTo("/v1/tasks?").back().target, "/v1/tasks?status=pending,running");
}

TEST_F(CliCommandsTest, WaitOnAnUnknownTask) {
  StartFake([](const FakeRequest& r) {
    if (r.target.rfind("/v1/events", 0) == 0) return FakeResponse::Stream({}, true);
    return FakeResponse::Error(404, "not_found", "no task bg_x");
  });
  CliRun run = Cli({"wait", "bg_x"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "troupe wait: no task bg_x (hint: `troupe ps --all` lists the tasks)\n");
}

TEST_F(CliCommandsTest, PsShowsActiveAndRecentFinishedTasks) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/tasks?status=pending,running,interrupted") {
      return FakeResponse::Json(
          200,
          {{"tasks", json::array({Task("bg_3", "running", 30), Task("bg_4", "pending", 40)})}});
    }
    if (r.target == "/v1/tasks?status=completed,error,cancelled&limit=10") {
      return FakeResponse::Json(
          200,
          {{"tasks", json::array({Task("bg_1", "completed", 10), Task("bg_5", "error", 50)})}});
    }
    if (r.target == "/v1/tasks") {
      return FakeResponse::Json(200, {{"tasks", json::array({Task("bg_0", "completed", 1)})}});
    }
    return FakeResponse::Error(404, "not_found", "unexpected " + r.target);
  });
  CliRun run = Cli({"ps"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "ID    AGENT    MODEL          STATE      QUEUE/TIME     LAST TOOL  DESCRIPTION\n"
            "bg_1  general  mock/scripted  completed  -              -          Task bg_1\n"
            "bg_3  general  mock/scripted  running    -              -          Task bg_3\n"
            "bg_4  general  mock/scripted  pending    #1 queued 0ms  -          Task bg_4\n"
            "bg_5  general  mock/scripted  error      -              -          Task bg_5\n");

  run = Cli({"ps", "--json"});
  EXPECT_EQ(run.code, 0);
  json answer = json::parse(run.out);
  ASSERT_EQ(answer["tasks"].size(), 4u);
  EXPECT_EQ(answer["tasks"][0]["id"], "bg_1");
  EXPECT_EQ(answer["tasks"][3]["id"], "bg_5");

  run = Cli({"ps", "--all"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("bg_0"));

  run = Cli({"ps", "--parent", "ses_9"});  // the fake knows no such filter: 404
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(fake_->requests().back().target,
            "/v1/tasks?parent=ses_9&status=pending,running,interrupted");
}

TEST_F(CliCommandsTest, ShowAndItsErrors) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/tasks/bg_1") return TaskAnswer(Task("bg_1", "completed"));
    if (r.target == "/v1/sessions/ses_1") {
      return FakeResponse::Json(
          200, {{"session", {{"id", "ses_1"}, {"title", "T"}}},
                {"tasks", json::array({Task("bg_1", "completed")})},
                {"todos", json::array({{{"content", "do it"}, {"status", "pending"}}})}});
    }
    return FakeResponse::Error(404, "not_found", "no task bg_x");
  });
  CliRun run = Cli({"show", "bg_1"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith("bg_1  completed\n"));
  EXPECT_THAT(run.out, HasSubstr("\nresult:\n  the result of bg_1\n"));
  EXPECT_THAT(run.out, HasSubstr("\nsession ses_1:\n"));
  EXPECT_THAT(run.out, HasSubstr("  [ ] do it\n"));

  run = Cli({"show", "--json", "bg_1"});
  EXPECT_EQ(run.code, 0);
  json answer = json::parse(run.out);
  EXPECT_EQ(answer["task"]["id"], "bg_1");
  EXPECT_EQ(answer["session"]["title"], "T");
  EXPECT_EQ(answer["todos"][0]["content"], "do it");
  EXPECT_EQ(answer["session_tasks"][0]["id"], "bg_1");

  run = Cli({"show", "ses_1"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, StartsWith("ses_1\n"));

  run = Cli({"show", "bg_x"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err, "troupe show: no task bg_x (hint: `troupe ps --all` lists the tasks)\n");
}

TEST_F(CliCommandsTest, OutputByState) {
  std::atomic<int> polls{0};
  StartFake([&](const FakeRequest& r) {
    if (r.target == "/v1/tasks/bg_1") return TaskAnswer(Task("bg_1", "completed"));
    if (r.target == "/v1/tasks/bg_2") return TaskAnswer(Task("bg_2", "error"));
    if (r.target == "/v1/tasks/bg_3") return TaskAnswer(Task("bg_3", "running"));
    if (r.target.rfind("/v1/tasks/bg_4?wait_ms=", 0) == 0) {
      return TaskAnswer(Task("bg_4", polls++ < 2 ? "running" : "completed"));
    }
    if (r.target == "/v1/sessions/ses_1/messages") {
      return FakeResponse::Json(
          200, {{"messages", json::array({{{"seq", 1},
                                           {"role", "user"},
                                           {"message", {{"role", "user"}, {"content", "hi"}}}}})}});
    }
    return FakeResponse::Error(404, "not_found", "no " + r.target);
  });
  CliRun run = Cli({"output", "bg_1"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "the result of bg_1\n");

  run = Cli({"output", "bg_2"});
  EXPECT_EQ(run.code, kExitTaskFailed);
  EXPECT_EQ(run.out, "");
  EXPECT_EQ(run.err, "troupe output: bg_2 failed: boom\n");

  run = Cli({"output", "bg_3"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err,
            "troupe output: bg_3 is still running, no result yet (hint: `troupe "
            "output bg_3 --wait` waits for it)\n");

  run = Cli({"output", "bg_4", "--wait"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "the result of bg_4\n");
  EXPECT_EQ(polls.load(), 3);

  run = Cli({"output", "bg_1", "--full"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(run.out, "#1 user\n  hi\n");
}

TEST_F(CliCommandsTest, CancelShowsWhatCanBeContinued) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/tasks/cancel") {
      json running = Task("bg_1", "cancelled");
      running["started_at_ms"] = 5;
      return FakeResponse::Json(200,
                                {{"cancelled", json::array({running, Task("bg_2", "cancelled")})}});
    }
    if (r.target == "/v1/tasks/bg_3/cancel") {
      return FakeResponse::Json(200, {{"task", Task("bg_3", "cancelled")}, {"was", "pending"}});
    }
    if (r.target == "/v1/tasks/bg_4/cancel") {
      return FakeResponse::Json(200, {{"task", Task("bg_4", "completed")}, {"was", "completed"}});
    }
    return FakeResponse::Error(404, "not_found", "no task bg_x");
  });
  CliRun run = Cli({"cancel", "--all"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out,
            "ID    WAS      AGENT    SESSION  DESCRIPTION\n"
            "bg_1  running  general  ses_1    Task bg_1\n"
            "bg_2  pending  general  ses_2    Task bg_2\n"
            "\nEach session can be continued: troupe continue SESSION PROMPT\n");
  EXPECT_EQ(Posts("/v1/tasks/cancel").at(0).Json(), json({{"all", true}}));

  run = Cli({"cancel", "bg_3", "bg_4", "bg_x", "--reason", "enough"});
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.out,
            "ID    WAS      AGENT    SESSION  DESCRIPTION\n"
            "bg_3  pending  general  ses_3    Task bg_3\n"
            "\nThe session can be continued: troupe continue ses_3 PROMPT\n"
            "bg_4 had already ended (completed); nothing changed\n");
  EXPECT_EQ(run.err, "troupe cancel: no task bg_x (hint: `troupe ps --all` lists the tasks)\n");
  EXPECT_EQ(Posts("/v1/tasks/bg_3/cancel").at(0).Json(), json({{"reason", "enough"}}));
}

TEST_F(CliCommandsTest, ContinueATaskSession) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/tasks/bg_7") return TaskAnswer(Task("bg_7", "cancelled"));
    if (r.method == "POST") return FakeResponse::Json(201, {{"task", Task("bg_8", "pending")}});
    return FakeResponse::Error(404, "not_found", "no");
  });
  CliRun run = Cli({"continue", "bg_7", "go", "on"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(run.out, "bg_8\n");
  EXPECT_EQ(Posts("/v1/tasks").at(0).Json(),
            json({{"prompt", "go on"}, {"owner", "cli"}, {"session_id", "ses_7"}}));

  fake_->SetHandler([](const FakeRequest& r) {
    if (r.target == "/v1/health") return FakeResponse::Json(200, {{"ok", true}});
    return FakeResponse::Error(409, "conflict", "session ses_7 is busy with bg_9");
  });
  run = Cli({"continue", "ses_7"}, "more\n");
  EXPECT_EQ(run.code, kExitError);
  EXPECT_EQ(run.err,
            "troupe continue: session ses_7 is busy with bg_9 (hint: wait for the "
            "session's current task, e.g. with `troupe wait`)\n");
}

TEST_F(CliCommandsTest, PoolsAgentsAndEvents) {
  StartFake([](const FakeRequest& r) {
    if (r.target == "/v1/pools") {
      return FakeResponse::Json(200, {{"pools", json::array()},
                                      {"global", {{"limit", 0}, {"running", 0}, {"pending", 0}}}});
    }
    if (r.target == "/v1/agents") {
      return FakeResponse::Json(
          200, {{"agents", json::array({{{"name", "general"}, {"source", "builtin"}}})}});
    }
    return FakeResponse::Stream({{0, StateEvent(1, "bg_1", "pending", "pending")},
                                 {0, "event: task.progress\ndata: {\"task_id\":\"bg_1\"}\n\n"},
                                 {0, StateEvent(2, "bg_1", "pending", "running")}},
                                true);
  });
  CliRun run = Cli({"pools", "--json"});
  EXPECT_EQ(run.code, 0);
  EXPECT_EQ(json::parse(run.out)["global"]["running"], 0);
  run = Cli({"agents"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("general"));

  run =
      Cli({"events", "--after", "0", "--task", "bg_1", "--no-progress", "--json", "--count", "3"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_EQ(fake_->requests().back().target, "/v1/events?after=0&task=bg_1&progress=0");
  std::istringstream lines(run.out);
  std::vector<json> events;
  for (std::string line; std::getline(lines, line);) events.push_back(json::parse(line));
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[0]["id"], 1);
  EXPECT_TRUE(events[1]["id"].is_null());
  EXPECT_EQ(events[2]["data"]["state"], "running");

  run = Cli({"events", "--duration", "200"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("pending → running"));
}

TEST_F(CliCommandsTest, CompletionScripts) {
  CliRun run = Cli({"completion", "bash"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, HasSubstr("complete -F _troupe troupe"));
  run = Cli({"completion", "zsh"});
  EXPECT_EQ(run.code, 0);
  EXPECT_THAT(run.out, StartsWith("#compdef troupe"));
}

}  // namespace
}  // namespace troupe
