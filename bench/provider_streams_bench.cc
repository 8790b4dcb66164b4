// 1,000 concurrent streaming chats from one client process to `troupe mock-llm` (a separate
// process, over loopback): the client's memory per stream and CPU use, and the server's CPU.
// Each chat streams `--tokens` tokens at `--tps` tokens/s through the real HttpChatProvider
// (HttpClient on curl multi, SSE parser, wire decoder, retry loop).
//
// Run: build/default/bench/provider_streams_bench [--streams 1000] [--tokens 100] [--tps 20]
//        [--protocol openai|anthropic] [--troupe build/default/troupe]
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/event_loop.h"
#include "core/http_client.h"
#include "llm/http_chat_client.h"

extern char** environ;

namespace troupe {
namespace {

struct Args {
  int streams = 1000;
  int tokens = 100;
  int tps = 20;
  std::string protocol = "openai";
  std::string troupe = TROUPE_BINARY;
};

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--streams")
      a.streams = std::stoi(v);
    else if (k == "--tokens")
      a.tokens = std::stoi(v);
    else if (k == "--tps")
      a.tps = std::stoi(v);
    else if (k == "--protocol")
      a.protocol = v;
    else if (k == "--troupe")
      a.troupe = v;
    else {
      fmt::print(stderr, "unknown option {}\n", k);
      std::exit(2);
    }
  }
  return a;
}

// Resident set of process `pid` in KiB (VmRSS), or -1.
int64_t RssKib(const std::string& pid = "self") {
  std::ifstream in("/proc/" + pid + "/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:")) return std::stoll(line.substr(6));
  }
  return -1;
}

// User + system CPU seconds of process `pid` (from /proc/PID/stat).
double CpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(in)), {});
  std::istringstream fields(stat.substr(stat.rfind(')') + 2));
  std::string f;
  long utime = 0, stime = 0;
  for (int i = 3; fields >> f; ++i) {
    if (i == 14) utime = std::stol(f);
    if (i == 15) {
      stime = std::stol(f);
      break;
    }
  }
  return double(utime + stime) / double(sysconf(_SC_CLK_TCK));
}

double SelfCpuSeconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         double(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int Run(const Args& args) {
  // One socket per stream, for both ends of the loopback.
  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  nofile.rlim_cur = nofile.rlim_max;
  setrlimit(RLIMIT_NOFILE, &nofile);

  char port_file[] = "/tmp/troupe-bench-port-XXXXXX";
  int fd = mkstemp(port_file);
  if (fd < 0) return 1;
  close(fd);
  unlink(port_file);
  std::vector<std::string> argv_s = {args.troupe, "mock-llm", "--no-auth", "--port-file",
                                     port_file};
  std::vector<char*> argv;
  for (auto& s : argv_s) argv.push_back(s.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  pid_t server = 0;
  if (posix_spawn(&server, args.troupe.c_str(), &actions, nullptr, argv.data(), environ) != 0) {
    fmt::print(stderr, "cannot start {}\n", args.troupe);
    return 1;
  }
  std::string port;
  for (int i = 0; i < 500 && port.empty(); ++i) {
    std::ifstream in(port_file);
    std::getline(in, port);
    if (port.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  unlink(port_file);
  if (port.empty()) {
    fmt::print(stderr, "mock-llm did not start\n");
    kill(server, SIGTERM);
    return 1;
  }

  boost::asio::io_context io;
  LoopClock clock(io);
  HttpClient http(io);
  HttpChatOptions options;
  options.provider = args.protocol;
  options.format = args.protocol == "anthropic" ? WireFormat::kAnthropic : WireFormat::kOpenAi;
  options.base_url = "http://127.0.0.1:" + port + (args.protocol == "anthropic" ? "" : "/v1");
  options.retry.max_attempts = 1;  // a failure is a failure here
  std::unique_ptr<Provider> provider = MakeHttpChatProvider(&http, &clock, nullptr, options);

  const int64_t rss_before = RssKib();
  const double cpu_before = SelfCpuSeconds();
  const double server_cpu_before = CpuSeconds(server);
  const auto t0 = std::chrono::steady_clock::now();

  int done = 0, failed = 0;
  int64_t bytes = 0, deltas = 0;
  int64_t peak_rss = 0;
  std::string first_error;
  std::vector<std::unique_ptr<ChatCall>> calls;
  for (int i = 0; i < args.streams; ++i) {
    ChatRequest r;
    r.model = "mock";
    r.max_tokens = 4096;
    r.messages.push_back(UserMessage(
        fmt::format("#mock tokens={} tps={} id=s{}\nstream please", args.tokens, args.tps, i)));
    ChatCallbacks cb;
    cb.on_delta = [&](const StreamDelta&) { ++deltas; };
    cb.on_bytes = [&](int64_t n) { bytes += n; };
    cb.on_done = [&](Result<ChatResult> res) {
      ++done;
      if (!res.ok()) {
        ++failed;
        if (first_error.empty()) first_error = res.status().ToString();
      }
    };
    calls.push_back(provider->Chat(std::move(r), std::move(cb)));
  }
  // Sample the client's RSS while the streams run.
  boost::asio::steady_timer sampler(io);
  std::function<void()> sample = [&] {
    peak_rss = std::max(peak_rss, RssKib());
    if (done < args.streams) {
      sampler.expires_after(std::chrono::milliseconds(100));
      sampler.async_wait([&](const boost::system::error_code&) { sample(); });
    }
  };
  sample();
  while (done < args.streams && io.run_one()) {
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double cpu = SelfCpuSeconds() - cpu_before;
  const double server_cpu = CpuSeconds(server) - server_cpu_before;
  const int64_t server_rss = RssKib(std::to_string(server));
  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);

  const double ideal = double(args.tokens) / double(args.tps);
  fmt::print("streams {} x {} tokens at {} tok/s ({}), ideal stream time {:.2f} s\n", args.streams,
             args.tokens, args.tps, args.protocol, ideal);
  fmt::print("completed {} failed {}{}\n", done - failed, failed,
             first_error.empty() ? "" : " (first: " + first_error + ")");
  fmt::print("wall {:.2f} s, deltas {}, bytes {:.1f} MiB\n", wall, deltas,
             double(bytes) / (1 << 20));
  fmt::print("client RSS before {:.1f} MiB, peak {:.1f} MiB, per stream {:.1f} KiB\n",
             rss_before / 1024.0, peak_rss / 1024.0,
             double(peak_rss - rss_before) / double(args.streams));
  fmt::print("client CPU {:.2f} s ({:.1f} % of one core over the run), {:.1f} us per delta\n", cpu,
             100.0 * cpu / wall, deltas ? 1e6 * cpu / double(deltas) : 0.0);
  fmt::print("server (troupe mock-llm) CPU {:.2f} s, RSS at end {:.1f} MiB\n", server_cpu,
             server_rss / 1024.0);
  return failed == 0 ? 0 : 1;
}

}  // namespace
}  // namespace troupe

int main(int argc, char** argv) { return troupe::Run(troupe::ParseArgs(argc, argv)); }
