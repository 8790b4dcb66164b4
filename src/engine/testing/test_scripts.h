// The scripts the facade tests (REST, MCP) and their fuzz targets run the engine with: an agent
// maker and a ScriptedRunner chooser whose prompts say how a task behaves.
#pragma once

#include <cstdint>
#include <string>

#include "agent/agent_catalog.h"
#include "engine/scripted_runner.h"

namespace troupe::testing {

// An agent named `name` with a one-line description and system prompt.
inline AgentDefinition McpTestAgent(const std::string& name, const std::string& description) {
  AgentDefinition a;
  a.name = name;
  a.description = description;
  a.system_prompt = "You are " + name + ".";
  return a;
}

// The ScriptedRunner chooser of the MCP tests: a prompt starting "fail" fails after 1 s, one
// starting "slow" takes 3 s, anything else 1 s, answering "done: <prompt>"; each reports the
// tool grep half-way. "hang" reports grep after 100 ms and never ends. "chatty" streams like a
// model: 100 chunks (bytes and a token each) 10 ms apart, with the tools grep, read and glob
// started at 300, 310 and 320 ms, then answers at 1.5 s.
inline Script McpTestScript(const RunRequest& request) {
  const std::string& prompt = request.prompt;
  if (prompt.rfind("fail", 0) == 0) return {ScriptStep::Fail(1000, "provider exploded")};
  ProgressUpdate u;
  u.turns = 1;
  u.tool = "grep";
  if (prompt.rfind("hang", 0) == 0) return {ScriptStep::Progress(100, u)};
  if (prompt.rfind("chatty", 0) == 0) {
    Script script;
    ProgressUpdate chunk;
    chunk.bytes = 40;
    chunk.output_tokens = 1;
    for (int i = 1; i <= 100; ++i) {
      script.push_back(ScriptStep::Progress(10, chunk));
      if (i == 30 || i == 31 || i == 32) {
        ProgressUpdate tool;
        tool.tool_calls = 1;
        tool.tool = i == 30 ? "grep" : i == 31 ? "read" : "glob";
        script.push_back(ScriptStep::Progress(0, tool));
      }
    }
    script.push_back(ScriptStep::Complete(500, "done: " + prompt));
    return script;
  }
  const int64_t total = prompt.rfind("slow", 0) == 0 ? 3000 : 1000;
  return {ScriptStep::Progress(total / 2, u), ScriptStep::Complete(total / 2, "done: " + prompt)};
}

}  // namespace troupe::testing
