#include "llm/provider_registry.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "core/event_loop.h"

namespace troupe {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class NamedProvider : public Provider {
 public:
  explicit NamedProvider(std::string name) : name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  std::unique_ptr<ChatCall> Chat(ChatRequest, ChatCallbacks) override { return nullptr; }

 private:
  std::string name_;
};

class ProviderRegistryTest : public ::testing::Test {
 protected:
  std::unique_ptr<ProviderRegistry> Make(const Config& config) {
    ProviderDeps deps;
    deps.http = &http_;
    deps.clock = &clock_;
    deps.getenv = [this](const std::string& name) -> std::optional<std::string> {
      auto it = env_.find(name);
      if (it == env_.end()) return std::nullopt;
      return it->second;
    };
    deps.make_mock = [](const ProviderConfig& c) {
      return std::make_unique<NamedProvider>(c.name);
    };
    auto r = ProviderRegistry::Create(config, std::move(deps));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(r).value() : nullptr;
  }

  boost::asio::io_context io_;
  LoopClock clock_{io_};
  HttpClient http_{io_};
  std::map<std::string, std::string> env_;
};

TEST_F(ProviderRegistryTest, ImplicitProvidersExistWithTheirDefaults) {
  auto registry = Make(Config{});
  auto list = registry->List();
  ASSERT_EQ(list.size(), 3u);
  EXPECT_EQ(list[0].name, "anthropic");
  EXPECT_EQ(list[0].base_url, "https://api.anthropic.com");
  EXPECT_EQ(list[0].api_key_env, "ANTHROPIC_API_KEY");
  EXPECT_TRUE(list[0].implicit);
  EXPECT_EQ(list[1].name, "mock");
  EXPECT_EQ(list[2].api_key_env, "OPENAI_API_KEY");
  EXPECT_TRUE(registry->Check("mock/scripted").ok());
}

TEST_F(ProviderRegistryTest, MissingKeyNamesTheVariableToSet) {
  auto registry = Make(Config{});
  Status s = registry->Check("anthropic/claude-sonnet-4-5");
  EXPECT_EQ(s.code(), StatusCode::kFailedPrecondition);
  EXPECT_THAT(s.message(), HasSubstr("set ANTHROPIC_API_KEY"));
  EXPECT_FALSE(registry->Resolve("anthropic/claude-sonnet-4-5").ok());
}

TEST_F(ProviderRegistryTest, ConfiguredProviderReadsItsOwnKeyVariable) {
  env_["OPENROUTER_KEY"] = "sk-or-secret\n";  // pasted with its newline
  Config config;
  ProviderConfig p;
  p.type = "openai";
  p.base_url = "https://openrouter.ai/api/v1";
  p.api_key_env = "OPENROUTER_KEY";
  config.providers["OpenRouter"] = p;
  auto registry = Make(config);
  auto resolved = registry->Resolve("openrouter/meta-llama/llama-3.3-70b");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved.value().model_id, "meta-llama/llama-3.3-70b");
  EXPECT_EQ(resolved.value().provider->name(), "OpenRouter");
  // The same provider object serves every model.
  EXPECT_EQ(registry->Resolve("openrouter/x").value().provider, resolved.value().provider);
  for (const ProviderInfo& info : registry->List()) {
    EXPECT_THAT(info.api_key_env + info.base_url + info.name, Not(HasSubstr("secret")));
  }
}

TEST_F(ProviderRegistryTest, AliasesAndNamingErrors) {
  Config config;
  config.model_aliases["fast"] = "mock/quick";
  auto registry = Make(config);
  auto fast = registry->Resolve("fast");
  ASSERT_TRUE(fast.ok());
  EXPECT_EQ(fast.value().model_id, "quick");
  EXPECT_EQ(fast.value().provider->name(), "mock");

  Status no_slash = registry->Check("gpt-4o");
  EXPECT_THAT(no_slash.message(), HasSubstr("must be written provider/model"));
  Status unknown = registry->Check("groq/llama");
  EXPECT_EQ(unknown.code(), StatusCode::kNotFound);
  EXPECT_THAT(unknown.message(), HasSubstr("no provider named \"groq\""));
  EXPECT_THAT(unknown.message(), HasSubstr("anthropic, mock, openai"));
}

TEST_F(ProviderRegistryTest, RefusesKeysWithControlCharactersWithoutQuotingThem) {
  env_["OPENAI_API_KEY"] = "sk-abc\r\nX-Evil: 1";
  ProviderDeps deps;
  deps.getenv = [this](const std::string& n) -> std::optional<std::string> { return env_[n]; };
  auto r = ProviderRegistry::Create(Config{}, std::move(deps));
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("OPENAI_API_KEY contains a control character"));
  EXPECT_THAT(r.status().message(), Not(HasSubstr("sk-abc")));
}

TEST_F(ProviderRegistryTest, RefusesNonHttpBaseUrls) {
  Config config;
  ProviderConfig p;
  p.type = "anthropic";
  p.base_url = "ftp://example.com";
  config.providers["weird"] = p;
  auto r = ProviderRegistry::Create(config, ProviderDeps{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("providers.weird.base_url"));
}

TEST_F(ProviderRegistryTest, BaseUrlVariablesOfTheSdksReplaceOnlyTheDefaultEndpoint) {
  env_["ANTHROPIC_BASE_URL"] = "http://127.0.0.1:9/anthropic";
  env_["OPENAI_BASE_URL"] = "";  // set but empty: as if unset
  Config config;
  ProviderConfig pinned;
  pinned.type = "anthropic";
  pinned.base_url = "https://gateway.example/anthropic";
  config.providers["pinned"] = pinned;
  ProviderConfig second;
  second.type = "anthropic";
  config.providers["second"] = second;
  auto registry = Make(config);
  std::map<std::string, ProviderInfo> by_name;
  for (const ProviderInfo& info : registry->List()) by_name[info.name] = info;
  EXPECT_EQ(by_name["anthropic"].base_url, "http://127.0.0.1:9/anthropic");
  EXPECT_EQ(by_name["anthropic"].base_url_env, "ANTHROPIC_BASE_URL");
  EXPECT_EQ(by_name["second"].base_url, "http://127.0.0.1:9/anthropic");  // every one of the type
  EXPECT_EQ(by_name["pinned"].base_url, "https://gateway.example/anthropic");  // config wins
  EXPECT_EQ(by_name["pinned"].base_url_env, "");
  EXPECT_EQ(by_name["openai"].base_url, "https://api.openai.com/v1");
  EXPECT_EQ(by_name["openai"].base_url_env, "");

  env_["OPENAI_BASE_URL"] = "api.openai.com/v1";
  ProviderDeps deps;
  deps.getenv = [this](const std::string& n) -> std::optional<std::string> {
    auto it = env_.find(n);
    return it == env_.end() ? std::nullopt : std::optional<std::string>(it->second);
  };
  auto refused = ProviderRegistry::Create(Config{}, std::move(deps));
  ASSERT_FALSE(refused.ok());
  EXPECT_THAT(refused.status().message(),
              HasSubstr("OPENAI_BASE_URL (for provider openai): expected an http:// or https://"));
}

TEST_F(ProviderRegistryTest, ResponsesTypeTakesOpenAisKeyAndEndpoint) {
  env_["OPENAI_API_KEY"] = "sk-test";
  Config config;
  ProviderConfig responses;
  responses.type = "openai-responses";
  config.providers["codex"] = responses;
  auto registry = Make(config);
  std::map<std::string, ProviderInfo> by_name;
  for (const ProviderInfo& info : registry->List()) by_name[info.name] = info;
  EXPECT_EQ(by_name["codex"].type, "openai-responses");
  EXPECT_EQ(by_name["codex"].base_url, "https://api.openai.com/v1");
  EXPECT_EQ(by_name["codex"].api_key_env, "OPENAI_API_KEY");
  EXPECT_TRUE(by_name["codex"].has_api_key);
  Result<ResolvedModel> resolved = registry->Resolve("codex/gpt-5-codex");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  EXPECT_EQ(resolved->model_id, "gpt-5-codex");
}

TEST_F(ProviderRegistryTest, BrokenMockScriptIsRefusedAtStartNamingTheProvider) {
  Config config;
  ProviderConfig p;
  p.type = "mock";
  p.mock_script = "tps=fast";
  config.providers["offline"] = p;
  auto r = ProviderRegistry::Create(config, ProviderDeps{});
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("providers.offline.script"));
  EXPECT_THAT(r.status().message(), HasSubstr("tps=fast"));
}

TEST_F(ProviderRegistryTest, BuiltInMockProviderPlaysItsScript) {
  Config config;
  ProviderConfig p;
  p.type = "mock";
  p.mock_script = "latency=0 tps=0 reply=\"scripted hello\"";
  config.providers["mock"] = p;
  ProviderDeps deps;
  deps.clock = &clock_;
  auto r = ProviderRegistry::Create(config, std::move(deps));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto resolved = r.value()->Resolve("mock/anything");
  ASSERT_TRUE(resolved.ok()) << resolved.status().ToString();
  ChatRequest request;
  request.model = resolved.value().model_id;
  request.messages.push_back(UserMessage("hello?"));
  std::optional<Result<ChatResult>> result;
  ChatCallbacks cb;
  cb.on_done = [&result](Result<ChatResult> res) { result = std::move(res); };
  auto call = resolved.value().provider->Chat(request, std::move(cb));
  while (!result && io_.run_one()) {
  }
  ASSERT_TRUE(result.has_value());
  ASSERT_TRUE(result->ok()) << result->status().ToString();
  EXPECT_EQ(result->value().message.text, "scripted hello");
}

}  // namespace
}  // namespace troupe
