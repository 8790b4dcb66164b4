// `troupe serve` as users run it: the built binary started in a child process on a scratch data
// directory with a config written here, talked to over its Unix socket and loopback TCP with
// libcurl, stopped by SIGTERM, kill -9 and POST /v1/shutdown, and restarted on the same store.
// Every child is killed when its test ends, and every wait is bounded.
#include <curl/curl.h>
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/testing/test_dir.h"
#include "daemon/daemon_lock.h"
#include "daemon/testing/daemon_process.h"
#include "store/sqlite_store.h"
#include "wire/sse_parser.h"

namespace troupe {
namespace {

using testing::Client;
using testing::Describe;
using ::testing::HasSubstr;
using testing::Process;
using testing::Reply;
using ::testing::StartsWith;
using testing::WaitPid;
using testing::WaitUntil;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

constexpr int kStartTimeoutMs = 15'000;  // to /v1/health answering, even under sanitizers
constexpr int kExitTimeoutMs = 15'000;   // from a stop request to the process gone

// A process that is not (or no longer) our child in the usual way: a daemon started with
// --detach. Killed when the guard goes, if it still runs.
class PidGuard {
 public:
  explicit PidGuard(pid_t pid) : pid_(pid) {}
  PidGuard(const PidGuard&) = delete;
  PidGuard& operator=(const PidGuard&) = delete;
  ~PidGuard() {
    if (pid_ > 0 && !reaped_) {
      kill(pid_, SIGKILL);
      WaitPid(pid_, 5'000);
    }
  }
  std::optional<int> Wait(int timeout_ms = kExitTimeoutMs) {
    auto code = WaitPid(pid_, timeout_ms);
    if (code) reaped_ = true;
    return code;
  }

 private:
  pid_t pid_;
  bool reaped_ = false;
};

// Sends `head` and then `body` on a fresh connection to the Unix socket `path` and returns what
// the server answered (up to its first response's end or the connection's). The body is written
// for as long as the server takes it.
std::string RawExchange(const std::string& path, const std::string& head, const std::string& body) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return "";
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    return "";
  }
  fcntl(fd, F_SETFL, O_NONBLOCK);
  std::string out = head + body;
  size_t sent = 0;
  std::string answer;
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    pollfd p{fd, static_cast<short>(POLLIN | (sent < out.size() ? POLLOUT : 0)), 0};
    if (poll(&p, 1, 100) < 0) break;
    if (p.revents & POLLIN) {
      char buffer[4096];
      const ssize_t n = recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      answer.append(buffer, static_cast<size_t>(n));
      // Enough once the head and a JSON body are in.
      const size_t end = answer.find("\r\n\r\n");
      if (end != std::string::npos && answer.find('}', end) != std::string::npos) break;
    }
    if ((p.revents & POLLOUT) && sent < out.size()) {
      const ssize_t n = send(fd, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno != EAGAIN) sent = out.size();  // the server closed its end: read on
      if (n > 0) sent += static_cast<size_t>(n);
    }
    if (p.revents & (POLLHUP | POLLERR)) {
      if (!(p.revents & POLLIN)) break;
    }
  }
  close(fd);
  return answer;
}

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

bool IsSocket(const std::string& path) {
  struct stat st {};
  return lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode);
}

// The tasks of the store at `db` by id (the daemon must not be running).
std::map<std::string, TaskRecord> StoredTasks(const std::string& db) {
  std::map<std::string, TaskRecord> out;
  auto store = OpenSqliteStore(db);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return out;
  auto tasks = (*store)->ListTasks(TaskFilter{});
  EXPECT_TRUE(tasks.ok()) << tasks.status().ToString();
  if (!tasks.ok()) return out;
  for (TaskRecord& t : *tasks) out[t.id] = t;
  return out;
}

class DaemonIntegrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    data_ = dir_.File("data");
    workspace_ = dir_.File("workspace");
    std::filesystem::create_directories(workspace_);
    dir_.Write("workspace/README.md", "# A workspace for troupe's daemon tests\n");
    config_ = WriteConfig("");
    // The daemon reads nothing of the user's: no user config or agents, no proxy, no
    // inherited socket or data dir.
    env_ = testing::HermeticEnv(dir_.File("xdg-config"));
  }

  // The config: the scripted mock answers at once unless a prompt says otherwise; two tasks at
  // a time on mock/scripted, one on mock/one.
  std::string WriteConfig(const std::string& more_providers) {
    return dir_.Write("config.jsonc", R"({
  // written by daemon_integration_test
  "default_model": "mock/scripted",
  "background_task": {
    "modelConcurrency": { "mock/scripted": 2, "mock/one": 1 },
  },
  "providers": {
    "mock": { "type": "mock", "script": "latency=0 tps=0" },)" +
                                          more_providers + R"(
  },
}
)");
  }

  std::string Socket() const { return data_ + "/troupe.sock"; }
  Client Unix() const { return Client::Unix(Socket()); }

  std::vector<std::string> ServeArgs(const std::vector<std::string>& extra = {}) const {
    std::vector<std::string> args = {"serve",    "--data-dir",  data_,
                                     "--config", config_,       "--workspace",
                                     workspace_, "--log-level", "debug"};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }

  std::unique_ptr<Process> Spawn(const std::vector<std::string>& args) {
    return std::make_unique<Process>(TROUPE_BINARY, args,
                                     dir_.File("proc" + std::to_string(++spawned_)), env_);
  }

  // `troupe mock-llm` on a free port, logging each request to `request_log`, with `extra`
  // options; its port, or 0 (and a test failure) when it does not start.
  int StartMockLlm(const std::string& request_log, const std::vector<std::string>& extra,
                   std::unique_ptr<Process>* process) {
    const std::string port_file = dir_.File("mock-llm.port");
    std::vector<std::string> args = {"mock-llm", "--port", "0",        "--port-file",
                                     port_file,  "--log",  request_log};
    args.insert(args.end(), extra.begin(), extra.end());
    *process = Spawn(args);
    int port = 0;
    WaitUntil(
        [&] {
          std::string text = testing::ReadFileBytes(port_file);
          if (!text.empty() && text.back() == '\n') port = std::atoi(text.c_str());
          return port > 0 || !(*process)->Running();
        },
        kStartTimeoutMs);
    if (port == 0) ADD_FAILURE() << "mock-llm did not start: " << (*process)->Stderr();
    return port;
  }

  // Starts `troupe serve` and waits until /v1/health answers over the socket; nullptr (with a
  // failure saying why) when it does not within kStartTimeoutMs.
  std::unique_ptr<Process> StartDaemon(const std::vector<std::string>& extra = {}) {
    auto process = Spawn(ServeArgs(extra));
    Client client = Unix();
    return AwaitHealthy(std::move(process), client, kStartTimeoutMs);
  }

  // POST /v1/tasks; the task object, or null (with a failure) when refused.
  json Launch(const std::string& prompt, const json& more = json::object()) {
    json body = more;
    body["prompt"] = prompt;
    if (!body.contains("owner")) body["owner"] = "it";
    Reply r = Unix().Post("/v1/tasks", body);
    const long expected = body.contains("wait_ms") ? 200 : 201;
    EXPECT_EQ(r.status, expected) << Describe(r);
    json j = r.Json();
    if (r.status != expected || !j.is_object() || !j.contains("task")) return json();
    return j["task"];
  }

  // GET /v1/tasks/{id}?wait_ms=…: the task once final (or interrupted).
  json WaitTask(const std::string& id, int wait_ms = 30'000) {
    Reply r = Unix().Get("/v1/tasks/" + id + "?wait_ms=" + std::to_string(wait_ms));
    EXPECT_EQ(r.status, 200) << Describe(r);
    json j = r.Json();
    if (!j.is_object() || !j.contains("task")) return json();
    EXPECT_EQ(j.value("timed_out", true), false) << r.body;
    return j["task"];
  }

  json ListTasks() {
    Reply r = Unix().Get("/v1/tasks");
    EXPECT_EQ(r.status, 200) << Describe(r);
    json j = r.Json();
    return j.is_object() && j.contains("tasks") ? j["tasks"] : json::array();
  }

  json Health(Client client) {
    Reply r = client.Get("/v1/health");
    EXPECT_EQ(r.status, 200) << Describe(r);
    return r.Json();
  }

  testing::TestDir dir_;
  std::string data_;
  std::string workspace_;
  std::string config_;
  std::map<std::string, std::optional<std::string>> env_;
  int spawned_ = 0;
};

TEST_F(DaemonIntegrationTest, ServesHealthOnAPrivateSocketAndStopsOnSigterm) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  json health = Health(Unix());
  EXPECT_EQ(health.value("ok", false), true) << health;
  EXPECT_EQ(health.value("version", ""), "0.1.0");
  EXPECT_EQ(health.value("pid", 0), daemon->pid());
  EXPECT_EQ(health.value("data_dir", ""), data_);
  EXPECT_EQ(health.value("socket", ""), Socket());
  EXPECT_EQ(health.value("tcp_port", -1), 0);

  // The socket's directory (here the data dir) is the user's alone; so is the token.
  EXPECT_TRUE(IsSocket(Socket()));
  EXPECT_EQ(ModeOf(data_), 0700u);
  EXPECT_EQ(ModeOf(data_ + "/token"), 0600u);
  std::string token = testing::ReadFileBytes(data_ + "/token");
  EXPECT_THAT(token, ::testing::MatchesRegex("[0-9a-f]{64}\n"));
  EXPECT_TRUE(std::filesystem::exists(data_ + "/troupe.db"));

  // The lock file says where it listens.
  auto running = ReadRunningDaemon(data_ + "/troupe.lock");
  ASSERT_TRUE(running.ok()) << running.status().ToString();
  ASSERT_TRUE(running->has_value());
  EXPECT_EQ((*running)->pid, daemon->pid());
  EXPECT_EQ((*running)->socket, Socket());
  EXPECT_EQ((*running)->tcp_port, 0);
  EXPECT_GT((*running)->started_at_ms, 0);

  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("troupe serve: listening on " + Socket() + "; data " + data_ + "\n"));

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  EXPECT_THAT(daemon->Stderr(), HasSubstr("troupe serve: stopped"));
  // Gone with it: the socket file and the lock.
  EXPECT_FALSE(std::filesystem::exists(Socket()));
  running = ReadRunningDaemon(data_ + "/troupe.lock");
  ASSERT_TRUE(running.ok());
  EXPECT_FALSE(running->has_value());
  // The token survives a restart unchanged.
  auto again = StartDaemon();
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(testing::ReadFileBytes(data_ + "/token"), token);
}

TEST_F(DaemonIntegrationTest, ASecondDaemonOnTheSameDataDirExitsWith3NamingTheFirst) {
  auto first = StartDaemon({"--listen", "127.0.0.1:0"});
  ASSERT_NE(first, nullptr);
  const int port = Health(Unix()).value("tcp_port", 0);
  ASSERT_GT(port, 0);
  const std::string expected = "troupe: already running for " + data_ + " (pid " +
                               std::to_string(first->pid()) + ", socket " + Socket() +
                               ", tcp 127.0.0.1:" + std::to_string(port) + ")\n";

  auto second = Spawn(ServeArgs());
  EXPECT_EQ(second->Wait(), 3);
  EXPECT_EQ(second->Stderr(), expected);

  // The same through --detach: the background child's failure is the parent's.
  auto detached = Spawn(ServeArgs({"--detach"}));
  EXPECT_EQ(detached->Wait(), 3);
  EXPECT_EQ(detached->Stderr(), expected);

  // The first one never noticed.
  EXPECT_TRUE(first->Running());
  EXPECT_EQ(Health(Unix()).value("pid", 0), first->pid());
}

TEST_F(DaemonIntegrationTest, TcpWantsTheBearerTokenFromTheTokenFile) {
  auto daemon = StartDaemon({"--listen", "127.0.0.1:0"});
  ASSERT_NE(daemon, nullptr);
  const int port = Health(Unix()).value("tcp_port", 0);
  ASSERT_GT(port, 0);
  EXPECT_THAT(daemon->Stderr(),
              HasSubstr("troupe serve: listening on " + Socket() +
                        " and http://127.0.0.1:" + std::to_string(port) + "; data " + data_));
  std::string token = testing::ReadFileBytes(data_ + "/token");
  while (!token.empty() && token.back() == '\n') token.pop_back();

  Reply none = Client::Tcp(port).Get("/v1/health");
  EXPECT_EQ(none.status, 401) << Describe(none);
  EXPECT_EQ(none.Json()["error"].value("code", ""), "unauthorized") << none.body;
  EXPECT_THAT(none.headers, HasSubstr("WWW-Authenticate: Bearer"));

  Reply wrong = Client::Tcp(port, std::string(64, '0')).Get("/v1/health");
  EXPECT_EQ(wrong.status, 401) << Describe(wrong);
  Reply almost = Client::Tcp(port, token.substr(0, 63)).Get("/v1/health");
  EXPECT_EQ(almost.status, 401) << Describe(almost);
  Reply refused_launch = Client::Tcp(port, "nope").Post("/v1/tasks", json{{"prompt", "x"}});
  EXPECT_EQ(refused_launch.status, 401) << Describe(refused_launch);

  json health = Health(Client::Tcp(port, token));
  EXPECT_EQ(health.value("tcp_port", 0), port);
  EXPECT_EQ(health.value("pid", 0), daemon->pid());
  // And nothing was launched by the refused request.
  EXPECT_TRUE(ListTasks().empty());
}

TEST_F(DaemonIntegrationTest, LaunchesOverHttpAndLongPollsUntilTheReply) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  json task = Launch("#mock latency=300ms reply=\"all done here\"\nWrap it up.",
                     {{"description", "wrap up"}});
  ASSERT_TRUE(task.is_object());
  const std::string id = task.value("id", "");
  EXPECT_THAT(id, StartsWith("bg_"));
  EXPECT_THAT(task.value("state", ""), ::testing::AnyOf("pending", "running"));
  EXPECT_EQ(task.value("model", ""), "mock/scripted");
  EXPECT_EQ(task.value("owner", ""), "it");

  json done = WaitTask(id);
  EXPECT_EQ(done.value("state", ""), "completed") << done;
  EXPECT_EQ(done.value("result", ""), "all done here");
  EXPECT_EQ(done.value("description", ""), "wrap up");

  // Launch and wait in one request.
  json waited = Launch("#mock reply=\"at once\"\nQuick one.", {{"wait_ms", 30'000}});
  EXPECT_EQ(waited.value("state", ""), "completed") << waited;
  EXPECT_EQ(waited.value("result", ""), "at once");

  json list = ListTasks();
  ASSERT_EQ(list.size(), 2u) << list;
  EXPECT_EQ(list[0].value("id", ""), id);  // oldest first

  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  // No prompt in the log, even at debug level.
  EXPECT_THAT(daemon->Stderr(), ::testing::Not(HasSubstr("Wrap it up")));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("task " + id));
}

TEST_F(DaemonIntegrationTest,
       SigtermInterruptsTheRunningTaskKeepsThePendingOneAndARestartRunsBoth) {
  std::string a, b;
  {
    auto daemon = StartDaemon();
    ASSERT_NE(daemon, nullptr);
    // mock/one runs one task at a time: a runs (for 3 s), b waits.
    json ta = Launch("#mock latency=3s reply=\"a finished\"\nTask a.", {{"model", "mock/one"}});
    json tb = Launch("#mock latency=10ms reply=\"b finished\"\nTask b.", {{"model", "mock/one"}});
    ASSERT_TRUE(ta.is_object() && tb.is_object());
    a = ta.value("id", "");
    b = tb.value("id", "");
    EXPECT_EQ(ta.value("state", ""), "running") << ta;
    EXPECT_EQ(tb.value("state", ""), "pending") << tb;
    EXPECT_EQ(tb.value("queue_position", 0), 1) << tb;

    daemon->Signal(SIGTERM);
    EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
    EXPECT_THAT(daemon->Stderr(), HasSubstr("stopping"));
  }
  {
    auto stored = StoredTasks(data_ + "/troupe.db");
    ASSERT_EQ(stored.size(), 2u);
    EXPECT_EQ(stored[a].state, TaskState::kInterrupted) << stored[a].error;
    EXPECT_EQ(stored[a].attempt, 1);
    EXPECT_FALSE(stored[a].error.empty());
    EXPECT_EQ(stored[b].state, TaskState::kPending);
    EXPECT_EQ(stored[b].attempt, 0);
  }

  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  Reply r =
      Unix().Post("/v1/wait", json{{"task_ids", {a, b}}, {"mode", "all"}, {"timeout_ms", 30'000}});
  ASSERT_EQ(r.status, 200) << Describe(r);
  json j = r.Json();
  EXPECT_EQ(j.value("timed_out", true), false);
  ASSERT_EQ(j["tasks"].size(), 2u) << j;
  EXPECT_EQ(j["tasks"][0].value("state", ""), "completed") << j;
  EXPECT_EQ(j["tasks"][0].value("result", ""), "a finished");
  EXPECT_EQ(j["tasks"][0].value("attempt", 0), 2);
  EXPECT_EQ(j["tasks"][1].value("state", ""), "completed") << j;
  EXPECT_EQ(j["tasks"][1].value("result", ""), "b finished");
  EXPECT_EQ(j["tasks"][1].value("attempt", 0), 1);
}

// The state events (their ids) in an event-stream body.
std::vector<int64_t> StateEventIds(const std::string& body) {
  SseParser parser;
  std::vector<SseEvent> events;
  parser.Feed(body, &events);
  std::vector<int64_t> ids;
  for (const SseEvent& e : events) {
    if (e.event == "task.state") ids.push_back(std::stoll(e.id));
  }
  return ids;
}

TEST_F(DaemonIntegrationTest, AnEventStreamResumedWithLastEventIdLosesAndRepeatsNothing) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  // A live stream that the client drops (its time limit): two tasks are launched while it is
  // open — once the daemon counts it, so their events reach it — and the third after it ended,
  // so the resumed stream has events to catch up on.
  std::string first_body;
  std::thread reader(
      [&] { first_body = Unix().Send("GET", "/v1/events?progress=0", "", {}, 2'000).body; });
  const bool subscribed = WaitUntil(
      [&] {
        return Unix().Get("/metrics").body.find("troupe_sse_subscribers 1\n") != std::string::npos;
      },
      30'000);
  std::vector<std::string> ids;
  for (int i = 0; i < 2 && subscribed; ++i) {
    json t = Launch("#mock latency=100ms reply=\"ok\"\nTask " + std::to_string(i));
    ids.push_back(t.is_object() ? t.value("id", "") : "");
  }
  reader.join();
  ASSERT_TRUE(subscribed) << "the daemon never counted the event stream";
  json third = Launch("#mock latency=100ms reply=\"ok\"\nTask 2");
  ASSERT_TRUE(third.is_object());
  ids.push_back(third.value("id", ""));
  const std::vector<int64_t> seen = StateEventIds(first_body);
  ASSERT_FALSE(seen.empty()) << first_body;
  for (const std::string& id : ids) EXPECT_EQ(WaitTask(id).value("state", ""), "completed");

  // Reconnect from the last id received: the rest of the log, then nothing again.
  Reply resumed = Unix().Send("GET", "/v1/events?progress=0", "",
                              {"Last-Event-ID: " + std::to_string(seen.back())}, 500);
  std::vector<int64_t> all = seen;
  for (int64_t id : StateEventIds(resumed.body)) all.push_back(id);
  // Three state events per task (launched, running, completed), ids 1..9, each exactly once.
  ASSERT_EQ(all.size(), 9u) << first_body << "\n--- resumed:\n" << resumed.body;
  for (size_t i = 0; i < all.size(); ++i) EXPECT_EQ(all[i], static_cast<int64_t>(i + 1));
  EXPECT_LE(seen.size(), 6u) << "the first stream ended before the third task was launched";
  daemon->Signal(SIGTERM);
  EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
}

TEST_F(DaemonIntegrationTest, AfterKill9ARestartKeepsTheFinishedAndFinishesTheRest) {
  std::string completed_id;
  json completed_before;
  std::set<std::string> launched;
  std::set<std::string> were_running;
  {
    auto daemon = StartDaemon();
    ASSERT_NE(daemon, nullptr);
    json c = Launch("#mock reply=\"finished before the crash\"\nTask c.", {{"wait_ms", 30'000}});
    ASSERT_EQ(c.value("state", ""), "completed") << c;
    completed_id = c.value("id", "");
    launched.insert(completed_id);
    Reply got = Unix().Get("/v1/tasks/" + completed_id);
    ASSERT_EQ(got.status, 200);
    completed_before = got.Json()["task"];

    // Two run (mock/scripted has two slots), two wait.
    for (int i = 0; i < 4; ++i) {
      json t = Launch("#mock latency=2s reply=\"slow " + std::to_string(i) + "\"\nSlow task.");
      ASSERT_TRUE(t.is_object());
      launched.insert(t.value("id", ""));
      EXPECT_EQ(t.value("state", ""), i < 2 ? "running" : "pending") << t;
      if (i < 2) were_running.insert(t.value("id", ""));
    }
    daemon->Signal(SIGKILL);
    EXPECT_EQ(daemon->Wait(), -SIGKILL);
  }
  // The crash left its socket file behind; the next daemon replaces it.
  EXPECT_TRUE(IsSocket(Socket()));

  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  Reply got = Unix().Get("/v1/tasks/" + completed_id);
  ASSERT_EQ(got.status, 200) << Describe(got);
  json completed_after = got.Json()["task"];
  EXPECT_EQ(completed_after.value("result", ""), "finished before the crash");
  EXPECT_EQ(completed_after.dump(), completed_before.dump());

  std::vector<std::string> ids(launched.begin(), launched.end());
  Reply r = Unix().Post("/v1/wait", json{{"task_ids", ids}, {"timeout_ms", 30'000}});
  ASSERT_EQ(r.status, 200) << Describe(r);
  EXPECT_EQ(r.Json().value("timed_out", true), false) << r.body;

  json list = ListTasks();
  std::set<std::string> listed;
  for (const json& t : list) {
    const std::string id = t.value("id", "");
    EXPECT_TRUE(listed.insert(id).second) << "listed twice: " << id;
    EXPECT_EQ(t.value("state", ""), "completed") << t;
    EXPECT_EQ(t.value("attempt", 0), were_running.count(id) ? 2 : 1) << t;
  }
  EXPECT_EQ(listed, launched);
  for (const std::string& id : launched) {
    json t = WaitTask(id, 0);
    if (id != completed_id) {
      EXPECT_THAT(t.value("result", ""), StartsWith("slow ")) << t;
    }
  }
}

TEST_F(DaemonIntegrationTest, MalformedRequestsOverTheRealSocketChangeNothing) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  json first = Launch("#mock reply=\"kept\"\nA task to keep.", {{"wait_ms", 30'000}});
  ASSERT_EQ(first.value("state", ""), "completed") << first;
  const std::string before = Unix().Get("/v1/tasks").body;

  auto expect_error = [&](const Reply& r, long status, const std::string& code,
                          const std::string& field = "") {
    EXPECT_EQ(r.status, status) << Describe(r);
    json j = r.Json();
    ASSERT_TRUE(j.is_object() && j.contains("error")) << r.body;
    EXPECT_EQ(j["error"].value("status", 0), status) << r.body;
    EXPECT_EQ(j["error"].value("code", ""), code) << r.body;
    if (!field.empty()) {
      EXPECT_EQ(j["error"].value("field", ""), field) << r.body;
    }
  };
  Client c = Unix();
  expect_error(c.Post("/v1/tasks", std::string("{\"prompt\": \"x\"")), 400, "invalid_json");
  expect_error(c.Post("/v1/tasks", std::string("not json at all")), 400, "invalid_json");
  expect_error(c.Post("/v1/tasks", json{{"prompt", 5}}), 400, "invalid_argument", "prompt");
  expect_error(c.Post("/v1/tasks", json{{"prompt", ""}}), 400, "invalid_argument", "prompt");
  expect_error(c.Post("/v1/tasks", json::array({1, 2})), 400, "invalid_argument");
  expect_error(c.Post("/v1/tasks", json{{"prompt", "x"}, {"wait_ms", "soon"}}), 400,
               "invalid_argument", "wait_ms");
  expect_error(c.Post("/v1/tasks", json{{"prompt", "x"}, {"surprise", 1}}), 400,
               "invalid_argument");
  expect_error(c.Post("/v1/tasks", json{{"prompt", "x"}, {"agent", "nobody"}}), 400,
               "invalid_argument");
  expect_error(c.Get("/v1/tasks/bg_0000000000000000000"), 404, "not_found");
  expect_error(c.Get("/v1/tasks/nonsense"), 404, "not_found");
  expect_error(c.Post("/v1/tasks/bg_0000000000000000000/cancel", std::string()), 404, "not_found");
  expect_error(c.Post("/v1/wait", json{{"task_ids", {"bg_0000000000000000000"}}}), 404,
               "not_found");
  expect_error(c.Get("/v1/no-such-route"), 404, "not_found");
  expect_error(c.Send("DELETE", "/v1/tasks", ""), 405, "method_not_allowed");

  // 2 MiB: refused from the head, before the body is read.
  const std::string big_body(2 << 20, 'x');
  const std::string head =
      "POST /v1/tasks HTTP/1.1\r\nHost: troupe\r\nContent-Type: application/json\r\n"
      "Content-Length: " +
      std::to_string(big_body.size()) + "\r\n\r\n";
  const std::string answer = RawExchange(Socket(), head, big_body);
  EXPECT_THAT(answer, StartsWith("HTTP/1.1 413")) << answer.substr(0, 300);
  EXPECT_THAT(answer, HasSubstr("payload_too_large"));
  // The same through curl (which sends it all), when curl gets to read the answer.
  Reply big = c.Post("/v1/tasks", "{\"prompt\": \"" + big_body + "\"}");
  if (big.error.empty()) expect_error(big, 413, "payload_too_large");

  // Nothing changed, and the daemon still serves.
  EXPECT_EQ(Unix().Get("/v1/tasks").body, before);
  EXPECT_EQ(Health(Unix()).value("ok", false), true);
  EXPECT_TRUE(daemon->Running());
}

TEST_F(DaemonIntegrationTest, RunsATaskThroughMockLlmAsAnOpenAiProvider) {
  const std::string request_log = dir_.File("mock-llm.jsonl");
  std::unique_ptr<Process> mock_llm;
  const int port = StartMockLlm(request_log, {}, &mock_llm);
  ASSERT_GT(port, 0);

  config_ = WriteConfig(R"(
    "local": { "type": "openai", "base_url": "http://127.0.0.1:)" +
                        std::to_string(port) + R"(/v1", "api_key_env": "TROUPE_IT_KEY" },)");
  env_["TROUPE_IT_KEY"] = "sk-integration";
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  json task = Launch("#mock latency=50ms reply=\"answered over http\"\nSay it over the wire.",
                     {{"model", "local/mock"}, {"wait_ms", 30'000}});
  EXPECT_EQ(task.value("state", ""), "completed") << task;
  EXPECT_EQ(task.value("result", ""), "answered over http");
  EXPECT_EQ(task.value("model", ""), "local/mock");
  // mock-llm writes a request's log line once its last write has completed, which may be just
  // after the daemon has read the reply and finished the task: wait for the line.
  WaitUntil([&] { return testing::ReadFileBytes(request_log).find("openai") != std::string::npos; },
            kStartTimeoutMs);
  EXPECT_THAT(testing::ReadFileBytes(request_log), HasSubstr("openai"));
  // A failed attempt is retried, and counted (the providers' observer reaches the metrics).
  json retried = Launch("#mock fail=503 retry_after_ms=10 times=1 reply=\"second try\"\nRetry.",
                        {{"model", "local/mock"}, {"wait_ms", 30'000}});
  EXPECT_EQ(retried.value("state", ""), "completed") << retried;
  EXPECT_EQ(retried.value("result", ""), "second try");
  const std::string metrics = Unix().Get("/metrics").body;
  EXPECT_THAT(metrics, HasSubstr("troupe_provider_errors_total{provider=\"local\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("troupe_provider_retries_total{provider=\"local\"} 1\n"));
  EXPECT_THAT(metrics, HasSubstr("troupe_sse_subscribers 0\n"));
  EXPECT_THAT(metrics, HasSubstr("troupe_http_requests_total{code=\"200\"}"));

  // A 429 cools the provider's pools down (the observer reaches the engine's ProviderLimits).
  json limited =
      Launch("#mock fail=429 retry_after_ms=200 times=1 reply=\"after the cool-down\"\nRate me.",
             {{"model", "local/mock"}, {"wait_ms", 30'000}});
  EXPECT_EQ(limited.value("result", ""), "after the cool-down") << limited;
  EXPECT_THAT(daemon->Stderr(), HasSubstr("provider local: rate limited, its pools wait"));

  // The key went into a header, never into the log.
  EXPECT_THAT(daemon->Stderr(), ::testing::Not(HasSubstr("sk-integration")));

  // Without its key in the environment the provider cannot be used; the launch says why.
  daemon->Signal(SIGTERM);
  ASSERT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  env_.erase("TROUPE_IT_KEY");
  env_["TROUPE_IT_KEY"] = std::nullopt;
  daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  Reply r = Unix().Post("/v1/tasks", json{{"prompt", "x"}, {"model", "local/mock"}});
  EXPECT_EQ(r.status, 400) << Describe(r);
  EXPECT_THAT(r.body, HasSubstr("TROUPE_IT_KEY"));
}

// The Responses API end to end: a task whose model calls a tool (function_call ->
// function_call_output), reasons (a reasoning item sent back with its encrypted_content on the
// next turn, as store: false requires) and reports usage.
TEST_F(DaemonIntegrationTest, RunsAToolTaskThroughMockLlmAsAnOpenAiResponsesProvider) {
  const std::string request_log = dir_.File("mock-llm.jsonl");
  std::unique_ptr<Process> mock_llm;
  const int port = StartMockLlm(request_log, {"--log-conversations"}, &mock_llm);
  ASSERT_GT(port, 0);
  config_ = WriteConfig(R"(
    "resp": { "type": "openai-responses", "base_url": "http://127.0.0.1:)" +
                        std::to_string(port) + R"(/v1", "api_key_env": "TROUPE_IT_KEY" },)");
  env_["TROUPE_IT_KEY"] = "sk-integration";
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);

  json task = Launch(
      "#mock tool=glob:{\"pattern\": \"*.none\"} reasoning=\"Look first.\" "
      "reply=\"no such files\" usage_in=300 usage_out=9\nFind the .none files.",
      {{"model", "resp/gpt-5"}, {"wait_ms", 30'000}});
  EXPECT_EQ(task.value("state", ""), "completed") << task;
  EXPECT_EQ(task.value("result", ""), "no such files");
  EXPECT_EQ(task.value("tool_calls", 0), 1);
  EXPECT_EQ(task.value("turns", 0), 2);
  EXPECT_EQ(task.value("input_tokens", 0), 600);  // 300 in each of the two turns
  EXPECT_EQ(task.value("output_tokens", 0), 18);

  std::vector<json> requests;
  WaitUntil(
      [&] {
        requests.clear();
        std::istringstream lines(testing::ReadFileBytes(request_log));
        for (std::string line; std::getline(lines, line);) requests.push_back(json::parse(line));
        return requests.size() >= 2;
      },
      kStartTimeoutMs);
  ASSERT_EQ(requests.size(), 2u);
  for (const json& r : requests) {
    EXPECT_EQ(r.value("protocol", ""), "openai-responses") << r;
    EXPECT_EQ(r.value("path", ""), "/v1/responses") << r;
  }
  // The second turn carries the call, its output, and the first turn's reasoning item back.
  const json& messages = requests[1].at("conversation").at("messages");
  ASSERT_EQ(messages.size(), 3u) << messages;
  EXPECT_EQ(messages[1].value("reasoning", ""), "Look first.");
  EXPECT_EQ(messages[1].at("tool_calls").at(0).value("name", ""), "glob");
  EXPECT_EQ(messages[2].value("role", ""), "tool");
  EXPECT_EQ(messages[2].value("tool_call_id", ""),
            messages[1].at("tool_calls").at(0).value("id", ""));
  EXPECT_EQ(messages[2].value("tool_name", ""), "glob");
}

TEST_F(DaemonIntegrationTest, DetachReturnsOnceTheDaemonListensAndPostShutdownStopsIt) {
  // Adopt the daemon when its launcher exits, so that its exit code can be read.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  struct ResetSubreaper {
    ~ResetSubreaper() { prctl(PR_SET_CHILD_SUBREAPER, 0); }
  } reset_subreaper;

  auto launcher = Spawn(ServeArgs({"--detach"}));
  ASSERT_EQ(launcher->Wait(), 0) << launcher->Stderr();
  const std::string start_line =
      "troupe serve: listening on " + Socket() + "; data " + data_ + "\n";
  // Then which model agents that name none get, and from where (here: the test's config).
  EXPECT_EQ(
      launcher->Stdout(),
      start_line + "troupe serve: default model mock/scripted (default_model in the config)\n");
  EXPECT_EQ(launcher->Stderr(), "");

  // Listening already: no retry needed.
  Reply health = Unix().Get("/v1/health");
  ASSERT_EQ(health.status, 200) << Describe(health);
  const pid_t pid = health.Json().value("pid", 0);
  ASSERT_GT(pid, 0);
  ASSERT_NE(pid, launcher->pid());
  PidGuard guard(pid);
  EXPECT_THAT(testing::ReadFileBytes(data_ + "/troupe.log"), HasSubstr(start_line));
  EXPECT_EQ(ModeOf(data_ + "/troupe.log") & 0077, 0u);
  // Its standard streams are /dev/null and the log; it holds none of the launcher's files
  // (a caller reading the launcher's output sees it end when the launcher exits).
  auto fd_target = [&](const std::string& fd) {
    std::error_code ec;
    return std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/fd/" + fd, ec).string();
  };
  EXPECT_EQ(fd_target("0"), "/dev/null");
  EXPECT_EQ(fd_target("1"), data_ + "/troupe.log");
  EXPECT_EQ(fd_target("2"), data_ + "/troupe.log");
  for (const auto& entry :
       std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd")) {
    const std::string target = fd_target(entry.path().filename().string());
    EXPECT_THAT(target, ::testing::Not(StartsWith(dir_.File("proc")))) << entry.path();
  }

  // It runs tasks like a foreground daemon.
  json task = Launch("#mock reply=\"from the background\"\nHello.", {{"wait_ms", 30'000}});
  EXPECT_EQ(task.value("result", ""), "from the background") << task;

  Reply stop = Unix().Post("/v1/shutdown", std::string());
  EXPECT_EQ(stop.status, 202) << Describe(stop);
  EXPECT_EQ(stop.Json().value("stopping", false), true) << stop.body;
  EXPECT_EQ(guard.Wait(), 0);
  const std::string log = testing::ReadFileBytes(data_ + "/troupe.log");
  EXPECT_THAT(log, HasSubstr("stopping (POST /v1/shutdown)"));
  EXPECT_THAT(log, HasSubstr("troupe serve: stopped"));
  EXPECT_FALSE(std::filesystem::exists(Socket()));
}

TEST_F(DaemonIntegrationTest, PostShutdownAnswersLongPollsAndExitsWith0) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  json slow = Launch("#mock latency=60s reply=\"never\"\nVery slow.");
  ASSERT_TRUE(slow.is_object());
  const std::string id = slow.value("id", "");

  // A long poll that would wait a minute is answered when the daemon stops.
  // (Answered at the wait's end instead, it would come after the client's 30 s limit: no 200.)
  Reply poll;
  std::thread waiter(
      [&] { poll = Unix().Send("GET", "/v1/tasks/" + id + "?wait_ms=60000", "", {}, 30'000); });
  // Stop once the daemon holds the long poll.
  const bool polling = WaitUntil(
      [&] {
        return Unix().Get("/metrics").body.find("troupe_long_polls 1\n") != std::string::npos;
      },
      30'000);
  EXPECT_TRUE(polling) << "the long poll never reached the daemon";
  Reply stop = Unix().Post("/v1/shutdown", std::string());
  EXPECT_EQ(stop.status, 202) << Describe(stop);
  EXPECT_EQ(daemon->Wait(), 0) << daemon->Stderr();
  waiter.join();
  EXPECT_EQ(poll.status, 200) << Describe(poll);

  auto stored = StoredTasks(data_ + "/troupe.db");
  ASSERT_EQ(stored.count(id), 1u);
  EXPECT_EQ(stored[id].state, TaskState::kInterrupted);
}

TEST_F(DaemonIntegrationTest, ABadConfigIsAStartErrorThatSaysWhere) {
  config_ = dir_.Write("bad.jsonc", "{\n  \"background_task\": {\"defaultConcurrency\": -2}\n}\n");
  auto daemon = Spawn(ServeArgs());
  EXPECT_EQ(daemon->Wait(), 1);
  EXPECT_THAT(daemon->Stderr(), StartsWith("troupe: " + config_ + ":2:"));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("defaultConcurrency"));
  EXPECT_FALSE(IsSocket(Socket()));

  // A config file named on the command line must exist.
  auto missing = Spawn({"serve", "--data-dir", data_, "--workspace", workspace_, "--config",
                        dir_.File("typo.jsonc")});
  EXPECT_EQ(missing->Wait(), 1);
  EXPECT_EQ(missing->Stderr(), "troupe: --config " + dir_.File("typo.jsonc") + ": no such file\n");

  // Through --detach too, with the child's exit code.
  auto detached = Spawn(ServeArgs({"--detach"}));
  EXPECT_EQ(detached->Wait(), 1);
  EXPECT_THAT(detached->Stderr(), StartsWith("troupe: " + config_ + ":2:"));
}

TEST_F(DaemonIntegrationTest, BadOptionsAreStartErrors) {
  for (const auto& [flag, value] :
       std::vector<std::pair<std::string, std::string>>{{"--listen", "127.0.0.1"},
                                                        {"--listen", "127.0.0.1:99999"},
                                                        {"--log-level", "chatty"},
                                                        {"--workspace", "/no/such/dir"}}) {
    std::vector<std::string> args = {"serve", "--data-dir", data_, "--config", config_};
    if (flag != "--workspace") args.insert(args.end(), {"--workspace", workspace_});
    args.insert(args.end(), {flag, value});
    auto daemon = Spawn(args);
    EXPECT_EQ(daemon->Wait(), 1) << flag << " " << value;
    EXPECT_THAT(daemon->Stderr(), StartsWith("troupe: ")) << flag << " " << value;
    EXPECT_THAT(daemon->Stderr(), HasSubstr(flag)) << daemon->Stderr();
  }
}

// The MCP endpoint (mcp/mcp_http.h) is mounted at /mcp: initialize assigns a session id that
// later requests carry; DELETE ends it.
TEST_F(DaemonIntegrationTest, McpOverStreamableHttpInitializesListsToolsAndEnds) {
  auto daemon = StartDaemon();
  ASSERT_NE(daemon, nullptr);
  Client c = Unix();
  const std::vector<std::string> accept = {"Accept: application/json, text/event-stream"};
  Reply init = c.Send("POST", "/mcp",
                      json{{"jsonrpc", "2.0"},
                           {"id", 1},
                           {"method", "initialize"},
                           {"params",
                            {{"protocolVersion", "2025-06-18"},
                             {"capabilities", json::object()},
                             {"clientInfo", {{"name", "it"}, {"version", "1"}}}}}}
                          .dump(),
                      accept);
  ASSERT_EQ(init.status, 200) << Describe(init);
  EXPECT_EQ(init.Json()["result"]["protocolVersion"], "2025-06-18") << init.body;
  std::string session;
  for (size_t pos = 0; pos < init.headers.size();) {
    size_t end = init.headers.find("\r\n", pos);
    if (end == std::string::npos) end = init.headers.size();
    std::string line = init.headers.substr(pos, end - pos);
    std::string lower = line;
    for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.rfind("mcp-session-id:", 0) == 0) {
      session = line.substr(line.find(':') + 1);
      session.erase(0, session.find_first_not_of(' '));
    }
    pos = end + 2;
  }
  ASSERT_EQ(session.size(), 32u) << init.headers;
  std::vector<std::string> with_session = accept;
  with_session.push_back("Mcp-Session-Id: " + session);
  with_session.push_back("MCP-Protocol-Version: 2025-06-18");

  Reply initialized = c.Send(
      "POST", "/mcp", json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}.dump(),
      with_session);
  EXPECT_EQ(initialized.status, 202) << Describe(initialized);
  Reply list =
      c.Send("POST", "/mcp", json{{"jsonrpc", "2.0"}, {"id", 2}, {"method", "tools/list"}}.dump(),
             with_session);
  ASSERT_EQ(list.status, 200) << Describe(list);
  json tools = list.Json()["result"]["tools"];
  ASSERT_TRUE(tools.is_array()) << list.body;
  EXPECT_EQ(tools[0]["name"], "delegate_task") << list.body;

  // A foreground delegation waits for the mock agent: progress, then the result, as events on
  // the POST's own stream.
  json call = {{"jsonrpc", "2.0"},
               {"id", 3},
               {"method", "tools/call"},
               {"params",
                {{"name", "delegate_task"},
                 {"arguments",
                  {{"description", "mcp it"},
                   {"prompt", "#mock latency=300ms reply=\"all done here\"\nWrap it up."},
                   {"agent", "explore"},
                   {"background", false}}},
                 {"_meta", {{"progressToken", "p"}}}}}};
  Reply called = c.Send("POST", "/mcp", call.dump(), with_session);
  ASSERT_EQ(called.status, 200) << Describe(called);
  EXPECT_NE(called.headers.find("text/event-stream"), std::string::npos) << called.headers;
  std::vector<json> events;
  for (size_t pos = 0; (pos = called.body.find("data: ", pos)) != std::string::npos;) {
    size_t end = called.body.find('\n', pos);
    events.push_back(json::parse(called.body.substr(pos + 6, end - pos - 6), nullptr, false));
    pos = end;
  }
  ASSERT_GE(events.size(), 2u) << called.body;
  EXPECT_EQ(events.front()["method"], "notifications/progress") << called.body;
  EXPECT_EQ(events.back()["id"], 3) << called.body;
  EXPECT_EQ(events.back()["result"]["structuredContent"]["result"], "all done here") << called.body;

  Reply no_session = c.Send("POST", "/mcp",
                            json{{"jsonrpc", "2.0"}, {"id", 5}, {"method", "ping"}}.dump(), accept);
  EXPECT_EQ(no_session.status, 400) << Describe(no_session);
  EXPECT_EQ(c.Send("DELETE", "/mcp", "", with_session).status, 204);
  Reply gone = c.Send("POST", "/mcp",
                      json{{"jsonrpc", "2.0"}, {"id", 4}, {"method", "ping"}}.dump(), with_session);
  EXPECT_EQ(gone.status, 404) << Describe(gone);
}

}  // namespace
}  // namespace troupe
