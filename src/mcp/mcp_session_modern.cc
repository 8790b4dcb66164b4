// McpSession's side of MCP revision 2026-07-28 (mcp/mcp_modern.h): every request stands alone,
// carrying its version and the client's capabilities in _meta; the session's own state
// (initialize, log level) plays no part.
//
// Decisions (see also docs/DESIGN.md, "MCP 2026-07-28"):
// - A modern request on a connection that initialized a 2025 version is -32022, listing that
//   version: one connection speaks one era once it chose the stateful one.
// - server/discover: supportedVersions (2026-07-28 and the 2025 ones), capabilities
//   {tools {listChanged false}, extensions {io.modelcontextprotocol/tasks}}, instructions.
// - tools/list: the tools in their stable order, without `execution` (2025 tasks), each taking
//   an optional `session` argument; ttlMs = McpSessionOptions::tools_ttl_ms, cacheScope
//   "public" (the same list for every caller).
// - Ownership: a 2026 caller's tasks belong to owner "mcp:<handle>", `handle` being the
//   `session` argument of the call. A call without one gets a new handle (minted here), said in
//   the result's text and in its _meta "dev.troupe/session"; the model passes it back to see
//   and act on those tasks and to get each completion notice piggy-backed once. A call with
//   `session` that does not have the shape of a minted handle is an isError result saying so.
// - Tasks extension: a client that declares io.modelcontextprotocol/tasks gets tools that
//   support tasks (delegate_task) answered as CreateTaskResult (resultType "task", the troupe
//   task id as taskId, ttlMs null: tasks are kept until removed, across daemon restarts,
//   pollIntervalMs). tasks/get and tasks/cancel take that id alone: the id is the handle.
//   tasks/get of a completed task carries the tool result delegate_task's result_of would
//   give (a failed troupe task is "completed" with isError, as the extension says a tool-level
//   failure is); cancelled is "cancelled". tasks/cancel acknowledges with an empty result,
//   also for a task already terminal (cancellation is cooperative). Without the extension the
//   same tool answers as in 2025 (launch and return the id).
// - subscriptions/listen: acknowledged at once (notifications/subscriptions/acknowledged with
//   the filter honoured: troupe's tools never change while it runs, so toolsListChanged is
//   accepted and never fires), then open until the client cancels it or the connection ends.
//   The tasks extension's `taskIds` filter (a client that declares the extension; else -32021)
//   is honoured for the ids tasks/get would find (the acknowledgement lists those): each state
//   change of such a task is pushed as notifications/tasks carrying what tasks/get would answer
//   then (its _meta naming the subscription); a task already terminal is told once at once.
// - tasks/update: troupe's tasks never ask for input, so no inputResponses key is ever
//   outstanding: as the extension says of such keys, they are ignored, and a known task gets
//   the empty acknowledgement; an unknown one is -32602, as for tasks/get.
// - notifications/message is never sent for a modern request (no logLevel is honoured beyond
//   accepting it); progress flows on the request's own stream when it has a progressToken.
// - ping, logging/setLevel, initialize-only methods (tasks/list, tasks/result, resources/*,
//   prompts/*) are -32601.
#include <fmt/format.h>

#include <algorithm>
#include <random>
#include <utility>

#include "core/utf8.h"
#include "mcp/mcp_params.h"
#include "mcp/mcp_server.h"

namespace troupe {
namespace {

using mcp_params::Expected;
using mcp_params::HostError;
using mcp_params::ReadTaskId;
using mcp_params::HasMember;
using mcp_params::InvalidParams;
using mcp_params::MakeError;
using mcp_params::Member;
using nlohmann::json;

constexpr const char* kHandlePrefix = "s26-";
constexpr size_t kHandleHexDigits = 24;
constexpr const char* kSessionArgument = "session";
constexpr const char* kSessionMeta = "dev.troupe/session";

bool IsHandleShape(const std::string& handle) {
  if (handle.size() != 4 + kHandleHexDigits || !handle.starts_with(kHandlePrefix)) return false;
  for (size_t i = 4; i < handle.size(); ++i) {
    const char c = handle[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string RandomHandle() {
  static std::random_device device;
  std::string hex;
  while (hex.size() < kHandleHexDigits) hex += fmt::format("{:08x}", device());
  return kHandlePrefix + hex.substr(0, kHandleHexDigits);
}

json SessionProperty() {
  return {{"type", "string"},
          {"description",
           "The troupe session handle a previous troupe result gave you (\"s26-…\"). Pass it "
           "on every call to see the tasks you launched and to get their completion notices; "
           "omit it once to start a new session."}};
}

// The modern Task of `task` (the extension's shape, without resultType).
json ModernTaskJson(const McpTask& task, int64_t poll_interval_ms) {
  json out = {{"taskId", task.task_id},
              {"status", McpTaskStatusName(task.status)},
              {"createdAt", FormatMcpTimestamp(task.created_at_ms)},
              {"lastUpdatedAt", FormatMcpTimestamp(task.updated_at_ms)},
              {"ttlMs", nullptr},
              {"pollIntervalMs", poll_interval_ms}};
  if (!task.status_message.empty()) out["statusMessage"] = task.status_message;
  return out;
}

}  // namespace

size_t McpSession::listens_open() const {
  size_t n = 0;
  for (const auto& [key, call] : in_flight_) n += call.listen ? 1 : 0;
  return n;
}

std::string McpSession::NewHandle() const {
  return options_.new_handle ? options_.new_handle() : RandomHandle();
}

json McpSession::StampModern(json result) const {
  if (!result.is_object()) result = json::object();
  if (!result.contains("resultType")) result["resultType"] = "complete";
  json& meta = result["_meta"];
  if (!meta.is_object()) meta = json::object();
  meta[kMcpMetaServerInfo] = {{"name", options_.server_name},
                              {"title", options_.server_title},
                              {"version", options_.server_version}};
  return result;
}

json McpSession::ModernToolResult(json body, const std::string& minted_handle) const {
  if (!minted_handle.empty()) {
    body["content"].push_back(
        {{"type", "text"},
         {"text", fmt::format("troupe session: {} — pass \"session\": \"{}\" in your next troupe "
                              "tool calls to see the tasks launched here and get their "
                              "completion notices.",
                              minted_handle, minted_handle)}});
    body["_meta"][kSessionMeta] = minted_handle;
  }
  return StampModern(std::move(body));
}

void McpSession::HandleModern(const json& id, const std::string& method, const json& params) {
  McpEnvelope envelope;
  if (auto error = ReadMcpEnvelope(params, &envelope)) return SendAnswer(id, {nullptr, error});
  if (initialized_) {
    return SendAnswer(
        id, {nullptr,
             McpUnsupportedVersionError(
                 envelope.protocol_version, {protocol_version_})});
  }
  Answer answer;
  if (method == "server/discover") {
    answer = Discover();
  } else if (method == "tools/list") {
    answer = ListToolsModern(params);
  } else if (method == "tools/call") {
    std::optional<Answer> now = StartModernToolCall(id, params, envelope);
    if (!now) return;  // answered when the host is done
    answer = std::move(*now);
  } else if (method == "tasks/get") {
    answer = GetTaskModern(params);
  } else if (method == "tasks/cancel") {
    answer = CancelTaskModern(params);
  } else if (method == "tasks/update") {
    answer = UpdateTaskModern(params);
  } else if (method == "subscriptions/listen") {
    return Listen(id, params, envelope);
  } else {
    answer = {nullptr,
              MakeError(jsonrpc::kMethodNotFound,
                        fmt::format("Method not found: \"{}\" (in protocol {})", method,
                                    kMcpModernProtocolVersion))};
  }
  if (!answer.error) answer.result = StampModern(std::move(answer.result));
  SendAnswer(id, std::move(answer));
}

McpSession::Answer McpSession::Discover() const {
  json result = {
      {"supportedVersions", McpAllProtocolVersions()},
      {"capabilities",
       {{"tools", {{"listChanged", false}}},
        {"extensions", {{kMcpTasksExtension, json::object()}}}}},
      {"ttlMs", options_.tools_ttl_ms},
      {"cacheScope", "public"},
  };
  if (!options_.instructions.empty()) result["instructions"] = options_.instructions;
  return {std::move(result), std::nullopt};
}

McpSession::Answer McpSession::ListToolsModern(const json& params) {
  Answer answer = ListTools(params);
  if (answer.error) return answer;
  for (json& tool : answer.result["tools"]) {
    tool.erase("execution");
    json& schema = tool["inputSchema"];
    if (!schema.is_object()) continue;
    if (!schema["properties"].is_object()) schema["properties"] = json::object();
    schema["properties"][kSessionArgument] = SessionProperty();
  }
  answer.result["ttlMs"] = options_.tools_ttl_ms;
  answer.result["cacheScope"] = "public";
  return answer;
}

std::optional<McpSession::Answer> McpSession::StartModernToolCall(const json& id,
                                                                  const json& params,
                                                                  const McpEnvelope& envelope) {
  mcp_params::ToolCallParams call;
  if (auto error = mcp_params::ReadToolCall(params, &call)) return Answer{nullptr, error};
  const std::string& tool = call.name;
  json& arguments = call.arguments;
  const json& progress_token = call.progress_token;
  json definition;
  json tools = host_->ListTools();
  for (const json& t : tools.is_array() ? tools : json::array()) {
    if (Member(t, "name") == tool) definition = t;
  }
  if (definition.is_null()) {
    return Answer{nullptr, InvalidParams(fmt::format("Unknown tool: {}", tool))};
  }
  std::string handle;
  std::string minted;
  if (arguments.contains(kSessionArgument)) {
    const json& given = arguments[kSessionArgument];
    if (!given.is_string() || !IsHandleShape(given.get<std::string>())) {
      McpToolResult refused = McpToolResult::Error(fmt::format(
          "session: expected a troupe session handle (\"{}\" and {} hex digits) as an earlier "
          "troupe result gave it, got {}; omit \"session\" to start a new session",
          kHandlePrefix, kHandleHexDigits,
          given.is_string() ? "\"" + ToValidUtf8(given.get<std::string>()) + "\""
                            : std::string(jsonrpc::DescribeType(given))));
      json body = {{"content", refused.content}, {"isError", true}};
      return Answer{ModernToolResult(std::move(body), ""), std::nullopt};
    }
    handle = given.get<std::string>();
    arguments.erase(kSessionArgument);
  } else {
    handle = minted = NewHandle();
  }
  const json& support = Member(Member(definition, "execution"), "taskSupport");
  if (envelope.tasks && (support == "optional" || support == "required")) {
    McpCallContext context = Context();
    context.session_id = handle;
    Result<McpTask> task = host_->StartTask(context, tool, arguments);
    if (!task.ok()) {
      McpToolResult refused = McpToolResult::Error(task.status().message());
      json body = {{"content", refused.content}, {"isError", true}};
      return Answer{ModernToolResult(std::move(body), minted), std::nullopt};
    }
    json result = ModernTaskJson(*task, options_.task_poll_interval_ms);
    result["resultType"] = "task";
    if (!minted.empty()) result["_meta"][kSessionMeta] = minted;
    return Answer{StampModern(std::move(result)), std::nullopt};
  }
  StartInFlight(
      id, progress_token, "",
      [this, &tool, &arguments, &handle](const McpCallContext& given,
                                         std::function<void(McpToolResult)> done) {
        McpCallContext context = given;
        context.session_id = handle;
        return host_->Call(context, tool, arguments, std::move(done));
      },
      /*modern=*/true, minted);
  return std::nullopt;
}

McpSession::Answer McpSession::GetTaskModern(const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return {nullptr, error};
  McpCallContext context = Context();
  context.by_task_handle = true;
  Result<McpTask> task = host_->GetTask(context, task_id);
  if (!task.ok()) return {nullptr, HostError(task.status())};
  json result = ModernTaskJson(*task, options_.task_poll_interval_ms);
  if (task->status == McpTaskStatus::kCompleted || task->status == McpTaskStatus::kFailed) {
    // A terminal task answers at once (McpToolHost::AwaitTaskResult).
    std::optional<McpToolResult> final_result;
    std::unique_ptr<McpCall> call = host_->AwaitTaskResult(
        context, task_id, [&final_result](McpToolResult r) { final_result = std::move(r); });
    if (!final_result) {
      if (call) call->Cancel();
      return {nullptr, MakeError(jsonrpc::kInternalError,
                                 fmt::format("task {} is {} but its result could not be read",
                                             task_id, McpTaskStatusName(task->status)))};
    }
    json body = {{"content", final_result->content.is_array() ? final_result->content
                                                              : json::array()},
                 {"isError", final_result->is_error}};
    if (!final_result->structured.is_null()) body["structuredContent"] = final_result->structured;
    result["status"] = "completed";
    result["result"] = std::move(body);
  }
  return {std::move(result), std::nullopt};
}

McpSession::Answer McpSession::CancelTaskModern(const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return {nullptr, error};
  McpCallContext context = Context();
  context.by_task_handle = true;
  Result<McpTask> task = host_->GetTask(context, task_id);
  if (!task.ok()) return {nullptr, HostError(task.status())};
  if (!IsTerminal(task->status)) {
    Result<McpTask> after = host_->CancelTask(context, task_id);
    if (!after.ok()) return {nullptr, HostError(after.status())};
  }
  return {json::object(), std::nullopt};
}

McpSession::Answer McpSession::UpdateTaskModern(const json& params) {
  std::string task_id;
  if (auto error = ReadTaskId(params, &task_id)) return {nullptr, error};
  const json& responses = Member(params, "inputResponses");
  if (!responses.is_object()) {
    return {nullptr, InvalidParams(Expected("params.inputResponses",
                                            "an object (responses keyed by input request)",
                                            responses))};
  }
  McpCallContext context = Context();
  context.by_task_handle = true;
  Result<McpTask> task = host_->GetTask(context, task_id);
  if (!task.ok()) return {nullptr, HostError(task.status())};
  return {json::object(), std::nullopt};
}

void McpSession::SendTaskStatus(const json& id, const std::string& task_id) {
  Answer state = GetTaskModern({{"taskId", task_id}});
  if (state.error) return;
  json params = std::move(state.result);
  params["_meta"][kMcpMetaSubscriptionId] = id;
  Send(jsonrpc::MakeNotification("notifications/tasks", std::move(params)));
}

void McpSession::Listen(const json& id, const json& params, const McpEnvelope& envelope) {
  const json& filter = Member(params, "notifications");
  if (!filter.is_object()) {
    return SendAnswer(id, {nullptr, InvalidParams(Expected("params.notifications",
                                                           "an object (the subscription filter)",
                                                           filter))});
  }
  json acknowledged = json::object();
  for (const char* key : {"toolsListChanged", "promptsListChanged", "resourcesListChanged"}) {
    if (filter.contains(key) && filter[key].is_boolean()) acknowledged[key] = filter[key];
  }
  std::vector<std::string> task_ids;
  if (HasMember(filter, "taskIds")) {
    const json& ids = Member(filter, "taskIds");
    bool strings = ids.is_array();
    for (const json& t : strings ? ids : json::array()) strings = strings && t.is_string();
    if (!strings) {
      return SendAnswer(id, {nullptr, InvalidParams(Expected("params.notifications.taskIds",
                                                             "an array of task ids", ids))});
    }
    if (!envelope.tasks) {
      jsonrpc::Error error = MakeError(
          kMcpMissingRequiredClientCapability,
          fmt::format("Missing required client capability: task notifications need the {} "
                      "extension in the request's client capabilities",
                      kMcpTasksExtension));
      error.data = {{"requiredCapabilities",
                     {{"extensions", {{kMcpTasksExtension, json::object()}}}}}};
      return SendAnswer(id, {nullptr, error});
    }
    McpCallContext context = Context();
    context.by_task_handle = true;
    for (const json& t : ids) {
      const std::string task_id = t.get<std::string>();
      if (host_->GetTask(context, task_id).ok() &&
          std::find(task_ids.begin(), task_ids.end(), task_id) == task_ids.end()) {
        task_ids.push_back(task_id);
      }
    }
    acknowledged["taskIds"] = task_ids;
  }
  // Open until notifications/cancelled or Close(): an in-flight entry with nothing to wait for.
  StartInFlight(
      id, nullptr, "",
      [](const McpCallContext&, std::function<void(McpToolResult)>) -> std::unique_ptr<McpCall> {
        return nullptr;
      },
      /*modern=*/true);
  auto open = in_flight_.find(jsonrpc::IdKey(id));
  if (open == in_flight_.end()) return;
  open->second.listen = true;
  Send(jsonrpc::MakeNotification(
      "notifications/subscriptions/acknowledged",
      {{"_meta", {{kMcpMetaSubscriptionId, id}}}, {"notifications", std::move(acknowledged)}}));
  const std::string key = jsonrpc::IdKey(id);
  const uint64_t serial = open->second.serial;
  std::weak_ptr<int> alive = alive_;
  McpCallContext context = Context();
  context.by_task_handle = true;
  for (const std::string& task_id : task_ids) {
    std::unique_ptr<McpTaskWatch> watch = host_->WatchTask(
        context, task_id, [this, alive, key, serial, id, task_id](const McpTask&) {
          if (alive.expired() || closed_) return;
          auto it = in_flight_.find(key);
          if (it == in_flight_.end() || it->second.serial != serial) return;
          SendTaskStatus(id, task_id);
        });
    auto it = in_flight_.find(key);
    if (it == in_flight_.end() || it->second.serial != serial) return;
    if (watch) it->second.task_watches.push_back(std::move(watch));
    Result<McpTask> now = host_->GetTask(context, task_id);
    if (now.ok() && IsTerminal(now->status)) SendTaskStatus(id, task_id);
  }
}

}  // namespace troupe
