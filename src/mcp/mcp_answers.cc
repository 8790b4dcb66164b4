#include "mcp/mcp_answers.h"

#include <fmt/format.h>

#include <utility>

#include "agent/tool_output.h"
#include "core/duration_format.h"
#include "wire/jsonrpc.h"

namespace troupe {

using json = nlohmann::json;

json DelegatedTaskJson(const DelegatedTask& t) {
  return {{"task_id", t.task_id},
          {"session_id", t.session_id},
          {"agent", t.agent},
          {"model", t.model},
          {"description", ToValidUtf8(t.description)},
          {"state", t.state},
          {"queue_position", t.queue_position},
          {"waiting_reason", t.waiting_reason},
          {"duration_ms", t.duration_ms},
          {"last_tool", t.last_tool},
          {"result", ToValidUtf8(t.result)},
          {"error", ToValidUtf8(t.error)}};
}

json DelegatedTasksJson(const std::vector<DelegatedTask>& tasks) {
  json out = json::array();
  for (const DelegatedTask& t : tasks) out.push_back(DelegatedTaskJson(t));
  return out;
}

json McpSuggestedCall::ToJson() const {
  json args = json::object();
  for (const auto& [name, value] : arguments) args[name] = value;
  return {{"tool", tool}, {"arguments", std::move(args)}};
}

std::string McpSuggestedCall::ToText() const {
  std::string out = tool + "(";
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (i > 0) out += ", ";
    out += arguments[i].first + "=" + jsonrpc::Serialize(arguments[i].second);
  }
  return out + ")";
}

void AddGuidance(const std::string& guidance, McpToolResult* result) {
  if (guidance.empty() || !result->structured.is_object()) return;
  result->structured["guidance"] = guidance;
}

std::string StillRunning(const McpSuggestedCall& wait_again, int64_t waited_ms, int64_t asked_ms,
                         McpToolResult* result) {
  std::string sentence;
  if (asked_ms > waited_ms) {
    sentence = fmt::format(
        "timeout_ms {} was lowered to {}, the longest one call waits (most MCP clients end a tool "
        "call after 60s). ",
        asked_ms, FormatDuration(waited_ms));
  }
  sentence += "To wait again, call " + wait_again.ToText() + ".";
  if (result->structured.is_object()) {
    json& s = result->structured;
    s["timed_out"] = true;
    s["wait_again"] = wait_again.ToJson();
    const std::string before = s.value("guidance", "");
    s["guidance"] = before.empty() ? sentence : before + " " + sentence;
  }
  return sentence;
}

void AttachNotices(const std::vector<NotificationRecord>& notices, McpToolResult* result) {
  if (notices.empty()) return;
  std::string reminder = "Background tasks you launched have finished:\n";
  json list = json::array();
  for (const NotificationRecord& n : notices) {
    const std::string summary = ToValidUtf8(n.summary);
    reminder += "- " + summary + "\n";
    list.push_back({{"task_id", n.task_id}, {"state", n.state}, {"summary", summary}});
  }
  reminder += "Use background_output with a task id to read a result.";
  result->content.insert(
      result->content.begin(),
      json{{"type", "text"}, {"text", "<system-reminder>\n" + reminder + "\n</system-reminder>"}});
  if (result->structured.is_object()) {
    result->structured["notices"] = std::move(list);
    result->structured["reminder"] = std::move(reminder);
  }
}

}  // namespace troupe
