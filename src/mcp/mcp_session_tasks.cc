// McpSession's side of MCP tasks (see the protocol decisions in mcp_server.h): tasks/get,
// tasks/list, tasks/cancel, tasks/result, and the notices of tasks that ended.
#include <fmt/format.h>

#include <chrono>
#include <utility>
#include <vector>

#include "mcp/mcp_params.h"
#include "mcp/mcp_server.h"

namespace troupe {
namespace {

using mcp_params::CheckParamsObject;
using mcp_params::HostError;
using mcp_params::ReadTaskId;
using mcp_params::Expected;
using mcp_params::InvalidParams;
using mcp_params::MakeError;
using mcp_params::Member;
using nlohmann::json;

}  // namespace

std::string FormatMcpTimestamp(int64_t wall_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> time{milliseconds(wall_ms)};
  const sys_days day = floor<days>(time);
  const year_month_day date(day);
  const hh_mm_ss<milliseconds> clock(time - day);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", static_cast<int>(date.year()),
                     static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                     clock.hours().count(), clock.minutes().count(), clock.seconds().count(),
                     clock.subseconds().count());
}

json McpTaskJson(const McpTask& task, int64_t poll_interval_ms) {
  json out = {{"taskId", task.task_id},
              {"status", McpTaskStatusName(task.status)},
              {"createdAt", FormatMcpTimestamp(task.created_at_ms)},
              {"lastUpdatedAt", FormatMcpTimestamp(task.updated_at_ms)},
              {"ttl", nullptr},
              {"pollInterval", poll_interval_ms}};
  if (!task.status_message.empty()) out["statusMessage"] = task.status_message;
  return out;
}

json McpSession::TaskJson(const McpTask& task) const {
  return McpTaskJson(task, options_.task_poll_interval_ms);
}

bool McpSession::HostRunsTasks() const {
  json tools = host_->ListTools();
  if (!tools.is_array()) return false;
  for (const json& tool : tools) {
    const json& support = Member(Member(tool, "execution"), "taskSupport");
    if (support == "optional" || support == "required") return true;
  }
  return false;
}

void McpSession::HandleTaskRequest(const json& id, const std::string& method, const json& params) {
  if (method == "tasks/get") return SendAnswer(id, GetTask(params));
  if (method == "tasks/list") return SendAnswer(id, ListTasks(params));
  if (method == "tasks/cancel") return SendAnswer(id, CancelTask(params));
  if (method == "tasks/result") {
    if (auto answer = StartTaskResult(id, params)) SendAnswer(id, std::move(*answer));
    return;
  }
  SendAnswer(id, Answer{nullptr, MakeError(jsonrpc::kMethodNotFound,
                                           fmt::format("Method not found: \"{}\"", method))});
}

McpSession::Answer McpSession::GetTask(const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return {nullptr, error};
  Result<McpTask> task = host_->GetTask(Context(), task_id);
  if (!task.ok()) return {nullptr, HostError(task.status())};
  return {TaskJson(*task), std::nullopt};
}

McpSession::Answer McpSession::ListTasks(const json& params) {
  if (auto error = CheckParamsObject(params)) return {nullptr, error};
  Result<std::vector<McpTask>> tasks = host_->ListTasks(Context());
  if (!tasks.ok()) return {nullptr, HostError(tasks.status())};
  mcp_params::Page page;
  if (auto error = mcp_params::ReadPage(params, tasks->size(), options_.task_page_size, &page)) {
    return {nullptr, error};
  }
  json listed = json::array();
  for (size_t i = page.begin; i < page.end; ++i) listed.push_back(TaskJson((*tasks)[i]));
  json result = {{"tasks", std::move(listed)}};
  if (!page.next_cursor.empty()) result["nextCursor"] = page.next_cursor;
  return {std::move(result), std::nullopt};
}

McpSession::Answer McpSession::CancelTask(const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return {nullptr, error};
  Result<McpTask> before = host_->GetTask(Context(), task_id);
  if (!before.ok()) return {nullptr, HostError(before.status())};
  if (IsTerminal(before->status)) {
    return {nullptr, InvalidParams(fmt::format("Cannot cancel task: it is already {}",
                                               McpTaskStatusName(before->status)))};
  }
  Result<McpTask> after = host_->CancelTask(Context(), task_id);
  if (!after.ok()) return {nullptr, HostError(after.status())};
  return {TaskJson(*after), std::nullopt};
}

std::optional<McpSession::Answer> McpSession::StartTaskResult(const json& id, const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return Answer{nullptr, error};
  json progress_token;
  if (auto error = mcp_params::ReadProgressToken(params, &progress_token)) {
    return Answer{nullptr, error};
  }
  Result<McpTask> task = host_->GetTask(Context(), task_id);
  if (!task.ok()) return Answer{nullptr, HostError(task.status())};
  StartInFlight(
      id, progress_token, task_id,
      [this, &task_id](const McpCallContext& context, std::function<void(McpToolResult)> done) {
        return host_->AwaitTaskResult(context, task_id, std::move(done));
      });
  return std::nullopt;
}

void McpSession::OnTaskNotice(const McpTaskNotice& notice) {
  if (closed_ || !initialized_) return;
  const McpLogLevel level =
      notice.task.status == McpTaskStatus::kCompleted ? McpLogLevel::kInfo : McpLogLevel::kWarning;
  Log(level, options_.server_name, notice.details);
  if (tasks_enabled_) {
    Send(jsonrpc::MakeNotification("notifications/tasks/status", TaskJson(notice.task)));
  }
}

}  // namespace troupe
