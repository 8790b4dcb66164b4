#include "cli/dashboard_command.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "cli/exit_codes.h"

extern char** environ;

namespace troupe {

namespace {

using json = nlohmann::json;

// How long a browser command may take to fail before it is left running on its own: xdg-open
// returns at once, while `$BROWSER` may be the browser itself, which runs until closed.
constexpr auto kBrowserStartWait = std::chrono::seconds(3);

std::string FindInPath(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path != nullptr ? path : "/usr/bin:/bin");
  std::string dir;
  while (std::getline(dirs, dir, ':')) {
    if (dir.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(dir) / name;
    if (::access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return {};
}

// Starts `argv` in its own session with stdin/stdout/stderr on /dev/null; "" once it started
// (and did not fail within kBrowserStartWait), else why not.
std::string StartBrowser(const std::vector<std::string>& argv) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  for (int fd = 0; fd <= 2; ++fd) {
    posix_spawn_file_actions_addopen(&actions, fd, "/dev/null", fd == 0 ? O_RDONLY : O_WRONLY, 0);
  }
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  const int spawned = posix_spawnp(&pid, args[0], &actions, &attributes, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (spawned != 0) return argv[0] + ": " + std::strerror(spawned);
  const auto deadline = std::chrono::steady_clock::now() + kBrowserStartWait;
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) {
      if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
      return argv[0] + (WIFEXITED(status) ? " exited with status " + std::to_string(WEXITSTATUS(status))
                                          : std::string(" was killed by a signal"));
    }
    if (done < 0) return {};
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {};  // still running: the browser itself; it goes on without us
}

}  // namespace

std::vector<std::string> BrowserCommand(const std::string& browser_env, const std::string& xdg_open,
                                        const std::string& url) {
  std::vector<std::string> argv;
  std::istringstream words(browser_env);
  for (std::string word; words >> word;) argv.push_back(word);
  if (argv.empty()) {
    if (xdg_open.empty()) return {};
    argv.push_back(xdg_open);
  }
  argv.push_back(url);
  return argv;
}

int RunDashboardCommand(CommandEnv& env, const DashboardCommandOptions& options) {
  Result<DaemonClient*> client = env.Client();
  if (!client.ok()) return env.Fail(client.status());
  Result<json> answer = (*client)->Post("/v1/dashboard/session", json::object());
  if (!answer.ok()) return env.FailRequest(answer.status());
  const std::string url = answer->value("url", "");
  if (options.json) {
    env.PrintJson(*answer);
  } else {
    env.out() << url << "\n";
    env.out().flush();
    env.err() << "This link logs one browser in; it is valid for 2 minutes, once. "
                 "Run `troupe dashboard` again for another.\n";
  }
  if (!options.open) return kExitOk;
  const char* browser = std::getenv("BROWSER");
  std::vector<std::string> argv =
      BrowserCommand(browser != nullptr ? browser : "", FindInPath("xdg-open"), url);
  if (argv.empty()) {
    env.err() << "troupe dashboard: cannot open a browser: $BROWSER is not set and xdg-open is "
                 "not installed; open the link above in a browser yourself\n";
    return kExitError;
  }
  if (std::string failed = StartBrowser(argv); !failed.empty()) {
    env.err() << "troupe dashboard: cannot open a browser (" << failed
              << "); open the link above in a browser yourself\n";
    return kExitError;
  }
  return kExitOk;
}

}  // namespace troupe
