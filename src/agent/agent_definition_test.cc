#include "agent/agent_definition.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(BuiltinToolNamesTest, AreTheToolsTroupeImplementsInListingOrder) {
  EXPECT_THAT(BuiltinToolNames(),
              ElementsAre("read", "list", "glob", "grep", "webfetch", "edit", "write", "bash",
                          "todo_write",
                          "todo_read", "delegate_task", "background_output", "background_wait",
                          "background_cancel"));
  EXPECT_TRUE(IsBuiltinToolName("grep"));
  EXPECT_FALSE(IsBuiltinToolName("Grep"));
  EXPECT_FALSE(IsBuiltinToolName(""));
}

TEST(ValidateAgentNameTest, AcceptsLowercaseDigitsUnderscoreAndDash) {
  for (const char* name : {"explore", "a", "code-reviewer", "db_migrator2", "0", "-_-"}) {
    EXPECT_TRUE(ValidateAgentName(name).ok()) << name;
  }
  EXPECT_TRUE(ValidateAgentName(std::string(kMaxAgentNameLength, 'x')).ok());
}

TEST(ValidateAgentNameTest, SaysWhichRuleANameBreaks) {
  EXPECT_EQ(ValidateAgentName("").message(), "an agent name must not be empty");
  const Status too_long = ValidateAgentName(std::string(kMaxAgentNameLength + 1, 'x'));
  EXPECT_EQ(too_long.code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(too_long.message(), HasSubstr("is 65 characters long; the limit is 64"));
  for (const char* name : {"Explore", "code reviewer", "a/b", "a.b", "caf\xC3\xA9"}) {
    const Status s = ValidateAgentName(name);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_THAT(s.message(), HasSubstr("may only contain lowercase letters a-z, digits, '_' and "
                                       "'-'"))
        << name;
  }
}

TEST(ValidateToolNamesTest, NamesTheUnknownToolALikelyFixAndTheValidTools) {
  EXPECT_TRUE(ValidateToolNames({}).ok());
  EXPECT_TRUE(ValidateToolNames({"read", "bash"}).ok());
  const Status s = ValidateToolNames({"read", "Grep"});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(),
            "unknown tool \"Grep\" (did you mean \"grep\"?); valid tools: read, list, glob, grep, "
            "webfetch, edit, write, bash, todo_write, todo_read, delegate_task, background_output, "
            "background_wait, background_cancel");
}

TEST(ClosestNameTest, IgnoresCaseAndSeparatorsAndRefusesFarNames) {
  const std::vector<std::string> tools = BuiltinToolNames();
  EXPECT_EQ(ClosestName("TodoWrite", tools), "todo_write");
  EXPECT_EQ(ClosestName("background-outptu", tools), "background_output");
  EXPECT_EQ(ClosestName("LS", tools), std::nullopt);
  EXPECT_EQ(ClosestName("websearch", tools), std::nullopt);
  EXPECT_EQ(ClosestName("x", {}), std::nullopt);
}

TEST(AgentSourceTest, ShowsBuiltinOrThePath) {
  EXPECT_EQ(AgentSource{}.ToString(), "builtin");
  EXPECT_EQ((AgentSource{AgentOrigin::kProject, "/w/.troupe/agents/a.md"}.ToString()),
            "/w/.troupe/agents/a.md");
  EXPECT_STREQ(AgentOriginName(AgentOrigin::kUser), "user");
  EXPECT_STREQ(AgentOriginName(AgentOrigin::kProject), "project");
  EXPECT_STREQ(AgentOriginName(AgentOrigin::kBuiltin), "builtin");
}

TEST(AgentDefinitionTest, AllowsOnlyItsTools) {
  AgentDefinition agent;
  agent.tools = {"read", "grep"};
  EXPECT_TRUE(agent.AllowsTool("grep"));
  EXPECT_FALSE(agent.AllowsTool("bash"));
}

}  // namespace
}  // namespace troupe
