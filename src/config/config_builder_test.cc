// Validation of config files, through the loader's public API: every kind of error with its
// exact position and message, warnings, and the refusal of literal API keys.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "config/config_loader.h"

namespace troupe {
namespace {

using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

Result<LoadedConfig> Load(const std::string& text, const std::string& name = "troupe.jsonc") {
  return LoadConfigFromSources({{name, text}});
}

// The error message of loading `text`, or "loaded" when it loads.
std::string ErrorOf(const std::string& text) {
  Result<LoadedConfig> r = Load(text);
  if (r.ok()) return "loaded";
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  return r.status().message();
}

std::vector<std::string> WarningsOf(const std::string& text) {
  Result<LoadedConfig> r = Load(text);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> out;
  if (r.ok()) {
    for (const ConfigDiagnostic& w : r->warnings) out.push_back(w.ToString());
  }
  return out;
}

// {"background_task": {"<key>": <value>}} with the value on line 3 at column len(key) + 9.
std::string InBackgroundTask(const std::string& key, const std::string& value) {
  return "{\n  \"background_task\": {\n    \"" + key + "\": " + value + "\n  }\n}\n";
}
// {"<key>": <value>} with the value on line 2 at column len(key) + 7.
std::string AtTop(const std::string& key, const std::string& value) {
  return "{\n  \"" + key + "\": " + value + "\n}\n";
}
// {"<section>": {"<name>": {"<key>": <value>}}} with the value on line 4 at column len(key) + 11.
std::string InEntry(const std::string& section, const std::string& name, const std::string& key,
                    const std::string& value) {
  return "{\n  \"" + section + "\": {\n    \"" + name + "\": {\n      \"" + key + "\": " + value +
         "\n    }\n  }\n}\n";
}
// Like InEntry for provider "openai" with its type set on line 4; the value is on line 5.
std::string InProvider(const std::string& key, const std::string& value) {
  return "{\n  \"providers\": {\n    \"openai\": {\n      \"type\": \"openai\",\n      \"" + key +
         "\": " + value + "\n    }\n  }\n}\n";
}
std::string InAgent(const std::string& key, const std::string& value) {
  return InEntry("agents", "explore", key, value);
}

struct TypeErrorCase {
  std::string text;
  std::string error;
};

class TypeErrorTest : public ::testing::TestWithParam<TypeErrorCase> {};

TEST_P(TypeErrorTest, SaysWhereWhatWasExpectedAndWhatWasFound) {
  EXPECT_EQ(ErrorOf(GetParam().text), "troupe.jsonc:" + GetParam().error);
}

INSTANTIATE_TEST_SUITE_P(
    BackgroundTask, TypeErrorTest,
    ::testing::Values(
        TypeErrorCase{InBackgroundTask("defaultConcurrency", "\"five\""),
                      "3:27: background_task.defaultConcurrency: expected an integer >= 0, got "
                      "\"five\""},
        TypeErrorCase{InBackgroundTask("globalConcurrency", "-1"),
                      "3:26: background_task.globalConcurrency: expected an integer >= 0, got -1"},
        TypeErrorCase{InBackgroundTask("defaultConcurrency", "2.5"),
                      "3:27: background_task.defaultConcurrency: expected an integer >= 0, got "
                      "2.5"},
        TypeErrorCase{InBackgroundTask("defaultConcurrency", "10001"),
                      "3:27: background_task.defaultConcurrency: expected an integer from 0 to "
                      "10000, got 10001"},
        TypeErrorCase{InBackgroundTask("taskTtlMs", "0"),
                      "3:18: background_task.taskTtlMs: expected an integer > 0 (milliseconds), "
                      "got 0"},
        TypeErrorCase{InBackgroundTask("pendingTtlMs", "-5"),
                      "3:21: background_task.pendingTtlMs: expected an integer > 0 "
                      "(milliseconds), got -5"},
        TypeErrorCase{InBackgroundTask("staleTimeoutMs", "true"),
                      "3:23: background_task.staleTimeoutMs: expected an integer > 0 "
                      "(milliseconds), got true"},
        TypeErrorCase{InBackgroundTask("taskTtlMs", "18446744073709551615"),
                      "3:18: background_task.taskTtlMs: expected an integer from 1 to "
                      "315360000000 (milliseconds), got 18446744073709551615"},
        TypeErrorCase{InBackgroundTask("maxDepth", "null"),
                      "3:17: background_task.maxDepth: expected an integer >= 0, got null"},
        TypeErrorCase{InBackgroundTask("resumeInterrupted", "\"yes\""),
                      "3:26: background_task.resumeInterrupted: expected true or false, got "
                      "\"yes\""},
        TypeErrorCase{InBackgroundTask("providerConcurrency", "[]"),
                      "3:28: background_task.providerConcurrency: expected an object, got an "
                      "array"},
        TypeErrorCase{InBackgroundTask("modelConcurrency", "{\"a/b\": \"x\"}"),
                      "3:33: background_task.modelConcurrency[\"a/b\"]: expected an integer >= 0, "
                      "got \"x\""},
        TypeErrorCase{"{\"background_task\": 5}",
                      "1:21: background_task: expected an object, got 5"}));

INSTANTIATE_TEST_SUITE_P(
    TopLevel, TypeErrorTest,
    ::testing::Values(
        TypeErrorCase{"[1, 2]", "1:1: expected an object at the top level ({ ... }), got an array"},
        TypeErrorCase{"// c\n  \"x\"",
                      "2:3: expected an object at the top level ({ ... }), got \"x\""},
        TypeErrorCase{AtTop("$schema", "1"), "2:14: $schema: expected a string, got 1"},
        TypeErrorCase{AtTop("default_model", "5"), "2:20: default_model: expected a string, got 5"},
        TypeErrorCase{AtTop("default_model", "\"anthropic/\""),
                      "2:20: default_model: expected \"provider/model\" or an alias from "
                      "model_aliases, got \"anthropic/\""},
        TypeErrorCase{AtTop("default_model", "\"sonnet\""),
                      "2:20: default_model: expected \"provider/model\" or an alias from "
                      "model_aliases, got \"sonnet\""},
        TypeErrorCase{AtTop("model_aliases", "{\"opus\": 1}"),
                      "2:29: model_aliases.opus: expected a string, got 1"},
        TypeErrorCase{AtTop("model_aliases", "{\"opus\": \"claude\"}"),
                      "2:29: model_aliases.opus: expected \"provider/model\", got \"claude\""},
        TypeErrorCase{AtTop("model_aliases", "{\"a/b\": \"x/y\"}"),
                      "2:21: model_aliases[\"a/b\"]: an alias is a name without '/' or spaces, "
                      "like \"opus\""},
        TypeErrorCase{AtTop("providers", "[]"),
                      "2:16: providers: expected an object, got an array"},
        TypeErrorCase{AtTop("agents", "\"x\""), "2:13: agents: expected an object, got \"x\""}));

INSTANTIATE_TEST_SUITE_P(
    Providers, TypeErrorTest,
    ::testing::Values(
        TypeErrorCase{InEntry("providers", "openai", "type", "5"),
                      "4:15: providers.openai.type: expected a string, got 5"},
        TypeErrorCase{InEntry("providers", "openai", "type", "\"OpenAI\""),
                      "4:15: providers.openai.type: expected \"openai\", \"openai-responses\", "
                      "\"anthropic\" or \"mock\", got \"OpenAI\" (did you mean \"openai\"?)"},
        TypeErrorCase{InProvider("base_url", "\"ftp://x\""),
                      "5:19: providers.openai.base_url: expected an http:// or https:// URL "
                      "without spaces, like \"https://api.openai.com/v1\""},
        TypeErrorCase{InProvider("api_key_env", "5"),
                      "5:22: providers.openai.api_key_env: expected a string, got a number"},
        TypeErrorCase{InProvider("headers", "{\"X-Title\": 5}"),
                      "5:30: providers.openai.headers.X-Title: expected a string, got a number"},
        TypeErrorCase{InProvider("headers", "{\"bad name\": \"x\"}"),
                      "5:19: providers.openai.headers[\"bad name\"]: expected a header name "
                      "(letters, digits and !#$%&'*+-.^_`|~)"},
        TypeErrorCase{InProvider("headers", "{\"X-A\": \"a\\r\\nX-B: b\"}"),
                      "5:26: providers.openai.headers.X-A: a header value must not contain line "
                      "breaks or NUL characters"},
        TypeErrorCase{"{\n  \"providers\": {\n    \"Open AI\": {\"type\": \"openai\"}\n  }\n}",
                      "3:5: providers[\"Open AI\"]: a provider name uses lowercase letters, "
                      "digits, '.', '_' and '-', and starts with a letter or digit"},
        TypeErrorCase{"{\n  \"providers\": {\n    \"openai\": 5\n  }\n}",
                      "3:15: providers.openai: expected an object, got 5"},
        TypeErrorCase{"{\n  \"providers\": {\n    \"openai\": {}\n  }\n}",
                      "3:5: providers.openai: \"type\" is missing (\"openai\", "
                      "\"openai-responses\", \"anthropic\" or \"mock\")"}));

INSTANTIATE_TEST_SUITE_P(
    Agents, TypeErrorTest,
    ::testing::Values(
        TypeErrorCase{InAgent("model", "\"\""),
                      "4:16: agents.explore.model: expected \"provider/model\" or an alias from "
                      "model_aliases, got \"\""},
        TypeErrorCase{InAgent("model", "\"gpt4\""),
                      "4:16: agents.explore.model: expected \"provider/model\" or an alias from "
                      "model_aliases, got \"gpt4\""},
        TypeErrorCase{InAgent("tools", "\"read\""),
                      "4:16: agents.explore.tools: expected an array of tool names, got \"read\""},
        TypeErrorCase{InAgent("tools", "[\"read\", 3]"),
                      "4:25: agents.explore.tools[1]: expected a tool name, got 3"},
        TypeErrorCase{InAgent("max_turns", "0"),
                      "4:20: agents.explore.max_turns: expected an integer > 0, got 0"},
        TypeErrorCase{InAgent("max_tool_calls", "-1"),
                      "4:25: agents.explore.max_tool_calls: expected an integer > 0, got -1"},
        TypeErrorCase{InAgent("temperature", "2.5"),
                      "4:22: agents.explore.temperature: expected a number from 0 to 2, got 2.5"},
        TypeErrorCase{InAgent("temperature", "\"hot\""),
                      "4:22: agents.explore.temperature: expected a number from 0 to 2, got "
                      "\"hot\""},
        TypeErrorCase{InAgent("prompt", "1"),
                      "4:17: agents.explore.prompt: expected a string, got 1"},
        TypeErrorCase{InAgent("prompt_append", "[]"),
                      "4:24: agents.explore.prompt_append: expected a string, got an array"},
        TypeErrorCase{InAgent("description", "{}"),
                      "4:22: agents.explore.description: expected a string, got an object"},
        TypeErrorCase{InAgent("taskTtlMs", "0"),
                      "4:20: agents.explore.taskTtlMs: expected an integer > 0 (milliseconds), "
                      "got 0"},
        TypeErrorCase{InAgent("pendingTtlMs", "false"),
                      "4:23: agents.explore.pendingTtlMs: expected an integer > 0 "
                      "(milliseconds), got false"},
        TypeErrorCase{InAgent("staleTimeoutMs", "1.5"),
                      "4:25: agents.explore.staleTimeoutMs: expected an integer > 0 "
                      "(milliseconds), got 1.5"}));

TEST(ConfigLoaderTest, BrokenJsonIsReportedWithItsPosition) {
  const std::string text =
      "{\n"
      "  \"background_task\": {\n"
      "    // limits\n"
      "      \"x\": true \"y\": 1\n"
      "  }\n"
      "}\n";
  EXPECT_EQ(ErrorOf(text),
            "troupe.jsonc:4:17: invalid JSON: expected ',' or '}' after the value of \"x\", found "
            "the string \"y\" (is a ',' missing before it?)");
  EXPECT_EQ(ErrorOf("{\n  /* unfinished\n"),
            "troupe.jsonc:2:3: invalid JSON: unterminated comment: '/*' has no matching '*/'");
  EXPECT_EQ(ErrorOf("{\"a\": \"\\x\"}"),
            "troupe.jsonc:1:9: invalid JSON: invalid string: forbidden character after backslash");
}

TEST(ConfigLoaderTest, UnknownKeysAreWarningsWithSuggestions) {
  const std::string text =
      "{\n"
      "  \"background_task\": {\n"
      "    \"defaultConcurency\": 3,\n"
      "    \"default_concurrency\": 4,\n"
      "    \"somethingElse\": 1,\n"
      "  },\n"
      "  \"agent\": {},\n"
      "  \"providers\": {\"openai\": {\"type\": \"openai\", \"baseUrl\": \"https://x\"}},\n"
      "  \"agents\": {\"explore\": {\"maxTurns\": 3}},\n"
      "}\n";
  Result<LoadedConfig> r = Load(text);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> warnings;
  for (const ConfigDiagnostic& w : r->warnings) warnings.push_back(w.ToString());
  EXPECT_THAT(
      warnings,
      ElementsAre(
          "troupe.jsonc:3:5: unknown key \"defaultConcurency\" in background_task (did you mean "
          "\"defaultConcurrency\"?)",
          "troupe.jsonc:4:5: unknown key \"default_concurrency\" in background_task (did you mean "
          "\"defaultConcurrency\"?)",
          "troupe.jsonc:5:5: unknown key \"somethingElse\" in background_task",
          "troupe.jsonc:7:3: unknown key \"agent\" at the top level (did you mean \"agents\"?)",
          "troupe.jsonc:8:46: unknown key \"baseUrl\" in providers.openai (did you mean "
          "\"base_url\"?)",
          "troupe.jsonc:9:26: unknown key \"maxTurns\" in agents.explore (did you mean "
          "\"max_turns\"?)"));
  // Unknown keys are not applied.
  EXPECT_EQ(r->config.background_task.default_concurrency, 5);
  EXPECT_EQ(r->warnings[0].line, 3);
  EXPECT_EQ(r->warnings[0].column, 5);
  EXPECT_EQ(r->warnings[0].file, "troupe.jsonc");
}

TEST(ConfigLoaderTest, OtherWarnings) {
  EXPECT_THAT(WarningsOf("{\"default_model\": \"a/b\",\n \"default_model\": \"c/d\"}"),
              ElementsAre("troupe.jsonc:2:2: default_model: the key appears more than once in "
                          "its object; the last one is used"));
  EXPECT_THAT(WarningsOf(InBackgroundTask("providerConcurrency", "{\"openai/gpt-4o\": 1}")),
              ElementsAre("troupe.jsonc:3:29: background_task.providerConcurrency[\"openai/"
                          "gpt-4o\"]: this is a model name, so this limit never applies; limits "
                          "per model go in background_task.modelConcurrency"));
}

TEST(ConfigLoaderTest, MockScriptIsForMockProviders) {
  Result<LoadedConfig> r =
      Load(R"({"providers": {"demo": {"type": "mock", "script": "latency=1s\ntps=5"}}})");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.providers.at("demo").mock_script, "latency=1s\ntps=5");
  EXPECT_TRUE(r->warnings.empty());

  EXPECT_THAT(WarningsOf(InProvider("script", "\"tps=5\"")),
              ElementsAre("troupe.jsonc:5:7: providers.openai.script: only a provider of type "
                          "\"mock\" uses a script; this one is of type \"openai\", so it is "
                          "ignored"));
  EXPECT_EQ(ErrorOf(InProvider("script", "5")),
            "troupe.jsonc:5:17: providers.openai.script: expected a string, got 5");

  // The type may come from the other file; the warning points at the script.
  Result<LoadedConfig> merged =
      LoadConfigFromSources({{"user.jsonc", R"({"providers": {"p": {"script": "tps=1"}}})"},
                             {"project.jsonc", R"({"providers": {"p": {"type": "anthropic"}}})"}});
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
  ASSERT_EQ(merged->warnings.size(), 1u);
  EXPECT_EQ(merged->warnings[0].file, "user.jsonc");
  EXPECT_THAT(merged->warnings[0].message, HasSubstr("of type \"anthropic\""));
}

TEST(ConfigLoaderTest, LiteralApiKeysAreRefusedAndNeverEchoed) {
  const std::string secret = "sk-live-0123456789abcdef";
  const std::string error = ErrorOf(InProvider("api_key", "\"" + secret + "\""));
  EXPECT_EQ(error,
            "troupe.jsonc:5:7: providers.openai.api_key: API keys must never be written in config "
            "files: put the key in an environment variable and name that variable in "
            "\"api_key_env\" (for example \"api_key_env\": \"OPENAI_API_KEY\")");
  // Spelling variants, anywhere.
  for (const std::string& text :
       {InProvider("apiKey", "\"" + secret + "\""), InProvider("API_KEY", "\"" + secret + "\""),
        InAgent("api-key", "\"" + secret + "\""), AtTop("api_key", "\"" + secret + "\""),
        InBackgroundTask("apikey", "\"" + secret + "\"")}) {
    const std::string e = ErrorOf(text);
    EXPECT_THAT(e, HasSubstr("API keys must never be written in config files")) << text;
    EXPECT_THAT(e, Not(HasSubstr(secret)));
  }
  // A key pasted where the variable's name belongs, in a URL, or in a credential header.
  for (const std::string& text :
       {InProvider("api_key_env", "\"" + secret + "\""),
        InProvider("base_url", "\"https://me:" + secret + "@api.example.com/v1\""),
        InProvider("base_url", "\"not a url " + secret + "\""),
        InProvider("headers", "{\"Authorization\": \"Bearer " + secret + "\"}"),
        InProvider("headers", "{\"x-api-key\": \"" + secret + "\"}"),
        InProvider("headers", "{\"X-Other\": \"" + secret + "\\n\"}")}) {
    const std::string e = ErrorOf(text);
    EXPECT_THAT(e, HasSubstr("troupe.jsonc:5:")) << text;
    EXPECT_THAT(e, Not(HasSubstr(secret)));
  }
  EXPECT_EQ(ErrorOf(InProvider("api_key_env", "\"" + secret + "\"")),
            "troupe.jsonc:5:22: providers.openai.api_key_env: expected the name of an environment "
            "variable (capital letters, digits and '_', like \"OPENAI_API_KEY\"), not the key "
            "itself; put the key in that variable");
  EXPECT_EQ(ErrorOf(InProvider("headers", "{\"Authorization\": \"Bearer x\"}")),
            "troupe.jsonc:5:19: providers.openai.headers.Authorization: credentials must not be "
            "written in config files; troupe sends the key from the environment variable named in "
            "\"api_key_env\"");
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(ConfigLoaderTest, MaxReplyBytesBoundsAProvidersReplies) {
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"troupe.jsonc", InProvider("max_reply_bytes", "1048576")}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.providers.at("openai").max_reply_bytes, 1048576);
  r = LoadConfigFromSources({{"troupe.jsonc", InProvider("base_url", "\"http://x\"")}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.providers.at("openai").max_reply_bytes, int64_t{32} << 20);
  EXPECT_FALSE(LoadConfigFromSources({{"troupe.jsonc", InProvider("max_reply_bytes", "10")}}).ok());
}

TEST(ConfigLoaderTest, MaxOutputTokensGivesModelsOfAProviderTheirOutputLimit) {
  Result<LoadedConfig> r = LoadConfigFromSources(
      {{"troupe.jsonc", InProvider("max_output_tokens", "{\"gpt-4o\": 4096, \"o3\": 100000}")}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.providers.at("openai").max_output_tokens,
            (std::map<std::string, int>{{"gpt-4o", 4096}, {"o3", 100000}}));
  EXPECT_EQ(ErrorOf(InProvider("max_output_tokens", "{\"gpt-4o\": 0}")),
            "troupe.jsonc:5:39: providers.openai.max_output_tokens.gpt-4o: expected an integer > "
            "0, got 0");
  EXPECT_EQ(ErrorOf(InProvider("max_output_tokens", "{\"gpt-4o\": 2000000}")),
            "troupe.jsonc:5:39: providers.openai.max_output_tokens.gpt-4o: expected an integer "
            "from 1 to 1000000, got 2000000");
  EXPECT_EQ(ErrorOf(InProvider("max_output_tokens", "{\"\": 10}")),
            "troupe.jsonc:5:29: providers.openai.max_output_tokens[\"\"]: expected a non-empty "
            "name");
  EXPECT_EQ(ErrorOf(InProvider("max_output_tokens", "8192")),
            "troupe.jsonc:5:28: providers.openai.max_output_tokens: expected an object, got 8192");
}

TEST(ConfigLoaderTest, ApiKeyHeaderNamesWhereTheKeyGoes) {
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"troupe.jsonc", InProvider("api_key_header", "\"api-key\"")}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->config.providers.at("openai").api_key_header, "api-key");
  EXPECT_EQ(ErrorOf(InProvider("api_key_header", "\"api key\"")),
            "troupe.jsonc:5:25: providers.openai.api_key_header: expected a header name "
            "(letters, digits and !#$%&'*+-.^_`|~), like \"api-key\"");
  // The key itself in an api-key header is still refused, pointing at api_key_header.
  EXPECT_EQ(ErrorOf(InProvider("headers", "{\"api-key\": \"x\"}")),
            "troupe.jsonc:5:19: providers.openai.headers.api-key: credentials must not be written "
            "in config files; troupe sends the key from the environment variable named in "
            "\"api_key_env\", in the header named in \"api_key_header\" (\"api_key_header\": "
            "\"api-key\")");
}

}  // namespace
}  // namespace troupe

namespace troupe {
namespace {

TEST(ConfigLoaderTest, NetworkIsABooleanOrAnAllowListOfHostPatterns) {
  Result<LoadedConfig> r = Load(R"({
    "sandbox": {"network": ["github.com", "*.npmjs.org", "10.0.0.7:8080"]},
    "agents": {"general": {"network": ["pypi.org"]}, "explore": {"network": []}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const NetworkAccess& sb = r->config.sandbox.network;
  EXPECT_TRUE(sb.filtered());
  ASSERT_EQ(sb.hosts.size(), 3u);
  EXPECT_EQ(sb.hosts[1].kind, HostPattern::Kind::kWildcard);
  EXPECT_EQ(sb.hosts[2].port, 8080);
  EXPECT_EQ(DescribeNetworkAccess(*r->config.agents.at("general").network), "only pypi.org");
  // An empty list is no network at all.
  EXPECT_TRUE(r->config.agents.at("explore").network->none());

  // A bad pattern is refused where it is written: file:line:col, the element, and why.
  Result<LoadedConfig> bad =
      LoadConfigFromSources({{"/home/u/.config/troupe/troupe.jsonc",
                              "{\n  \"agents\": {\"general\": {\"network\": [\"github.com\",\n    "
                              "\"https://x.org\"]}}\n}"}});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(),
              HasSubstr("/home/u/.config/troupe/troupe.jsonc:3:5: agents.general.network[1]: host "
                        "pattern \"https://x.org\""));
  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"network\": [\"*\"]}}"),
              HasSubstr("sandbox.network[0]: host pattern \"*\": \"*\" would allow every host"));
  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"network\": \"github.com\"}}"),
              HasSubstr("sandbox.network: expected true, false, or an array of host patterns"));
  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"network\": [42]}}"),
              HasSubstr("sandbox.network[0]: expected a host pattern"));
}

TEST(ConfigLoaderTest, SandboxSectionAndAgentRights) {
  Result<LoadedConfig> r = Load(R"({
    "sandbox": {"mode": "none", "network": true, "hide": ["~/secrets", "/srv/keys"],
                "max_processes": 100, "cpu_seconds": 0, "memory_mb": 512, "file_size_mb": 10},
    "agents": {"lead": {"delegates_to": ["explore", "general"], "network": false}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const SandboxConfig& sb = r->config.sandbox;
  EXPECT_EQ(sb.mode, "none");
  EXPECT_TRUE(sb.network.all);
  EXPECT_THAT(sb.hide, ElementsAre("~/secrets", "/srv/keys"));
  EXPECT_EQ(sb.max_processes, 100);
  EXPECT_EQ(sb.cpu_seconds, 0);
  EXPECT_EQ(sb.memory_mb, 512);
  EXPECT_EQ(sb.file_size_mb, 10);
  const AgentConfig& lead = r->config.agents.at("lead");
  EXPECT_EQ(lead.delegates_to, (std::vector<std::string>{"explore", "general"}));
  EXPECT_EQ(lead.network, NetworkAccess(false));

  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"mode\": \"off\"}}"),
              HasSubstr("sandbox.mode: expected \"bwrap\" (the default) or \"none\""));
  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"hide\": [\"relative/path\"]}}"),
              HasSubstr("sandbox.hide[0]: expected an absolute path"));
  EXPECT_THAT(ErrorOf("{\"sandbox\": {\"max_processes\": -1}}"),
              HasSubstr("sandbox.max_processes"));
  EXPECT_THAT(ErrorOf(InAgent("delegates_to", "[\"\"]")), HasSubstr("expected an agent name, got"));
}

TEST(ConfigLoaderTest, FallbackModelsAndLoopThresholdsOfAnAgent) {
  Result<LoadedConfig> r = Load(R"({
    "model_aliases": {"fast": "openai/gpt-5-mini"},
    "agents": {"explore": {"model": "anthropic/claude-x",
                           "fallback_models": ["openai/gpt-5", "fast"],
                           "loop_repeats": 3, "loop_idle_turns": 0}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const AgentConfig& explore = r->config.agents.at("explore");
  EXPECT_EQ(explore.fallback_models, (std::vector<std::string>{"openai/gpt-5", "fast"}));
  EXPECT_EQ(explore.loop_repeats, 3);
  EXPECT_EQ(explore.loop_idle_turns, 0);
  EXPECT_THAT(ErrorOf(InAgent("fallback_models", "\"openai/gpt-5\"")),
              HasSubstr("4:26: agents.explore.fallback_models: expected an array of "
                        "\"provider/model\" names or aliases, got \"openai/gpt-5\""));
  EXPECT_THAT(ErrorOf(InAgent("fallback_models", "[\"openai/gpt-5\", \"nope\"]")),
              HasSubstr("agents.explore.fallback_models[1]: expected \"provider/model\" or an "
                        "alias from model_aliases, got \"nope\""));
  // A model named twice, by its name or through an alias, is refused where it is written.
  EXPECT_THAT(ErrorOf(R"({
    "model_aliases": {"fast": "openai/gpt-5-mini"},
    "agents": {"explore": {"model": "openai/gpt-5",
                           "fallback_models": ["openai/gpt-5-mini", "fast", "openai/gpt-5"]}}
  })"),
              AllOf(HasSubstr("4:69: agents.explore.fallback_models[1]: \"fast\" is already in the "
                              "agent's model list (agents.explore.fallback_models[0]); each model "
                              "is tried once"),
                    HasSubstr("4:77: agents.explore.fallback_models[2]: \"openai/gpt-5\" is "
                              "already in the agent's model list (agents.explore.model)")));
  EXPECT_THAT(ErrorOf(InAgent("loop_repeats", "-1")),
              HasSubstr("4:23: agents.explore.loop_repeats"));
  EXPECT_THAT(ErrorOf(InAgent("loop_idle_turns", "10001")),
              HasSubstr("4:26: agents.explore.loop_idle_turns"));
}

TEST(ConfigLoaderTest, PricesAndBudgetsAreRead) {
  Result<LoadedConfig> r = Load(R"({
    "prices": {
      "Anthropic/Claude-X": {"input": 3, "output": 15, "cache_write": 3.75, "cache_read": 0.3},
      "corp/small": {"input": 0.5, "output": 1.5}
    },
    "budgets": {"task_max_tokens": 100000, "task_max_cost_usd": 2, "tree_max_cost_usd": 10,
                "tree_max_tasks": 20, "tree_max_running": 4, "daily_max_cost_usd": 40,
                "allow_unpriced_models": true},
    "agents": {"explore": {"max_tokens": 5000, "max_cost_usd": 0.25}}
  })");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Config& c = r->config;
  EXPECT_EQ(c.prices.at("anthropic/claude-x"), (ModelPrice{3, 15, 3.75, 0.3}));
  EXPECT_EQ(c.prices.at("corp/small"), (ModelPrice{0.5, 1.5, 0.5, 0.5}));  // cache = input
  EXPECT_EQ(c.budgets.task_max_tokens, 100000);
  EXPECT_EQ(c.budgets.task_max_cost_usd, 2.0);
  EXPECT_EQ(c.budgets.tree_max_cost_usd, 10.0);
  EXPECT_EQ(c.budgets.tree_max_tasks, 20);
  EXPECT_EQ(c.budgets.tree_max_running, 4);
  EXPECT_EQ(c.budgets.daily_max_cost_usd, 40.0);
  EXPECT_TRUE(c.budgets.allow_unpriced_models);
  EXPECT_EQ(c.agents.at("explore").max_tokens, 5000);
  EXPECT_EQ(c.agents.at("explore").max_cost_usd, 0.25);
  // Defaults: a spawn cap of 50, nothing else.
  const Config defaults;
  EXPECT_EQ(defaults.budgets.tree_max_tasks, 50);
  EXPECT_FALSE(defaults.budgets.task_max_cost_usd.has_value());
  EXPECT_FALSE(defaults.budgets.allow_unpriced_models);
}

TEST(ConfigLoaderTest, BadBudgetsAndPricesAreRefusedWhereTheyAre) {
  EXPECT_EQ(ErrorOf(AtTop("budgets", "{\"task_max_cost_usd\": 0}")),
            "troupe.jsonc:2:36: budgets.task_max_cost_usd: expected an amount of USD > 0 (at most "
            "1000000000), got 0");
  EXPECT_EQ(ErrorOf(AtTop("budgets", "{\"tree_max_tasks\": -1}")),
            "troupe.jsonc:2:33: budgets.tree_max_tasks: expected an integer >= 0, got -1");
  EXPECT_EQ(ErrorOf(AtTop("budgets", "{\"daily_max_cost_usd\": \"5\"}")),
            "troupe.jsonc:2:37: budgets.daily_max_cost_usd: expected an amount of USD > 0 (at "
            "most 1000000000), got \"5\"");
  EXPECT_EQ(ErrorOf(AtTop("budgets", "{\"allow_unpriced_models\": \"yes\"}")),
            "troupe.jsonc:2:40: budgets.allow_unpriced_models: expected true or false, got "
            "\"yes\"");
  EXPECT_EQ(ErrorOf(InAgent("max_cost_usd", "-1")),
            "troupe.jsonc:4:23: agents.explore.max_cost_usd: expected an amount of USD > 0 (at "
            "most 1000000000), got -1");
  EXPECT_EQ(ErrorOf(InEntry("prices", "gpt-4o", "input", "1")),
            "troupe.jsonc:3:5: prices.gpt-4o: a price is for a \"provider/model\", like "
            "\"anthropic/claude-sonnet-4-5\"");
  EXPECT_EQ(
      ErrorOf(InEntry("prices", "openai/gpt-4o", "input", "-1")),
      "troupe.jsonc:3:5: prices[\"openai/gpt-4o\"]: \"output\" is missing (USD per million "
      "tokens)\ntroupe.jsonc:4:16: prices[\"openai/gpt-4o\"].input: expected a number from 0 to "
      "100000, got -1");
  EXPECT_EQ(ErrorOf(InEntry("prices", "openai/gpt-4o", "input", "1")),
            "troupe.jsonc:3:5: prices[\"openai/gpt-4o\"]: \"output\" is missing (USD per million "
            "tokens)");
}

}  // namespace
}  // namespace troupe
