#include "agent/agent_catalog.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>

#include "core/testing/scoped_env.h"
#include "core/testing/test_dir.h"

namespace troupe {
namespace {

using testing::ScopedEnv;
using testing::TestDir;

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

std::string AgentText(const std::string& description, const std::string& prompt,
                      const std::string& extra = "") {
  return "---\ndescription: " + description + "\n" + extra + "---\n" + prompt + "\n";
}

std::vector<std::string> Messages(const AgentCatalog& catalog) {
  std::vector<std::string> messages;
  for (const AgentDiagnostic& d : catalog.diagnostics()) messages.push_back(d.message);
  return messages;
}

// A workspace and a user agents directory, both empty until a test writes files.
class AgentCatalogTest : public ::testing::Test {
 protected:
  std::string UserFile(const std::string& name, const std::string& text) {
    return dir_.Write("user/" + name, text);
  }
  std::string ProjectFile(const std::string& name, const std::string& text) {
    return dir_.Write("work/.troupe/agents/" + name, text);
  }
  AgentCatalog Load(std::map<std::string, AgentConfig> overrides = {}) {
    AgentCatalogOptions options;
    options.project_dir = (dir_.path() / "work").string();
    options.user_agents_dir = (dir_.path() / "user").string();
    options.overrides = std::move(overrides);
    return LoadAgentCatalog(options);
  }

  TestDir dir_;
};

TEST_F(AgentCatalogTest, WithoutFilesHoldsTheBuiltins) {
  const AgentCatalog catalog = Load();
  EXPECT_THAT(catalog.Names(), ElementsAre("explore", "general", "lead", "librarian", "oracle"));
  EXPECT_THAT(catalog.diagnostics(), IsEmpty());
  EXPECT_FALSE(catalog.has_errors());
  for (const AgentDefinition& agent : catalog.List()) {
    EXPECT_EQ(agent.source.origin, AgentOrigin::kBuiltin) << agent.name;
    EXPECT_FALSE(agent.system_prompt.empty()) << agent.name;
  }
}

TEST_F(AgentCatalogTest, AddsUserAndProjectAgentsSortedByName) {
  const std::string zeta = ProjectFile("zeta.md", AgentText("Z.", "Zeta prompt."));
  const std::string alpha = UserFile("alpha.md", AgentText("A.", "Alpha prompt."));
  const AgentCatalog catalog = Load();
  EXPECT_THAT(catalog.Names(),
              ElementsAre("alpha", "explore", "general", "lead", "librarian", "oracle", "zeta"));
  EXPECT_EQ(catalog.Get("alpha")->source.origin, AgentOrigin::kUser);
  EXPECT_EQ(catalog.Get("alpha")->source.path, alpha);
  EXPECT_EQ(catalog.Get("zeta")->source.origin, AgentOrigin::kProject);
  EXPECT_EQ(catalog.Get("zeta")->source.ToString(), zeta);
  EXPECT_EQ(catalog.Get("zeta")->system_prompt, "Zeta prompt.");
}

TEST_F(AgentCatalogTest, ProjectReplacesUserReplacesBuiltinWholeThenConfigAdjustsFields) {
  UserFile("explore.md",
           AgentText("User explore.", "User prompt.", "temperature: 0.5\nmodel: u/m\n"));
  AgentCatalog catalog = Load();
  const AgentDefinition* user = catalog.Get("explore");
  ASSERT_NE(user, nullptr);
  EXPECT_EQ(user->source.origin, AgentOrigin::kUser);
  EXPECT_EQ(user->system_prompt, "User prompt.");
  EXPECT_EQ(user->temperature, 0.5);
  EXPECT_EQ(user->tools, DefaultFileAgentTools()) << "a file replaces the built-in whole";

  const std::string project =
      ProjectFile("explore.md",
                  AgentText("Project explore.", "Project prompt.", "tools: read\nmax_turns: 5\n"));
  catalog = Load();
  const AgentDefinition* mid = catalog.Get("explore");
  EXPECT_EQ(mid->source.path, project);
  EXPECT_EQ(mid->description, "Project explore.");
  EXPECT_EQ(mid->temperature, std::nullopt) << "nothing of the user file survives";
  EXPECT_EQ(mid->model, "");

  AgentConfig config;
  config.model = "anthropic/claude-opus-4-5";
  config.max_tool_calls = 9;
  catalog = Load({{"explore", config}});
  const AgentDefinition* top = catalog.Get("explore");
  EXPECT_EQ(top->model, "anthropic/claude-opus-4-5");
  EXPECT_EQ(top->max_tool_calls, 9);
  EXPECT_EQ(top->max_turns, 5) << "fields the config leaves unset keep the file's value";
  EXPECT_THAT(top->tools, ElementsAre("read"));
  EXPECT_EQ(top->source.path, project);
  EXPECT_THAT(top->config_overrides, ElementsAre("model", "max_tool_calls"));
  EXPECT_THAT(catalog.diagnostics(), IsEmpty());
}

TEST_F(AgentCatalogTest, ConfigOverridesEveryFieldOfABuiltin) {
  AgentConfig config;
  config.model = "fast";
  config.tools = std::vector<std::string>{"read", "grep", "read"};
  config.max_turns = 3;
  config.max_tool_calls = 4;
  config.temperature = 0.1;
  config.prompt = "New prompt.\n";
  config.prompt_append = "Also this.";
  config.description = "Custom.";
  config.task_ttl_ms = 1;
  config.pending_ttl_ms = 2;
  config.stale_timeout_ms = 3;
  const AgentCatalog catalog = Load({{"oracle", config}});
  const AgentDefinition& oracle = *catalog.Get("oracle");
  EXPECT_EQ(oracle.model, "fast");
  EXPECT_THAT(oracle.tools, ElementsAre("read", "grep"));
  EXPECT_EQ(oracle.max_turns, 3);
  EXPECT_EQ(oracle.max_tool_calls, 4);
  EXPECT_EQ(oracle.temperature, 0.1);
  EXPECT_EQ(oracle.system_prompt, "New prompt.\n\nAlso this.");
  EXPECT_EQ(oracle.description, "Custom.");
  EXPECT_EQ(oracle.task_ttl_ms, 1);
  EXPECT_EQ(oracle.pending_ttl_ms, 2);
  EXPECT_EQ(oracle.stale_timeout_ms, 3);
  EXPECT_EQ(oracle.source.origin, AgentOrigin::kBuiltin);
  EXPECT_THAT(oracle.config_overrides,
              ElementsAre("model", "tools", "max_turns", "max_tool_calls", "temperature", "prompt",
                          "prompt_append", "description", "task_ttl_ms", "pending_ttl_ms",
                          "stale_timeout_ms"));
  EXPECT_THAT(catalog.diagnostics(), IsEmpty());
}

TEST_F(AgentCatalogTest, ConfigGivesFallbackModelsAndLoopThresholds) {
  AgentConfig config;
  config.fallback_models = std::vector<std::string>{"openai/gpt-5", "fast"};
  config.loop_repeats = 4;
  config.loop_idle_turns = 0;
  const AgentCatalog catalog = Load({{"explore", config}});
  const AgentDefinition& explore = *catalog.Get("explore");
  EXPECT_THAT(explore.fallback_models, ElementsAre("openai/gpt-5", "fast"));
  EXPECT_EQ(explore.loop_repeats, 4);
  EXPECT_EQ(explore.loop_idle_turns, 0);
  EXPECT_THAT(explore.config_overrides,
              ElementsAre("fallback_models", "loop_repeats", "loop_idle_turns"));
}

TEST_F(AgentCatalogTest, PromptAppendAddsAParagraphToTheAgentsPrompt) {
  AgentConfig config;
  config.prompt_append = "Answer in French.";
  const AgentCatalog catalog = Load({{"explore", config}});
  const std::string& prompt = catalog.Get("explore")->system_prompt;
  EXPECT_TRUE(prompt.starts_with("You are explore,"));
  EXPECT_TRUE(prompt.ends_with("stand on its own.\n\nAnswer in French.")) << prompt;
}

TEST_F(AgentCatalogTest, AnOverrideThatWouldBreakTheAgentIsRefusedFieldByField) {
  AgentConfig config;
  config.tools = std::vector<std::string>{"read", "TodoWrite"};
  config.prompt = " \n";
  config.description = "";
  config.max_turns = 8;
  const AgentCatalog catalog = Load({{"general", config}});
  const AgentDefinition& general = *catalog.Get("general");
  EXPECT_EQ(general.max_turns, 8);
  EXPECT_TRUE(general.AllowsTool("bash")) << "the tools were not replaced";
  EXPECT_TRUE(general.system_prompt.starts_with("You are general,"));
  EXPECT_FALSE(general.description.empty());
  EXPECT_THAT(general.config_overrides, ElementsAre("max_turns"));
  EXPECT_TRUE(catalog.has_errors());
  ASSERT_THAT(catalog.diagnostics(), SizeIs(3));
  EXPECT_THAT(Messages(catalog)[0],
              HasSubstr("config agents.general.tools: unknown tool \"TodoWrite\" (did you mean "
                        "\"todo_write\"?); valid tools: read,"));
  EXPECT_THAT(Messages(catalog)[0], HasSubstr("; the agent keeps its tools"));
  EXPECT_EQ(Messages(catalog)[1],
            "config agents.general.prompt: the resulting system prompt is empty; the agent keeps "
            "its prompt");
  EXPECT_EQ(Messages(catalog)[2],
            "config agents.general.description: must not be empty; the agent keeps its "
            "description");
  EXPECT_EQ(catalog.diagnostics()[0].file, "");
}

TEST_F(AgentCatalogTest, AnOverrideOfNoAgentIsAWarning) {
  AgentConfig config;
  config.max_turns = 2;
  const AgentCatalog catalog = Load({{"explorer", config}, {"zzz", config}});
  EXPECT_FALSE(catalog.has_errors());
  ASSERT_THAT(catalog.diagnostics(), SizeIs(2));
  EXPECT_EQ(catalog.diagnostics()[0].severity, AgentDiagnostic::Severity::kWarning);
  EXPECT_EQ(Messages(catalog)[0],
            "config agents.explorer: there is no agent \"explorer\" to configure, so this entry "
            "is ignored (did you mean \"explore\"?); known agents: explore, general, lead, "
            "librarian, oracle");
  EXPECT_EQ(Messages(catalog)[1],
            "config agents.zzz: there is no agent \"zzz\" to configure, so this entry is ignored; "
            "known agents: explore, general, lead, librarian, oracle");
  EXPECT_EQ(catalog.Get("explore")->max_turns, 25);
}

TEST_F(AgentCatalogTest, ABrokenFileIsReportedAndSkippedWhileTheOthersLoad) {
  UserFile("a.md", AgentText("A.", "Prompt A."));
  const std::string broken = UserFile("b.md", AgentText("B.", "Prompt B.", "max_turns: many\n"));
  UserFile("c.md", AgentText("C.", "Prompt C.", "colour: red\n"));
  // A broken project file of a built-in's name leaves the built-in in place.
  const std::string broken_oracle = ProjectFile("oracle.md", "no header\n");
  const AgentCatalog catalog = Load();
  EXPECT_THAT(catalog.Names(),
              ElementsAre("a", "c", "explore", "general", "lead", "librarian", "oracle"));
  EXPECT_EQ(catalog.Get("oracle")->source.origin, AgentOrigin::kBuiltin);
  EXPECT_TRUE(catalog.has_errors());
  ASSERT_THAT(catalog.diagnostics(), SizeIs(3));
  EXPECT_EQ(catalog.diagnostics()[0].file, broken);
  EXPECT_EQ(catalog.diagnostics()[0].severity, AgentDiagnostic::Severity::kError);
  EXPECT_EQ(Messages(catalog)[0],
            broken + ":3: max_turns: expected a positive integer, got \"many\"");
  EXPECT_EQ(catalog.diagnostics()[1].severity, AgentDiagnostic::Severity::kWarning);
  EXPECT_THAT(Messages(catalog)[1], HasSubstr("c.md:3: unknown key \"colour\" is ignored"));
  EXPECT_EQ(catalog.diagnostics()[2].file, broken_oracle);
  EXPECT_THAT(Messages(catalog)[2], HasSubstr(broken_oracle + ":1: expected a front-matter"));
}

TEST_F(AgentCatalogTest, OnlyVisibleMarkdownFilesAreAgents) {
  UserFile("agent.md", AgentText("Real.", "P."));
  UserFile("notes.txt", "not an agent");
  UserFile(".hidden.md", "not even parsed");
  UserFile("README", "nor this");
  fs::create_directories(dir_.path() / "user" / "dir.md");
  const AgentCatalog catalog = Load();
  EXPECT_NE(catalog.Get("agent"), nullptr);
  EXPECT_EQ(catalog.Get("hidden"), nullptr);
  EXPECT_EQ(catalog.Get("dir"), nullptr);
  EXPECT_THAT(catalog.diagnostics(), IsEmpty());
}

TEST_F(AgentCatalogTest, TwoFilesOfOneDirectoryWithOneNameKeepTheFirst) {
  const std::string first = ProjectFile("a.md", AgentText("First.", "P.", "name: same\n"));
  const std::string second = ProjectFile("b.md", AgentText("Second.", "P.", "name: same\n"));
  const AgentCatalog catalog = Load();
  EXPECT_EQ(catalog.Get("same")->source.path, first);
  ASSERT_THAT(catalog.diagnostics(), SizeIs(1));
  EXPECT_EQ(Messages(catalog)[0],
            second + ": agent \"same\" is already defined by " + first + "; this file is ignored");
}

TEST_F(AgentCatalogTest, UnreadableEntriesAreReportedWithTheirPath) {
  const std::string dangling = (dir_.path() / "user" / "gone.md").string();
  fs::create_directories(dir_.path() / "user");
  fs::create_symlink(dir_.path() / "nowhere.md", dangling);
  const std::string big =
      UserFile("big.md", AgentText("Big.", std::string(kMaxAgentFileBytes, 'x')));
  dir_.Write("work/.troupe/agents_file", "");
  fs::rename(dir_.path() / "work" / ".troupe" / "agents_file",
             dir_.path() / "work" / ".troupe" / "agents");
  const AgentCatalog catalog = Load();
  EXPECT_THAT(catalog.Names(), SizeIs(5));
  EXPECT_THAT(Messages(catalog),
              ElementsAre(big + ": the agent file is " +
                              std::to_string(
                                  AgentText("Big.", std::string(kMaxAgentFileBytes, 'x')).size()) +
                              " bytes; the limit is 262144 bytes",
                          dangling + ": cannot open the agent file: No such file or directory",
                          (dir_.path() / "work" / ".troupe" / "agents").string() +
                              ": expected a directory of agent files (*.md), found a file; "
                              "remove or rename it"));
}

TEST_F(AgentCatalogTest, FindNamesTheKnownAgentsAndTheLikelyIntendedOne) {
  ProjectFile("reviewer.md", AgentText("Reviews.", "P."));
  const AgentCatalog catalog = Load();
  Result<AgentDefinition> found = catalog.Find("reviewer");
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->description, "Reviews.");

  Result<AgentDefinition> typo = catalog.Find("oracel");
  ASSERT_FALSE(typo.ok());
  EXPECT_EQ(typo.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(typo.status().message(),
            "unknown agent \"oracel\" (did you mean \"oracle\"?); known agents: explore, general, "
            "lead, librarian, oracle, reviewer");
  EXPECT_EQ(catalog.Find("planner").status().message(),
            "unknown agent \"planner\"; known agents: explore, general, lead, librarian, oracle, "
            "reviewer");
  EXPECT_EQ(AgentCatalog().Find("x").status().message(),
            "unknown agent \"x\"; no agents are defined");
  EXPECT_EQ(catalog.Get("Oracle"), nullptr);
}

TEST(AgentCatalogDefaultsTest, UserAgentsLiveBesideTheUserConfig) {
  ScopedEnv home("HOME", "/home/u");
  {
    ScopedEnv xdg("XDG_CONFIG_HOME", "/xdg");
    EXPECT_EQ(DefaultUserAgentsDir(), "/xdg/troupe/agents");
  }
  ScopedEnv xdg("XDG_CONFIG_HOME", nullptr);
  EXPECT_EQ(DefaultUserAgentsDir(), "/home/u/.config/troupe/agents");
}

TEST(AgentCatalogDefaultsTest, WithoutAUserDirectoryReadsTheDefaultOne) {
  TestDir dir;
  dir.Write("troupe/agents/mine.md", AgentText("Mine.", "P."));
  ScopedEnv xdg("XDG_CONFIG_HOME", dir.path().c_str());
  const AgentCatalog with_default = LoadAgentCatalog({});
  ASSERT_NE(with_default.Get("mine"), nullptr);
  EXPECT_EQ(with_default.Get("mine")->source.origin, AgentOrigin::kUser);

  AgentCatalogOptions none;
  none.user_agents_dir = "";
  EXPECT_EQ(LoadAgentCatalog(none).Get("mine"), nullptr);
}

TEST(ReadAgentFileTest, ReadsParsesAndRefusesWhatIsNoFile) {
  TestDir dir;
  const std::string path = dir.Write("a.md", AgentText("A.", "P."));
  Result<AgentFile> r = ReadAgentFile(path, AgentOrigin::kUser);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->definition.name, "a");
  EXPECT_EQ(r->definition.source.origin, AgentOrigin::kUser);

  Result<AgentFile> missing = ReadAgentFile((dir.path() / "b.md").string(), AgentOrigin::kUser);
  EXPECT_EQ(missing.status().code(), StatusCode::kIoError);
  Result<AgentFile> directory = ReadAgentFile(dir.path().string(), AgentOrigin::kUser);
  EXPECT_EQ(directory.status().code(), StatusCode::kIoError);
  EXPECT_EQ(directory.status().message(), dir.path().string() + ": not a regular file");

  const std::string fifo = (dir.path() / "fifo.md").string();
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_EQ(ReadAgentFile(fifo, AgentOrigin::kUser).status().message(),
            fifo + ": not a regular file");

  const std::string big = dir.Write("big.md", std::string(kMaxAgentFileBytes + 1, 'x'));
  EXPECT_EQ(ReadAgentFile(big, AgentOrigin::kUser).status().code(), StatusCode::kResourceExhausted);
  const std::string fits =
      dir.Write("fits.md", AgentText("F.", std::string(kMaxAgentFileBytes - 30, 'x')));
  EXPECT_TRUE(ReadAgentFile(fits, AgentOrigin::kUser).ok());
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

// Who may delegate to whom (AgentCatalog::AllowedDelegates).
class DelegationRightsTest : public AgentCatalogTest {};

TEST_F(DelegationRightsTest, TheReadOnlyLeadCannotReachBash) {
  AgentCatalog catalog = Load();
  EXPECT_THAT(catalog.AllowedDelegates(*catalog.Get("lead")),
              ::testing::ElementsAre("explore", "lead", "librarian", "oracle"));
  EXPECT_THAT(catalog.AllowedDelegates(*catalog.Get("explore")),
              ::testing::ElementsAre("explore", "lead", "librarian", "oracle"));
  EXPECT_THAT(catalog.AllowedDelegates(*catalog.Get("general")),
              ::testing::ElementsAre("explore", "general", "lead", "librarian", "oracle"));
}

TEST_F(DelegationRightsTest, AUserMayAllowMoreExplicitly) {
  AgentConfig lead;
  lead.delegates_to = std::vector<std::string>{"general", "explore", "general", "nobody"};
  AgentCatalog catalog = Load({{"lead", lead}});
  EXPECT_THAT(catalog.diagnostics(), ::testing::IsEmpty());
  const AgentDefinition& def = *catalog.Get("lead");
  EXPECT_THAT(def.config_overrides, ::testing::Contains("delegates_to"));
  // Unknown names are dropped; the order is the user's.
  EXPECT_THAT(catalog.AllowedDelegates(def), ::testing::ElementsAre("general", "explore"));

  AgentConfig none;
  none.delegates_to = std::vector<std::string>{};
  EXPECT_THAT(Load({{"lead", none}}).AllowedDelegates(*catalog.Get("lead")),
              ::testing::ElementsAre("general", "explore"));  // the other catalog's lead
  AgentCatalog closed = Load({{"lead", none}});
  EXPECT_THAT(closed.AllowedDelegates(*closed.Get("lead")), ::testing::IsEmpty());
}

TEST_F(DelegationRightsTest, ConfigGivesAFileAgentItsRightsAndNetwork) {
  UserFile("runner.md",
           "---\ndescription: runs things\ntools: [read, bash, delegate_task]\n---\nRun.\n");
  AgentConfig runner_config;
  runner_config.delegates_to = std::vector<std::string>{"general", "explore"};
  runner_config.network = true;
  AgentCatalog catalog = Load({{"runner", runner_config}});
  EXPECT_THAT(catalog.diagnostics(), ::testing::IsEmpty());
  const AgentDefinition* runner = catalog.Get("runner");
  ASSERT_NE(runner, nullptr);
  EXPECT_EQ(runner->network, true);
  EXPECT_EQ(runner->isolation, "");
  AgentConfig isolated;
  isolated.isolation = "worktree";
  EXPECT_EQ(Load({{"general", isolated}}).Get("general")->isolation, "worktree");
  EXPECT_THAT(catalog.AllowedDelegates(*runner), ::testing::ElementsAre("general", "explore"));

  AgentConfig bad;
  bad.delegates_to = std::vector<std::string>{"Not A Name"};
  AgentCatalog refused = Load({{"lead", bad}});
  ASSERT_EQ(refused.diagnostics().size(), 1u);
  EXPECT_THAT(refused.diagnostics()[0].message, HasSubstr("delegates_to: "));
  EXPECT_FALSE(refused.Get("lead")->delegates_to.has_value());
}

}  // namespace
}  // namespace troupe
