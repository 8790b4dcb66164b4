// Tests of the built binary against a real daemon (see daemon_sandbox.h).
#include "cli/testing/daemon_sandbox.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <utility>

namespace troupe::testing {

Ran RunBinary(const std::string& binary, const std::string& cwd,
              const std::vector<std::string>& args, const std::string& input, int timeout_ms) {
  int in[2], out[2], err[2];
  EXPECT_EQ(pipe2(in, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(out, O_CLOEXEC), 0);
  EXPECT_EQ(pipe2(err, O_CLOEXEC), 0);
  std::vector<char*> argv;
  argv.push_back(const_cast<char*>(binary.c_str()));
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], STDIN_FILENO);
    dup2(out[1], STDOUT_FILENO);
    dup2(err[1], STDERR_FILENO);
    if (chdir(cwd.c_str()) != 0) _exit(126);
    execv(binary.c_str(), argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  close(err[1]);
  if (!input.empty()) (void)!write(in[1], input.data(), input.size());
  close(in[1]);
  Ran ran;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool out_open = true, err_open = true;
  while (out_open || err_open) {
    pollfd fds[2] = {{out_open ? out[0] : -1, POLLIN, 0}, {err_open ? err[0] : -1, POLLIN, 0}};
    const int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                          deadline - std::chrono::steady_clock::now())
                                          .count());
    if (left <= 0 || poll(fds, 2, left) <= 0) {
      ADD_FAILURE() << "troupe " << (args.empty() ? "" : args[0]) << " did not finish in "
                    << timeout_ms << " ms";
      kill(pid, SIGKILL);
      break;
    }
    char buffer[4096];
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buffer, sizeof buffer);
      if (n <= 0) {
        (i == 0 ? out_open : err_open) = false;
      } else {
        (i == 0 ? ran.out : ran.err).append(buffer, static_cast<size_t>(n));
      }
    }
  }
  close(out[0]);
  close(err[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  ran.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return ran;
}

bool ProcessAlive(int64_t pid) {
  if (pid <= 0 || kill(static_cast<pid_t>(pid), 0) != 0) return false;
  const std::string stat = ReadFileBytes("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren == std::string::npos || paren + 2 >= stat.size() || stat[paren + 2] != 'Z';
}

DaemonSandbox::DaemonSandbox(std::string binary, const std::string& config_jsonc)
    : binary_(std::move(binary)),
      data_env_("TROUPE_DATA_DIR", dir_.File("data").c_str()),
      config_env_("XDG_CONFIG_HOME", dir_.File("config").c_str()),
      socket_env_("TROUPE_SOCKET", nullptr),
      url_env_("TROUPE_URL", nullptr),
      token_env_("TROUPE_TOKEN", nullptr),
      autostart_env_("TROUPE_NO_AUTOSTART", nullptr),
      color_env_("NO_COLOR", "1"),
      work_(dir_.File("work")) {
  dir_.Write("config/troupe/troupe.jsonc", config_jsonc);
  std::filesystem::create_directories(work_);
}

DaemonSandbox::~DaemonSandbox() { StopDaemon(); }

Ran DaemonSandbox::Run(const std::vector<std::string>& args, const std::string& input,
                       int timeout_ms) const {
  return RunBinary(binary_, work_, args, input, timeout_ms);
}

int64_t DaemonSandbox::DaemonPid() const {
  const nlohmann::json lock =
      nlohmann::json::parse(ReadFileBytes(dir_.File("data/troupe.lock")), nullptr, false);
  return lock.is_object() ? lock.value("pid", int64_t{0}) : 0;
}

void DaemonSandbox::StopDaemon() {
  if (!std::filesystem::exists(dir_.File("data/troupe.lock"))) return;
  const Ran stop = Run({"stop", "--timeout", "15000"});
  EXPECT_EQ(stop.code, 0) << stop.err;
  const int64_t pid = DaemonPid();
  if (ProcessAlive(pid)) {
    ADD_FAILURE() << "the daemon (pid " << pid << ") is still running after `troupe stop`";
    kill(static_cast<pid_t>(pid), SIGKILL);
  }
}

}  // namespace troupe::testing
