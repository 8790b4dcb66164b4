// The MCP protocol for one client connection (see mcp_server.h).
#include "mcp/mcp_server.h"

#include <fmt/format.h>

#include <exception>
#include <utility>
#include <vector>

#include "mcp/mcp_params.h"

namespace troupe {
namespace {

using mcp_params::CheckParamsObject;
using mcp_params::Expected;
using mcp_params::HasMember;
using mcp_params::InvalidParams;
using mcp_params::MakeError;
using mcp_params::Member;
using nlohmann::json;

std::string LevelNames() {
  std::string names;
  for (int i = 0; i <= static_cast<int>(McpLogLevel::kEmergency); ++i) {
    if (!names.empty()) names += ", ";
    names += McpLogLevelName(static_cast<McpLogLevel>(i));
  }
  return names;
}

// A tool's execution.taskSupport: "forbidden" (also when absent), "optional" or "required".
std::string TaskSupportOf(const json& tool) {
  const json& support = Member(Member(tool, "execution"), "taskSupport");
  return support.is_string() ? support.get<std::string>() : "forbidden";
}

bool RunsAsTask(const std::string& support) {
  return support == "optional" || support == "required";
}

}  // namespace

std::string NegotiateMcpProtocolVersion(std::string_view requested) {
  for (const char* version : kMcpProtocolVersions) {
    if (requested == version) return version;
  }
  return kMcpLatestProtocolVersion;
}

jsonrpc::Error McpPreInitializeError(std::string_view method) {
  if (method == "server/discover") {
    return MakeError(
        jsonrpc::kMethodNotFound,
        fmt::format("Method not found: \"server/discover\" (troupe speaks MCP {}, {} "
                    "and {}: send \"initialize\")",
                    kMcpProtocolVersions[0], kMcpProtocolVersions[1], kMcpProtocolVersions[2]));
  }
  return MakeError(
      jsonrpc::kInvalidRequest,
      fmt::format("server not initialized: send \"initialize\" before \"{}\"", method));
}

const char* McpLogLevelName(McpLogLevel level) {
  switch (level) {
    case McpLogLevel::kDebug:
      return "debug";
    case McpLogLevel::kInfo:
      return "info";
    case McpLogLevel::kNotice:
      return "notice";
    case McpLogLevel::kWarning:
      return "warning";
    case McpLogLevel::kError:
      return "error";
    case McpLogLevel::kCritical:
      return "critical";
    case McpLogLevel::kAlert:
      return "alert";
    case McpLogLevel::kEmergency:
      return "emergency";
  }
  return "info";
}

std::optional<McpLogLevel> ParseMcpLogLevel(std::string_view name) {
  for (int i = 0; i <= static_cast<int>(McpLogLevel::kEmergency); ++i) {
    auto level = static_cast<McpLogLevel>(i);
    if (name == McpLogLevelName(level)) return level;
  }
  return std::nullopt;
}

McpSession::McpSession(McpToolHost* host, McpSessionOptions options, SendFn send)
    : host_(host),
      options_(std::move(options)),
      send_(std::move(send)),
      log_level_(options_.default_log_level) {}

McpSession::~McpSession() { Close(); }

void McpSession::Receive(std::string_view text) {
  if (closed_) return;
  Dispatch(jsonrpc::ParseMessage(text));
}

void McpSession::ReceiveParsed(const json& message) {
  if (closed_) return;
  Dispatch(jsonrpc::ClassifyMessage(message));
}

void McpSession::Dispatch(jsonrpc::Message message) {
  if (auto* request = std::get_if<jsonrpc::Request>(&message)) {
    json id = request->id;
    try {
      HandleRequest(std::move(*request));
    } catch (const std::exception& e) {
      SendAnswer(id, Answer{nullptr, MakeError(jsonrpc::kInternalError,
                                               std::string("internal error: ") + e.what())});
    } catch (...) {
      SendAnswer(id, Answer{nullptr, MakeError(jsonrpc::kInternalError, "internal error")});
    }
  } else if (auto* notification = std::get_if<jsonrpc::Notification>(&message)) {
    try {
      HandleNotification(*notification);
    } catch (...) {
      // A notification has no one to tell.
    }
  } else if (auto* invalid = std::get_if<jsonrpc::Invalid>(&message)) {
    Send(jsonrpc::ErrorResponse(invalid->id, invalid->error));
  }
  // jsonrpc::Response: troupe sends no requests, so there is nothing to match it with.
}

void McpSession::HandleRequest(jsonrpc::Request request) {
  const json& id = request.id;
  const std::string& method = request.method;
  if (in_flight_.count(jsonrpc::IdKey(id)) != 0) {
    SendAnswer(id, Answer{nullptr, MakeError(jsonrpc::kInvalidRequest,
                                             fmt::format("id: {} is already used by a request "
                                                         "in flight",
                                                         jsonrpc::Serialize(id)))});
    return;
  }
  if (IsMcpModernRequest(method, request.params)) {
    return HandleModern(id, method, request.params);
  }
  if (method == "ping") {
    if (auto error = CheckParamsObject(request.params)) return SendAnswer(id, {nullptr, error});
    return SendAnswer(id, Answer{json::object(), std::nullopt});
  }
  if (method == "initialize") return SendAnswer(id, Initialize(request.params));
  if (!initialized_) return SendAnswer(id, Answer{nullptr, McpPreInitializeError(method)});
  if (method == "tools/list") return SendAnswer(id, ListTools(request.params));
  if (method == "tools/call") {
    if (auto answer = StartToolCall(id, request.params)) SendAnswer(id, std::move(*answer));
    return;
  }
  if (method == "logging/setLevel") return SendAnswer(id, SetLevel(request.params));
  if (tasks_enabled_ && method.starts_with("tasks/")) {
    return HandleTaskRequest(id, method, request.params);
  }
  SendAnswer(id, Answer{nullptr, MakeError(jsonrpc::kMethodNotFound,
                                           fmt::format("Method not found: \"{}\"", method))});
}

void McpSession::HandleNotification(const jsonrpc::Notification& notification) {
  const std::string& method = notification.method;
  if (method == "notifications/initialized") {
    if (initialized_) ready_ = true;
    return;
  }
  if (method == "notifications/cancelled") {
    const json& request_id = Member(notification.params, "requestId");
    if (!jsonrpc::IsValidId(request_id)) return;
    auto it = in_flight_.find(jsonrpc::IdKey(request_id));
    if (it == in_flight_.end()) return;  // finished already, or never a call in flight
    std::unique_ptr<McpCall> call = std::move(it->second.call);
    in_flight_.erase(it);
    if (call) call->Cancel();
    return;
  }
  // notifications/roots/list_changed and anything else: nothing to do.
}

McpSession::Answer McpSession::Initialize(const json& params) {
  if (initialized_) {
    return {nullptr,
            MakeError(jsonrpc::kInvalidRequest, "initialize: the session is already initialized")};
  }
  if (auto error = CheckParamsObject(params)) return {nullptr, error};
  const json& requested = Member(params, "protocolVersion");
  if (!requested.is_string()) {
    return {nullptr, InvalidParams(Expected("params.protocolVersion", "a string", requested))};
  }
  // capabilities and clientInfo are required by the schema but unused here; only their type is
  // checked, so a sloppy client still gets in.
  if (HasMember(params, "capabilities") && !Member(params, "capabilities").is_object()) {
    return {nullptr, InvalidParams(Expected("params.capabilities", "an object",
                                            Member(params, "capabilities")))};
  }
  if (HasMember(params, "clientInfo") && !Member(params, "clientInfo").is_object()) {
    return {nullptr, InvalidParams(
                         Expected("params.clientInfo", "an object", Member(params, "clientInfo")))};
  }

  protocol_version_ = NegotiateMcpProtocolVersion(requested.get_ref<const std::string&>());
  client_info_ = Member(params, "clientInfo");
  initialized_ = true;
  tasks_enabled_ = protocol_version_ == kMcpTasksProtocolVersion && HostRunsTasks();

  json capabilities = {{"tools", {{"listChanged", false}}}, {"logging", json::object()}};
  if (tasks_enabled_) {
    capabilities["tasks"] = {{"list", json::object()},
                             {"cancel", json::object()},
                             {"requests", {{"tools", {{"call", json::object()}}}}}};
  }
  json result = {
      {"protocolVersion", protocol_version_},
      {"capabilities", std::move(capabilities)},
      {"serverInfo",
       {{"name", options_.server_name},
        {"title", options_.server_title},
        {"version", options_.server_version}}},
  };
  if (!options_.instructions.empty()) result["instructions"] = options_.instructions;

  // Terminal tasks are told from now on (the host never calls back from inside WatchTasks).
  std::weak_ptr<int> alive = alive_;
  task_watch_ = host_->WatchTasks(options_.session_id, [this, alive](const McpTaskNotice& n) {
    if (alive.expired()) return;
    OnTaskNotice(n);
  });
  return {std::move(result), std::nullopt};
}

McpSession::Answer McpSession::SetLevel(const json& params) {
  if (auto error = CheckParamsObject(params)) return {nullptr, error};
  const json& level = Member(params, "level");
  std::optional<McpLogLevel> parsed;
  if (level.is_string()) parsed = ParseMcpLogLevel(level.get_ref<const std::string&>());
  if (!parsed) {
    std::string got;
    if (level.is_string()) {
      got = fmt::format("\"{}\"", level.get_ref<const std::string&>());
    } else {
      got = jsonrpc::DescribeType(level);
    }
    return {nullptr, InvalidParams(fmt::format("params.level: expected one of {}, got {}",
                                               LevelNames(), got))};
  }
  log_level_ = *parsed;
  return {json::object(), std::nullopt};
}

McpSession::Answer McpSession::ListTools(const json& params) {
  if (auto error = CheckParamsObject(params)) return {nullptr, error};
  json tools = host_->ListTools();
  if (!tools.is_array()) {
    return {nullptr, MakeError(jsonrpc::kInternalError,
                               "tools/list: the tool host returned no array of tools")};
  }
  mcp_params::Page page;
  if (auto error = mcp_params::ReadPage(params, tools.size(), options_.page_size, &page)) {
    return {nullptr, error};
  }
  json listed = json::array();
  for (size_t i = page.begin; i < page.end; ++i) listed.push_back(std::move(tools[i]));
  json result = {{"tools", std::move(listed)}};
  if (!page.next_cursor.empty()) result["nextCursor"] = page.next_cursor;
  return {std::move(result), std::nullopt};
}

std::optional<McpSession::Answer> McpSession::StartToolCall(const json& id, const json& params) {
  if (auto error = CheckParamsObject(params)) return Answer{nullptr, error};
  mcp_params::ToolCallParams call;
  if (auto error = mcp_params::ReadToolCall(params, &call)) return Answer{nullptr, error};
  const std::string& tool = call.name;
  const json& arguments = call.arguments;
  const json& progress_token = call.progress_token;
  // params.task means something only where tasks were negotiated; elsewhere it is ignored.
  const bool as_task = tasks_enabled_ && HasMember(params, "task");
  if (as_task) {
    const json& task = Member(params, "task");
    if (!task.is_object()) {
      return Answer{nullptr, InvalidParams(Expected("params.task", "an object", task))};
    }
    if (HasMember(task, "ttl") && !Member(task, "ttl").is_number_integer()) {
      return Answer{nullptr, InvalidParams(Expected("params.task.ttl", "an integer (milliseconds)",
                                                    Member(task, "ttl")))};
    }
  }
  std::optional<std::string> support;
  json tools = host_->ListTools();
  if (tools.is_array()) {
    for (const json& t : tools) {
      const json& tool_name = Member(t, "name");
      if (tool_name.is_string() && tool_name.get_ref<const std::string&>() == tool) {
        support = TaskSupportOf(t);
        break;
      }
    }
  }
  if (!support) return Answer{nullptr, InvalidParams(fmt::format("Unknown tool: {}", tool))};
  if (as_task && !RunsAsTask(*support)) {
    return Answer{nullptr,
                  MakeError(jsonrpc::kMethodNotFound,
                            fmt::format("Tool {} does not support task-augmented execution (its "
                                        "execution.taskSupport is \"{}\"): call it without "
                                        "params.task",
                                        tool, *support))};
  }
  if (!as_task && *support == "required") {
    return Answer{nullptr,
                  MakeError(jsonrpc::kMethodNotFound,
                            fmt::format("Tool {} runs only as a task (execution.taskSupport is "
                                        "\"required\"): call it with params.task, on protocol "
                                        "version {}",
                                        tool, kMcpTasksProtocolVersion))};
  }
  if (as_task) return StartTask(tool, arguments);

  StartInFlight(id, progress_token, "",
                [this, &tool, &arguments](const McpCallContext& context,
                                          std::function<void(McpToolResult)> done) {
                  return host_->Call(context, tool, arguments, std::move(done));
                });
  return std::nullopt;
}

McpSession::Answer McpSession::StartTask(const std::string& tool, const json& arguments) {
  Result<McpTask> task = host_->StartTask(Context(), tool, arguments);
  if (!task.ok()) {
    const StatusCode code = task.status().code();
    // What the tool refused is the client's to fix; a failure of the server is not.
    const bool server_fault = code == StatusCode::kInternal || code == StatusCode::kIoError ||
                              code == StatusCode::kCorruption || code == StatusCode::kUnavailable;
    return {nullptr, MakeError(server_fault ? jsonrpc::kInternalError : jsonrpc::kInvalidParams,
                               task.status().message())};
  }
  return {json{{"task", TaskJson(*task)}}, std::nullopt};
}

void McpSession::StartInFlight(const json& id, const json& progress_token, std::string related_task,
                               const HostCall& call, bool modern, std::string minted_handle) {
  const std::string key = jsonrpc::IdKey(id);
  const uint64_t serial = next_serial_++;
  InFlightCall entry;
  entry.serial = serial;
  entry.id = id;
  entry.related_task = std::move(related_task);
  entry.modern = modern;
  entry.minted_handle = std::move(minted_handle);
  in_flight_[key] = std::move(entry);

  std::weak_ptr<int> alive = alive_;
  McpCallContext context = Context();
  if (!progress_token.is_null()) {
    context.progress = [this, alive, key, serial, progress_token](double progress,
                                                                  std::optional<double> total,
                                                                  const std::string& message) {
      if (alive.expired()) return;
      SendProgress(key, serial, progress_token, progress, total, message);
    };
  }
  std::unique_ptr<McpCall> started;
  try {
    started = call(context, [this, alive, key, serial](McpToolResult result) {
      if (alive.expired()) return;
      FinishInFlight(key, serial, std::move(result));
    });
  } catch (...) {
    auto it = in_flight_.find(key);
    if (it != in_flight_.end() && it->second.serial == serial) in_flight_.erase(it);
    throw;  // Dispatch answers -32603
  }
  // `done` may have run already (the entry is gone then); otherwise keep the call to cancel.
  auto it = in_flight_.find(key);
  if (it != in_flight_.end() && it->second.serial == serial) it->second.call = std::move(started);
}

void McpSession::FinishInFlight(const std::string& key, uint64_t serial, McpToolResult result) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end() || it->second.serial != serial) return;  // cancelled
  json id = std::move(it->second.id);
  std::string related_task = std::move(it->second.related_task);
  const bool modern = it->second.modern;
  std::string minted_handle = std::move(it->second.minted_handle);
  in_flight_.erase(it);
  if (closed_) return;
  json body = {{"content", result.content.is_array() ? std::move(result.content) : json::array()},
               {"isError", result.is_error}};
  // structuredContent came with 2025-06-18.
  if (!result.structured.is_null() && (modern || protocol_version_ != "2025-03-26")) {
    body["structuredContent"] = std::move(result.structured);
  }
  if (!related_task.empty()) {
    body["_meta"] = {{"io.modelcontextprotocol/related-task", {{"taskId", related_task}}}};
  }
  if (modern) body = ModernToolResult(std::move(body), minted_handle);
  Send(jsonrpc::ResultResponse(id, std::move(body)));
}

void McpSession::SendProgress(const std::string& key, uint64_t serial, const json& token,
                              double progress, std::optional<double> total,
                              const std::string& message) {
  auto it = in_flight_.find(key);
  if (it == in_flight_.end() || it->second.serial != serial) return;  // finished or cancelled
  json params = {{"progressToken", token}, {"progress", progress}};
  if (total) params["total"] = *total;
  if (!message.empty()) params["message"] = message;
  Send(jsonrpc::MakeNotification("notifications/progress", std::move(params)));
}

McpCallContext McpSession::Context() const {
  McpCallContext context;
  context.session_id = options_.session_id;
  return context;
}

void McpSession::Log(McpLogLevel level, const std::string& logger, json data) {
  if (closed_ || !initialized_ || level < log_level_) return;
  json params = {{"level", McpLogLevelName(level)}, {"data", std::move(data)}};
  if (!logger.empty()) params["logger"] = logger;
  Send(jsonrpc::MakeNotification("notifications/message", std::move(params)));
}

void McpSession::Close() {
  if (closed_) return;
  closed_ = true;
  task_watch_.reset();
  // Cancel may call back into the session; work on a detached map.
  std::map<std::string, InFlightCall> calls = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [key, entry] : calls) {
    if (entry.call) entry.call->Cancel();
  }
}

void McpSession::Send(json message) {
  if (closed_ || !send_) return;
  try {
    send_(std::move(message));
  } catch (...) {
    // The transport's failure is the transport's to report; the session stays consistent.
  }
}

void McpSession::SendAnswer(const json& id, Answer answer) {
  if (answer.error) {
    Send(jsonrpc::ErrorResponse(id, *answer.error));
  } else {
    Send(jsonrpc::ResultResponse(id, std::move(answer.result)));
  }
}

}  // namespace troupe
