// The daemon as its clients see it (issue 5's figures), against the real `troupe serve` on a
// Unix socket with the offline mock model:
//   1. idle memory of a fresh daemon, and again after 10,000 tasks;
//   2. launching and finishing 10,000 tasks through the HTTP API (tasks per second);
//   3. `troupe ps` round trip with 10,000 tasks in the store (the CLI process, end to end), and
//      the GET /v1/tasks behind it;
//   4. server-sent events to 100 subscribers: replay of the whole log, and live events while
//      1,000 tasks run — every subscriber must receive every event.
// Prints its figures; run from the build directory:
//   ./bench/daemon_bench [--tasks 10000] [--subscribers 100] [--live-tasks 1000]
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "cli/daemon_client.h"

extern char** environ;

namespace troupe {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Runs argv to completion with stdout/stderr to /dev/null; returns its exit code.
int Run(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) return 127;
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

double RssMiB(int64_t pid) {
  std::ifstream in(fmt::format("/proc/{}/status", pid));
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
  }
  return 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

std::unique_ptr<DaemonClient> Connect(const ClientOptions& options) {
  auto c = DaemonClient::Connect(options);
  if (!c.ok()) {
    fmt::print(stderr, "daemon_bench: {}\n", c.status().message());
    std::exit(1);
  }
  return std::move(*c);
}

json Must(Result<json> r, const char* what) {
  if (!r.ok()) {
    fmt::print(stderr, "daemon_bench: {}: {}\n", what, r.status().message());
    std::exit(1);
  }
  return std::move(*r);
}

// Polls until no task is active (bounded).
void WaitIdle(DaemonClient* client, double limit_s) {
  auto t0 = Clock::now();
  while (SecondsSince(t0) < limit_s) {
    json active = Must(client->Get("/v1/tasks?status=active&limit=1"), "list active");
    if (active["tasks"].empty()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  fmt::print(stderr, "daemon_bench: tasks still active after {:.0f} s\n", limit_s);
  std::exit(1);
}

// Launches `n` zero-latency tasks; returns their ids.
std::vector<std::string> Launch(DaemonClient* client, int n, const std::string& tag) {
  std::vector<std::string> ids;
  ids.reserve(n);
  for (int i = 0; i < n; ++i) {
    json body = {{"agent", "general"},
                 {"description", fmt::format("{} {}", tag, i)},
                 {"prompt", fmt::format("#mock latency=0 tps=0 reply=\"done {}\"\n{} task {}", i,
                                        tag, i)}};
    json r = Must(client->Post("/v1/tasks", body), "launch");
    ids.push_back(r["task"]["id"].get<std::string>());
  }
  return ids;
}

struct SseRun {
  double seconds = 0;
  int64_t delivered = 0;
  int complete_subscribers = 0;
};

// `subscribers` threads each read `target` until they saw `expected` state events.
SseRun Subscribe(const ClientOptions& options, int subscribers, const std::string& target,
                 int64_t expected, const std::function<void()>& while_open) {
  std::atomic<int> ready{0};
  std::atomic<int64_t> delivered{0};
  std::atomic<int> complete{0};
  std::vector<std::thread> threads;
  auto t0 = Clock::now();
  for (int i = 0; i < subscribers; ++i) {
    threads.emplace_back([&] {
      auto client = Connect(options);
      int64_t seen = 0;
      bool counted_ready = false;
      Status s = client->Events(target, [&](const SseEvent& e) {
        if (!counted_ready) {
          counted_ready = true;
          ready.fetch_add(1);
        }
        if (e.event != "task.state") return true;
        ++seen;
        delivered.fetch_add(1, std::memory_order_relaxed);
        return seen < expected;
      });
      if (seen >= expected) complete.fetch_add(1);
      if (!s.ok()) fmt::print(stderr, "daemon_bench: subscriber: {}\n", s.message());
    });
  }
  if (while_open) {
    // Live streams send nothing before the first event: give the subscribers time to connect.
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    t0 = Clock::now();
    while_open();
  }
  for (std::thread& t : threads) t.join();
  SseRun run;
  run.seconds = SecondsSince(t0);
  run.delivered = delivered.load();
  run.complete_subscribers = complete.load();
  return run;
}

int Main(int argc, char** argv) {
  int tasks = 10'000;
  int subscribers = 100;
  int live_tasks = 1'000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    int value = std::atoi(argv[i + 1]);
    if (flag == "--tasks") tasks = value;
    if (flag == "--subscribers") subscribers = value;
    if (flag == "--live-tasks") live_tasks = value;
  }

  std::string dir_pattern = "/tmp/troupe-bench-XXXXXX";
  if (mkdtemp(dir_pattern.data()) == nullptr) return 1;
  const std::string dir = dir_pattern;
  const std::string config = dir + "/bench.jsonc";
  std::ofstream(config) << R"({"default_model": "mock/scripted",
    "background_task": {"modelConcurrency": {"mock/scripted": 50}}})";

  ClientOptions options;
  options.data_dir = dir;
  options.socket = dir + "/troupe.sock";
  options.autostart = false;
  const std::string troupe = TROUPE_BINARY;
  if (Run({troupe, "serve", "--detach", "--data-dir", dir, "--socket", options.socket, "--config",
           config, "--workspace", dir}) != 0) {
    fmt::print(stderr, "daemon_bench: troupe serve --detach failed; see {}/troupe.log\n", dir);
    return 1;
  }
  auto client = Connect(options);
  json health = Must(client->Get("/v1/health"), "health");
  const int64_t pid = health["pid"].get<int64_t>();
  std::this_thread::sleep_for(std::chrono::seconds(1));
  const double idle_fresh = RssMiB(pid);

  fmt::print("daemon_bench: troupe serve pid {}, data {}\n", pid, dir);
  fmt::print("idle RSS, fresh daemon:             {:8.1f} MiB\n", idle_fresh);

  auto t0 = Clock::now();
  Launch(client.get(), tasks, "seed");
  const double launched_s = SecondsSince(t0);
  WaitIdle(client.get(), 600);
  const double done_s = SecondsSince(t0);
  fmt::print("launch {} tasks over HTTP:        {:8.2f} s ({:.0f} launches/s, one client)\n",
             tasks, launched_s, tasks / launched_s);
  fmt::print("all {} completed after:           {:8.2f} s ({:.0f} tasks/s end to end)\n", tasks,
             done_s, tasks / done_s);
  std::this_thread::sleep_for(std::chrono::seconds(1));
  fmt::print("idle RSS after {} tasks:          {:8.1f} MiB\n", tasks, RssMiB(pid));

  std::vector<double> api_ms;
  for (int i = 0; i < 10; ++i) {
    auto a = Clock::now();
    Must(client->Get("/v1/tasks"), "list all");
    api_ms.push_back(SecondsSince(a) * 1000);
  }
  fmt::print("GET /v1/tasks ({} tasks):         {:8.1f} ms median of 10\n", tasks, Median(api_ms));
  for (const std::vector<std::string>& extra :
       {std::vector<std::string>{}, std::vector<std::string>{"--all"},
        std::vector<std::string>{"--all", "--json"}}) {
    std::vector<std::string> cmd = {troupe, "ps", "--data-dir", dir, "--socket", options.socket};
    cmd.insert(cmd.end(), extra.begin(), extra.end());
    std::vector<double> ms;
    for (int i = 0; i < 10; ++i) {
      auto a = Clock::now();
      if (int rc = Run(cmd); rc != 0) {
        fmt::print(stderr, "daemon_bench: troupe ps exited {}\n", rc);
        return 1;
      }
      ms.push_back(SecondsSince(a) * 1000);
    }
    std::string label = "troupe ps";
    for (const std::string& e : extra) label += " " + e;
    fmt::print("{:<35} {:8.1f} ms median of 10 (p90 {:.1f})\n", label + ":", Median(ms),
               Percentile(ms, 0.9));
  }

  // Replay: every stored state event to every subscriber.
  // Each task logged three state events: launched (pending), running, completed.
  const int64_t stored = 3LL * tasks;
  SseRun replay = Subscribe(options, subscribers, "/v1/events?after=0&progress=0", stored, {});
  fmt::print("SSE replay, {} subscribers x {} events: {:.2f} s, {:.0f} events/s delivered "
             "({} of {} subscribers got all)\n",
             subscribers, stored, replay.seconds, replay.delivered / replay.seconds,
             replay.complete_subscribers, subscribers);

  // Live: 3 state events per task (pending, running, completed) to every subscriber.
  const int64_t live_expected = 3LL * live_tasks;
  SseRun live = Subscribe(options, subscribers, "/v1/events?progress=0", live_expected,
                          [&] { Launch(client.get(), live_tasks, "live"); });
  fmt::print("SSE live, {} subscribers, {} tasks: {:.2f} s, {:.0f} events/s delivered "
             "({:.0f} per subscriber; {} of {} subscribers got all {})\n",
             subscribers, live_tasks, live.seconds, live.delivered / live.seconds,
             live.delivered / live.seconds / subscribers, live.complete_subscribers, subscribers,
             live_expected);
  fmt::print("RSS after the SSE runs:             {:8.1f} MiB\n", RssMiB(pid));

  client->Post("/v1/shutdown", json::object()).ok();
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  std::error_code ignored;
  fs::remove_all(dir, ignored);
  return 0;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) { return troupe::Main(argc, argv); }
