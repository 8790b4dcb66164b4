#include "mcp_client/mcp_connection.h"

#include "core/duration_format.h"
#include "wire/jsonrpc.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr int kMaxToolPages = 100;

}  // namespace

bool IsKnownMcpProtocolVersion(const std::string& version) {
  return version == "2025-11-25" || version == "2025-06-18" || version == "2025-03-26" ||
         version == "2024-11-05";
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

McpConnection::McpConnection(std::unique_ptr<McpChannel> channel, Clock* clock)
    : channel_(std::move(channel)), clock_(clock) {}

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
            if (!IsKnownMcpProtocolVersion(protocol_version_)) {
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

uint64_t McpConnection::Request(const std::string& method, json params, int64_t timeout_ms,
                                std::function<void(Result<json>)> done) {
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
    channel_->Abandon(json(id));
    channel_->Send(jsonrpc::MakeNotification(
        "notifications/cancelled",
        {{"requestId", id}, {"reason", "timed out on the client after " +
                                           FormatDuration(timeout_ms)}}));
    cb(Status::DeadlineExceeded(method + " timed out after " + FormatDuration(timeout_ms)));
  });
  json message = {{"jsonrpc", "2.0"}, {"id", id}, {"method", method}};
  if (!params.is_null()) message["params"] = std::move(params);
  channel_->Send(message);
  return id;
}

void McpConnection::OnMessage(json message) {
  const jsonrpc::Message m = jsonrpc::ClassifyMessage(message);
  if (const auto* response = std::get_if<jsonrpc::Response>(&m)) {
    if (!response->id.is_number_integer()) return;
    auto it = pending_.find(response->id.get<uint64_t>());
    if (it == pending_.end()) return;  // cancelled or timed out: dropped
    auto cb = std::move(it->second.done);
    pending_.erase(it);
    if (response->is_error) {
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
            done(std::move(*tools));
          });
}

uint64_t McpConnection::CallTool(const std::string& name, const json& arguments,
                                 int64_t timeout_ms, std::function<void(Result<json>)> done) {
  json params = {{"name", name}, {"arguments", arguments.is_object() ? arguments : json::object()}};
  return Request("tools/call", std::move(params), timeout_ms, std::move(done));
}

void McpConnection::Cancel(uint64_t id, const std::string& reason) {
  auto it = pending_.find(id);
  if (it == pending_.end()) return;
  pending_.erase(it);
  if (closed_) return;
  channel_->Abandon(json(id));
  channel_->Send(jsonrpc::MakeNotification("notifications/cancelled",
                                           {{"requestId", id}, {"reason", reason}}));
}

void McpConnection::Close() {
  if (!closed_) {
    closed_ = true;
    channel_->Close();
  }
  pending_.clear();
}

}  // namespace troupe
