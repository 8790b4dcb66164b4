#include "e2e/processes.h"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <fstream>
#include <thread>

extern char** environ;

namespace troupe::bench {

int64_t NowUs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

pid_t Spawn(const std::vector<std::string>& argv, const std::vector<std::string>& extra_env,
            const std::string& output_path) {
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<char*> env;
  for (char** e = environ; *e != nullptr; ++e) env.push_back(*e);
  for (const std::string& e : extra_env) env.push_back(const_cast<char*>(e.c_str()));
  env.push_back(nullptr);

  const char* out = output_path.empty() ? "/dev/null" : output_path.c_str();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out, O_WRONLY | O_CREAT | O_APPEND,
                                   0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), env.data());
  posix_spawn_file_actions_destroy(&actions);
  return rc == 0 ? pid : -1;
}

int RunToExit(const std::vector<std::string>& argv) {
  const pid_t pid = Spawn(argv);
  if (pid < 0) return 127;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

int WaitOrKill(pid_t pid, int64_t timeout_ms) {
  const int64_t deadline = NowUs() + timeout_ms * 1000;
  int status = 0;
  while (NowUs() < deadline) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    if (r < 0) return -1;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  kill(pid, SIGKILL);
  waitpid(pid, &status, 0);
  return -1;
}

int64_t RaiseFileLimit() {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return -1;
  limit.rlim_cur = limit.rlim_max;
  setrlimit(RLIMIT_NOFILE, &limit);
  getrlimit(RLIMIT_NOFILE, &limit);
  return static_cast<int64_t>(limit.rlim_cur);
}

ProcessUsage ReadUsage(int64_t pid) {
  ProcessUsage usage;
  {
    std::ifstream in(fmt::format("/proc/{}/status", pid));
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("VmRSS:", 0) == 0) usage.rss_mib = std::stod(line.substr(6)) / 1024.0;
    }
  }
  {
    // The main thread's wait for a CPU; every thread's time on one (nanoseconds, unlike the
    // clock ticks of /proc/PID/stat).
    std::ifstream in(fmt::format("/proc/{}/schedstat", pid));
    double on_cpu_ns = 0;
    double waiting_ns = 0;
    if (in >> on_cpu_ns >> waiting_ns) usage.run_queue_s = waiting_ns / 1e9;
  }
  if (DIR* dir = opendir(fmt::format("/proc/{}/task", pid).c_str())) {
    double on_cpu_ns = 0;
    while (dirent* entry = readdir(dir)) {
      if (entry->d_name[0] == '.') continue;
      std::ifstream in(fmt::format("/proc/{}/task/{}/schedstat", pid, entry->d_name));
      double ns = 0;
      if (in >> ns) on_cpu_ns += ns;
    }
    closedir(dir);
    usage.cpu_s = on_cpu_ns / 1e9;
  }
  if (DIR* dir = opendir(fmt::format("/proc/{}/fd", pid).c_str())) {
    while (dirent* entry = readdir(dir)) usage.fds += entry->d_name[0] != '.' ? 1 : 0;
    closedir(dir);
  }
  return usage;
}

std::string MachineSummary() {
  std::string cpu = "unknown CPU";
  {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("model name", 0) == 0) {
        cpu = line.substr(line.find(':') + 2);
        break;
      }
    }
  }
  double mem_gib = 0;
  {
    std::ifstream in("/proc/meminfo");
    std::string key;
    double kib = 0;
    if (in >> key >> kib) mem_gib = kib / (1024.0 * 1024.0);
  }
  std::string load;
  std::getline(std::ifstream("/proc/loadavg") >> std::ws, load);
  utsname u{};
  uname(&u);
  return fmt::format("{} x {}, {:.0f} GiB, Linux {}, load average {}",
                     sysconf(_SC_NPROCESSORS_ONLN), cpu, mem_gib, u.release,
                     load.substr(0, load.find(' ', load.find(' ', load.find(' ') + 1) + 1)));
}

}  // namespace troupe::bench
