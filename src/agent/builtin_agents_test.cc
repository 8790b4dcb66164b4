#include "agent/builtin_agents.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <sstream>
#include <string>

namespace troupe {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

const AgentDefinition& Agent(const std::vector<AgentDefinition>& agents, const std::string& name) {
  for (const AgentDefinition& agent : agents) {
    if (agent.name == name) return agent;
  }
  ADD_FAILURE() << "no built-in agent " << name;
  static const AgentDefinition* const none = new AgentDefinition();
  return *none;
}

int Words(const std::string& text) {
  std::istringstream in(text);
  int words = 0;
  for (std::string word; in >> word;) ++words;
  return words;
}

TEST(BuiltinAgentsTest, AreTheFiveRolesSortedByName) {
  std::vector<std::string> names;
  for (const AgentDefinition& agent : BuiltinAgents()) names.push_back(agent.name);
  EXPECT_THAT(names, ElementsAre("explore", "general", "lead", "librarian", "oracle"));
}

TEST(BuiltinAgentsTest, EachIsCompleteAndValid) {
  for (const AgentDefinition& agent : BuiltinAgents()) {
    SCOPED_TRACE(agent.name);
    EXPECT_TRUE(ValidateAgentName(agent.name).ok());
    EXPECT_FALSE(agent.description.empty());
    EXPECT_EQ(agent.description.find('\n'), std::string::npos);
    EXPECT_LE(agent.description.size(), 120u) << "a description is one short line";
    const int words = Words(agent.system_prompt);
    EXPECT_GE(words, 150);
    EXPECT_LE(words, 400);
    EXPECT_TRUE(agent.system_prompt.starts_with("You are " + agent.name + ","));
    EXPECT_TRUE(agent.model.empty()) << "built-ins use the configured default model";
    EXPECT_EQ(agent.temperature, std::nullopt);
    EXPECT_TRUE(ValidateToolNames(agent.tools).ok());
    EXPECT_EQ(agent.max_tool_calls, 3 * agent.max_turns);
    EXPECT_EQ(agent.source.origin, AgentOrigin::kBuiltin);
    EXPECT_TRUE(agent.source.path.empty());
    EXPECT_TRUE(agent.config_overrides.empty());
    // The prompt teaches the tools the agent has, by their real names.
    for (const std::string& tool : agent.tools) EXPECT_THAT(agent.system_prompt, HasSubstr(tool));
  }
}

TEST(BuiltinAgentsTest, ReadOnlyAgentsCannotChangeAnything) {
  const std::vector<AgentDefinition> agents = BuiltinAgents();
  for (const char* name : {"explore", "librarian", "oracle"}) {
    const AgentDefinition& agent = Agent(agents, name);
    // The librarian also reads the web: webfetch and the research MCP servers' tools.
    if (std::string(name) == "librarian") {
      EXPECT_THAT(agent.tools,
                  ElementsAre("read", "list", "glob", "grep", "webfetch", "mcp:@research"));
    } else {
      EXPECT_THAT(agent.tools, ElementsAre("read", "list", "glob", "grep")) << name;
    }
    EXPECT_THAT(agent.system_prompt, HasSubstr("read-only")) << name;
    EXPECT_THAT(agent.system_prompt, Not(HasSubstr("bash"))) << name;
  }
}

TEST(BuiltinAgentsTest, GeneralEditsRunsCommandsAndKeepsATodoList) {
  const std::vector<AgentDefinition> agents = BuiltinAgents();
  const AgentDefinition& general = Agent(agents, "general");
  EXPECT_THAT(general.tools, ElementsAre("read", "list", "glob", "grep", "edit", "write", "bash",
                                         "todo_write", "todo_read"));
  EXPECT_FALSE(general.AllowsTool("delegate_task"));
  EXPECT_THAT(general.system_prompt, HasSubstr("Verify"));
}

TEST(BuiltinAgentsTest, LeadDelegatesButNeverEditsOrRunsCommands) {
  const std::vector<AgentDefinition> agents = BuiltinAgents();
  const AgentDefinition& lead = Agent(agents, "lead");
  EXPECT_THAT(lead.tools, ElementsAre("read", "list", "glob", "grep", "todo_write", "todo_read",
                                      "delegate_task", "background_output", "background_wait",
                                      "background_cancel"));
  for (const char* tool : {"edit", "write", "bash"}) EXPECT_FALSE(lead.AllowsTool(tool)) << tool;
  for (const char* specialist : {"explore", "librarian", "oracle", "general"}) {
    EXPECT_THAT(lead.system_prompt, HasSubstr(std::string("- ") + specialist + ":"));
  }
  EXPECT_THAT(lead.system_prompt, HasSubstr("background=true"));
  EXPECT_THAT(lead.system_prompt, HasSubstr("<system-reminder>"));
}

TEST(BuiltinAgentsTest, LimitsFitEachRole) {
  const std::vector<AgentDefinition> agents = BuiltinAgents();
  EXPECT_EQ(Agent(agents, "explore").max_turns, 25);
  EXPECT_EQ(Agent(agents, "librarian").max_turns, 30);
  EXPECT_EQ(Agent(agents, "oracle").max_turns, 40);
  EXPECT_EQ(Agent(agents, "lead").max_turns, 60);
  EXPECT_EQ(Agent(agents, "general").max_turns, 100);
  EXPECT_EQ(Agent(agents, "general").max_tool_calls, 300);
}

}  // namespace
}  // namespace troupe
