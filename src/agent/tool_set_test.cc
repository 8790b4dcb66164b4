#include "agent/tool_set.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "agent/pending_tool_run.h"

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

class EchoTool : public Tool {
 public:
  EchoTool() { spec_ = {"echo", "Echoes its arguments.", {{"type", "object"}}}; }
  const ToolSpec& spec() const override { return spec_; }
  std::unique_ptr<ToolRun> Start(const nlohmann::json& arguments, const ToolContext& context,
                                 std::function<void(ToolResult)> done) override {
    return PendingToolRun::Answer(context, ToolResult::Ok(arguments.dump()), std::move(done));
  }

 private:
  ToolSpec spec_;
};

TEST(ToolSetTest, BuiltInTools) {
  ToolSet set = ToolSet::BuiltIn();
  EXPECT_THAT(set.Names(), ElementsAre("read", "list", "glob", "grep", "edit", "write", "bash",
                                       "todo_write", "todo_read"));
  EXPECT_THAT(set.ReadOnlyNames(),
              ElementsAre("read", "list", "glob", "grep", "todo_write", "todo_read"));
  EXPECT_TRUE(set.IsReadOnly("grep"));
  EXPECT_FALSE(set.IsReadOnly("bash"));
  EXPECT_FALSE(set.IsReadOnly("edit"));
  EXPECT_FALSE(set.IsReadOnly("no-such-tool"));
}

TEST(ToolSetTest, EverySpecIsAStrictObjectSchema) {
  ToolSet set = ToolSet::BuiltIn();
  for (const ToolSpec& spec : set.AllSpecs()) {
    SCOPED_TRACE(spec.name);
    EXPECT_GT(spec.description.size(), 60u);
    const nlohmann::json& schema = spec.input_schema;
    EXPECT_EQ(schema.value("type", ""), "object");
    ASSERT_TRUE(schema.contains("properties") && schema["properties"].is_object());
    ASSERT_TRUE(schema.contains("required") && schema["required"].is_array());
    EXPECT_EQ(schema.value("additionalProperties", true), false);
    for (const auto& name : schema["required"]) {
      EXPECT_TRUE(schema["properties"].contains(name.get<std::string>())) << name;
    }
    for (const auto& [name, property] : schema["properties"].items()) {
      EXPECT_TRUE(property.contains("type")) << name;
    }
  }
}

TEST(ToolSetTest, LookupAndSpecsNameWhatExists) {
  ToolSet set = ToolSet::BuiltIn();
  ASSERT_TRUE(set.Lookup("grep").ok());
  EXPECT_EQ((*set.Lookup("grep"))->spec().name, "grep");
  Result<Tool*> missing = set.Lookup("delete_everything");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(missing.status().message(),
            "unknown tool `delete_everything`; available tools: read, list, glob, grep, edit, "
            "write, bash, todo_write, todo_read");
  Result<std::vector<ToolSpec>> specs = set.Specs({"grep", "read"});
  ASSERT_TRUE(specs.ok());
  ASSERT_EQ(specs->size(), 2u);
  EXPECT_EQ((*specs)[0].name, "grep");
  EXPECT_EQ((*specs)[1].name, "read");
  Result<std::vector<ToolSpec>> bad = set.Specs({"read", "Read", "websearch"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("unknown tool `Read`, `websearch`; available"));
}

TEST(ToolSetTest, MoreToolsCanBeAdded) {
  ToolSet set = ToolSet::BuiltIn();
  ASSERT_TRUE(set.Add(std::make_unique<EchoTool>(), ToolAccess::kWrites).ok());
  EXPECT_NE(set.Find("echo"), nullptr);
  EXPECT_FALSE(set.IsReadOnly("echo"));
  Status again = set.Add(std::make_unique<EchoTool>(), ToolAccess::kReadOnly);
  EXPECT_EQ(again.code(), StatusCode::kAlreadyExists);
}

}  // namespace
}  // namespace troupe
