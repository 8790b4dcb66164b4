// The built `troupe` binary against a real daemon: each test gets its own data directory and
// config (the offline mock model, one task at a time), the first command starts the daemon
// (autostart), `#mock` directives in the prompts script the model, and the daemon is stopped at
// the end.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cli/testing/daemon_sandbox.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using testing::ProcessAlive;
using testing::Ran;

std::vector<json> JsonLines(const std::string& text) {
  std::vector<json> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    json j = json::parse(line, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << line;
    lines.push_back(j);
  }
  return lines;
}

class CliDaemonTest : public ::testing::Test {
 protected:
  Ran Troupe(const std::vector<std::string>& args, const std::string& input = "") {
    return sandbox_.Run(args, input);
  }

  // The id a `troupe run` printed.
  std::string Launch(const std::string& prompt) {
    Ran ran = Troupe({"run", prompt});
    EXPECT_EQ(ran.code, 0) << ran.err;
    EXPECT_TRUE(std::regex_match(ran.out, std::regex("bg_[0-9a-z]{18}\n"))) << ran.out;
    return ran.out.substr(0, ran.out.size() - 1);
  }

  json Json(const std::vector<std::string>& args, int expected_code = 0) {
    Ran ran = Troupe(args);
    EXPECT_EQ(ran.code, expected_code) << args.at(0) << ": " << ran.err;
    json j = json::parse(ran.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << ran.out;
    return j;
  }

  json TaskJson(const std::string& id) { return Json({"show", id, "--json"})["task"]; }

  int64_t DaemonPid() const { return sandbox_.DaemonPid(); }

  // Polls `troupe ps --json` until `pred` holds for task `id` (or 20 s passed).
  json AwaitTask(const std::string& id, const std::function<bool(const json&)>& pred) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < deadline) {
      json t = TaskJson(id);
      if (pred(t)) return t;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ADD_FAILURE() << "task " << id << " never reached the expected state";
    return TaskJson(id);
  }

  // The offline mock model, one task at a time.
  testing::DaemonSandbox sandbox_{TROUPE_BINARY, R"({
      "default_model": "mock/scripted",
      "background_task": {"modelConcurrency": {"mock/scripted": 1}},
    })"};
  testing::TestDir& dir_ = sandbox_.dir();
  const std::string& work_ = sandbox_.work();
};

TEST_F(CliDaemonTest, FirstCommandStartsTheDaemonThenTasksRunAndReport) {
  // Autostart: nothing runs yet; `ps` starts the daemon and lists nothing.
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/troupe.lock")));
  json listed = Json({"ps", "--json"});
  EXPECT_EQ(listed, json({{"tasks", json::array()}}));
  const int64_t pid = DaemonPid();
  EXPECT_TRUE(ProcessAlive(pid));

  // run: the id; run --wait: the result.
  const std::string first = Launch("#mock latency=300 reply=hello");
  Ran waited = Troupe(
      {"run", "--wait", "--description", "Second one", "#mock latency=100 reply=\"world, again\""});
  EXPECT_EQ(waited.code, 0) << waited.err;
  EXPECT_EQ(waited.out, "world, again\n");
  EXPECT_THAT(waited.err, HasSubstr("running → completed"));
  EXPECT_EQ(DaemonPid(), pid);  // the same daemon served every command

  // output --wait: the first result (it ended before the second started: one at a time).
  Ran output = Troupe({"output", first, "--wait"});
  EXPECT_EQ(output.code, 0) << output.err;
  EXPECT_EQ(output.out, "hello\n");

  // show --json: the task field by field, its session.
  json shown = Json({"show", first, "--json"});
  const json& t = shown["task"];
  EXPECT_EQ(t["id"], first);
  EXPECT_EQ(t["state"], "completed");
  EXPECT_EQ(t["result"], "hello");
  EXPECT_EQ(t["error"], "");
  EXPECT_EQ(t["prompt"], "#mock latency=300 reply=hello");
  EXPECT_EQ(t["agent"], "general");
  EXPECT_EQ(t["model"], "mock/scripted");
  EXPECT_EQ(t["owner"], "cli");
  EXPECT_EQ(t["attempt"], 1);
  EXPECT_EQ(t["depth"], 0);
  EXPECT_EQ(t["queue_position"], 0);
  EXPECT_GE(t["duration_ms"].get<int64_t>(), 250);
  EXPECT_GT(t["finished_at_ms"].get<int64_t>(), t["started_at_ms"].get<int64_t>());
  EXPECT_TRUE(std::regex_match(t["session_id"].get<std::string>(), std::regex("ses_[0-9a-z]{18}")));
  EXPECT_EQ(shown["session"]["id"], t["session_id"]);
  EXPECT_EQ(shown["session"]["workspace"], work_);
  ASSERT_TRUE(shown["todos"].is_array());

  // The text forms.
  Ran show_text = Troupe({"show", first});
  EXPECT_EQ(show_text.code, 0);
  EXPECT_THAT(show_text.out, StartsWith(first + "  completed\n"));
  EXPECT_THAT(show_text.out, HasSubstr("\nresult:\n  hello\n"));
  Ran full = Troupe({"output", first, "--full"});
  EXPECT_EQ(full.code, 0);
  EXPECT_THAT(full.out, HasSubstr("#1 user"));
  EXPECT_THAT(full.out, HasSubstr("assistant"));
  EXPECT_THAT(full.out, HasSubstr("  hello\n"));

  // ps: both, finished.
  listed = Json({"ps", "--json"});
  ASSERT_EQ(listed["tasks"].size(), 2u);
  EXPECT_EQ(listed["tasks"][0]["id"], first);
  EXPECT_EQ(listed["tasks"][1]["description"], "Second one");
  Ran table = Troupe({"ps"});
  EXPECT_EQ(table.code, 0);
  EXPECT_THAT(table.out, StartsWith("ID "));
  EXPECT_THAT(table.out, HasSubstr("Second one"));

  // wait on ended tasks returns at once.
  const std::string second = listed["tasks"][1]["id"];
  Ran waited_all = Troupe({"wait", first, second});
  EXPECT_EQ(waited_all.code, 0) << waited_all.err;
  EXPECT_THAT(waited_all.out, HasSubstr(first + "  completed"));

  // events: the whole log replayed, ids increasing, every line JSON.
  Ran events = Troupe({"events", "--after", "0", "--json", "--duration", "1000"});
  EXPECT_EQ(events.code, 0) << events.err;
  std::vector<json> lines = JsonLines(events.out);
  ASSERT_GE(lines.size(), 6u);  // two tasks: new, running, completed
  int64_t last = 0;
  int completions = 0;
  for (const json& e : lines) {
    ASSERT_TRUE(e["id"].is_number_integer()) << e;
    EXPECT_GT(e["id"].get<int64_t>(), last);
    last = e["id"].get<int64_t>();
    EXPECT_EQ(e["event"], "task.state");
    if (e["data"]["state"] == "completed") ++completions;
  }
  EXPECT_EQ(completions, 2);
  Ran after = Troupe({"events", "--after", std::to_string(last - 1), "--json", "--count", "1"});
  EXPECT_EQ(after.code, 0);
  EXPECT_EQ(JsonLines(after.out).at(0)["id"], last);

  // pools and agents.
  json pools = Json({"pools", "--json"});
  bool found = false;
  for (const json& p : pools["pools"]) {
    if (p["key"].get<std::string>().find("mock/scripted") != std::string::npos) {
      found = true;
      EXPECT_EQ(p["limit"], 1);
      EXPECT_EQ(p["in_use"], 0);
    }
  }
  EXPECT_TRUE(found) << pools.dump();
  EXPECT_TRUE(pools["global"].is_object());
  json agents = Json({"agents", "--json"});
  std::vector<std::string> names;
  for (const json& a : agents["agents"]) names.push_back(a["name"]);
  EXPECT_THAT(names, ::testing::IsSupersetOf({"general", "explore"}));
  EXPECT_EQ(Troupe({"pools"}).code, 0);
  EXPECT_EQ(Troupe({"agents"}).code, 0);
}

TEST_F(CliDaemonTest, QueueWaitCancelAndContinue) {
  // One task at a time: the second waits behind the first, which would run for a minute (it is
  // cancelled long before, however slow the machine).
  const std::string slow = Launch("#mock latency=60000 reply=slow");
  AwaitTask(slow, [](const json& t) { return t["state"] == "running"; });
  const std::string queued = Launch("#mock latency=50 reply=queued");
  json listed = Json({"ps", "--json"});
  ASSERT_EQ(listed["tasks"].size(), 2u);
  EXPECT_EQ(listed["tasks"][0]["state"], "running");
  EXPECT_EQ(listed["tasks"][1]["state"], "pending");
  EXPECT_EQ(listed["tasks"][1]["queue_position"], 1);
  Ran table = Troupe({"ps"});
  EXPECT_THAT(table.out, HasSubstr("#1 queued"));

  // wait: the timeout is exit 4.
  Ran timed_out = Troupe({"wait", queued, "--timeout", "300"});
  EXPECT_EQ(timed_out.code, 4) << timed_out.err;
  EXPECT_THAT(timed_out.err, HasSubstr("timed out after 300ms"));
  Ran output_timeout = Troupe({"output", queued, "--wait", "--timeout", "200"});
  EXPECT_EQ(output_timeout.code, 4);

  // cancel the running one: the queued one gets the slot and completes.
  Ran cancelled = Troupe({"cancel", slow});
  EXPECT_EQ(cancelled.code, 0) << cancelled.err;
  EXPECT_THAT(cancelled.out, HasSubstr(slow + "  running"));
  EXPECT_THAT(cancelled.out, HasSubstr("can be continued: troupe continue ses_"));
  Ran done = Troupe({"wait", queued});
  EXPECT_EQ(done.code, 0) << done.err;
  EXPECT_EQ(Troupe({"output", queued}).out, "queued\n");

  // wait on a cancelled task: 3; output says why.
  EXPECT_EQ(Troupe({"wait", slow}).code, 3);
  Ran output = Troupe({"output", slow});
  EXPECT_EQ(output.code, 3);
  EXPECT_THAT(output.err, HasSubstr(slow + " was cancelled"));
  // Cancelling it again changes nothing.
  Ran again = Troupe({"cancel", slow});
  EXPECT_EQ(again.code, 0);
  EXPECT_THAT(again.out, HasSubstr("had already ended (cancelled)"));

  // cancel --all: a running and a pending one.
  const std::string a = Launch("#mock latency=60000 reply=a");
  AwaitTask(a, [](const json& t) { return t["state"] == "running"; });
  const std::string b = Launch("#mock latency=60000 reply=b");
  Ran all = Troupe({"cancel", "--all", "--json"});
  EXPECT_EQ(all.code, 0) << all.err;
  json answer = json::parse(all.out);
  ASSERT_EQ(answer["cancelled"].size(), 2u) << answer.dump();
  for (const json& t : answer["cancelled"]) EXPECT_EQ(t["state"], "cancelled");
  Ran wait_any = Troupe({"wait", "--any", a, b});
  EXPECT_EQ(wait_any.code, 3);
  EXPECT_EQ(Json({"ps", "--json"})["tasks"].size(), 4u);  // none active; the last 10 finished

  // continue the cancelled session (by session id, and by task id).
  const std::string session = TaskJson(a)["session_id"];
  Ran continued = Troupe({"continue", session, "--wait", "#mock reply=\"picked up\""});
  EXPECT_EQ(continued.code, 0) << continued.err;
  EXPECT_EQ(continued.out, "picked up\n");
  Ran by_task = Troupe({"continue", b, "--json"}, "#mock reply=more\n");
  EXPECT_EQ(by_task.code, 0) << by_task.err;
  json more = json::parse(by_task.out)["task"];
  EXPECT_EQ(more["session_id"], TaskJson(b)["session_id"]);
  EXPECT_EQ(Troupe({"output", more["id"], "--wait"}).out, "more\n");
  json show = Json({"show", session, "--json"});
  EXPECT_EQ(show["tasks"].size(), 2u);  // the session's two tasks
}

TEST_F(CliDaemonTest, FailedTaskExits3) {
  Ran failed = Troupe({"run", "--wait", "#mock fail=400 fail_message=\"no such thing\""});
  EXPECT_EQ(failed.code, 3) << failed.err;
  EXPECT_EQ(failed.out, "");
  EXPECT_THAT(failed.err, HasSubstr(" failed: "));
  const std::string id = Json({"ps", "--json"})["tasks"][0]["id"];
  EXPECT_EQ(Troupe({"wait", id}).code, 3);
  Ran output = Troupe({"output", id});
  EXPECT_EQ(output.code, 3);
  EXPECT_THAT(output.err, HasSubstr("no such thing"));
  EXPECT_EQ(TaskJson(id)["state"], "error");

  // API errors: exit 1 with the API's message.
  Ran unknown = Troupe({"show", "bg_0000000000000000zz"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, StartsWith("troupe show: "));
  EXPECT_THAT(unknown.err, HasSubstr("(hint: `troupe ps --all` lists the tasks)"));
  Ran bad_agent = Troupe({"run", "--agent", "nobody", "x"});
  EXPECT_EQ(bad_agent.code, 1);
  EXPECT_THAT(bad_agent.err, StartsWith("troupe run: "));
}

TEST_F(CliDaemonTest, WithoutADaemonAndWithoutAutostart) {
  testing::ScopedEnv off("TROUPE_NO_AUTOSTART", "1");
  Ran ps = Troupe({"ps"});
  EXPECT_EQ(ps.code, 5);
  EXPECT_THAT(ps.err, StartsWith("troupe ps: cannot reach the troupe daemon at "));
  EXPECT_THAT(ps.err, HasSubstr("(hint: is `troupe serve` running? see " +
                                dir_.File("data/troupe.log") + ")"));
  EXPECT_FALSE(std::filesystem::exists(dir_.File("data/troupe.lock")));
  // Usage errors come before any connection.
  EXPECT_EQ(Troupe({"run"}).code, 2);  // stdin is an empty pipe: an empty prompt
  EXPECT_EQ(Troupe({"ps", "--no-such-flag"}).code, 2);
  Ran stop = Troupe({"stop"});
  EXPECT_EQ(stop.code, 0);
  EXPECT_EQ(stop.out, "no daemon is running\n");
}

}  // namespace
}  // namespace troupe
