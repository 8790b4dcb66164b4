#include "llm/default_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The registry reads the keys through this environment, never the process's.
class DefaultModelTest : public ::testing::Test {
 protected:
  DefaultModel Choose(const Config& config) {
    ProviderDeps deps;
    deps.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    auto registry = ProviderRegistry::Create(config, std::move(deps));
    EXPECT_TRUE(registry.ok()) << registry.status().ToString();
    if (!registry.ok()) return {};
    DefaultModel choice = ChooseDefaultModel(config.default_model, (*registry)->List());
    // Whatever was chosen can be launched on.
    EXPECT_TRUE((*registry)->Check(choice.model).ok()) << choice.model;
    return choice;
  }

  std::map<std::string, std::string> env_;
};

TEST_F(DefaultModelTest, NoKeyGivesTheOfflineMockAndSaysWhichVariablesWereLookedAt) {
  DefaultModel d = Choose(Config{});
  EXPECT_EQ(d.model, "mock/scripted");
  EXPECT_EQ(d.source, DefaultModelSource::kOffline);
  EXPECT_THAT(d.key_envs, ElementsAre("ANTHROPIC_API_KEY", "OPENAI_API_KEY"));
  EXPECT_EQ(DefaultModelSourceName(d.source), "offline");
  EXPECT_EQ(DefaultModelOrigin(d),
            "offline fallback: no ANTHROPIC_API_KEY or OPENAI_API_KEY in the daemon's environment");
  EXPECT_EQ(OfflineModelNotice(d),
            "Note from troupe: this answer comes from the offline mock model (mock/scripted): the "
            "daemon found no ANTHROPIC_API_KEY or OPENAI_API_KEY in its environment. To use a real "
            "model, set ANTHROPIC_API_KEY=… (or OPENAI_API_KEY) where the daemon starts, then "
            "`troupe stop` so that the next command restarts it; see \"API keys\" in "
            "docs/CONFIG.md.");
}

TEST_F(DefaultModelTest, AnEmptyOrBlankKeyIsNoKey) {
  env_["ANTHROPIC_API_KEY"] = "";
  env_["OPENAI_API_KEY"] = "  \n";
  EXPECT_EQ(Choose(Config{}).source, DefaultModelSource::kOffline);
}

TEST_F(DefaultModelTest, AnthropicKeyGivesClaudeSonnet) {
  env_["ANTHROPIC_API_KEY"] = "sk-ant-test";
  DefaultModel d = Choose(Config{});
  EXPECT_EQ(d.model, "anthropic/claude-sonnet-4-5");
  EXPECT_EQ(d.source, DefaultModelSource::kEnvKey);
  EXPECT_EQ(d.key_env, "ANTHROPIC_API_KEY");
  EXPECT_EQ(DefaultModelSourceName(d.source), "env");
  EXPECT_EQ(DefaultModelOrigin(d), "ANTHROPIC_API_KEY is set in the daemon's environment");
  EXPECT_EQ(OfflineModelNotice(d), "");
}

TEST_F(DefaultModelTest, OpenAiKeyGivesGpt41) {
  env_["OPENAI_API_KEY"] = "sk-test";
  DefaultModel d = Choose(Config{});
  EXPECT_EQ(d.model, "openai/gpt-4.1");
  EXPECT_EQ(d.source, DefaultModelSource::kEnvKey);
  EXPECT_EQ(d.key_env, "OPENAI_API_KEY");
}

TEST_F(DefaultModelTest, BothKeysPreferAnthropic) {
  env_["OPENAI_API_KEY"] = "sk-test";
  env_["ANTHROPIC_API_KEY"] = "sk-ant-test";
  DefaultModel d = Choose(Config{});
  EXPECT_EQ(d.model, "anthropic/claude-sonnet-4-5");
  EXPECT_EQ(d.key_env, "ANTHROPIC_API_KEY");
}

TEST_F(DefaultModelTest, TheConfigWinsOverEveryKey) {
  env_["ANTHROPIC_API_KEY"] = "sk-ant-test";
  Config config;
  config.default_model = "mock/scripted";
  DefaultModel d = Choose(config);
  EXPECT_EQ(d.model, "mock/scripted");
  EXPECT_EQ(d.source, DefaultModelSource::kConfig);
  EXPECT_EQ(DefaultModelOrigin(d), "default_model in the config");
  // Chosen on purpose: no notice, even though it is the mock.
  EXPECT_EQ(OfflineModelNotice(d), "");
}

TEST_F(DefaultModelTest, TheKeyIsLookedForInTheVariableTheConfigNames) {
  env_["ANTHROPIC_API_KEY"] = "sk-ant-ignored";  // not the variable this config reads
  env_["WORK_OPENAI_KEY"] = "sk-test";
  Config config;
  ProviderConfig anthropic;
  anthropic.type = "anthropic";
  anthropic.api_key_env = "WORK_ANTHROPIC_KEY";
  config.providers["anthropic"] = anthropic;
  ProviderConfig openai;
  openai.type = "openai";
  openai.api_key_env = "WORK_OPENAI_KEY";
  config.providers["openai"] = openai;
  DefaultModel d = Choose(config);
  EXPECT_EQ(d.model, "openai/gpt-4.1");
  EXPECT_EQ(d.key_env, "WORK_OPENAI_KEY");

  env_.erase("WORK_OPENAI_KEY");
  DefaultModel offline = Choose(config);
  EXPECT_EQ(offline.source, DefaultModelSource::kOffline);
  EXPECT_THAT(offline.key_envs, ElementsAre("WORK_ANTHROPIC_KEY", "WORK_OPENAI_KEY"));
  EXPECT_THAT(OfflineModelNotice(offline),
              HasSubstr("set WORK_ANTHROPIC_KEY=… (or WORK_OPENAI_KEY)"));
}

TEST_F(DefaultModelTest, AProviderNameGivenAnotherTypeIsNotAskedForItsDefaultModel) {
  env_["ANTHROPIC_API_KEY"] = "sk-ant-test";
  Config config;
  ProviderConfig proxy;   // "anthropic" speaking the OpenAI protocol: claude-sonnet-4-5 means
  proxy.type = "openai";  // nothing to it
  proxy.base_url = "http://127.0.0.1:9/v1";
  proxy.api_key_env = "ANTHROPIC_API_KEY";
  config.providers["anthropic"] = proxy;
  DefaultModel d = Choose(config);
  EXPECT_EQ(d.source, DefaultModelSource::kOffline);
  EXPECT_THAT(d.key_envs, ElementsAre("OPENAI_API_KEY"));
  EXPECT_THAT(OfflineModelNotice(d), HasSubstr("set OPENAI_API_KEY=… where the daemon starts"));
}

}  // namespace
}  // namespace troupe
