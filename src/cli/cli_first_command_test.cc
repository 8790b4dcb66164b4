// The built `troupe` binary as a new user meets it: the very first command, and `troupe mcp`
// started cold by an AI tool, in the environments users' machines have — a login session's
// XDG_RUNTIME_DIR, one that names a directory that does not exist (containers) or belongs to
// someone else (`su`), none at all, `env -i` with only HOME and PATH, a HOME with spaces, a HOME
// too long for a Unix socket path, another user than root. Nothing of the test's environment is
// inherited; each test has its own HOME under a temporary directory (so the machine's own
// ~/.local/share/troupe is never touched) and stops every daemon it started.
//
// Issue 14: the client waited at $XDG_RUNTIME_DIR/troupe/troupe.sock while the daemon it started
// listened in the data directory; the first command failed after 15 s with exit 5.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "cli/testing/daemon_sandbox.h"
#include "cli/testing/user_session.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using ::testing::EndsWith;
using ::testing::HasSubstr;
using ::testing::Not;
using testing::ProcessAlive;
using testing::Ran;
using testing::RunAs;
using testing::SessionChild;
using ::testing::StartsWith;
using testing::UserSession;

// Bounds every wait on a command: a hang guard, far above what any step takes.
constexpr int kHangGuardMs = 30'000;
constexpr uid_t kNobody = 65534;
constexpr gid_t kNogroup = 65534;

json Initialize() {
  return {{"jsonrpc", "2.0"},
          {"id", 0},
          {"method", "initialize"},
          {"params",
           {{"protocolVersion", "2025-06-18"},
            {"capabilities", json::object()},
            {"clientInfo", {{"name", "cli_first_command_test"}, {"version", "1"}}}}}};
}

class FirstCommandTest : public ::testing::Test {
 protected:
  FirstCommandTest() {
    // Another user's home lies inside: others may pass through (not list) this directory.
    EXPECT_EQ(chmod(dir_.path().c_str(), 0711), 0);
  }

  ~FirstCommandTest() override {
    // A test that failed half-way may leave its daemon running: it goes.
    for (const std::string& data_dir : data_dirs_) {
      const int64_t pid = LockPid(data_dir);
      if (!ProcessAlive(pid)) continue;
      kill(static_cast<pid_t>(pid), SIGTERM);
      for (int i = 0; i < 500 && ProcessAlive(pid); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (ProcessAlive(pid)) kill(static_cast<pid_t>(pid), SIGKILL);
    }
  }

  static bool Root() { return geteuid() == 0; }

  // The built binary, or for another user a copy of it in this test's directory: the build may
  // lie in a checkout only its owner can enter (a clone in a `mktemp -d` directory).
  std::string Binary(const UserSession& session) {
    if (!session.uid) return TROUPE_BINARY;
    const std::string copy = dir_.File("bin/troupe");
    if (!fs::exists(copy)) {
      fs::create_directories(dir_.File("bin"));
      EXPECT_EQ(chmod(dir_.File("bin").c_str(), 0755), 0);
      fs::copy_file(TROUPE_BINARY, copy);
      EXPECT_EQ(chmod(copy.c_str(), 0755), 0);
    }
    return copy;
  }

  // A directory of the session's user (made with the parents it needs, mode 0700).
  static std::string MakeDir(const std::string& path, const UserSession& session) {
    fs::create_directories(path);
    EXPECT_EQ(chmod(path.c_str(), 0700), 0);
    if (session.uid) {
      EXPECT_EQ(chown(path.c_str(), *session.uid, *session.gid), 0) << path;
    }
    return path;
  }

  // A session of this test's user or, with `nobody` (root only), of uid 65534, with its home at
  // `home` and a project directory in it to work in. `env` is the rest of the environment.
  UserSession Session(const std::string& home, std::map<std::string, std::string> env,
                      bool nobody = false) {
    UserSession session;
    if (nobody) {
      session.uid = kNobody;
      session.gid = kNogroup;
    }
    session.env = std::move(env);
    session.env["HOME"] = home;
    MakeDir(home, session);
    project_ = MakeDir(home + "/project", session);
    data_dirs_.push_back(home + "/.local/share/troupe");
    return session;
  }

  // What a desktop terminal has besides HOME (and XDG_RUNTIME_DIR, given by each test).
  static std::map<std::string, std::string> Desktop() {
    return {{"PATH", "/usr/local/bin:/usr/bin:/bin"},
            {"LANG", "C.UTF-8"},
            {"TERM", "xterm-256color"},
            {"SHELL", "/bin/bash"},
            {"USER", "someone"},
            {"LOGNAME", "someone"}};
  }

  static int64_t LockPid(const std::string& data_dir) {
    const json lock =
        json::parse(testing::ReadFileBytes(data_dir + "/troupe.lock"), nullptr, false);
    return lock.is_object() ? lock.value("pid", int64_t{0}) : 0;
  }
  static std::string LockSocket(const std::string& data_dir) {
    const json lock =
        json::parse(testing::ReadFileBytes(data_dir + "/troupe.lock"), nullptr, false);
    return lock.is_object() ? lock.value("socket", "") : "";
  }

  Ran Troupe(const UserSession& session, const std::vector<std::string>& args) {
    return RunAs(session, Binary(session), project_, args, "", kHangGuardMs);
  }

  // `troupe stop` in the session ends the daemon of `data_dir`.
  void Stop(const UserSession& session, const std::string& data_dir) {
    const int64_t pid = LockPid(data_dir);
    const Ran stop = Troupe(session, {"stop", "--timeout", "15000"});
    EXPECT_EQ(stop.code, 0) << stop.err;
    EXPECT_FALSE(ProcessAlive(pid)) << "the daemon (pid " << pid << ") survived `troupe stop`";
  }

  // The first command starts the daemon and runs a task; then, with the daemon stopped, an AI
  // tool starts `troupe mcp` cold and gets its answer to `initialize`. The daemon listens on
  // `socket` (a prefix of it when `socket` ends with '/').
  void ExpectFirstContactWorks(const UserSession& session, const std::string& socket,
                               const std::vector<std::string>& first_command = {
                                   "run", "--agent", "explore", "--wait", "#mock reply=hi"}) {
    const std::string data_dir = session.env.at("HOME") + "/.local/share/troupe";
    ASSERT_FALSE(fs::exists(data_dir + "/troupe.lock")) << "a daemon ran before the first command";

    const Ran first = Troupe(session, first_command);
    EXPECT_EQ(first.code, 0) << first.err;
    EXPECT_THAT(first.err, Not(HasSubstr("did not answer")));
    if (first_command[0] == "run") {
      EXPECT_THAT(first.out, StartsWith("hi\n"));  // then the offline model's notice
    }
    ExpectSocket(LockSocket(data_dir), socket);
    const Ran ps = Troupe(session, {"ps", "--json"});
    EXPECT_EQ(ps.code, 0) << ps.err;
    Stop(session, data_dir);

    SessionChild mcp(session, Binary(session), project_, {"mcp"});
    mcp.Write(Initialize().dump() + "\n");
    const std::optional<std::string> line = mcp.ReadLine(kHangGuardMs);
    ASSERT_TRUE(line.has_value()) << "no answer to initialize; stderr: " << mcp.err();
    const json answer = json::parse(*line, nullptr, false);
    EXPECT_EQ(answer.value("id", json()), 0) << *line;
    EXPECT_EQ(answer["result"]["serverInfo"]["name"], "troupe") << *line;
    // Its first connection started the daemon and reached it (no "each message will try again").
    EXPECT_THAT(mcp.err(), HasSubstr("started the daemon"));
    EXPECT_THAT(mcp.err(), Not(HasSubstr("did not answer")));
    const Ran ended = mcp.Finish(kHangGuardMs);
    EXPECT_EQ(ended.code, 0) << ended.err;
    ExpectSocket(LockSocket(data_dir), socket);
    Stop(session, data_dir);
  }

  static void ExpectSocket(const std::string& actual, const std::string& expected) {
    if (!expected.empty() && expected.back() == '/') {
      EXPECT_THAT(actual, StartsWith(expected));
      EXPECT_THAT(actual, EndsWith(".sock"));
    } else {
      EXPECT_EQ(actual, expected);
    }
  }

  testing::TestDir dir_;
  std::string project_;
  std::vector<std::string> data_dirs_;
};

TEST_F(FirstCommandTest, ALoginSessionWithItsRuntimeDir) {
  const std::string runtime = dir_.File("run/user/1000");
  auto env = Desktop();
  env["XDG_RUNTIME_DIR"] = runtime;
  UserSession session = Session(dir_.File("home"), env);
  MakeDir(runtime, session);
  ExpectFirstContactWorks(session, runtime + "/troupe/troupe.sock");
}

TEST_F(FirstCommandTest, ARuntimeDirThatDoesNotExist) {
  // A container or a service manager that sets the variable without making the directory.
  const std::string runtime = dir_.File("run/user/1000");
  auto env = Desktop();
  env["XDG_RUNTIME_DIR"] = runtime;
  UserSession session = Session(dir_.File("home"), env);
  ExpectFirstContactWorks(session, dir_.File("home/.local/state/troupe/troupe.sock"));
  EXPECT_FALSE(fs::exists(runtime)) << "troupe made up the session's runtime directory";
}

TEST_F(FirstCommandTest, NoRuntimeDir) {
  UserSession session = Session(dir_.File("home"), Desktop());
  ExpectFirstContactWorks(session, dir_.File("home/.local/state/troupe/troupe.sock"));
}

TEST_F(FirstCommandTest, EnvDashIWithOnlyHomeAndPath) {
  UserSession session = Session(dir_.File("home"), {{"PATH", "/usr/bin:/bin"}});
  ExpectFirstContactWorks(session, dir_.File("home/.local/state/troupe/troupe.sock"),
                          {"ps", "--json"});
  const Ran run = Troupe(session, {"run", "--agent", "explore", "--wait", "#mock reply=hi"});
  EXPECT_EQ(run.code, 0) << run.err;
  EXPECT_THAT(run.out, StartsWith("hi\n"));
  Stop(session, dir_.File("home/.local/share/troupe"));
}

TEST_F(FirstCommandTest, AHomeAndARuntimeDirWithSpaces) {
  const std::string runtime = dir_.File("run dir/user 1000");
  auto env = Desktop();
  env["XDG_RUNTIME_DIR"] = runtime;
  UserSession session = Session(dir_.File("Users/Jane Q. Public/my home"), env);
  MakeDir(runtime, session);
  ExpectFirstContactWorks(session, runtime + "/troupe/troupe.sock");
}

TEST_F(FirstCommandTest, AnotherUserThanRoot) {
  if (!Root()) GTEST_SKIP() << "runs the binary as uid 65534, which needs root";
  const std::string runtime = dir_.File("run/user/65534");
  auto env = Desktop();
  env["XDG_RUNTIME_DIR"] = runtime;
  UserSession session = Session(dir_.File("nobody home"), env, /*nobody=*/true);
  MakeDir(runtime, session);
  ExpectFirstContactWorks(session, runtime + "/troupe/troupe.sock");
  struct stat st {};
  ASSERT_EQ(stat(runtime.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, kNobody);
}

TEST_F(FirstCommandTest, ARuntimeDirOfAnotherUserAsInASuShell) {
  // `su nobody` keeps the first user's XDG_RUNTIME_DIR: it exists, but is not nobody's.
  if (!Root()) GTEST_SKIP() << "runs the binary as uid 65534, which needs root";
  const std::string runtime = dir_.File("run/user/0");
  fs::create_directories(runtime);
  ASSERT_EQ(chmod(runtime.c_str(), 0700), 0);
  auto env = Desktop();
  env["XDG_RUNTIME_DIR"] = runtime;
  UserSession session = Session(dir_.File("nobody home"), env, /*nobody=*/true);
  ExpectFirstContactWorks(session, dir_.File("nobody home/.local/state/troupe/troupe.sock"));
}

// A HOME so long that ~/.local/state/troupe/troupe.sock does not fit a Unix socket address: the
// socket goes to /tmp/troupe-<uid>/<hash>.sock, in a directory others cannot have made. Run as
// nobody when root, so as not to share /tmp/troupe-0 with the machine's root. (One test: two
// would race for that directory when ctest runs them in parallel.)
TEST_F(FirstCommandTest, AHomeTooLongForASocketPath) {
  const uid_t uid = Root() ? kNobody : geteuid();
  const std::string shared_dir = "/tmp/troupe-" + std::to_string(uid);
  if (fs::exists(shared_dir)) GTEST_SKIP() << shared_dir << " exists already (not this test's)";
  struct RemoveAfter {
    std::string dir;
    ~RemoveAfter() { fs::remove_all(dir); }
  } remove_after{shared_dir};
  std::string home = dir_.File("home");
  while (home.size() < 100) home += "/a-rather-long-directory-name";
  UserSession session = Session(home, {{"PATH", "/usr/bin:/bin"}}, /*nobody=*/Root());
  const std::string lock = home + "/.local/share/troupe/troupe.lock";

  if (Root()) {
    // Where nobody's troupe would listen: the error of a command that may not start a daemon
    // names it.
    UserSession no_autostart = session;
    no_autostart.env["TROUPE_NO_AUTOSTART"] = "1";
    const Ran dry = Troupe(no_autostart, {"ps"});
    EXPECT_EQ(dry.code, 5) << dry.err;
    const size_t at = dry.err.find(shared_dir + "/");
    ASSERT_NE(at, std::string::npos) << dry.err;
    const size_t end = dry.err.find(".sock", at);
    ASSERT_NE(end, std::string::npos) << dry.err;
    const std::string planted = dry.err.substr(at, end + 5 - at);

    // Root, another user to nobody, made that directory first and listens there, open to
    // everyone. nobody's troupe refuses at once: it never connects, waits or starts a daemon.
    fs::create_directories(shared_dir);
    ASSERT_EQ(chmod(shared_dir.c_str(), 0755), 0);
    const int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_un address = {};
    address.sun_family = AF_UNIX;
    planted.copy(address.sun_path, sizeof address.sun_path - 1);
    ASSERT_EQ(bind(listener, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0)
        << planted << ": " << std::strerror(errno);
    ASSERT_EQ(listen(listener, 8), 0);
    ASSERT_EQ(chmod(planted.c_str(), 0666), 0);
    const Ran refused = Troupe(session, {"ps"});
    EXPECT_NE(refused.code, 0);
    EXPECT_THAT(refused.err, HasSubstr("will not talk to a troupe daemon at " + planted + ": " +
                                       shared_dir + " belongs to another user (uid 0)"));
    EXPECT_LT(accept(listener, nullptr, nullptr), 0) << "the client talked to the planted socket";
    EXPECT_FALSE(fs::exists(lock));
    close(listener);
    fs::remove_all(shared_dir);
  }

  ExpectFirstContactWorks(session, shared_dir + "/");
  struct stat st {};
  ASSERT_EQ(stat(shared_dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
}

}  // namespace
}  // namespace troupe
