// Keeps schema/troupe.schema.json and the loader's table of keys (config_keys.h) in step: same
// sections, same keys, same types and bounds, and schema defaults equal to Config's.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>

#include "config/config_keys.h"
#include "config/config_loader.h"

namespace troupe {
namespace {

using nlohmann::json;

// The text of a file of the source tree.
std::string ReadSourceFile(const std::string& relative) {
  std::filesystem::path root;
  if (const char* dir = std::getenv("TROUPE_SOURCE_DIR")) {
    root = dir;
  } else {
    root = std::filesystem::path(__FILE__).parent_path().parent_path().parent_path();
  }
  std::ifstream in(root / relative);
  EXPECT_TRUE(in.good()) << "cannot open " << (root / relative);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

json LoadSchema() {
  // Throws, failing the test, when the schema is not JSON.
  return json::parse(ReadSourceFile("schema/troupe.schema.json"));
}

// The schema object describing the members of `section`.
const json& SchemaOf(const json& schema, std::string_view section) {
  if (section.empty()) return schema;
  if (section.find('.') == std::string_view::npos) {  // "background_task", "sandbox", "budgets"
    return schema.at("properties").at(std::string(section));
  }
  const std::string top(section.substr(0, section.find('.')));  // "providers.*" -> "providers"
  return schema.at("properties").at(top).at("additionalProperties");
}

std::set<std::string> Names(const json& properties) {
  std::set<std::string> names;
  for (const auto& [name, _] : properties.items()) names.insert(name);
  return names;
}

TEST(ConfigSchemaTest, IsDraft2020_12) {
  const json schema = LoadSchema();
  EXPECT_EQ(schema.at("$schema"), "https://json-schema.org/draft/2020-12/schema");
  EXPECT_EQ(schema.at("type"), "object");
}

TEST(ConfigSchemaTest, DescribesExactlyTheKeysTheLoaderKnows) {
  const json schema = LoadSchema();
  for (const ConfigSection& section : ConfigSections()) {
    SCOPED_TRACE("section \"" + std::string(section.path) + "\"");
    const json& node = SchemaOf(schema, section.path);
    EXPECT_EQ(node.at("type"), "object");
    // Editors flag unknown keys; the loader warns about them.
    EXPECT_EQ(node.at("additionalProperties"), false);
    std::set<std::string> known;
    for (const ConfigKey& key : section.keys) known.insert(std::string(key.name));
    EXPECT_EQ(Names(node.at("properties")), known);
  }
}

TEST(ConfigSchemaTest, TypesAndBoundsMatchTheLoader) {
  const json schema = LoadSchema();
  for (const ConfigSection& section : ConfigSections()) {
    const json& properties = SchemaOf(schema, section.path).at("properties");
    for (const ConfigKey& key : section.keys) {
      const std::string name(key.name);
      SCOPED_TRACE(std::string(section.path) + " / " + name);
      ASSERT_TRUE(properties.contains(name));
      const json& p = properties.at(name);
      ASSERT_TRUE(p.contains("description"));
      EXPECT_FALSE(p.at("description").get<std::string>().empty());
      auto expect_bounds = [&](const json& node) {
        EXPECT_EQ(node.at("minimum"), key.minimum);
        EXPECT_EQ(node.at("maximum"), key.maximum);
      };
      switch (key.type) {
        case ConfigValueType::kString:
          EXPECT_EQ(p.at("type"), "string");
          break;
        case ConfigValueType::kBoolean:
          EXPECT_EQ(p.at("type"), "boolean");
          break;
        case ConfigValueType::kInteger:
          EXPECT_EQ(p.at("type"), "integer");
          expect_bounds(p);
          break;
        case ConfigValueType::kNumber:
          EXPECT_EQ(p.at("type"), "number");
          expect_bounds(p);
          break;
        case ConfigValueType::kNetwork:
          EXPECT_EQ(p.at("oneOf").at(0).at("type"), "boolean");
          EXPECT_EQ(p.at("oneOf").at(1).at("type"), "array");
          EXPECT_EQ(p.at("oneOf").at(1).at("items").at("type"), "string");
          break;
        case ConfigValueType::kStringArray:
          EXPECT_EQ(p.at("type"), "array");
          EXPECT_EQ(p.at("items").at("type"), "string");
          break;
        case ConfigValueType::kStringMap:
          EXPECT_EQ(p.at("type"), "object");
          EXPECT_EQ(p.at("additionalProperties").at("type"), "string");
          break;
        case ConfigValueType::kIntegerMap:
          EXPECT_EQ(p.at("type"), "object");
          EXPECT_EQ(p.at("additionalProperties").at("type"), "integer");
          expect_bounds(p.at("additionalProperties"));
          break;
        case ConfigValueType::kObject:
        case ConfigValueType::kObjectMap:
          EXPECT_EQ(p.at("type"), "object");
          break;
        case ConfigValueType::kRefused:
          EXPECT_EQ(p.at("not"), json::object());  // matches nothing
          break;
      }
    }
  }
}

TEST(ConfigSchemaTest, ProviderTypesMatchTheLoader) {
  const json schema = LoadSchema();
  const json& type = SchemaOf(schema, "providers.*").at("properties").at("type");
  EXPECT_EQ(type.at("enum"), json({"openai", "openai-responses", "anthropic", "mock"}));
  for (const std::string t : {"openai", "openai-responses", "anthropic", "mock"}) {
    EXPECT_TRUE(
        LoadConfigFromSources({{"f", "{\"providers\": {\"p\": {\"type\": \"" + t + "\"}}}"}}).ok());
  }
}

TEST(ConfigSchemaTest, DefaultsAreTheConfigDefaults) {
  const json schema = LoadSchema();
  // A file spelling out every default the schema states must load into the default Config.
  json file = json::object();
  for (const auto& [name, p] : schema.at("properties").items()) {
    if (p.contains("default")) file[name] = p.at("default");
  }
  const json& bt = schema.at("properties").at("background_task").at("properties");
  for (const auto& [name, p] : bt.items()) {
    ASSERT_TRUE(p.contains("default")) << "background_task." << name << " has no default";
    file["background_task"][name] = p.at("default");
  }
  for (const auto& [name, p] : schema.at("properties").at("sandbox").at("properties").items()) {
    if (p.contains("default")) file["sandbox"][name] = p.at("default");
  }
  Result<LoadedConfig> r = LoadConfigFromSources({{"defaults", file.dump(2)}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->warnings.empty());
  const Config defaults;
  const Config& c = r->config;
  EXPECT_EQ(c.background_task.default_concurrency, defaults.background_task.default_concurrency);
  EXPECT_EQ(c.background_task.global_concurrency, defaults.background_task.global_concurrency);
  EXPECT_EQ(c.background_task.provider_concurrency, defaults.background_task.provider_concurrency);
  EXPECT_EQ(c.background_task.model_concurrency, defaults.background_task.model_concurrency);
  EXPECT_EQ(c.background_task.task_ttl_ms, defaults.background_task.task_ttl_ms);
  EXPECT_EQ(c.background_task.pending_ttl_ms, defaults.background_task.pending_ttl_ms);
  EXPECT_EQ(c.background_task.stale_timeout_ms, defaults.background_task.stale_timeout_ms);
  EXPECT_EQ(c.background_task.max_depth, defaults.background_task.max_depth);
  EXPECT_EQ(c.background_task.resume_interrupted, defaults.background_task.resume_interrupted);
  EXPECT_EQ(c.sandbox.mode, defaults.sandbox.mode);
  EXPECT_EQ(c.sandbox.network, defaults.sandbox.network);
  EXPECT_EQ(c.sandbox.hide, defaults.sandbox.hide);
  EXPECT_EQ(c.sandbox.max_processes, defaults.sandbox.max_processes);
  EXPECT_EQ(c.sandbox.cpu_seconds, defaults.sandbox.cpu_seconds);
  EXPECT_EQ(c.sandbox.memory_mb, defaults.sandbox.memory_mb);
  EXPECT_EQ(c.sandbox.file_size_mb, defaults.sandbox.file_size_mb);
  EXPECT_EQ(file.at("sandbox").at("mode"), "bwrap");
  // No default: an unset default_model is chosen by the daemon from the keys it sees.
  EXPECT_FALSE(file.contains("default_model"));
  EXPECT_EQ(c.default_model, "");
  EXPECT_EQ(file.at("background_task").at("defaultConcurrency"), 5);
}

TEST(ConfigDocsTest, TheExampleInConfigMdLoadsCleanly) {
  const std::string doc = ReadSourceFile("docs/CONFIG.md");
  const size_t start = doc.find("```jsonc\n");
  ASSERT_NE(start, std::string::npos);
  const size_t end = doc.find("```", start + 9);
  ASSERT_NE(end, std::string::npos);
  Result<LoadedConfig> r =
      LoadConfigFromSources({{"CONFIG.md example", doc.substr(start + 9, end - start - 9)}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->warnings.empty());
  EXPECT_EQ(r->config.background_task.provider_concurrency.at("anthropic"), 3);
  EXPECT_EQ(r->config.providers.at("openrouter").api_key_env, "OPENROUTER_API_KEY");
  EXPECT_EQ(r->config.agents.at("oracle").model, "opus");
}

TEST(ConfigKeysTest, SuggestionsCatchTyposOnly) {
  const ConfigSection& bt = FindConfigSection("background_task");
  EXPECT_EQ(bt.Suggest("defaultConcurency"), "defaultConcurrency");
  EXPECT_EQ(bt.Suggest("DefaultConcurrency"), "defaultConcurrency");
  EXPECT_EQ(bt.Suggest("default_concurrency"), "defaultConcurrency");
  EXPECT_EQ(bt.Suggest("maxdepth"), "maxDepth");
  EXPECT_EQ(bt.Suggest("task_ttl"), "taskTtlMs");
  EXPECT_EQ(bt.Suggest("colour"), std::nullopt);
  // Refused keys are never suggested: "api_kay" is one edit from "api_key" only.
  EXPECT_EQ(FindConfigSection("providers.*").Suggest("api_kay"), std::nullopt);
  EXPECT_EQ(FindConfigSection("providers.*").Suggest("baseURL"), "base_url");
  EXPECT_EQ(EditDistance("kitten", "sitting"), 3);
  EXPECT_EQ(EditDistance("", "abc"), 3);
  EXPECT_EQ(EditDistance("same", "same"), 0);
}

}  // namespace
}  // namespace troupe
