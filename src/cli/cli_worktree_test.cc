// `troupe diff` and `troupe apply` as users run them (docs/CLI.md "Worktrees"): the built binary
// against a real daemon with the offline mock model, in a real git repository. Two isolated
// tasks change the same line; their diffs print, the first applies, the second is a conflict
// that exits 1 naming the file and leaves the workspace as it was; the other refusals (a task
// without a worktree, an unknown task, isolation outside a repository) exit as documented.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "agent/git_command.h"
#include "agent/testing/git_repo.h"
#include "cli/testing/daemon_sandbox.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;
using testing::Ran;

constexpr const char* kOriginal = "line 1\nline 2\nline 3\n";

class CliWorktreeTest : public ::testing::Test {
 protected:
  void SetUp() override { testing::MakeGitRepo(sandbox_.work(), {{"shared.txt", kOriginal}}); }

  Ran Troupe(const std::vector<std::string>& args) { return sandbox_.Run(args); }

  // `troupe run --wait` of a `general` task in a worktree whose model writes `content` to
  // shared.txt, waited for; returns its id.
  std::string RunIsolated(const std::string& content) {
    const std::string prompt =
        "#mock tool=write:" + json({{"path", "shared.txt"}, {"content", content}}).dump() +
        " reply=done\nEdit shared.txt.";
    Ran ran = Troupe({"run", "--agent", "general", "--isolation", "worktree", "--description",
                      "edit shared", prompt});
    EXPECT_EQ(ran.code, 0) << ran.err;
    EXPECT_TRUE(std::regex_match(ran.out, std::regex("bg_[0-9a-z]{18}\n"))) << ran.out;
    const std::string id = ran.out.substr(0, ran.out.find('\n'));
    Ran waited = Troupe({"wait", id});
    EXPECT_EQ(waited.code, 0) << waited.out << waited.err;
    return id;
  }

  std::string Git(const std::vector<std::string>& args) {
    Result<std::string> out = RunGitOk(sandbox_.work(), args);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : "";
  }

  std::string Shared() { return testing::ReadFileBytes(sandbox_.work() + "/shared.txt"); }

  testing::DaemonSandbox sandbox_{TROUPE_BINARY, R"({"default_model": "mock/scripted"})"};
};

TEST_F(CliWorktreeTest, DiffPrintsTheChangeApplyMergesAndAConflictExits1NamingTheFile) {
  const std::string first = RunIsolated("line 1\nfrom the first\nline 3\n");
  const std::string second = RunIsolated("line 1\nfrom the second\nline 3\n");
  ASSERT_FALSE(first.empty());
  ASSERT_FALSE(second.empty());
  EXPECT_EQ(Shared(), kOriginal);  // both worked on their own branches

  Ran diff = Troupe({"diff", first});
  EXPECT_EQ(diff.code, 0) << diff.err;
  EXPECT_THAT(diff.out, HasSubstr("diff --git a/shared.txt b/shared.txt"));
  EXPECT_THAT(diff.out, HasSubstr("\n-line 2\n+from the first\n"));
  EXPECT_EQ(diff.err, "");
  Ran diff_json = Troupe({"diff", second, "--json"});
  EXPECT_EQ(diff_json.code, 0) << diff_json.err;
  const json d = json::parse(diff_json.out, nullptr, false);
  ASSERT_TRUE(d.is_object()) << diff_json.out;
  EXPECT_EQ(d.value("branch", ""), "troupe/" + second);
  EXPECT_THAT(d.value("diff", ""), HasSubstr("+from the second"));

  Ran applied = Troupe({"apply", first});
  EXPECT_EQ(applied.code, 0) << applied.err;
  EXPECT_TRUE(std::regex_match(applied.out, std::regex("merged troupe/" + first + " into .* as " +
                                                       "[0-9a-f]{12}\n")))
      << applied.out;
  EXPECT_EQ(Shared(), "line 1\nfrom the first\nline 3\n");
  EXPECT_EQ(Git({"status", "--porcelain"}), "");
  const std::string head = Git({"rev-parse", "HEAD"});

  Ran again = Troupe({"apply", first});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_THAT(again.out, HasSubstr("nothing to apply"));
  EXPECT_EQ(Git({"rev-parse", "HEAD"}), head);

  Ran conflict = Troupe({"apply", second});
  EXPECT_EQ(conflict.code, 1);
  EXPECT_EQ(conflict.out, "");
  EXPECT_THAT(conflict.err, StartsWith("troupe apply: branch troupe/" + second + " conflicts "));
  EXPECT_THAT(conflict.err, HasSubstr(" in shared.txt; nothing was changed"));
  EXPECT_THAT(conflict.err, HasSubstr("git merge troupe/" + second));
  // A conflict of branches, not a busy session: no hint to wait for a task.
  EXPECT_THAT(conflict.err, Not(HasSubstr("troupe wait")));
  EXPECT_EQ(Shared(), "line 1\nfrom the first\nline 3\n");
  EXPECT_EQ(Git({"rev-parse", "HEAD"}), head);
  EXPECT_EQ(Git({"status", "--porcelain"}), "");
  EXPECT_EQ(Git({"show", "troupe/" + second + ":shared.txt"}),
            "line 1\nfrom the second\nline 3\n");
  sandbox_.StopDaemon();
}

TEST_F(CliWorktreeTest, RefusalsExitAsDocumented) {
  Ran plain = Troupe({"run", "--wait", "#mock reply=here"});
  ASSERT_EQ(plain.code, 0) << plain.err;
  Ran ps = Troupe({"ps", "--all", "--json"});
  const json tasks = json::parse(ps.out, nullptr, false);
  ASSERT_TRUE(tasks.is_object()) << ps.out;
  const std::string id = tasks["tasks"][0].value("id", "");

  Ran no_branch = Troupe({"diff", id});
  EXPECT_EQ(no_branch.code, 1);
  EXPECT_THAT(no_branch.err, StartsWith("troupe diff: task " + id + " ran in its workspace"));
  Ran no_apply = Troupe({"apply", id});
  EXPECT_EQ(no_apply.code, 1);
  EXPECT_THAT(no_apply.err, HasSubstr("its change is there already"));

  Ran unknown = Troupe({"apply", "bg_0000000000000000zz"});
  EXPECT_EQ(unknown.code, 1);
  EXPECT_THAT(unknown.err, HasSubstr("`troupe ps --all` lists the tasks)"));

  const std::string outside = sandbox_.dir().File("not-a-repo");
  std::filesystem::create_directories(outside);
  Ran refused =
      Troupe({"run", "--isolation", "worktree", "--workspace", outside, "#mock reply=never"});
  EXPECT_EQ(refused.code, 1) << refused.err;  // the daemon refused it (exit codes: 1)
  EXPECT_THAT(refused.err, HasSubstr("isolation"));
  EXPECT_THAT(refused.err, HasSubstr("not in a git repository"));
  sandbox_.StopDaemon();
}

}  // namespace
}  // namespace troupe
