#include "mcp/mcp_answers.h"

#include <string>
#include <utility>

#include "core/utf8.h"

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
          {"error", ToValidUtf8(t.error)},
          {"usage",
           {{"requests", t.usage.requests},
            {"input_tokens", t.usage.input_tokens},
            {"output_tokens", t.usage.output_tokens},
            {"cache_write_tokens", t.usage.cache_write_tokens},
            {"cache_read_tokens", t.usage.cache_read_tokens},
            {"reasoning_tokens", t.usage.reasoning_tokens},
            {"cost_usd", t.usage.cost_known() ? json(NanoToUsd(t.usage.cost_nano_usd))
                                              : json(nullptr)},
            {"cost", FormatCost(t.usage)}}}};
}

json DelegatedTasksJson(const std::vector<DelegatedTask>& tasks) {
  json out = json::array();
  for (const DelegatedTask& t : tasks) out.push_back(DelegatedTaskJson(t));
  return out;
}

void AddGuidance(const std::string& guidance, McpToolResult* result) {
  if (guidance.empty() || !result->structured.is_object()) return;
  result->structured["guidance"] = guidance;
}

std::string StillRunning(const McpSuggestedCall& wait_again, int64_t waited_ms, int64_t asked_ms,
                         McpToolResult* result) {
  std::string sentence = WaitAgainSentence(wait_again, waited_ms, asked_ms);
  MarkWaitAgain(wait_again, sentence, result);
  return sentence;
}

void MarkWaitAgain(const McpSuggestedCall& wait_again, const std::string& sentence,
                   McpToolResult* result) {
  if (!result->structured.is_object()) return;
  json& s = result->structured;
  s["timed_out"] = true;
  s["wait_again"] = wait_again.ToJson();
  const std::string before = s.value("guidance", "");
  s["guidance"] = before.empty() ? sentence : before + " " + sentence;
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
