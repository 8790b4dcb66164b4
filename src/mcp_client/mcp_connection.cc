#include "mcp_client/mcp_connection.h"

#include <algorithm>

#include "core/duration_format.h"
#include "mcp_client/mcp_revision.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr int kMaxToolPages = 100;
// A task's polling: the server's pollIntervalMs, kept within these bounds (default when absent).
constexpr int64_t kDefaultPollMs = 1000;
constexpr int64_t kMinPollMs = 50;
constexpr int64_t kMaxPollMs = 30'000;
constexpr int64_t kCancelTaskTimeoutMs = 5000;
// How many given-up tools/calls a late task answer is still recognised for.
constexpr size_t kRememberedAbandonedCalls = 256;

bool Is2025Version(const std::string& version) {
  return version == "2025-11-25" || version == "2025-06-18" || version == "2025-03-26" ||
         version == "2024-11-05";
}

int64_t PollInterval(const json& task) {
  const json& v = task.is_object() && task.contains("pollIntervalMs") ? task["pollIntervalMs"]
                                                                      : json();
  if (!v.is_number_integer()) return kDefaultPollMs;
  return std::clamp<int64_t>(v.get<int64_t>(), kMinPollMs, kMaxPollMs);
}

std::string StringMember(const json& object, const char* key) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string()) return "";
  return object[key].get<std::string>();
}

}  // namespace

bool IsKnownMcpProtocolVersion(const std::string& version) {
  return version == kMcpModernProtocolVersion || Is2025Version(version);
}

McpProbeOutcome McpDiscoverResultOutcome(const json& result) {
  if (!result.is_object() || !result.contains("supportedVersions") ||
      !result["supportedVersions"].is_array() || !result.contains("capabilities") ||
      !result["capabilities"].is_object()) {
    return McpProbeOutcome::kLegacy;
  }
  for (const json& v : result["supportedVersions"]) {
    if (v == kMcpModernProtocolVersion) return McpProbeOutcome::kModern;
  }
  return McpProbeOutcome::kLegacy;
}

McpProbeOutcome McpProbeErrorOutcome(int code, const json& data, std::string* why) {
  if (data.is_object() && data.value("transport", false)) return McpProbeOutcome::kFail;
  if (data.is_object() && data.contains("httpStatus") && data["httpStatus"].is_number_integer()) {
    const int status = data["httpStatus"].get<int>();
    if (status == 401 || status == 403 || status >= 500) return McpProbeOutcome::kFail;
    const json& rpc = data.contains("rpcError") ? data["rpcError"] : json();
    if (rpc.is_object() && rpc.contains("code") && rpc["code"].is_number_integer()) {
      return McpProbeErrorOutcome(rpc["code"].get<int>(), rpc.value("data", json()), why);
    }
    return McpProbeOutcome::kLegacy;
  }
  if (code != kMcpUnsupportedProtocolVersion || !data.is_object() ||
      !data.contains("supported") || !data["supported"].is_array() ||
      data["supported"].empty()) {
    return McpProbeOutcome::kLegacy;
  }
  std::string listed;
  for (const json& v : data["supported"]) {
    if (!v.is_string()) return McpProbeOutcome::kLegacy;
    if (Is2025Version(v.get<std::string>())) return McpProbeOutcome::kLegacy;
    listed += (listed.empty() ? "" : ", ") + v.get<std::string>();
  }
  *why = "the server speaks MCP " + listed + ", which troupe does not (it speaks " +
         kMcpModernProtocolVersion + " and 2025-11-25 down to 2024-11-05)";
  return McpProbeOutcome::kFail;
}

Result<McpToolInfo> ParseMcpTool(const json& tool) {
  if (!tool.is_object()) return Status::InvalidArgument("a tool is not an object");
  McpToolInfo info;
  if (!tool.contains("name") || !tool["name"].is_string() ||
      tool["name"].get<std::string>().empty()) {
    return Status::InvalidArgument("a tool has no \"name\"");
  }
  info.name = tool["name"].get<std::string>();
  if (tool.contains("title") && tool["title"].is_string()) info.title = tool["title"];
  if (tool.contains("description") && tool["description"].is_string()) {
    info.description = tool["description"];
  }
  if (!tool.contains("inputSchema") || !tool["inputSchema"].is_object()) {
    return Status::InvalidArgument("tool \"" + info.name + "\" has no \"inputSchema\" object");
  }
  info.input_schema = tool["inputSchema"];
  if (tool.contains("outputSchema") && tool["outputSchema"].is_object()) {
    info.output_schema = tool["outputSchema"];
  }
  return info;
}

McpConnection::McpConnection(std::unique_ptr<McpChannel> channel, Clock* clock,
                             bool probe_modern)
    : channel_(std::move(channel)), clock_(clock), probe_modern_(probe_modern) {}

McpConnection::~McpConnection() { Close(); }

void McpConnection::Start(int64_t timeout_ms, std::function<void(Status)> done,
                          std::function<void(Status)> on_closed) {
  on_closed_ = std::move(on_closed);
  std::weak_ptr<bool> alive = alive_;
  McpChannelCallbacks cb;
  cb.on_message = [this, alive](json message) {
    if (!alive.expired()) OnMessage(std::move(message));
  };
  cb.on_closed = [this, alive](Status why) {
    if (!alive.expired()) OnClosed(std::move(why));
  };
  if (Status opened = channel_->Open(std::move(cb)); !opened.ok()) {
    closed_ = true;
    auto timer = std::make_shared<Timer>(clock_);
    timer->Start(0, [timer, done = std::move(done), opened] { done(opened); });
    return;
  }
  if (probe_modern_) return Probe(timeout_ms, std::move(done));
  Initialize(timeout_ms, std::move(done));
}

json McpConnection::Envelope() const {
  return {{kMcpMetaProtocolVersion, kMcpModernProtocolVersion},
          {kMcpMetaClientCapabilities, {{"extensions", {{kMcpTasksExtension, json::object()}}}}},
          {kMcpMetaClientInfo, {{"name", "troupe"}, {"version", "0.1"}}}};
}

void McpConnection::Probe(int64_t timeout_ms, std::function<void(Status)> done) {
  const bool http = channel_->CancelsByClosing();
  // A stdio server that ignores the probe leaves the rest of the time to initialize.
  const int64_t probe_ms = http ? timeout_ms : std::max<int64_t>(1, timeout_ms / 2);
  const int64_t started_ms = clock_->NowMs();
  auto shared_done = std::make_shared<std::function<void(Status)>>(std::move(done));
  auto legacy = [this, timeout_ms, started_ms, shared_done] {
    const int64_t left = std::max<int64_t>(1, timeout_ms - (clock_->NowMs() - started_ms));
    Initialize(left, std::move(*shared_done));
  };
  const uint64_t id = Request(
      "server/discover", {{"_meta", Envelope()}}, probe_ms,
      [this, http, legacy, shared_done](Result<json> result) {
        if (result.ok()) {
          if (McpDiscoverResultOutcome(result.value()) != McpProbeOutcome::kModern) {
            return legacy();
          }
          Modern(result.value());
          return (*shared_done)(Status::Ok());
        }
        if (result.status().code() == StatusCode::kDeadlineExceeded && !http) return legacy();
        if (closed_ && !http) probe_closed_ = true;
        (*shared_done)(result.status().WithContext("server/discover"));
      });
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  it->second.on_error = [legacy, shared_done](const jsonrpc::Error& error) {
    std::string why;
    switch (McpProbeErrorOutcome(error.code, error.data, &why)) {
      case McpProbeOutcome::kLegacy:
        return legacy();
      case McpProbeOutcome::kModern:
      case McpProbeOutcome::kFail:
        return (*shared_done)(Status::Unavailable(
            why.empty() ? "server/discover: " + error.message : why));
    }
  };
}

void McpConnection::Modern(const json& discover) {
  modern_ = true;
  protocol_version_ = kMcpModernProtocolVersion;
  json info;
  if (discover.contains("_meta") && discover["_meta"].is_object()) {
    info = discover["_meta"].value(kMcpMetaServerInfo, json());
  }
  if (!info.is_object()) info = discover.value("serverInfo", json());
  server_name_ = StringMember(info, "name");
  server_version_ = StringMember(info, "version");
  channel_->SetProtocolVersion(protocol_version_);
}

void McpConnection::Initialize(int64_t timeout_ms, std::function<void(Status)> done) {
  json params = {{"protocolVersion", kMcpClientProtocolVersion},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "troupe"}, {"version", "0.1"}}}};
  Request("initialize", std::move(params), timeout_ms,
          [this, done = std::move(done)](Result<json> result) {
            if (!result.ok()) return done(result.status());
            const json& r = result.value();
            if (!r.is_object() || !r.contains("protocolVersion") ||
                !r["protocolVersion"].is_string()) {
              return done(Status::InvalidArgument(
                  "the server's initialize answer has no \"protocolVersion\""));
            }
            protocol_version_ = r["protocolVersion"].get<std::string>();
            if (!Is2025Version(protocol_version_)) {
              return done(Status::FailedPrecondition(
                  "the server speaks MCP " + protocol_version_ +
                  ", which troupe does not (it speaks 2025-11-25 down to 2024-11-05)"));
            }
            if (r.contains("serverInfo") && r["serverInfo"].is_object()) {
              server_name_ = r["serverInfo"].value("name", "");
              server_version_ = r["serverInfo"].value("version", "");
            }
            channel_->SetProtocolVersion(protocol_version_);
            channel_->Send(jsonrpc::MakeNotification("notifications/initialized", nullptr));
            done(Status::Ok());
          });
}

bool McpConnection::tools_stale() const {
  return tools_stale_ || (tools_fresh_until_ms_ >= 0 && clock_->NowMs() >= tools_fresh_until_ms_);
}

void McpConnection::SendCancelled(uint64_t id, const std::string& reason) {
  channel_->Abandon(json(id));
  if (modern_ && channel_->CancelsByClosing()) return;
  channel_->Send(jsonrpc::MakeNotification("notifications/cancelled",
                                           {{"requestId", id}, {"reason", reason}}));
}

uint64_t McpConnection::Request(const std::string& method, json params, int64_t timeout_ms,
                                std::function<void(Result<json>)> done,
                                const std::vector<std::pair<std::string, std::string>>& headers) {
  const uint64_t id = next_id_++;
  Pending& p = pending_[id];
  p.done = std::move(done);
  p.method = method;
  p.timer = std::make_unique<Timer>(clock_);
  std::weak_ptr<bool> alive = alive_;
  if (closed_) {
    p.timer->Start(0, [this, alive, id] {
      if (alive.expired()) return;
      auto it = pending_.find(id);
      if (it == pending_.end()) return;
      auto cb = std::move(it->second.done);
      pending_.erase(it);
      cb(Status::Unavailable("the server is not running"));
    });
    return id;
  }
  p.timer->Start(timeout_ms, [this, alive, id, method, timeout_ms] {
    if (alive.expired()) return;
    auto it = pending_.find(id);
    if (it == pending_.end()) return;
    auto cb = std::move(it->second.done);
    pending_.erase(it);
    SendCancelled(id, "timed out on the client after " + FormatDuration(timeout_ms));
    cb(Status::DeadlineExceeded(method + " timed out after " + FormatDuration(timeout_ms)));
  });
  json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (modern_) {
    if (!params.is_object()) params = json::object();
    params["_meta"] = Envelope();
  }
  if (!params.is_null()) message["params"] = std::move(params);
  if (headers.empty()) {
    channel_->Send(message);
  } else {
    channel_->SendWithHeaders(message, headers);
  }
  return id;
}

void McpConnection::OnMessage(json message) {
  const jsonrpc::Message m = jsonrpc::ClassifyMessage(message);
  if (const auto* response = std::get_if<jsonrpc::Response>(&m)) {
    if (!response->id.is_number_integer()) return;
    const uint64_t id = response->id.get<uint64_t>();
    auto it = pending_.find(id);
    if (it == pending_.end()) {
      // Cancelled or timed out: dropped, but a task the server made of a call given up on
      // would run on there, unseen.
      if (abandoned_calls_.erase(id) > 0 && !response->is_error &&
          StringMember(response->result, "resultType") == "task") {
        const std::string task_id = StringMember(response->result, "taskId");
        if (!task_id.empty()) CancelTask(task_id);
      }
      return;
    }
    auto cb = std::move(it->second.done);
    auto on_error = std::move(it->second.on_error);
    pending_.erase(it);
    if (response->is_error && on_error) {
      on_error(response->error);
    } else if (response->is_error) {
      cb(Status::Unavailable("the server answered error " +
                             std::to_string(response->error.code) + ": " +
                             response->error.message));
    } else {
      cb(response->result);
    }
  } else if (const auto* request = std::get_if<jsonrpc::Request>(&m)) {
    if (request->method == "ping") {
      channel_->Send(jsonrpc::ResultResponse(request->id, json::object()));
    } else {
      channel_->Send(jsonrpc::ErrorResponse(request->id, jsonrpc::kMethodNotFound,
                                            "troupe does not offer " + request->method));
    }
  } else if (const auto* notification = std::get_if<jsonrpc::Notification>(&m)) {
    if (notification->method == "notifications/tools/list_changed") tools_stale_ = true;
  }
}

void McpConnection::OnClosed(Status why) {
  if (closed_) return;
  closed_ = true;
  std::map<uint64_t, Pending> pending = std::move(pending_);
  pending_.clear();
  std::weak_ptr<bool> alive = alive_;
  for (auto& [id, p] : pending) {
    p.done(Status(why.code(), "the server stopped: " + why.message()));
    if (alive.expired()) return;
  }
  if (on_closed_) on_closed_(why);
}

void McpConnection::ListTools(int64_t timeout_ms,
                              std::function<void(Result<std::vector<McpToolInfo>>)> done) {
  tools_stale_ = false;
  ListPage("", 0, timeout_ms, std::make_shared<std::vector<McpToolInfo>>(), std::move(done));
}

void McpConnection::ListPage(std::string cursor, int page, int64_t timeout_ms,
                             std::shared_ptr<std::vector<McpToolInfo>> tools,
                             std::function<void(Result<std::vector<McpToolInfo>>)> done) {
  json params = json::object();
  if (!cursor.empty()) params["cursor"] = cursor;
  Request("tools/list", std::move(params), timeout_ms,
          [this, page, timeout_ms, tools, done = std::move(done)](Result<json> result) mutable {
            if (!result.ok()) return done(result.status());
            const json& r = result.value();
            if (!r.is_object() || !r.contains("tools") || !r["tools"].is_array()) {
              return done(Status::InvalidArgument("the server's tools/list answer has no "
                                                  "\"tools\" array"));
            }
            for (const json& t : r["tools"]) {
              Result<McpToolInfo> tool = ParseMcpTool(t);
              if (!tool.ok()) return done(tool.status());
              tools->push_back(std::move(tool).value());
            }
            if (r.contains("nextCursor") && r["nextCursor"].is_string() &&
                !r["nextCursor"].get<std::string>().empty()) {
              if (page + 1 >= kMaxToolPages) {
                return done(Status::ResourceExhausted("the server's tools/list has more than " +
                                                      std::to_string(kMaxToolPages) + " pages"));
              }
              return ListPage(r["nextCursor"].get<std::string>(), page + 1, timeout_ms, tools,
                              std::move(done));
            }
            if (modern_ && channel_->HasHeaders()) {
              // Tools whose x-mcp-header annotations break the rules are not offered.
              std::map<std::string, std::vector<McpParamHeader>> headers;
              std::vector<std::string> rejected;
              std::vector<McpToolInfo> offered;
              for (McpToolInfo& tool : *tools) {
                Result<std::vector<McpParamHeader>> params = McpParamHeadersOf(tool.input_schema);
                if (!params.ok()) {
                  rejected.push_back(tool.name + ": " + params.status().message());
                  continue;
                }
                if (!params->empty()) headers[tool.name] = std::move(params).value();
                offered.push_back(std::move(tool));
              }
              *tools = std::move(offered);
              param_headers_ = std::move(headers);
              rejected_tools_ = std::move(rejected);
            }
            tools_fresh_until_ms_ = -1;
            if (modern_ && r.contains("ttlMs") && r["ttlMs"].is_number_integer() &&
                r["ttlMs"].get<int64_t>() >= 0) {
              tools_fresh_until_ms_ = clock_->NowMs() + r["ttlMs"].get<int64_t>();
            }
            done(std::move(*tools));
          });
}

uint64_t McpConnection::CallTool(const std::string& name, const json& arguments,
                                 int64_t timeout_ms, std::function<void(Result<json>)> done) {
  json params = {{"name", name}, {"arguments", arguments.is_object() ? arguments : json::object()}};
  if (modern_) return CallToolModern(name, std::move(params), timeout_ms, std::move(done));
  return Request("tools/call", std::move(params), timeout_ms, std::move(done));
}

uint64_t McpConnection::CallToolModern(const std::string& name, json params, int64_t timeout_ms,
                                       std::function<void(Result<json>)> done) {
  const uint64_t call_id = next_id_++;
  ToolCall& call = calls_[call_id];
  call.done = std::move(done);
  call.tool = name;
  call.timeout_ms = timeout_ms;
  call.deadline = std::make_unique<Timer>(clock_);
  call.poll = std::make_unique<Timer>(clock_);
  std::weak_ptr<bool> alive = alive_;
  call.deadline->Start(timeout_ms, [this, alive, call_id, timeout_ms] {
    if (alive.expired()) return;
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    const std::string what = it->second.task_id.empty()
                                 ? "tools/call " + it->second.tool
                                 : "task " + it->second.task_id + " of " + it->second.tool;
    auto done = std::move(it->second.done);
    Cancel(call_id, "timed out on the client after " + FormatDuration(timeout_ms));
    if (done) done(Status::DeadlineExceeded(what + " timed out after " + FormatDuration(timeout_ms)));
  });
  // Its annotated parameters mirrored into Mcp-Param-* headers (HTTP).
  std::vector<std::pair<std::string, std::string>> headers;
  if (auto p = param_headers_.find(name); p != param_headers_.end()) {
    headers = McpParamHeaderValues(p->second, params["arguments"]);
  }
  // The request itself never times out before the call's deadline.
  call.request_id = Request(
      "tools/call", std::move(params), timeout_ms + 1000,
      [this, alive, call_id](Result<json> answer) {
        if (!alive.expired()) OnCallAnswer(call_id, std::move(answer));
      },
      headers);
  return call_id;
}

void McpConnection::OnCallAnswer(uint64_t call_id, Result<json> answer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  ToolCall& call = it->second;
  call.request_id = 0;
  if (!answer.ok()) return FinishCall(call_id, answer.status());
  const json& r = answer.value();
  const std::string type = r.is_object() && r.contains("resultType") ? StringMember(r, "resultType")
                                                                     : "complete";
  if (type == "complete") return FinishCall(call_id, std::move(answer));
  if (type == "input_required") {
    return FinishCall(call_id,
                      Status::FailedPrecondition(
                          "the server asks for input (resultType input_required) to run " +
                          call.tool + "; troupe has no user to ask, so the call cannot go on"));
  }
  if (type != "task") {
    return FinishCall(call_id, Status::InvalidArgument("the server answered tools/call with "
                                                       "resultType \"" + type +
                                                       "\", which troupe does not know"));
  }
  call.task_id = StringMember(r, "taskId");
  if (call.task_id.empty()) {
    return FinishCall(call_id, Status::InvalidArgument(
                                   "the server answered tools/call with a task without taskId"));
  }
  OnTaskState(call_id, std::move(answer));
}

void McpConnection::OnTaskState(uint64_t call_id, Result<json> state) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  ToolCall& call = it->second;
  call.request_id = 0;
  if (!state.ok()) {
    return FinishCall(call_id, state.status().WithContext("tasks/get " + call.task_id));
  }
  const json& t = state.value();
  const std::string status = StringMember(t, "status");
  if (status == "completed") {
    if (!t.contains("result") || !t["result"].is_object()) {
      // A CreateTaskResult may already say completed; the result comes with tasks/get.
      if (StringMember(t, "resultType") == "task") return PollTask(call_id, kMinPollMs);
      return FinishCall(call_id, Status::InvalidArgument("task " + call.task_id +
                                                         " completed without a result object"));
    }
    return FinishCall(call_id, t["result"]);
  }
  if (status == "failed") {
    const json& error = t.contains("error") ? t["error"] : json();
    std::string message = StringMember(error, "message");
    if (error.is_object() && error.contains("code") && error["code"].is_number_integer()) {
      message = "error " + std::to_string(error["code"].get<int>()) + ": " + message;
    }
    return FinishCall(call_id, Status::Unavailable("the server's task " + call.task_id +
                                                   " failed" +
                                                   (message.empty() ? "" : ": " + message)));
  }
  if (status == "cancelled") {
    return FinishCall(call_id, Status::Cancelled("the server cancelled task " + call.task_id));
  }
  if (status == "input_required") {
    const std::string task_id = call.task_id;
    const std::string tool = call.tool;
    FinishCall(call_id, Status::FailedPrecondition(
                            "the server's task " + task_id + " of " + tool +
                            " asks for input (input_required); troupe has no user to ask, so "
                            "it cancelled the task"));
    return CancelTask(task_id);
  }
  if (status != "working") {
    return FinishCall(call_id, Status::InvalidArgument("task " + call.task_id +
                                                       " has an unknown status \"" + status +
                                                       "\""));
  }
  PollTask(call_id, PollInterval(t));
}

void McpConnection::PollTask(uint64_t call_id, int64_t delay_ms) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  std::weak_ptr<bool> alive = alive_;
  it->second.poll->Start(delay_ms, [this, alive, call_id] {
    if (alive.expired()) return;
    auto it = calls_.find(call_id);
    if (it == calls_.end()) return;
    ++it->second.polls;
    it->second.request_id =
        Request("tasks/get", {{"taskId", it->second.task_id}}, it->second.timeout_ms,
                [this, alive, call_id](Result<json> state) {
                  if (!alive.expired()) OnTaskState(call_id, std::move(state));
                });
  });
}

void McpConnection::FinishCall(uint64_t call_id, Result<json> answer) {
  auto it = calls_.find(call_id);
  if (it == calls_.end()) return;
  auto done = std::move(it->second.done);
  calls_.erase(it);
  if (done) done(std::move(answer));
}

void McpConnection::CancelTask(const std::string& task_id) {
  if (closed_) return;
  // Best effort: nobody waits for the answer.
  Request("tasks/cancel", {{"taskId", task_id}}, kCancelTaskTimeoutMs, [](Result<json>) {});
}

void McpConnection::Cancel(uint64_t id, const std::string& reason) {
  if (auto call = calls_.find(id); call != calls_.end()) {
    const uint64_t request_id = call->second.request_id;
    const std::string task_id = call->second.task_id;
    calls_.erase(call);
    if (request_id != 0 && task_id.empty() && !channel_->CancelsByClosing()) {
      // The tools/call itself is unanswered (an aborted POST is never answered).
      abandoned_calls_.insert(request_id);
      if (abandoned_calls_.size() > kRememberedAbandonedCalls) {
        abandoned_calls_.erase(abandoned_calls_.begin());
      }
    }
    if (request_id != 0) Cancel(request_id, reason);
    if (!task_id.empty()) CancelTask(task_id);
    return;
  }
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  pending_.erase(it);
  if (closed_) return;
  SendCancelled(id, reason);
}

void McpConnection::Close() {
  if (!closed_) {
    closed_ = true;
    channel_->Close();
  }
  pending_.clear();
  calls_.clear();
}

}  // namespace troupe
