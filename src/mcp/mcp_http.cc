#include "mcp/mcp_http.h"

#include <fmt/format.h>

#include <algorithm>
#include <exception>
#include <random>
#include <utility>
#include <variant>
#include <vector>

#include "http/request_checks.h"
#include "wire/jsonrpc.h"

namespace troupe {

using nlohmann::json;

namespace {

constexpr const char* kSessionHeader = "mcp-session-id";
// troupe's own: an initialize asking for the id of a session this handler no longer has.
constexpr const char* kResumeHeader = "troupe-resume-session";
constexpr const char* kVersionHeader = "mcp-protocol-version";

ApiResponse JsonResponse(int status, const json& message) {
  ApiResponse r;
  r.status = status;
  r.body = jsonrpc::Serialize(message);
  return r;
}

ApiResponse ErrorAnswer(int status, int code, std::string message) {
  return JsonResponse(status, jsonrpc::ErrorResponse(json(), code, std::move(message)));
}

ApiResponse Empty(int status) {
  ApiResponse r;
  r.status = status;
  r.content_type.clear();
  return r;
}

std::vector<std::pair<std::string, std::string>> StreamHeaders() {
  return {{"Content-Type", "text/event-stream"}, {"Cache-Control", "no-cache"}};
}

std::string SseEvent(const json& message) {
  return "event: message\ndata: " + jsonrpc::Serialize(message) + "\n\n";
}

bool IsSupportedVersion(std::string_view version) {
  for (const char* v : kMcpProtocolVersions) {
    if (version == v) return true;
  }
  return false;
}

// The HTTP status of a response: 400 for the 2026-07-28 errors that say the request cannot be
// served as sent, 404 for a 2026 method not found, 200 otherwise (also every 2025 answer: the
// 2025 path never makes these codes, and answers -32601 with 200 as before).
int ModernErrorStatus(const json& m) {
  if (!m.is_object() || !m.contains("error") || !m["error"].is_object()) return 200;
  const json& code = m["error"].value("code", json());
  if (code == kMcpUnsupportedProtocolVersion || code == kMcpHeaderMismatch ||
      code == kMcpMissingRequiredClientCapability) {
    return 400;
  }
  return 200;
}

bool IsResponse(const json& m) {
  return m.is_object() && m.contains("id") && !m.contains("method") &&
         (m.contains("result") || m.contains("error"));
}

// The progress token key of a notifications/progress, or "".
std::string ProgressTokenKey(const json& m) {
  if (!m.is_object() || m.value("method", json()) != "notifications/progress") return "";
  auto params = m.find("params");
  if (params == m.end() || !params->is_object()) return "";
  auto token = params->find("progressToken");
  if (token == params->end() || !jsonrpc::IsValidId(*token)) return "";
  return jsonrpc::IdKey(*token);
}

}  // namespace

// A request awaiting its response on the POST that carried it.
struct PendingRequest {
  json id;
  std::shared_ptr<HttpExchange> exchange;
  std::string progress_key;  // IdKey of params._meta.progressToken, or ""
  bool initialize = false;
  bool streaming = false;  // an event stream is open on `exchange`
};

struct McpHttpHandler::Session {
  explicit Session(Clock* clock) : idle(clock) {}

  std::string id;
  // Serves one 2026-07-28 request and ends with its response (HandleModernPost).
  bool ephemeral = false;
  int64_t last_used_ms = 0;
  Timer idle;
  std::map<std::string, PendingRequest> pending;  // by jsonrpc::IdKey of the request id
  std::shared_ptr<HttpExchange> get_stream;
  // Last: destroyed first, so its callbacks never see a half-destroyed Session.
  std::unique_ptr<McpSession> mcp;
};

McpHttpHandler::McpHttpHandler(Clock* clock, McpToolHost* host, McpHttpOptions options)
    : clock_(clock), host_(host), options_(std::move(options)) {}

McpHttpHandler::~McpHttpHandler() { Shutdown(); }

void McpHttpHandler::Handle(std::shared_ptr<HttpExchange> exchange) {
  const ApiRequest& req = exchange->request();
  if (shut_down_) {
    exchange->Respond(ErrorAnswer(503, jsonrpc::kInternalError, "the daemon is stopping"));
    return;
  }
  const std::string& origin = req.Header("origin");
  if (!origin.empty() && !IsLoopbackOrigin(origin)) {
    exchange->Respond(ErrorAnswer(
        403, jsonrpc::kInvalidRequest,
        fmt::format("Origin {} is not allowed: the MCP endpoint only serves local clients",
                    origin)));
    return;
  }
  if (req.path != "/mcp" && req.path != "/mcp/") {
    exchange->Respond(ErrorAnswer(404, jsonrpc::kInvalidRequest,
                                  fmt::format("no MCP endpoint at {}; use /mcp", req.path)));
    return;
  }
  const std::string& version = req.Header(kVersionHeader);
  if (version == kMcpModernProtocolVersion && req.method != "POST") {
    // 2026-07-28 has no GET stream and no sessions to DELETE.
    ApiResponse r = ErrorAnswer(
        405, jsonrpc::kInvalidRequest,
        fmt::format("{} is not part of MCP {}: POST each request", req.method, version));
    r.headers.emplace_back("Allow", "POST");
    exchange->Respond(std::move(r));
    return;
  }
  if (!version.empty() && version != kMcpModernProtocolVersion && !IsSupportedVersion(version)) {
    // UnsupportedProtocolVersion (2026-07-28's code, which a 2025 client reads as any error).
    exchange->Respond(JsonResponse(
        400, jsonrpc::ErrorResponse(json(), McpUnsupportedVersionError(
                                                version, McpAllProtocolVersions()))));
    return;
  }
  if (req.method == "POST") return HandlePost(exchange);
  if (req.method == "GET") return HandleGet(exchange);
  if (req.method == "DELETE") return HandleDelete(exchange);
  ApiResponse r = ErrorAnswer(405, jsonrpc::kInvalidRequest,
                              fmt::format("{} is not allowed on /mcp", req.method));
  r.headers.emplace_back("Allow", "GET, POST, DELETE");
  exchange->Respond(std::move(r));
}

size_t McpHttpHandler::BodyLimit(std::string_view) const { return jsonrpc::kMaxMessageBytes; }

std::optional<ApiResponse> McpHttpHandler::BodyTooLarge(std::string_view, size_t limit) const {
  return ErrorAnswer(413, jsonrpc::kInvalidRequest,
                     fmt::format("the message is above the limit of {} bytes", limit));
}

void McpHttpHandler::HandlePost(const std::shared_ptr<HttpExchange>& exchange) {
  const ApiRequest& req = exchange->request();
  if (!jsonrpc::CheckMessageSize(req.body.size()).ok()) {
    exchange->Respond(ErrorAnswer(413, jsonrpc::kInvalidRequest,
                                  fmt::format("message of {} bytes is above the limit of {} bytes",
                                              req.body.size(), jsonrpc::kMaxMessageBytes)));
    return;
  }
  jsonrpc::Message message = jsonrpc::ParseMessage(req.body);
  if (auto* invalid = std::get_if<jsonrpc::Invalid>(&message)) {
    exchange->Respond(JsonResponse(400, jsonrpc::ErrorResponse(invalid->id, invalid->error)));
    return;
  }
  const auto* request = std::get_if<jsonrpc::Request>(&message);
  if (request != nullptr && request->method == "initialize" && req.Header(kSessionHeader).empty()) {
    return Initialize(exchange, request->id);
  }
  if (req.Header(kSessionHeader).empty() &&
      (req.Header(kVersionHeader) == kMcpModernProtocolVersion ||
       (request != nullptr && IsMcpModernRequest(request->method, request->params)))) {
    return HandleModernPost(exchange, request);
  }
  Session* session = FindSession(*exchange);
  if (session == nullptr) return;
  Touch(session);
  if (request == nullptr) {
    // A notification or a response: the session acts on it; nothing to answer but 202.
    json cancelled_id;
    if (auto* n = std::get_if<jsonrpc::Notification>(&message);
        n != nullptr && n->method == "notifications/cancelled" && n->params.is_object()) {
      cancelled_id = n->params.value("requestId", json());
    }
    const size_t in_flight = session->mcp->calls_in_flight();
    session->mcp->Receive(req.body);
    exchange->Respond(Empty(202));
    // A cancelled call gets no response: end the stream that was waiting for it. (A call the
    // session did not cancel keeps its stream and still answers.)
    if (jsonrpc::IsValidId(cancelled_id) && session->mcp->calls_in_flight() < in_flight) {
      auto it = session->pending.find(jsonrpc::IdKey(cancelled_id));
      if (it != session->pending.end() && it->second.streaming) {
        std::shared_ptr<HttpExchange> waiting = std::move(it->second.exchange);
        session->pending.erase(it);
        waiting->OnClose([] {});
        waiting->Close();
      }
    }
    return;
  }
  Forward(session, exchange, request->id, request->params);
}

void McpHttpHandler::Initialize(const std::shared_ptr<HttpExchange>& exchange, const json& id) {
  if (sessions_.size() >= options_.max_sessions && !MakeRoom()) {
    ApiResponse r =
        ErrorAnswer(503, jsonrpc::kInternalError,
                    fmt::format("too many MCP sessions ({}); end one with DELETE /mcp or retry "
                                "later",
                                sessions_.size()));
    r.headers.emplace_back("Retry-After", "60");
    exchange->Respond(std::move(r));
    return;
  }
  auto owned = std::make_unique<Session>(clock_);
  Session* session = owned.get();
  session->id = ResumableSessionId(exchange->request().Header(kResumeHeader));
  McpSessionOptions session_options = options_.session;
  session_options.session_id = session->id;
  session->mcp = std::make_unique<McpSession>(
      host_, std::move(session_options),
      [this, session](json message) { Route(session, std::move(message)); });
  sessions_[session->id] = std::move(owned);
  Touch(session);
  Forward(session, exchange, id, json());
  if (!session->mcp->initialized()) End(session->id);  // refused: no session to keep
}

void McpHttpHandler::HandleModernPost(const std::shared_ptr<HttpExchange>& exchange,
                                      const jsonrpc::Request* request) {
  if (request == nullptr) {
    // 2026-07-28 defines no client notifications over HTTP (closing a stream cancels).
    exchange->Respond(Empty(202));
    return;
  }
  const ApiRequest& req = exchange->request();
  json body = {{"jsonrpc", "2.0"}, {"id", request->id}, {"method", request->method}};
  if (!request->params.is_null()) body["params"] = request->params;
  auto header = [&req](const char* name) { return req.Header(name); };
  if (auto error = CheckMcpModernHeaders(body, header)) {
    exchange->Respond(JsonResponse(400, jsonrpc::ErrorResponse(request->id, *error)));
    return;
  }
  if (sessions_.size() >= options_.max_sessions && !MakeRoom()) {
    ApiResponse r = ErrorAnswer(503, jsonrpc::kInternalError,
                                fmt::format("too many MCP requests in flight ({}); retry later",
                                            sessions_.size()));
    r.headers.emplace_back("Retry-After", "5");
    exchange->Respond(std::move(r));
    return;
  }
  auto owned = std::make_unique<Session>(clock_);
  Session* session = owned.get();
  session->id = "m" + NewSessionId();
  session->ephemeral = true;
  session->mcp = std::make_unique<McpSession>(
      host_, options_.session, [this, session](json message) { Route(session, std::move(message)); });
  sessions_[session->id] = std::move(owned);
  Touch(session);
  const std::string id = session->id;
  Forward(session, exchange, request->id, request->params);
  auto it = sessions_.find(id);
  if (it != sessions_.end() && it->second->pending.empty()) End(id);  // answered at once
}

void McpHttpHandler::EndLater(const std::string& id) {
  std::weak_ptr<int> alive = alive_;
  clock_->StartTimer(0, [this, alive, id] {
    if (alive.expired()) return;
    End(id);
  });
}

McpHttpHandler::Session* McpHttpHandler::FindSession(HttpExchange& exchange) {
  const std::string& id = exchange.request().Header(kSessionHeader);
  if (id.empty()) {
    exchange.Respond(ErrorAnswer(
        400, jsonrpc::kInvalidRequest,
        "missing Mcp-Session-Id header: send the id from the initialize response, or initialize "
        "first"));
    return nullptr;
  }
  auto it = sessions_.find(id);
  if (it == sessions_.end()) {
    exchange.Respond(ErrorAnswer(
        404, jsonrpc::kInvalidRequest,
        fmt::format("MCP session {} does not exist or has ended: initialize a new one", id)));
    return nullptr;
  }
  return it->second.get();
}

void McpHttpHandler::Forward(Session* session, const std::shared_ptr<HttpExchange>& exchange,
                             const json& id, const json& params) {
  const std::string key = jsonrpc::IdKey(id);
  if (session->pending.count(key) != 0) {
    exchange->Respond(ErrorAnswer(
        409, jsonrpc::kInvalidRequest,
        fmt::format("request id {} is still awaiting its response in this session; use a new id",
                    jsonrpc::Serialize(id))));
    return;
  }
  PendingRequest& pending = session->pending[key];
  pending.id = id;
  pending.exchange = exchange;
  pending.initialize = exchange->request().Header(kSessionHeader).empty();
  if (params.is_object()) {
    auto meta = params.find("_meta");
    if (meta != params.end() && meta->is_object()) {
      auto token = meta->find("progressToken");
      if (token != meta->end() && jsonrpc::IsValidId(*token)) {
        pending.progress_key = jsonrpc::IdKey(*token);
      }
    }
  }
  session->mcp->Receive(exchange->request().body);
  // Not answered at once: stream the progress and then the response on this POST.
  OpenStream(session, key);
}

void McpHttpHandler::OpenStream(Session* session, const std::string& key) {
  auto it = session->pending.find(key);
  if (it == session->pending.end() || it->second.streaming) return;
  std::shared_ptr<HttpExchange> exchange = it->second.exchange;
  if (!exchange->OpenStream(StreamHeaders())) {
    Abandon(session->id, key, exchange.get());  // the client is gone
    return;
  }
  it->second.streaming = true;
  std::weak_ptr<int> alive = alive_;
  exchange->OnClose([this, alive, id = session->id, key, raw = exchange.get()] {
    if (alive.expired()) return;
    Abandon(id, key, raw);
  });
}

void McpHttpHandler::Route(Session* session, json message) {
  if (IsResponse(message)) {
    const json& id = message["id"];
    if (!jsonrpc::IsValidId(id)) return;
    auto it = session->pending.find(jsonrpc::IdKey(id));
    // A response whose POST is gone has nowhere to go (never on the GET stream, per spec).
    if (it == session->pending.end()) return;
    PendingRequest pending = std::move(it->second);
    session->pending.erase(it);
    if (session->ephemeral) EndLater(session->id);  // not from inside the session's `send`
    if (pending.streaming) {
      pending.exchange->OnClose([] {});
      pending.exchange->Write(SseEvent(message));
      pending.exchange->Close();
      return;
    }
    ApiResponse r = JsonResponse(ModernErrorStatus(message), message);
    if (pending.initialize && message.contains("result")) {
      r.headers.emplace_back("Mcp-Session-Id", session->id);
    }
    pending.exchange->Respond(std::move(r));
    return;
  }
  const std::string progress_key = ProgressTokenKey(message);
  if (!progress_key.empty()) {
    std::string key;
    for (const auto& [k, pending] : session->pending) {
      if (pending.progress_key == progress_key) key = k;
    }
    if (key.empty()) return;
    OpenStream(session, key);
    auto it = session->pending.find(key);
    if (it == session->pending.end()) return;
    std::shared_ptr<HttpExchange> exchange = it->second.exchange;
    exchange->Write(SseEvent(message));  // on failure the stream closes and OnClose abandons
    return;
  }
  if (session->ephemeral && session->pending.size() == 1) {
    // The one request's own stream (subscriptions/listen's acknowledgement).
    const std::string key = session->pending.begin()->first;
    OpenStream(session, key);
    auto it = session->pending.find(key);
    if (it != session->pending.end()) it->second.exchange->Write(SseEvent(message));
    return;
  }
  if (session->get_stream != nullptr) {
    std::shared_ptr<HttpExchange> stream = session->get_stream;
    stream->Write(SseEvent(message));
  }
}

void McpHttpHandler::Abandon(const std::string& session_id, const std::string& key,
                             const HttpExchange* exchange) {
  auto s = sessions_.find(session_id);
  if (s == sessions_.end()) return;
  Session* session = s->second.get();
  auto it = session->pending.find(key);
  if (it == session->pending.end() || it->second.exchange.get() != exchange) return;
  json request_id = it->second.id;
  session->pending.erase(it);
  if (session->ephemeral) return EndLater(session_id);  // ending cancels its call
  // Later, from the loop: this may run inside the session's own `send` (a write that failed).
  std::weak_ptr<int> alive = alive_;
  clock_->StartTimer(0, [this, alive, session_id, request_id] {
    if (alive.expired()) return;
    auto found = sessions_.find(session_id);
    if (found == sessions_.end()) return;
    found->second->mcp->ReceiveParsed(jsonrpc::MakeNotification(
        "notifications/cancelled",
        {{"requestId", request_id}, {"reason", "the client closed the HTTP stream"}}));
  });
}

void McpHttpHandler::HandleGet(const std::shared_ptr<HttpExchange>& exchange) {
  const std::string& accept = exchange->request().Header("accept");
  if (accept.find("text/event-stream") == std::string::npos &&
      accept.find("*/*") == std::string::npos) {
    exchange->Respond(
        ErrorAnswer(406, jsonrpc::kInvalidRequest,
                    "GET /mcp opens an event stream: send Accept: text/event-stream"));
    return;
  }
  Session* session = FindSession(*exchange);
  if (session == nullptr) return;
  Touch(session);
  if (!exchange->OpenStream(StreamHeaders())) return;
  if (session->get_stream != nullptr) {
    std::shared_ptr<HttpExchange> old = std::move(session->get_stream);
    old->OnClose([] {});
    old->Close();
  }
  session->get_stream = exchange;
  std::weak_ptr<int> alive = alive_;
  exchange->OnClose([this, alive, id = session->id, raw = exchange.get()] {
    if (alive.expired()) return;
    auto it = sessions_.find(id);
    if (it == sessions_.end() || it->second->get_stream.get() != raw) return;
    it->second->get_stream.reset();
    Touch(it->second.get());
  });
}

void McpHttpHandler::HandleDelete(const std::shared_ptr<HttpExchange>& exchange) {
  Session* session = FindSession(*exchange);
  if (session == nullptr) return;
  End(session->id);
  exchange->Respond(Empty(204));
}

void McpHttpHandler::Touch(Session* session) {
  session->last_used_ms = clock_->NowMs();
  session->idle.Start(options_.idle_expiry_ms, [this, id = session->id] { OnIdle(id); });
}

void McpHttpHandler::OnIdle(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  Session* session = it->second.get();
  if (!session->pending.empty() || session->get_stream != nullptr) {
    Touch(session);  // in use: look again later
    return;
  }
  End(id);
}

bool McpHttpHandler::MakeRoom() {
  Session* oldest = nullptr;
  for (const auto& [id, session] : sessions_) {
    if (!session->pending.empty() || session->get_stream != nullptr) continue;
    if (oldest == nullptr || session->last_used_ms < oldest->last_used_ms) oldest = session.get();
  }
  if (oldest == nullptr) return false;
  End(oldest->id);
  return true;
}

void McpHttpHandler::End(const std::string& id) {
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return;
  std::unique_ptr<Session> session = std::move(it->second);
  sessions_.erase(it);
  session->idle.Cancel();
  session->mcp->Close();  // calls cancelled; nothing more is sent
  std::vector<std::shared_ptr<HttpExchange>> streams;
  for (auto& [key, pending] : session->pending) streams.push_back(std::move(pending.exchange));
  session->pending.clear();
  if (session->get_stream != nullptr) streams.push_back(std::move(session->get_stream));
  for (const auto& stream : streams) {
    stream->OnClose([] {});
    stream->Close();
  }
}

void McpHttpHandler::Log(McpLogLevel level, const std::string& logger, const json& data) {
  std::vector<McpSession*> targets;
  for (const auto& [id, session] : sessions_) targets.push_back(session->mcp.get());
  for (McpSession* mcp : targets) mcp->Log(level, logger, data);
}

void McpHttpHandler::Shutdown() {
  shut_down_ = true;
  while (!sessions_.empty()) End(sessions_.begin()->first);
}

bool IsSessionIdShape(std::string_view id) {
  if (id.size() != 32) return false;
  return std::all_of(id.begin(), id.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

std::string McpHttpHandler::ResumableSessionId(const std::string& asked) {
  if (IsSessionIdShape(asked) && sessions_.count(asked) == 0) return asked;
  return NewSessionId();
}

std::string McpHttpHandler::NewSessionId() {
  // 128 random bits: the id is all a local client needs to reach a session.
  uint64_t words[2] = {0, 0};
  try {
    std::random_device device;
    for (uint64_t& w : words) w = (static_cast<uint64_t>(device()) << 32) | device();
  } catch (const std::exception&) {
    std::mt19937_64 fallback(static_cast<uint64_t>(clock_->WallMs()) ^ (++id_fallback_ << 40));
    for (uint64_t& w : words) w = fallback();
  }
  std::string id = fmt::format("{:016x}{:016x}", words[0], words[1]);
  if (sessions_.count(id) != 0) return NewSessionId();
  return id;
}

}  // namespace troupe
