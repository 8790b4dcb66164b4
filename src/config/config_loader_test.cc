#include "config/config_loader.h"

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
Result<LoadedConfig> Load(const std::string& text, const std::string& name = "troupe.jsonc") {
  return LoadConfigFromSources({{name, text}});
}

TEST(ConfigLoaderTest, NoSourcesGiveTheDefaults) {
  Result<LoadedConfig> r = LoadConfigFromSources({});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = r->config;
  EXPECT_EQ(c.background_task.default_concurrency, 5);
  EXPECT_EQ(c.background_task.global_concurrency, 0);
  EXPECT_TRUE(c.background_task.provider_concurrency.empty());
  EXPECT_TRUE(c.background_task.model_concurrency.empty());
  EXPECT_EQ(c.background_task.task_ttl_ms, 30 * 60 * 1000);
  EXPECT_EQ(c.background_task.pending_ttl_ms, 30 * 60 * 1000);
  EXPECT_EQ(c.background_task.stale_timeout_ms, 3 * 60 * 1000);
  EXPECT_EQ(c.background_task.max_depth, 3);
  EXPECT_TRUE(c.background_task.resume_interrupted);
  EXPECT_TRUE(c.providers.empty());
  EXPECT_TRUE(c.agents.empty());
  EXPECT_TRUE(c.model_aliases.empty());
  EXPECT_EQ(c.default_model, "");  // unset: the daemon chooses from the API keys it sees
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_TRUE(r->files.empty());
}

TEST(ConfigLoaderTest, EmptyAndCommentOnlyFilesAreEmptyConfigs) {
  Result<LoadedConfig> r = LoadConfigFromSources(
      {{"a.jsonc", ""}, {"b.jsonc", "  \n// nothing yet\n/* still nothing */\n"}, {"c", "{}"}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.background_task.default_concurrency, 5);
  EXPECT_THAT(r->files, ElementsAre("a.jsonc", "b.jsonc", "c"));
}

TEST(ConfigLoaderTest, EveryKeyIsApplied) {
  const std::string text = R"({
    "$schema": "../schema/troupe.schema.json",
    // JSONC: comments and trailing commas
    "background_task": {
      "defaultConcurrency": 4,
      "globalConcurrency": 20,
      "providerConcurrency": {"anthropic": 3, "local": 0},
      "modelConcurrency": {"anthropic/claude-opus-4-5": 2},
      "taskTtlMs": 600000,
      "pendingTtlMs": 120000,
      "staleTimeoutMs": 90000,
      "maxDepth": 0,
      "resumeInterrupted": false,
    },
    "providers": {
      "anthropic": {"type": "anthropic"},
      "openrouter": {
        "type": "openai",
        "base_url": "https://openrouter.ai/api/v1",
        "api_key_env": "OPENROUTER_API_KEY",
        "headers": {"HTTP-Referer": "https://example.com", "X-Title": "troupe"},
      },
      "local": {"type": "mock"},
    },
    "agents": {
      "oracle": {
        "model": "opus",
        "tools": ["read", "grep"],
        "max_turns": 40,
        "max_tool_calls": 200,
        "temperature": 0.2,
        "prompt": "You review.",
        "prompt_append": "Be brief.",
        "description": "Deep review",
        "taskTtlMs": 3600000,
        "pendingTtlMs": 60000,
        "staleTimeoutMs": 240000,
      },
      "explore": {"tools": []},
    },
    "model_aliases": {"opus": "anthropic/claude-opus-4-5"},
    "default_model": "openrouter/anthropic/claude-3.5-sonnet",
  })";
  Result<LoadedConfig> r = Load(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->warnings.empty());
  const Config& c = r->config;
  const BackgroundTaskConfig& bt = c.background_task;
  EXPECT_EQ(bt.default_concurrency, 4);
  EXPECT_EQ(bt.global_concurrency, 20);
  EXPECT_EQ(bt.provider_concurrency, (std::map<std::string, int>{{"anthropic", 3}, {"local", 0}}));
  EXPECT_EQ(bt.model_concurrency, (std::map<std::string, int>{{"anthropic/claude-opus-4-5", 2}}));
  EXPECT_EQ(bt.task_ttl_ms, 600000);
  EXPECT_EQ(bt.pending_ttl_ms, 120000);
  EXPECT_EQ(bt.stale_timeout_ms, 90000);
  EXPECT_EQ(bt.max_depth, 0);
  EXPECT_FALSE(bt.resume_interrupted);

  ASSERT_EQ(c.providers.size(), 3u);
  const ProviderConfig& router = c.providers.at("openrouter");
  EXPECT_EQ(router.name, "openrouter");
  EXPECT_EQ(router.type, "openai");
  EXPECT_EQ(router.base_url, "https://openrouter.ai/api/v1");
  EXPECT_EQ(router.api_key_env, "OPENROUTER_API_KEY");
  EXPECT_EQ(router.headers, (std::map<std::string, std::string>{
                                {"HTTP-Referer", "https://example.com"}, {"X-Title", "troupe"}}));
  EXPECT_EQ(c.providers.at("anthropic").type, "anthropic");
  EXPECT_EQ(c.providers.at("anthropic").base_url, "");
  EXPECT_EQ(c.providers.at("local").type, "mock");

  const AgentConfig& oracle = c.agents.at("oracle");
  EXPECT_EQ(oracle.model, "opus");
  EXPECT_EQ(oracle.tools, (std::vector<std::string>{"read", "grep"}));
  EXPECT_EQ(oracle.max_turns, 40);
  EXPECT_EQ(oracle.max_tool_calls, 200);
  EXPECT_EQ(oracle.temperature, 0.2);
  EXPECT_EQ(oracle.prompt, "You review.");
  EXPECT_EQ(oracle.prompt_append, "Be brief.");
  EXPECT_EQ(oracle.description, "Deep review");
  EXPECT_EQ(oracle.task_ttl_ms, 3600000);
  EXPECT_EQ(oracle.pending_ttl_ms, 60000);
  EXPECT_EQ(oracle.stale_timeout_ms, 240000);
  const AgentConfig& explore = c.agents.at("explore");
  EXPECT_EQ(explore.tools, std::vector<std::string>{});
  EXPECT_FALSE(explore.model.has_value());
  EXPECT_FALSE(explore.max_turns.has_value());
  EXPECT_FALSE(explore.temperature.has_value());

  EXPECT_EQ(c.model_aliases,
            (std::map<std::string, std::string>{{"opus", "anthropic/claude-opus-4-5"}}));
  EXPECT_EQ(c.default_model, "openrouter/anthropic/claude-3.5-sonnet");
}

TEST(ConfigLoaderTest, ProjectMergesOnTopOfUser) {
  const std::string user = R"({
    "background_task": {
      "defaultConcurrency": 2,
      "providerConcurrency": {"anthropic": 3, "openai": 4},
      "maxDepth": 5,
    },
    "providers": {
      "corp": {"type": "openai", "base_url": "https://llm.corp/v1",
               "headers": {"X-Team": "a", "X-Env": "prod"}},
    },
    "agents": {"oracle": {"model": "anthropic/claude-opus-4-5", "tools": ["read", "grep"],
                          "max_turns": 10}},
    "model_aliases": {"opus": "anthropic/claude-opus-4-5"},
    "default_model": "corp/big",
  })";
  const std::string project = R"({
    "background_task": {
      "providerConcurrency": {"openai": 1, "corp": 0},
      "maxDepth": 1,
    },
    "providers": {"corp": {"api_key_env": "CORP_KEY", "headers": {"X-Env": "dev"}}},
    "agents": {"oracle": {"tools": ["read"]}},
    "model_aliases": {"fast": "corp/small"},
  })";
  Result<LoadedConfig> r = LoadConfigFromSources({{"user", user}, {"project", project}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = r->config;
  EXPECT_EQ(c.background_task.default_concurrency, 2);  // only the user file sets it
  EXPECT_EQ(c.background_task.max_depth, 1);            // the project replaces it
  // Objects merge key by key.
  EXPECT_EQ(c.background_task.provider_concurrency,
            (std::map<std::string, int>{{"anthropic", 3}, {"openai", 1}, {"corp", 0}}));
  const ProviderConfig& corp = c.providers.at("corp");
  EXPECT_EQ(corp.type, "openai");
  EXPECT_EQ(corp.base_url, "https://llm.corp/v1");
  EXPECT_EQ(corp.api_key_env, "CORP_KEY");
  EXPECT_EQ(corp.headers, (std::map<std::string, std::string>{{"X-Team", "a"}, {"X-Env", "dev"}}));
  // Arrays replace.
  const AgentConfig& oracle = c.agents.at("oracle");
  EXPECT_EQ(oracle.tools, std::vector<std::string>{"read"});
  EXPECT_EQ(oracle.model, "anthropic/claude-opus-4-5");
  EXPECT_EQ(oracle.max_turns, 10);
  EXPECT_EQ(c.model_aliases, (std::map<std::string, std::string>{
                                 {"opus", "anthropic/claude-opus-4-5"}, {"fast", "corp/small"}}));
  EXPECT_EQ(c.default_model, "corp/big");
  EXPECT_THAT(r->files, ElementsAre("user", "project"));
}

TEST(ConfigLoaderTest, NegativeLimitIsRefusedWithItsPosition) {
  const std::string text =
      "{\n"
      "  \"background_task\": {\n"
      "    \"defaultConcurrency\": 2,\n"
      "    \"modelConcurrency\": {\n"
      "      \"openai/gpt-4o\": -2\n"
      "    }\n"
      "  }\n"
      "}\n";
  Result<LoadedConfig> r = Load(text, "/home/u/.config/troupe/troupe.jsonc");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(),
            "/home/u/.config/troupe/troupe.jsonc:5:24: "
            "background_task.modelConcurrency[\"openai/gpt-4o\"]: expected an integer >= 0, got "
            "-2");
}

TEST(ConfigLoaderTest, EveryErrorOfEveryFileIsReportedInOrder) {
  const std::string user =
      "{\n"
      "  \"background_task\": {\"maxDepth\": -1,\n"
      "                      \"defaultConcurrency\": \"x\"},\n"
      "}\n";
  const std::string project =
      "{\n  \"default_model\": 3,\n  \"agents\": {\"a\": {\"max_turns\": 0}}\n";
  const std::string third = "{\"agents\": {\"b\": {\"temperature\": -1}}}";
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"user.jsonc", user}, {"project.jsonc", project}, {"c", third}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "user.jsonc:2:35: background_task.maxDepth: expected an integer >= 0, got -1\n"
            "user.jsonc:3:45: background_task.defaultConcurrency: expected an integer >= 0, got "
            "\"x\"\n"
            "project.jsonc:4:1: invalid JSON: unexpected end of file: the '{' at 1:1 is not "
            "closed\n"
            "c:1:34: agents.b.temperature: expected a number from 0 to 2, got -1");
}

TEST(ConfigLoaderTest, PositionsComeFromTheFileThatSuppliedTheValue) {
  // The user file sets the provider's type; the project file adds a bad header. The error
  // points into the project file; a provider without a type in either file points at the last
  // file that mentions it.
  const std::string user = "{\"providers\": {\"corp\": {\"type\": \"openai\"}}}";
  const std::string project =
      "{\n  \"providers\": {\n    \"corp\": {\"headers\": {\"X\": 1}},\n    \"bare\": {}\n  }\n}";
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"user.jsonc", user}, {"project.jsonc", project}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "project.jsonc:3:31: providers.corp.headers.X: expected a string, got a number\n"
            "project.jsonc:4:5: providers.bare: \"type\" is missing (\"openai\", "
            "\"openai-responses\", \"anthropic\" or \"mock\")");

  // A model alias defined in one file is usable in the other.
  Result<LoadedConfig> ok = LoadConfigFromSources(
      {{"user", "{\"default_model\": \"Opus\", \"agents\": {\"x\": {\"model\": \"fast\"}}}"},
       {"project", "{\"model_aliases\": {\"opus\": \"a/b\", \"fast\": \"c/d\"}}"}});
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

TEST(ConfigLoaderTest, ErrorsInFilesThatLaterFilesOverrideAreStillReported) {
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"user", "{\n  \"background_task\": {\n    \"maxDepth\": -1\n  }\n}"},
                             {"project", "{\"background_task\": {\"maxDepth\": 2}}"}});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "user:3:17: background_task.maxDepth: expected an integer >= 0, got -1");
}

TEST(ConfigDiagnosticTest, ToStringOmitsUnknownPositions) {
  EXPECT_EQ((ConfigDiagnostic{"f", 3, 7, "m"}).ToString(), "f:3:7: m");
  EXPECT_EQ((ConfigDiagnostic{"f", 3, 0, "m"}).ToString(), "f:3: m");
  EXPECT_EQ((ConfigDiagnostic{"f", 0, 0, "m"}).ToString(), "f: m");
}

TEST(LoadConfigFilesTest, ReadsExistingFilesAndSkipsMissingOnes) {
  TestDir dir;
  const std::string user = dir.Write("home/.config/troupe/troupe.jsonc",
                                     "{\"background_task\": {\"defaultConcurrency\": 7,}}");
  const std::string missing = (dir.path() / "work/.troupe/troupe.jsonc").string();
  const std::string project = dir.Write("other/.troupe/troupe.jsonc",
                                        "// project\n{\"background_task\": {\"maxDepth\": 1}}");
  Result<LoadedConfig> r = LoadConfigFiles({user, missing, project});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.background_task.default_concurrency, 7);
  EXPECT_EQ(r->config.background_task.max_depth, 1);
  EXPECT_THAT(r->files, ElementsAre(user, project));

  const std::string not_a_dir = dir.Write("a-file", "x");
  Result<LoadedConfig> none = LoadConfigFiles({missing, not_a_dir + "/troupe.jsonc"});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->files.empty());
}

TEST(LoadConfigFilesTest, ErrorsNameTheFile) {
  TestDir dir;
  const std::string bad =
      dir.Write("bad.jsonc", "{\n  \"background_task\": {\"maxDepth\": \"deep\"}\n}");
  Result<LoadedConfig> r = LoadConfigFiles({bad});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            bad + ":2:35: background_task.maxDepth: expected an integer >= 0, got \"deep\"");
}

TEST(LoadConfigFilesTest, UnreadablePathsAreErrors) {
  TestDir dir;
  const std::string good = dir.Write("good.jsonc", "{}");
  const std::string is_dir = (dir.path() / "troupe.jsonc").string();
  fs::create_directories(is_dir);
  const std::string dangling = (dir.path() / "link.jsonc").string();
  fs::create_symlink(dir.path() / "nowhere.jsonc", dangling);

  Result<LoadedConfig> r = LoadConfigFiles({good, is_dir, dangling});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_EQ(r.status().message(),
            is_dir + ": is a directory; the config file must be a regular file\n" + dangling +
                ": the config file is a symbolic link to a file that does not exist");
}

TEST(LoadConfigFilesTest, PermissionDeniedIsAnError) {
  if (geteuid() == 0) GTEST_SKIP() << "root reads files whatever their permissions";
  TestDir dir;
  const std::string locked = dir.Write("locked/troupe.jsonc", "{}");
  const std::string unreadable = dir.Write("unreadable.jsonc", "{}");
  fs::permissions(dir.path() / "locked", fs::perms::none);
  fs::permissions(unreadable, fs::perms::none);
  Result<LoadedConfig> r = LoadConfigFiles({locked, unreadable});
  fs::permissions(dir.path() / "locked", fs::perms::owner_all);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kIoError);
  EXPECT_THAT(r.status().message(),
              HasSubstr(locked + ": cannot open the config file: Permission denied"));
  EXPECT_THAT(r.status().message(),
              HasSubstr(unreadable + ": cannot open the config file: Permission denied"));
}

TEST(DefaultConfigPathsTest, UsesXdgConfigHomeThenTheWorkspace) {
  ScopedEnv xdg("XDG_CONFIG_HOME", "/xdg/config");
  ScopedEnv home("HOME", "/home/u");
  EXPECT_THAT(DefaultConfigPaths("/work/repo"),
              ElementsAre("/xdg/config/troupe/troupe.jsonc", "/work/repo/.troupe/troupe.jsonc"));
}

TEST(DefaultConfigPathsTest, FallsBackToHomeWhenXdgIsUnsetEmptyOrRelative) {
  ScopedEnv home("HOME", "/home/u");
  for (const char* value : {static_cast<const char*>(nullptr), "", "relative/dir"}) {
    ScopedEnv xdg("XDG_CONFIG_HOME", value);
    EXPECT_THAT(DefaultConfigPaths("/w"),
                ElementsAre("/home/u/.config/troupe/troupe.jsonc", "/w/.troupe/troupe.jsonc"))
        << (value ? value : "(unset)");
  }
}

TEST(DefaultConfigPathsTest, NoWorkspaceMeansNoProjectFile) {
  ScopedEnv xdg("XDG_CONFIG_HOME", "/x/");
  EXPECT_THAT(DefaultConfigPaths(""), ElementsAre("/x/troupe/troupe.jsonc"));
}

TEST(DefaultConfigPathsTest, WithoutHomeUsesThePasswordDatabase) {
  ScopedEnv xdg("XDG_CONFIG_HOME", nullptr);
  ScopedEnv home("HOME", nullptr);
  const std::vector<std::string> paths = DefaultConfigPaths("w");
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_THAT(paths[0], HasSubstr("/.config/troupe/troupe.jsonc"));
  EXPECT_EQ(paths[1], "w/.troupe/troupe.jsonc");
}

}  // namespace
}  // namespace troupe
