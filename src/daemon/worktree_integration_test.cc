// Isolated tasks on the built binary (issue 17, section 2): `troupe serve` with mock-llm as its
// provider runs three `general` tasks that edit the same file in parallel, each in its own git
// worktree; all three changes stay intact on their branches, the first applies, the others are
// reported as conflicts naming the file and change nothing; a cancelled task's worktree goes
// and its branch stays; worktrees left behind are removed when the daemon starts; the daemon
// answers other clients while git is making a worktree.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "agent/git_command.h"
#include "agent/testing/git_repo.h"
#include "daemon/testing/daemon_harness.h"

namespace troupe {
namespace {

using json = nlohmann::json;
using testing::DaemonHarness;
using testing::Describe;
using ::testing::HasSubstr;
using testing::Reply;

constexpr int kTaskTimeoutMs = 60'000;
constexpr const char* kOriginal = "line 1\nline 2\nline 3\n";

class WorktreeIntegrationTest : public ::testing::Test {
 protected:
  WorktreeIntegrationTest() : h_(TROUPE_BINARY) {}

  void SetUp() override {
    testing::MakeGitRepo(h_.workspace(), {{"shared.txt", kOriginal}});
    mock_ = h_.StartMockLlm(&port_);
    ASSERT_NE(mock_, nullptr);
    h_.SetEnv("TROUPE_IT_KEY", "sk-worktree-integration");
    h_.WriteConfig(R"({"default_model": "local/mock", "providers": {"local": {"type": "openai",
        "base_url": "http://127.0.0.1:)" +
                   std::to_string(port_) + R"(/v1", "api_key_env": "TROUPE_IT_KEY"}}})");
  }

  // A prompt whose model writes `content` to shared.txt after `latency`, then says "done".
  static std::string WritePrompt(const std::string& content, const std::string& latency) {
    return "#mock latency=" + latency +
           " tps=0 tool=write:" + json({{"path", "shared.txt"}, {"content", content}}).dump() +
           " reply=done\nEdit shared.txt.";
  }

  json LaunchIsolated(const std::string& prompt) {
    return h_.Launch({{"agent", "general"},
                      {"description", "edit shared"},
                      {"prompt", prompt},
                      {"isolation", "worktree"}});
  }

  std::string Git(const std::vector<std::string>& args) {
    Result<std::string> out = RunGitOk(h_.workspace(), args);
    EXPECT_TRUE(out.ok()) << out.status().message();
    return out.ok() ? *out : "";
  }

  std::string Shared() { return testing::ReadFileBytes(h_.workspace() + "/shared.txt"); }

  DaemonHarness h_;
  int port_ = 0;
  std::unique_ptr<testing::Process> mock_;
};

TEST_F(WorktreeIntegrationTest, ThreeParallelEditsStayIntactAndApplyOneAfterAnother) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) {
    json task = LaunchIsolated(
        WritePrompt("line 1\nfrom task " + std::to_string(i) + "\nline 3\n", "300ms"));
    ASSERT_TRUE(task.is_object());
    ids.push_back(task["id"]);
  }
  ASSERT_TRUE(h_.WaitAll(ids, kTaskTimeoutMs));
  EXPECT_EQ(Shared(), kOriginal);  // nobody touched the user's copy

  for (size_t i = 0; i < ids.size(); ++i) {
    json task = h_.GetTask(ids[i]);
    ASSERT_EQ(task.value("state", ""), "completed") << task.dump(2);
    const json& w = task["worktree"];
    EXPECT_EQ(w.value("branch", ""), "troupe/" + ids[i]);
    EXPECT_EQ(w.value("removed", false), true);
    EXPECT_EQ(w.value("auto_committed", false), true);
    EXPECT_EQ(w["commits"].size(), 1u) << w.dump(2);
    EXPECT_THAT(w.value("diff_stat", ""), HasSubstr("shared.txt"));
    EXPECT_FALSE(std::filesystem::exists(w.value("path", "")));
    EXPECT_THAT(task.value("result", ""), HasSubstr("Worktree: branch troupe/" + ids[i]));
    Reply diff = h_.Unix().Get("/v1/tasks/" + ids[i] + "/diff");
    ASSERT_EQ(diff.status, 200) << Describe(diff);
    EXPECT_THAT(diff.Json().value("diff", ""), HasSubstr("+from task " + std::to_string(i + 1)));
  }

  Reply first = h_.Unix().Post("/v1/tasks/" + ids[0] + "/apply", std::string("{}"));
  ASSERT_EQ(first.status, 200) << Describe(first);
  EXPECT_EQ(first.Json().value("applied", false), true);
  EXPECT_EQ(Shared(), "line 1\nfrom task 1\nline 3\n");
  const std::string head = Git({"rev-parse", "HEAD"});

  for (size_t i = 1; i < ids.size(); ++i) {
    Reply conflict = h_.Unix().Post("/v1/tasks/" + ids[i] + "/apply", std::string("{}"));
    EXPECT_EQ(conflict.status, 409) << Describe(conflict);
    const json error = conflict.Json().value("error", json::object());
    EXPECT_EQ(error.value("conflicts", json::array()), json::array({"shared.txt"}));
    EXPECT_THAT(error.value("message", ""), HasSubstr("shared.txt"));
    // Nothing lost: the workspace as the first apply left it, clean; the change on its branch.
    EXPECT_EQ(Shared(), "line 1\nfrom task 1\nline 3\n");
    EXPECT_EQ(Git({"rev-parse", "HEAD"}), head);
    EXPECT_EQ(Git({"status", "--porcelain"}), "");
    EXPECT_EQ(Git({"show", "troupe/" + ids[i] + ":shared.txt"}),
              "line 1\nfrom task " + std::to_string(i + 1) + "\nline 3\n");
  }
}

TEST_F(WorktreeIntegrationTest, CancelRemovesTheWorktreeAndKeepsTheBranch) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  json task = LaunchIsolated(WritePrompt("never written\n", "60s"));
  ASSERT_TRUE(task.is_object());
  const std::string id = task["id"];
  const std::string path = h_.data() + "/worktrees/" + id;
  ASSERT_TRUE(std::filesystem::exists(path + "/shared.txt"));
  // What the agent had done by the time it was cancelled (its model is still thinking).
  testing::WriteFileBytes(path + "/shared.txt", "half done\n");
  Reply cancelled = h_.Unix().Post("/v1/tasks/" + id + "/cancel", std::string("{}"));
  ASSERT_EQ(cancelled.status, 200) << Describe(cancelled);
  json after = h_.GetTask(id);
  EXPECT_EQ(after.value("state", ""), "cancelled");
  EXPECT_EQ(after["worktree"].value("removed", false), true);
  EXPECT_FALSE(std::filesystem::exists(path));
  EXPECT_EQ(Git({"show", "troupe/" + id + ":shared.txt"}), "half done\n");
  EXPECT_EQ(Git({"worktree", "list"}).find(id), std::string::npos);
  EXPECT_EQ(Shared(), kOriginal);
}

TEST_F(WorktreeIntegrationTest, ANonGitWorkspaceIsRefusedNamingTheField) {
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  std::filesystem::create_directories(h_.dir().File("plain"));
  Reply r = h_.Unix().Post("/v1/tasks", json{{"prompt", "x"},
                                             {"agent", "general"},
                                             {"isolation", "worktree"},
                                             {"workspace", h_.dir().File("plain")}}
                                            .dump());
  EXPECT_EQ(r.status, 400) << Describe(r);
  EXPECT_EQ(r.Json()["error"].value("field", ""), "isolation");
  EXPECT_THAT(r.body, HasSubstr("not in a git repository"));
}

TEST_F(WorktreeIntegrationTest, TheDaemonRemovesOrphanedWorktreesWhenItStarts) {
  const std::string orphan = h_.data() + "/worktrees/bg_left_by_a_crash";
  Git({"worktree", "add", "--quiet", "-b", "troupe/bg_left_by_a_crash", orphan});
  ASSERT_TRUE(std::filesystem::exists(orphan + "/shared.txt"));
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);
  EXPECT_FALSE(std::filesystem::exists(orphan));
  EXPECT_THAT(daemon->Stderr(), HasSubstr("removed 1 orphaned worktree(s)"));
  EXPECT_EQ(Git({"worktree", "list"}).find("bg_left_by_a_crash"), std::string::npos);
  EXPECT_FALSE(Git({"rev-parse", "--verify", "troupe/bg_left_by_a_crash"}).empty());
}

TEST_F(WorktreeIntegrationTest, TheDaemonAnswersWhileGitIsMakingAWorktree) {
  // A smudge filter that holds git's checkout of shared.txt until the test opens the gate: a git
  // as slow as the test wants. (troupe's git ignores hooks, not a repository's filters.)
  const std::string entered = h_.dir().File("filter-entered");
  const std::string gate = h_.dir().File("filter-gate");
  testing::WriteFileBytes(h_.workspace() + "/.gitattributes", "shared.txt filter=held\n");
  Git({"add", ".gitattributes"});
  Git({"commit", "--quiet", "-m", "hold shared.txt at checkout"});
  Git({"config", "filter.held.smudge",
       "touch '" + entered + "'; while [ ! -e '" + gate + "' ]; do sleep 0.05; done; cat"});
  auto daemon = h_.StartDaemon("info");
  ASSERT_NE(daemon, nullptr);

  std::atomic<bool> answered{false};
  Reply launched;
  std::thread launcher([&] {
    launched =
        h_.Unix().Post("/v1/tasks", json{{"agent", "general"},
                                         {"description", "held at set-up"},
                                         {"prompt", WritePrompt("from the held task\n", "0ms")},
                                         {"isolation", "worktree"}});
    answered = true;
  });
  // Wait (bounded) until git is inside the filter, i.e. the daemon is making the worktree.
  for (int i = 0; i < 600 && !std::filesystem::exists(entered); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const bool in_git = std::filesystem::exists(entered);
  EXPECT_TRUE(in_git) << "git never reached the smudge filter";

  // The daemon answers while git is held: health, the task list (no task yet: a task exists
  // once its worktree does).
  Reply health = h_.Unix().Send("GET", "/v1/health", "", {}, /*timeout_ms=*/10'000);
  EXPECT_EQ(health.status, 200) << Describe(health);
  Reply tasks = h_.Unix().Send("GET", "/v1/tasks", "", {}, /*timeout_ms=*/10'000);
  EXPECT_EQ(tasks.status, 200) << Describe(tasks);
  EXPECT_EQ(tasks.Json().value("tasks", json::array()).size(), 0u) << tasks.body;
  EXPECT_FALSE(answered.load());

  testing::WriteFileBytes(gate, "go\n");
  launcher.join();
  ASSERT_EQ(launched.status, 201) << Describe(launched);
  const std::string id = launched.Json()["task"].value("id", "");
  ASSERT_TRUE(h_.WaitAll({id}, kTaskTimeoutMs));
  json task = h_.GetTask(id);
  EXPECT_EQ(task.value("state", ""), "completed") << task.dump(2);
  EXPECT_EQ(Git({"show", "troupe/" + id + ":shared.txt"}), "from the held task\n");
}

}  // namespace
}  // namespace troupe
