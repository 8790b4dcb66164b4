#include "daemon/daemon_paths.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

// An injected environment: `vars`, and a file system where every directory is a private one of
// this user's, or, with `private_dirs`, only those.
PathsEnv Env(std::map<std::string, std::string> vars,
             std::optional<std::set<std::string>> private_dirs = std::nullopt) {
  PathsEnv env;
  env.getenv = [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
  env.is_private_dir = [private_dirs = std::move(private_dirs)](const std::string& dir) {
    return !private_dirs || private_dirs->count(dir) > 0;
  };
  return env;
}

std::string Cwd() { return std::filesystem::current_path().string(); }

mode_t ModeOf(const std::string& path) {
  struct stat st {};
  EXPECT_EQ(stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 0777;
}

TEST(DaemonPathsTest, TheDataDirFlagWinsAndNamesEveryFile) {
  auto p = ResolveDaemonPaths("/srv/troupe", "",
                              Env({{"TROUPE_DATA_DIR", "/env/dir"},
                                   {"XDG_DATA_HOME", "/xdg"},
                                   {"XDG_RUNTIME_DIR", "/run/user/7"},
                                   {"HOME", "/home/u"}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->data_dir, "/srv/troupe");
  EXPECT_EQ(p->db, "/srv/troupe/troupe.db");
  EXPECT_EQ(p->lock, "/srv/troupe/troupe.lock");
  EXPECT_EQ(p->token, "/srv/troupe/token");
  EXPECT_EQ(p->log, "/srv/troupe/troupe.log");
  // Not the default data dir: the socket lives in it, whatever XDG_RUNTIME_DIR says.
  EXPECT_EQ(p->socket, "/srv/troupe/troupe.sock");
}

TEST(DaemonPathsTest, RelativePathsAreMadeAbsoluteAgainstTheCurrentDirectory) {
  auto p = ResolveDaemonPaths("state/./d/", "sock/s.sock", Env({{"HOME", "/home/u"}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->data_dir, Cwd() + "/state/d");
  EXPECT_EQ(p->socket, Cwd() + "/sock/s.sock");
  auto env = ResolveDaemonPaths("", "", Env({{"TROUPE_DATA_DIR", "rel"}, {"HOME", "/h"}}));
  ASSERT_TRUE(env.ok());
  EXPECT_EQ(env->data_dir, Cwd() + "/rel");
}

TEST(DaemonPathsTest, TroupeDataDirIsNextAndIsNotTheDefaultDir) {
  auto p = ResolveDaemonPaths("", "",
                              Env({{"TROUPE_DATA_DIR", "/env/dir/"},
                                   {"XDG_DATA_HOME", "/xdg"},
                                   {"XDG_RUNTIME_DIR", "/run/user/7"},
                                   {"HOME", "/home/u"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data_dir, "/env/dir");
  EXPECT_EQ(p->socket, "/env/dir/troupe.sock");
}

TEST(DaemonPathsTest, XdgDataHomeGivesTheDefaultDirWithTheSocketInTheRuntimeDir) {
  auto p = ResolveDaemonPaths(
      "", "", Env({{"XDG_DATA_HOME", "/xdg"}, {"XDG_RUNTIME_DIR", "/run/user/7"}, {"HOME", "/h"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data_dir, "/xdg/troupe");
  EXPECT_EQ(p->socket, "/run/user/7/troupe/troupe.sock");

  // Without a runtime dir: under ~/.local/state.
  auto no_runtime = ResolveDaemonPaths("", "", Env({{"XDG_DATA_HOME", "/xdg"}, {"HOME", "/h"}}));
  ASSERT_TRUE(no_runtime.ok());
  EXPECT_EQ(no_runtime->socket, "/h/.local/state/troupe/troupe.sock");

  // Without HOME either: in the data dir.
  auto no_home = ResolveDaemonPaths("", "", Env({{"XDG_DATA_HOME", "/xdg"}}));
  ASSERT_TRUE(no_home.ok());
  EXPECT_EQ(no_home->socket, "/xdg/troupe/troupe.sock");
}

TEST(DaemonPathsTest, HomeIsTheLastResort) {
  auto p = ResolveDaemonPaths("", "", Env({{"HOME", "/home/u"}, {"XDG_RUNTIME_DIR", "/run/u"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data_dir, "/home/u/.local/share/troupe");
  EXPECT_EQ(p->socket, "/run/u/troupe/troupe.sock");
  auto no_runtime = ResolveDaemonPaths("", "", Env({{"HOME", "/home/u"}}));
  ASSERT_TRUE(no_runtime.ok());
  EXPECT_EQ(no_runtime->data_dir, "/home/u/.local/share/troupe");
  EXPECT_EQ(no_runtime->socket, "/home/u/.local/state/troupe/troupe.sock");
}

TEST(DaemonPathsTest, EmptyVariablesCountAsUnset) {
  auto p = ResolveDaemonPaths("", "",
                              Env({{"TROUPE_DATA_DIR", ""},
                                   {"XDG_DATA_HOME", ""},
                                   {"XDG_RUNTIME_DIR", ""},
                                   {"TROUPE_SOCKET", ""},
                                   {"HOME", "/home/u"}}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->data_dir, "/home/u/.local/share/troupe");
  EXPECT_EQ(p->socket, "/home/u/.local/state/troupe/troupe.sock");
}

TEST(DaemonPathsTest, WithoutAnyDirectoryItSaysWhatToSet) {
  for (auto env : {Env({}), Env({{"HOME", ""}})}) {
    auto p = ResolveDaemonPaths("", "", env);
    ASSERT_FALSE(p.ok());
    EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
    EXPECT_THAT(p.status().message(), HasSubstr("--data-dir"));
    EXPECT_THAT(p.status().message(), HasSubstr("TROUPE_DATA_DIR"));
  }
  // A data dir of one's own needs no HOME.
  auto given = ResolveDaemonPaths("/d", "", Env({}));
  ASSERT_TRUE(given.ok());
  EXPECT_EQ(given->socket, "/d/troupe.sock");
}

TEST(DaemonPathsTest, TheSocketFlagWinsOverTroupeSocket) {
  auto env = Env({{"TROUPE_SOCKET", "/env/t.sock"}, {"HOME", "/h"}, {"XDG_RUNTIME_DIR", "/r"}});
  auto flag = ResolveDaemonPaths("", "/flag/t.sock", env);
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->socket, "/flag/t.sock");
  auto from_env = ResolveDaemonPaths("", "", env);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->socket, "/env/t.sock");
  auto with_dir = ResolveDaemonPaths("/d", "", env);
  ASSERT_TRUE(with_dir.ok());
  EXPECT_EQ(with_dir->socket, "/env/t.sock");
}

TEST(DaemonPathsTest, ALongDataDirGetsAShortHashedSocketPath) {
  const std::string long_dir = "/" + std::string(120, 'd') + "/state";
  auto p = ResolveDaemonPaths(long_dir, "", Env({{"HOME", "/h"}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->data_dir, long_dir);
  EXPECT_LE(p->socket.size(), 107u);
  EXPECT_THAT(p->socket, StartsWith("/tmp/troupe-" + std::to_string(geteuid()) + "/"));
  EXPECT_THAT(p->socket, ::testing::MatchesRegex("/tmp/troupe-[0-9]+/[0-9a-f]{16}\\.sock"));

  // Stable for one data dir, different for another.
  auto again = ResolveDaemonPaths(long_dir, "", Env({{"HOME", "/h"}}));
  EXPECT_EQ(again->socket, p->socket);
  auto other = ResolveDaemonPaths(long_dir + "2", "", Env({{"HOME", "/h"}}));
  EXPECT_NE(other->socket, p->socket);

  // Under the runtime dir when there is one.
  auto runtime = ResolveDaemonPaths(long_dir, "", Env({{"XDG_RUNTIME_DIR", "/run/user/7"}}));
  ASSERT_TRUE(runtime.ok());
  EXPECT_THAT(runtime->socket, StartsWith("/run/user/7/troupe-"));
  EXPECT_LE(runtime->socket.size(), 107u);
}

TEST(DaemonPathsTest, TheLongestSocketPathThatFitsIsKept) {
  // <dir>/troupe.sock of exactly 107 bytes fits; 108 does not.
  const std::string suffix = "/troupe.sock";
  const std::string fits = "/" + std::string(107 - suffix.size() - 1, 'a');
  auto p = ResolveDaemonPaths(fits, "", Env({}));
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->socket, fits + suffix);
  EXPECT_EQ(p->socket.size(), 107u);
  auto longer = ResolveDaemonPaths(fits + "a", "", Env({}));
  ASSERT_TRUE(longer.ok());
  EXPECT_NE(longer->socket, fits + "a" + suffix);
  EXPECT_LE(longer->socket.size(), 107u);
}

TEST(DaemonPathsTest, ALongDefaultSocketIsHashedToo) {
  const std::string home = "/" + std::string(100, 'h');
  auto p = ResolveDaemonPaths("", "", Env({{"HOME", home}}));
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->data_dir, home + "/.local/share/troupe");
  EXPECT_LE(p->socket.size(), 107u);
  EXPECT_THAT(p->socket, StartsWith("/tmp/troupe-"));
}

TEST(DaemonPathsTest, ATooLongRuntimeDirLeavesNoSocketPath) {
  const std::string long_dir = "/" + std::string(120, 'd');
  auto p =
      ResolveDaemonPaths(long_dir, "", Env({{"XDG_RUNTIME_DIR", "/" + std::string(100, 'r')}}));
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(p.status().message(), HasSubstr("pass --socket"));
}

TEST(DaemonPathsTest, AnExplicitSocketPathThatIsTooLongIsRefusedNotReplaced) {
  const std::string too_long = "/" + std::string(120, 's') + ".sock";
  auto flag = ResolveDaemonPaths("/d", too_long, Env({}));
  ASSERT_FALSE(flag.ok());
  EXPECT_EQ(flag.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(flag.status().message(), StartsWith("--socket: "));
  auto env = ResolveDaemonPaths("/d", "", Env({{"TROUPE_SOCKET", too_long}}));
  ASSERT_FALSE(env.ok());
  EXPECT_THAT(env.status().message(), StartsWith("TROUPE_SOCKET: "));
}

// The autostart bug of issue 14: the client resolved the default data dir with no option and
// waited at $XDG_RUNTIME_DIR/troupe/troupe.sock; the daemon it started got `--data-dir <that
// dir>` and listened in the data dir. However the default dir is named, the socket is the same.
TEST(DaemonPathsTest, TheDefaultDataDirGetsItsSocketHoweverItIsNamed) {
  const std::vector<std::map<std::string, std::string>> machines = {
      {{"HOME", "/home/u"}, {"XDG_RUNTIME_DIR", "/run/user/7"}},
      {{"HOME", "/home/u"}},
      {{"HOME", "/home/u"}, {"XDG_DATA_HOME", "/xdg"}, {"XDG_RUNTIME_DIR", "/run/user/7"}},
      {{"HOME", "/home/my user"}, {"XDG_DATA_HOME", "/home/my user/data"}},
      {{"XDG_DATA_HOME", "/xdg"}},
  };
  for (const auto& vars : machines) {
    const PathsEnv env = Env(vars);
    auto unnamed = ResolveDaemonPaths("", "", env);
    ASSERT_TRUE(unnamed.ok()) << unnamed.status().ToString();
    const std::string dir = unnamed->data_dir;
    if (vars.count("HOME") > 0) {
      EXPECT_NE(unnamed->socket, dir + "/troupe.sock") << dir;
    }
    for (const std::string& named : {dir, dir + "/", dir + "/./", dir + "/../troupe"}) {
      auto flag = ResolveDaemonPaths(named, "", env);
      ASSERT_TRUE(flag.ok());
      EXPECT_EQ(flag->data_dir, dir);
      EXPECT_EQ(flag->socket, unnamed->socket) << "--data-dir " << named;
    }
    auto with_env_vars = vars;
    with_env_vars["TROUPE_DATA_DIR"] = dir;
    auto from_env = ResolveDaemonPaths("", "", Env(with_env_vars));
    ASSERT_TRUE(from_env.ok());
    EXPECT_EQ(from_env->socket, unnamed->socket) << "TROUPE_DATA_DIR=" << dir;
  }
  // Named, the default dir of another user's HOME is just a directory.
  auto other = ResolveDaemonPaths("/home/v/.local/share/troupe", "", Env({{"HOME", "/home/u"}}));
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->socket, "/home/v/.local/share/troupe/troupe.sock");
}

TEST(DaemonPathsTest, ARuntimeDirThatIsMissingOrNotPrivateIsIgnored) {
  // A `su` shell keeps the first user's XDG_RUNTIME_DIR; a container names one never made.
  const std::map<std::string, std::string> vars = {{"HOME", "/home/u"},
                                                   {"XDG_RUNTIME_DIR", "/run/user/7"}};
  auto unusable = ResolveDaemonPaths("", "", Env(vars, std::set<std::string>{}));
  ASSERT_TRUE(unusable.ok());
  EXPECT_EQ(unusable->socket, "/home/u/.local/state/troupe/troupe.sock");
  auto usable = ResolveDaemonPaths("", "", Env(vars, std::set<std::string>{"/run/user/7"}));
  ASSERT_TRUE(usable.ok());
  EXPECT_EQ(usable->socket, "/run/user/7/troupe/troupe.sock");
  // A relative one is invalid (XDG Base Directory spec): ignored.
  auto relative =
      ResolveDaemonPaths("", "", Env({{"HOME", "/home/u"}, {"XDG_RUNTIME_DIR", "run"}}));
  ASSERT_TRUE(relative.ok());
  EXPECT_EQ(relative->socket, "/home/u/.local/state/troupe/troupe.sock");

  // The fallback for a long path is /tmp then.
  const std::string long_dir = "/" + std::string(120, 'd');
  auto long_path = ResolveDaemonPaths(long_dir, "", Env(vars, std::set<std::string>{}));
  ASSERT_TRUE(long_path.ok());
  EXPECT_THAT(long_path->socket, StartsWith("/tmp/troupe-" + std::to_string(geteuid()) + "/"));
}

TEST(DaemonPathsTest, TheRealPrivateDirCheckWantsAnOwnDirectoryOthersCannotWriteTo) {
  testing::TestDir dir;
  const auto is_private = ProcessPathsEnv().is_private_dir;
  std::filesystem::create_directories(dir.File("run"));
  ASSERT_EQ(chmod(dir.File("run").c_str(), 0700), 0);
  EXPECT_TRUE(is_private(dir.File("run")));
  ASSERT_EQ(chmod(dir.File("run").c_str(), 0755), 0);
  EXPECT_TRUE(is_private(dir.File("run")));
  ASSERT_EQ(chmod(dir.File("run").c_str(), 0777), 0);
  EXPECT_FALSE(is_private(dir.File("run")));
  EXPECT_FALSE(is_private(dir.File("missing")));
  EXPECT_FALSE(is_private(dir.Write("file", "x")));
  if (geteuid() == 0) {
    ASSERT_EQ(chmod(dir.File("run").c_str(), 0700), 0);
    ASSERT_EQ(chown(dir.File("run").c_str(), 65534, 65534), 0);
    EXPECT_FALSE(is_private(dir.File("run")));
  }
}

TEST(CheckSocketDirTest, AMissingDirectoryOrAPrivateOneOfOursIsTrusted) {
  testing::TestDir dir;
  EXPECT_TRUE(CheckSocketDir(dir.File("not/yet/made/troupe.sock")).ok());
  EXPECT_TRUE(CheckSocketDir(dir.File("troupe.sock")).ok());
}

TEST(CheckSocketDirTest, ADirectoryOthersCanWriteToIsNot) {
  testing::TestDir dir;
  std::filesystem::create_directories(dir.File("shared"));
  ASSERT_EQ(chmod(dir.File("shared").c_str(), 01777), 0);
  Status s = CheckSocketDir(dir.File("shared/troupe.sock"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("writable by other users"));
}

TEST(CheckSocketDirTest, AnotherUsersDirectoryIsNot) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  // What another user could make in /tmp under the name of our long-path fallback.
  testing::TestDir dir;
  std::filesystem::create_directories(dir.File("troupe-0"));
  ASSERT_EQ(chmod(dir.File("troupe-0").c_str(), 0700), 0);
  ASSERT_EQ(chown(dir.File("troupe-0").c_str(), 65534, 65534), 0);
  Status s = CheckSocketDir(dir.File("troupe-0/0123456789abcdef.sock"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("belongs to another user (uid 65534)"));
}

TEST(DaemonPathsTest, ProcessEnvReadsTheEnvironment) {
  setenv("TROUPE_PATHS_TEST_VAR", "v", 1);
  EXPECT_EQ(ProcessEnv()("TROUPE_PATHS_TEST_VAR"), "v");
  unsetenv("TROUPE_PATHS_TEST_VAR");
  EXPECT_EQ(ProcessEnv()("TROUPE_PATHS_TEST_VAR"), std::nullopt);
}

class PrepareDaemonDirsTest : public ::testing::Test {
 protected:
  DaemonPaths PathsIn(const std::string& data, const std::string& socket_dir) {
    auto p = ResolveDaemonPaths(dir_.File(data), dir_.File(socket_dir) + "/troupe.sock", Env({}));
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.value();
  }
  testing::TestDir dir_;
};

TEST_F(PrepareDaemonDirsTest, CreatesBothDirectoriesPrivateWhateverTheUmask) {
  const mode_t old = umask(0);
  DaemonPaths p = PathsIn("a/data", "b/run");
  Status s = PrepareDaemonDirs(p);
  umask(old);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(ModeOf(p.data_dir), 0700u);
  EXPECT_EQ(ModeOf(dir_.File("b/run")), 0700u);
  // Again: nothing changes.
  EXPECT_TRUE(PrepareDaemonDirs(p).ok());
}

TEST_F(PrepareDaemonDirsTest, AnExistingDirectoryOthersCanReadIsMadePrivate) {
  std::filesystem::create_directories(dir_.File("data"));
  ASSERT_EQ(chmod(dir_.File("data").c_str(), 0755), 0);
  DaemonPaths p = PathsIn("data", "data");
  ASSERT_TRUE(PrepareDaemonDirs(p).ok());
  EXPECT_EQ(ModeOf(dir_.File("data")), 0700u);
}

TEST_F(PrepareDaemonDirsTest, AnExistingDirectoryOthersCanWriteIsRefused) {
  for (mode_t mode : {0777, 0770, 0702}) {
    std::filesystem::create_directories(dir_.File("data"));
    ASSERT_EQ(chmod(dir_.File("data").c_str(), mode), 0);
    DaemonPaths p = PathsIn("data", "run");
    Status s = PrepareDaemonDirs(p);
    ASSERT_FALSE(s.ok()) << std::oct << mode;
    EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
    EXPECT_THAT(s.message(), HasSubstr("writable by other users"));
    EXPECT_THAT(s.message(), HasSubstr("chmod 700 " + dir_.File("data")));
    EXPECT_EQ(ModeOf(dir_.File("data")), mode);  // left as it was
  }
}

TEST_F(PrepareDaemonDirsTest, AFileInTheWayIsRefused) {
  dir_.Write("data", "not a directory");
  Status s = PrepareDaemonDirs(PathsIn("data", "run"));
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr(dir_.File("data")));
}

TEST_F(PrepareDaemonDirsTest, ASocketDirectoryOfAnotherUserIsRefused) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root to give a directory away";
  std::filesystem::create_directories(dir_.File("run"));
  ASSERT_EQ(chown(dir_.File("run").c_str(), 65534, 65534), 0);
  Status s = PrepareDaemonDirs(PathsIn("data", "run"));
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("belongs to another user"));
}

}  // namespace
}  // namespace troupe
