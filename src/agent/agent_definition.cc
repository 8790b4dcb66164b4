#include "agent/agent_definition.h"

#include <algorithm>
#include <cctype>
#include <climits>

#include "config/config_keys.h"
#include "config/mcp_servers_config.h"
#include "config/message_text.h"
#include "core/text_case.h"

namespace troupe {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

const char* AgentOriginName(AgentOrigin origin) {
  switch (origin) {
    case AgentOrigin::kBuiltin:
      return "builtin";
    case AgentOrigin::kUser:
      return "user";
    case AgentOrigin::kProject:
      return "project";
  }
  return "builtin";
}

std::string AgentSource::ToString() const {
  return origin == AgentOrigin::kBuiltin ? std::string("builtin") : path;
}

bool AgentDefinition::AllowsTool(std::string_view tool) const {
  return std::find(tools.begin(), tools.end(), tool) != tools.end();
}

const std::vector<std::string>& BuiltinToolNames() {
  static constexpr std::string_view kNames[] = {"read",
                                                "list",
                                                "glob",
                                                "grep",
                                                "webfetch",
                                                "edit",
                                                "write",
                                                "bash",
                                                "todo_write",
                                                "todo_read",
                                                "delegate_task",
                                                "background_output",
                                                "background_wait",
                                                "background_cancel"};
  static const std::vector<std::string>* const names =
      new std::vector<std::string>(std::begin(kNames), std::end(kNames));
  return *names;
}

bool IsBuiltinToolName(std::string_view name) {
  const std::vector<std::string>& names = BuiltinToolNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

Status ValidateAgentName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("an agent name must not be empty");
  if (name.size() > kMaxAgentNameLength) {
    return Status::InvalidArgument("agent name \"" + Snippet(name) + "\" is " +
                                   std::to_string(name.size()) + " characters long; the limit is " +
                                   std::to_string(kMaxAgentNameLength));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return Status::InvalidArgument("agent name \"" + Snippet(name) +
                                     "\" may only contain lowercase letters a-z, digits, '_' "
                                     "and '-'");
    }
  }
  return Status::Ok();
}

std::string UnknownToolMessage(std::string_view tool) {
  std::string message = "unknown tool \"" + Snippet(tool) + "\"";
  if (std::optional<std::string> guess = ClosestName(tool, BuiltinToolNames())) {
    message += " (did you mean \"" + *guess + "\"?)";
  }
  return message + "; valid tools: " + JoinNames(BuiltinToolNames());
}

bool IsMcpToolEntry(std::string_view entry) {
  const McpToolPattern p = ParseMcpToolPattern(entry);
  return p.server == "@research" || IsMcpServerName(p.server);
}

Status ValidateToolNames(const std::vector<std::string>& tools) {
  for (const std::string& tool : tools) {
    if (!IsBuiltinToolName(tool) && !IsMcpToolEntry(tool)) {
      return Status::InvalidArgument(UnknownToolMessage(tool));
    }
  }
  return Status::Ok();
}

std::optional<std::string> ClosestName(std::string_view wanted,
                                       const std::vector<std::string>& candidates) {
  const std::string folded = FoldIdentifier(wanted);
  std::optional<std::string> best;
  int best_distance = INT_MAX;
  for (const std::string& candidate : candidates) {
    const std::string other = FoldIdentifier(candidate);
    const int distance = EditDistance(folded, other);
    // Up to one edit in three characters, and at least one (as the config loader suggests keys).
    const int allowed = std::max<int>(1, static_cast<int>(other.size()) / 3);
    if (distance <= allowed && distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }
  return best;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& name : names) {
    if (!out.empty()) out += ", ";
    out += name;
  }
  return out;
}

bool IsAgentIsolation(std::string_view value) { return value == "none" || value == "worktree"; }

}  // namespace troupe
