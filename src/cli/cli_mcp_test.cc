// The built `troupe mcp` between pipes, as an AI tool runs it, against a real daemon it starts
// itself (autostart) in a temporary data directory with the offline mock model. Every wait is
// bounded; the bridge is killed and the daemon stopped at the end of each test.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/testing/daemon_sandbox.h"
#include "core/testing/scoped_env.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using ::testing::HasSubstr;
using testing::ProcessAlive;

constexpr int kWaitMs = 20'000;

int LeftMs(Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(left);
}

// True once nothing accepts connections on the Unix socket `path` any more. (A killed
// multithreaded daemon shows as a zombie while its other threads still hold the listener for a
// moment; a request sent then is accepted and reset, and rightly not retried.)
bool SocketRefuses(const std::string& path) {
  const int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un address = {};
  address.sun_family = AF_UNIX;
  path.copy(address.sun_path, sizeof address.sun_path - 1);
  const bool refused =
      connect(fd, reinterpret_cast<const sockaddr*>(&address), sizeof address) != 0;
  close(fd);
  return refused;
}

// Runs `troupe args…` in `cwd` to its end (bounded); its exit code.
int RunTroupe(const std::string& cwd, const std::vector<std::string>& args) {
  return testing::RunBinary(TROUPE_BINARY, cwd, args).code;
}

// `troupe mcp` as a child process with its three pipes. Every stdout line is checked to be one
// JSON value.
class McpChild {
 public:
  explicit McpChild(const std::string& cwd) {
    int in[2], out[2], err[2];
    EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
    EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
    char* argv[] = {const_cast<char*>(TROUPE_BINARY), const_cast<char*>("mcp"), nullptr};
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      dup2(out[1], STDOUT_FILENO);
      dup2(err[1], STDERR_FILENO);
      if (chdir(cwd.c_str()) != 0) _exit(126);
      execv(TROUPE_BINARY, argv);
      _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
  }

  ~McpChild() {
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) close(fd);
    }
  }

  pid_t pid() const { return pid_; }

  void Send(const std::string& line) { Write(line + "\n"); }
  void Send(const json& message) { Send(message.dump()); }

  void Write(const std::string& bytes) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(kWaitMs);
    size_t off = 0;
    while (off < bytes.size()) {
      pollfd fds[3] = {{in_, POLLOUT, 0}, {out_, POLLIN, 0}, {err_, POLLIN, 0}};
      if (Clock::now() > deadline || poll(fds, 3, LeftMs(deadline)) <= 0) {
        ADD_FAILURE() << "troupe mcp does not read its stdin";
        return;
      }
      if (fds[0].revents & (POLLERR | POLLHUP)) {
        ADD_FAILURE() << "troupe mcp closed its stdin";
        return;
      }
      if (fds[0].revents & POLLOUT) {
        const ssize_t n =
            write(in_, bytes.data() + off, std::min<size_t>(bytes.size() - off, 65536));
        if (n > 0) off += static_cast<size_t>(n);
      }
      Drain(fds[1].revents, fds[2].revents);  // the child may be writing too
    }
  }

  void CloseStdin() {
    close(in_);
    in_ = -1;
  }

  // The next stdout message not taken yet that `match` accepts (others stay for later), or
  // nullopt when none came within `timeout_ms`.
  std::optional<json> Await(const std::function<bool(const json&)>& match, int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      for (auto it = unread_.begin(); it != unread_.end(); ++it) {
        if (match(*it)) {
          json found = std::move(*it);
          unread_.erase(it);
          return found;
        }
      }
      if (!Pump(LeftMs(deadline))) return std::nullopt;
    }
  }

  // The response to request `id` (fails the test when none comes).
  json Response(const json& id, int timeout_ms = kWaitMs) {
    std::optional<json> found = Await(
        [&](const json& m) { return m.contains("id") && m["id"] == id && !m.contains("method"); },
        timeout_ms);
    if (!found) {
      ADD_FAILURE() << "no response to request " << id << "; stderr:\n" << err_text_;
      return json();
    }
    return *found;
  }

  std::optional<json> Notification(const std::string& method,
                                   const std::function<bool(const json&)>& match,
                                   int timeout_ms = kWaitMs) {
    return Await([&](const json& m) { return m.value("method", "") == method && match(m); },
                 timeout_ms);
  }

  // Waits for the process to exit (reading its output meanwhile): its exit code, or nullopt.
  std::optional<int> WaitExit(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
      int status = 0;
      const pid_t done = waitpid(pid_, &status, WNOHANG);
      if (done == pid_) {
        exited_ = true;
        while (Pump(100)) {
        }
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      if (Clock::now() > deadline) return std::nullopt;
      Pump(std::min(LeftMs(deadline), 50));
    }
  }

  // Every message written so far, taken or not.
  const std::vector<json>& all() const { return all_; }
  const std::string& err() const { return err_text_; }

 private:
  // Reads what is there within `timeout_ms`; false when nothing came (or stdout ended).
  bool Pump(int timeout_ms) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(timeout_ms);
    const size_t before = all_.size();
    while (all_.size() == before) {
      pollfd fds[2] = {{out_open_ ? out_ : -1, POLLIN, 0}, {err_open_ ? err_ : -1, POLLIN, 0}};
      if (!out_open_ && !err_open_) return false;
      const int left = LeftMs(deadline);
      if (poll(fds, 2, left) <= 0) return false;
      Drain(fds[0].revents, fds[1].revents);
      if (!out_open_ && all_.size() == before) return false;
    }
    return true;
  }

  void Drain(short out_events, short err_events) {
    char buffer[65536];
    if (out_events != 0 && out_open_) {
      const ssize_t n = read(out_, buffer, sizeof buffer);
      if (n <= 0) {
        out_open_ = false;
      } else {
        out_text_.append(buffer, static_cast<size_t>(n));
      }
      for (size_t nl; (nl = out_text_.find('\n')) != std::string::npos;) {
        const std::string line = out_text_.substr(0, nl);
        out_text_.erase(0, nl + 1);
        json message = json::parse(line, nullptr, false);
        EXPECT_FALSE(message.is_discarded()) << "stdout line that is not JSON: " << line;
        EXPECT_TRUE(message.is_object()) << line;
        if (message.is_discarded()) continue;
        all_.push_back(message);
        unread_.push_back(std::move(message));
      }
    }
    if (err_events != 0 && err_open_) {
      const ssize_t n = read(err_, buffer, sizeof buffer);
      if (n <= 0) {
        err_open_ = false;
      } else {
        err_text_.append(buffer, static_cast<size_t>(n));
      }
    }
  }

  pid_t pid_ = -1;
  int in_ = -1, out_ = -1, err_ = -1;
  bool out_open_ = true, err_open_ = true, exited_ = false;
  std::string out_text_, err_text_;
  std::vector<json> all_;
  std::deque<json> unread_;
};

json Request(const json& id, const std::string& method, json params = json::object()) {
  return {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}, {"params", std::move(params)}};
}

// A tools/call answer that is a result without isError.
bool ToolSucceeded(const json& answer) {
  return answer.is_object() && answer.contains("result") && answer["result"].is_object() &&
         !answer["result"].value("isError", false);
}

json ToolCall(const json& id, const std::string& tool, json arguments) {
  return Request(id, "tools/call", {{"name", tool}, {"arguments", std::move(arguments)}});
}

class CliMcpTest : public ::testing::Test {
 protected:
  McpChild& Start() {
    bridge_ = std::make_unique<McpChild>(work_);
    return *bridge_;
  }

  // initialize and notifications/initialized; the initialize result.
  json Initialize(McpChild& mcp) {
    mcp.Send(Request(0, "initialize",
                     {{"protocolVersion", "2025-06-18"},
                      {"capabilities", json::object()},
                      {"clientInfo", {{"name", "cli_mcp_test"}, {"version", "1"}}}}));
    json init = mcp.Response(0);
    mcp.Send(json{{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}});
    return init.is_object() ? init.value("result", json()) : json();
  }

  // delegate_task in the background; the task id.
  std::string Delegate(McpChild& mcp, const json& id, const std::string& prompt) {
    mcp.Send(ToolCall(id, "delegate_task",
                      {{"description", "mcp test"}, {"prompt", prompt}, {"agent", "general"}}));
    json answer = mcp.Response(id);
    EXPECT_TRUE(ToolSucceeded(answer)) << answer << "\n" << mcp.err();
    if (!ToolSucceeded(answer)) return "";
    const json structured = answer["result"].value("structuredContent", json::object());
    return structured.is_object() ? structured.value("task_id", "") : "";
  }

  int64_t DaemonPid() const { return sandbox_.DaemonPid(); }

  // The offline mock model, two tasks at a time.
  testing::DaemonSandbox sandbox_{TROUPE_BINARY, R"({
      "default_model": "mock/scripted",
      "background_task": {"modelConcurrency": {"mock/scripted": 2}},
    })"};
  testing::TestDir& dir_ = sandbox_.dir();
  const std::string& work_ = sandbox_.work();
  std::unique_ptr<McpChild> bridge_;  // last: the bridge goes before the sandbox stops the daemon
};

TEST_F(CliMcpTest, ServesTheToolsOverStdioAndEndsWithStdin) {
  McpChild& mcp = Start();
  json init = Initialize(mcp);
  EXPECT_EQ(init["serverInfo"]["name"], "troupe");
  EXPECT_EQ(init["protocolVersion"], "2025-06-18");

  mcp.Send(Request(1, "tools/list"));
  json tools = mcp.Response(1);
  std::vector<std::string> names;
  for (const json& tool : tools["result"]["tools"]) names.push_back(tool["name"]);
  EXPECT_THAT(names,
              ::testing::IsSupersetOf({"delegate_task", "background_wait", "background_output",
                                       "background_cancel", "background_list"}));

  // A background task, then a blocking background_wait (answered over SSE once it ends).
  const std::string task = Delegate(mcp, 2, "#mock latency=700 reply=\"done over mcp\"");
  ASSERT_THAT(task, ::testing::StartsWith("bg_"));
  mcp.Send(ToolCall(3, "background_wait", {{"task_ids", {task}}, {"timeout_ms", 15000}}));
  json waited = mcp.Response(3);
  EXPECT_TRUE(ToolSucceeded(waited)) << waited;
  EXPECT_THAT(waited.dump(), HasSubstr("completed"));
  mcp.Send(ToolCall(4, "background_output", {{"task_id", task}}));
  EXPECT_THAT(mcp.Response(4).dump(), HasSubstr("done over mcp"));

  // The daemon pushes a notifications/message on the GET stream when a task finishes.
  std::optional<json> pushed = mcp.Notification("notifications/message", [&](const json& m) {
    return m.dump().find(task) != std::string::npos;
  });
  ASSERT_TRUE(pushed.has_value()) << mcp.err();

  // Broken JSON: the daemon's -32700, and the bridge goes on.
  mcp.Send(std::string("{\"jsonrpc\": \"2.0\", \"id\": 5, \"method\": "));
  std::optional<json> parse_error = mcp.Await(
      [](const json& m) { return m.contains("error") && m["error"]["code"] == -32700; }, kWaitMs);
  ASSERT_TRUE(parse_error.has_value()) << mcp.err();
  EXPECT_TRUE((*parse_error)["id"].is_null());
  mcp.Send(Request(6, "ping"));
  EXPECT_EQ(mcp.Response(6)["result"], json::object());

  // A line over 4 MiB: -32600 from the bridge itself, and it goes on.
  std::string huge = R"({"jsonrpc":"2.0","id":7,"method":"ping","params":{"pad":")";
  huge.append(size_t{4} << 20, 'x');
  huge += "\"}}";
  mcp.Send(huge);
  std::optional<json> too_long = mcp.Await(
      [](const json& m) { return m.contains("error") && m["error"]["code"] == -32600; }, kWaitMs);
  ASSERT_TRUE(too_long.has_value()) << mcp.err();
  EXPECT_TRUE((*too_long)["id"].is_null());
  EXPECT_THAT((*too_long)["error"]["message"].get<std::string>(), HasSubstr("above the limit"));
  mcp.Send(Request(8, "ping"));
  EXPECT_EQ(mcp.Response(8)["result"], json::object());

  // stdin ends while a request is in flight: its answer is still written, then exit 0.
  const std::string late = Delegate(mcp, 9, "#mock latency=500 reply=late");
  mcp.Send(ToolCall(10, "background_wait", {{"task_ids", {late}}, {"timeout_ms", 15000}}));
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
  EXPECT_THAT(mcp.Response(10, 0).dump(), HasSubstr("completed"));
  for (const json& m : mcp.all()) EXPECT_EQ(m["jsonrpc"], "2.0") << m;
  EXPECT_THAT(mcp.err(), HasSubstr("troupe mcp: started the daemon"));
}

// What a stdio client that probes first (server/discover, the 2026-07-28 revision) sees: a
// JSON-RPC error with its id — not the daemon's refusal of a POST without Mcp-Session-Id — then
// initialize works as usual.
TEST_F(CliMcpTest, RequestsBeforeInitializeGetJsonRpcErrorsAClientUnderstands) {
  McpChild& mcp = Start();
  mcp.Send(Request("probe", "server/discover"));
  json probe = mcp.Response("probe");
  EXPECT_EQ(probe["error"]["code"], -32601) << probe;
  mcp.Send(Request(1, "tools/list"));
  json early = mcp.Response(1);
  EXPECT_EQ(early["error"]["code"], -32600) << early;
  EXPECT_THAT(early["error"]["message"].get<std::string>(),
              HasSubstr("send \"initialize\" before \"tools/list\""));
  for (const json& m : {probe, early}) {
    EXPECT_THAT(m.dump(), ::testing::Not(HasSubstr("Mcp-Session-Id"))) << m;
  }
  json init = Initialize(mcp);
  EXPECT_EQ(init["serverInfo"]["name"], "troupe");
  mcp.Send(Request(2, "tools/list"));
  EXPECT_TRUE(mcp.Response(2)["result"]["tools"].is_array());
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
}

// A foreground delegate_task whose model streams 150 tokens: a few progress notifications (not
// one per token), all before the response, none after it.
TEST_F(CliMcpTest, AStreamingTaskGivesAFewProgressNotificationsAllBeforeTheAnswer) {
  McpChild& mcp = Start();
  Initialize(mcp);
  json call = ToolCall(1, "delegate_task",
                       {{"description", "streams"},
                        {"prompt", "#mock latency=0 tps=150 tokens=150\nTalk a while."},
                        {"agent", "general"},
                        {"background", false}});
  call["params"]["_meta"] = {{"progressToken", "tok"}};
  mcp.Send(call);
  json answer = mcp.Response(1);
  ASSERT_TRUE(ToolSucceeded(answer)) << answer << "\n" << mcp.err();
  EXPECT_EQ(answer["result"]["structuredContent"]["state"], "completed") << answer;
  mcp.Send(Request(2, "ping"));  // anything late would be written before this answer
  EXPECT_EQ(mcp.Response(2)["result"], json::object());
  size_t progress = 0;
  bool answered = false;
  for (const json& m : mcp.all()) {
    if (m.value("id", json()) == 1 && !m.contains("method")) answered = true;
    if (m.value("method", "") != "notifications/progress") continue;
    EXPECT_EQ(m["params"]["progressToken"], "tok") << m;
    EXPECT_FALSE(answered) << "progress after the response: " << m;
    ++progress;
  }
  EXPECT_GE(progress, 1u);
  EXPECT_LE(progress, 5u);
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
}

TEST_F(CliMcpTest, CancelledRequestIsNeverAnswered) {
  McpChild& mcp = Start();
  Initialize(mcp);
  // The task runs until it is cancelled below, so the wait cannot end by itself first.
  const std::string task = Delegate(mcp, 1, "#mock latency=60000 reply=slow");
  mcp.Send(ToolCall("w", "background_wait", {{"task_ids", {task}}, {"timeout_ms", 15000}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the wait is under way
  mcp.Send(json{{"jsonrpc", "2.0"},
                {"method", "notifications/cancelled"},
                {"params", {{"requestId", "w"}, {"reason", "changed my mind"}}}});
  mcp.Send(Request(2, "ping"));
  EXPECT_EQ(mcp.Response(2)["result"], json::object());
  // The task ends; a wait still running would be answered now.
  mcp.Send(ToolCall(3, "background_cancel", {{"task_id", task}}));
  EXPECT_TRUE(ToolSucceeded(mcp.Response(3)));
  mcp.Send(ToolCall(4, "background_output",
                    {{"task_id", task}, {"block", true}, {"timeout_ms", 15000}}));
  EXPECT_THAT(mcp.Response(4).dump(), HasSubstr("cancelled"));
  EXPECT_FALSE(mcp.Await([](const json& m) { return m.value("id", json()) == "w"; }, 500));
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
  for (const json& m : mcp.all()) EXPECT_NE(m.value("id", json()), "w") << m;
}

TEST_F(CliMcpTest, SurvivesTheDaemonBeingKilledAndStartedAgain) {
  McpChild& mcp = Start();
  Initialize(mcp);
  mcp.Send(Request(1, "logging/setLevel", {{"level", "info"}}));
  EXPECT_EQ(mcp.Response(1)["result"], json::object());
  // A task launched and finished before the daemon dies stays this client's afterwards.
  const std::string before = Delegate(mcp, 10, "#mock latency=0 reply=before");
  mcp.Send(ToolCall(11, "background_output",
                    {{"task_id", before}, {"block", true}, {"timeout_ms", 15000}}));
  EXPECT_THAT(mcp.Response(11).dump(), HasSubstr("before"));
  const int64_t first = DaemonPid();
  ASSERT_TRUE(ProcessAlive(first));

  kill(static_cast<pid_t>(first), SIGKILL);
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while ((ProcessAlive(first) || !SocketRefuses(dir_.File("data/troupe.sock"))) &&
         Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_FALSE(ProcessAlive(first));
  ASSERT_TRUE(SocketRefuses(dir_.File("data/troupe.sock")));

  // The next call starts a daemon, initializes a new session and is answered.
  mcp.Send(ToolCall(2, "background_list", json::object()));
  json listed = mcp.Response(2);
  EXPECT_TRUE(ToolSucceeded(listed)) << listed << "\n" << mcp.err();
  EXPECT_NE(DaemonPid(), first);
  EXPECT_TRUE(ProcessAlive(DaemonPid()));
  EXPECT_THAT(mcp.err(), HasSubstr("no longer knows MCP session"));
  // The daemon gave the session its id again (Troupe-Resume-Session): the task is still listed.
  EXPECT_THAT(listed.dump(), HasSubstr(before)) << listed;

  // The new session is complete: tools run and the GET stream pushes again.
  const std::string task = Delegate(mcp, 3, "#mock latency=200 reply=again");
  std::optional<json> pushed = mcp.Notification("notifications/message", [&](const json& m) {
    return m.dump().find(task) != std::string::npos;
  });
  EXPECT_TRUE(pushed.has_value()) << mcp.err();
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
}

TEST_F(CliMcpTest, AnUnreachableDaemonIsAnErrorAnswerNotAnExit) {
  testing::ScopedEnv no_autostart("TROUPE_NO_AUTOSTART", "1");
  McpChild& mcp = Start();
  mcp.Send(Request(0, "initialize",
                   {{"protocolVersion", "2025-06-18"},
                    {"capabilities", json::object()},
                    {"clientInfo", {{"name", "t"}, {"version", "1"}}}}));
  json refused = mcp.Response(0);
  EXPECT_EQ(refused["error"]["code"], -32603);
  EXPECT_THAT(refused["error"]["message"].get<std::string>(), HasSubstr(dir_.File("data")));

  // A daemon appears: the next initialize works.
  ASSERT_EQ(RunTroupe(work_, {"serve", "--detach"}), 0);
  json init = Initialize(mcp);
  EXPECT_EQ(init["serverInfo"]["name"], "troupe");
  mcp.Send(Request(1, "ping"));
  EXPECT_EQ(mcp.Response(1)["result"], json::object());
  mcp.CloseStdin();
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
}

TEST_F(CliMcpTest, SigtermEndsTheBridgeAtOnce) {
  McpChild& mcp = Start();
  Initialize(mcp);
  // Neither the task nor the wait ends within the test: an exit means the signal ended it.
  const std::string task = Delegate(mcp, 1, "#mock latency=600000 reply=never");
  mcp.Send(ToolCall(2, "background_wait", {{"task_ids", {task}}, {"timeout_ms", 60000}}));
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  kill(mcp.pid(), SIGTERM);
  EXPECT_EQ(mcp.WaitExit(kWaitMs), 0) << mcp.err();
  EXPECT_THAT(mcp.err(), HasSubstr("ending the MCP session"));
  RunTroupe(work_, {"cancel", "--all"});
}

}  // namespace
}  // namespace troupe
