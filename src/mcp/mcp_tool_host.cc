#include "mcp/mcp_tool_host.h"

#include <fmt/format.h>

namespace troupe {

McpToolResult McpToolResult::Text(std::string text) {
  McpToolResult r;
  r.content.push_back({{"type", "text"}, {"text", std::move(text)}});
  return r;
}

McpToolResult McpToolResult::Error(std::string text) {
  McpToolResult r = Text(std::move(text));
  r.is_error = true;
  return r;
}

const char* McpTaskStatusName(McpTaskStatus status) {
  switch (status) {
    case McpTaskStatus::kWorking:
      return "working";
    case McpTaskStatus::kInputRequired:
      return "input_required";
    case McpTaskStatus::kCompleted:
      return "completed";
    case McpTaskStatus::kFailed:
      return "failed";
    case McpTaskStatus::kCancelled:
      return "cancelled";
  }
  return "working";
}

bool IsTerminal(McpTaskStatus status) {
  return status == McpTaskStatus::kCompleted || status == McpTaskStatus::kFailed ||
         status == McpTaskStatus::kCancelled;
}

namespace {

Status NoTasks() { return Status::Unimplemented("this server runs no tool as a task"); }

}  // namespace

Result<McpTask> McpToolHost::StartTask(const McpCallContext&, const std::string&,
                                       const nlohmann::json&) {
  return NoTasks();
}

Result<McpTask> McpToolHost::GetTask(const McpCallContext&, const std::string& task_id) {
  return Status::NotFound(fmt::format("no task {} in this session", task_id));
}

Result<std::vector<McpTask>> McpToolHost::ListTasks(const McpCallContext&) {
  return std::vector<McpTask>();
}

Result<McpTask> McpToolHost::CancelTask(const McpCallContext& context, const std::string& task_id) {
  return GetTask(context, task_id);
}

std::unique_ptr<McpCall> McpToolHost::AwaitTaskResult(const McpCallContext&,
                                                      const std::string& task_id,
                                                      std::function<void(McpToolResult)> done) {
  done(McpToolResult::Error(fmt::format("no task {} in this session", task_id)));
  return nullptr;
}

std::unique_ptr<McpTaskWatch> McpToolHost::WatchTasks(const std::string&,
                                                      std::function<void(const McpTaskNotice&)>) {
  return nullptr;
}

std::unique_ptr<McpTaskWatch> McpToolHost::WatchTask(const McpCallContext&, const std::string&,
                                                     std::function<void(const McpTask&)>) {
  return nullptr;
}

}  // namespace troupe
