#include "mock_llm/mock_llm_server.h"

#include <fmt/format.h>
#include <strings.h>

#include <unordered_map>
#include <utility>

#include "mock_llm/anthropic_request_decoder.h"
#include "mock_llm/mock_llm_connection.h"
#include "mock_llm/openai_request_decoder.h"
#include "mock_llm/openai_responses_request_decoder.h"
#include "mock_llm/plan_player.h"
#include "mock_llm/prompt_cache.h"
#include "mock_llm/reply_encoder.h"
#include "mock_llm/reply_json.h"

namespace troupe {

namespace asio = boost::asio;
using asio::ip::tcp;
using boost::system::error_code;
using json = nlohmann::json;

namespace {

std::string_view PathOf(std::string_view target) { return target.substr(0, target.find('?')); }

bool IsOpenAiChatPath(std::string_view path) {
  return path == "/v1/chat/completions" || path == "/chat/completions";
}

bool IsOpenAiResponsesPath(std::string_view path) {
  return path == "/v1/responses" || path == "/responses";
}

// The protocol of `path`, whose error shape answers a request for it.
WireProtocol ProtocolForPath(std::string_view path) {
  if (IsOpenAiResponsesPath(path)) return WireProtocol::kOpenAiResponses;
  return path == "/v1/messages" ? WireProtocol::kAnthropic : WireProtocol::kOpenAi;
}

std::vector<HttpHeader> JsonHeaders() { return {{"Content-Type", "application/json"}}; }

// A non-empty credential in `Authorization: Bearer <token>`.
bool HasBearer(const ReceivedRequest& request) {
  std::optional<std::string> auth = request.Header("authorization");
  if (!auth.has_value() || auth->size() <= 7) return false;
  return strncasecmp(auth->c_str(), "Bearer ", 7) == 0 &&
         auth->find_first_not_of(' ', 7) != std::string::npos;
}

bool HasHeaderValue(const ReceivedRequest& request, std::string_view name) {
  std::optional<std::string> value = request.Header(name);
  return value.has_value() && !value->empty();
}

}  // namespace

class MockLlmServerState : public ConnectionHost,
                           public std::enable_shared_from_this<MockLlmServerState> {
 public:
  MockLlmServerState(Clock* clock, MockPlanner planner, MockLlmServerOptions options)
      : clock_(clock),
        planner_(std::move(planner)),
        options_(std::move(options)),
        log_(options_.log_capacity) {}

  Clock* clock() override { return clock_; }
  int64_t NowUs() override { return options_.now_us ? options_.now_us() : clock_->NowMs() * 1000; }
  RequestLog* log() override { return &log_; }
  size_t max_body_bytes() override { return options_.max_body_bytes; }

  void OnRequest(MockLlmConnection& connection, ReceivedRequest request) override;
  void OnUnreadableRequest(MockLlmConnection& connection, ReceivedRequest request, int status,
                           std::string reason) override;
  void OnClosed(MockLlmConnection& connection) override { connections_.erase(connection.id()); }

  void Adopt(StreamSocket socket) {
    const uint64_t id = next_connection_id_++;
    auto connection =
        std::make_shared<MockLlmConnection>(std::move(socket), id, shared_from_this());
    connections_.emplace(id, connection);
    connection->Start();
  }

  void CloseAll() {
    stopped_ = true;
    auto connections = std::move(connections_);
    connections_.clear();
    for (auto& [id, connection] : connections) connection->Close("server_stopped");
  }

  size_t open_connections() const { return connections_.size(); }
  size_t busy_connections() const {
    size_t busy = 0;
    for (const auto& [id, connection] : connections_) busy += connection->busy() ? 1 : 0;
    return busy;
  }

 private:
  std::shared_ptr<RequestLogEntry> NewEntry(const ReceivedRequest& request);
  // Answers with the protocol's error body; the request ends as "bad_request".
  void Refuse(MockLlmConnection& connection, std::shared_ptr<RequestLogEntry> entry,
              WireProtocol protocol, int status, const char* type, std::string message,
              std::vector<HttpHeader> extra_headers = {});
  void Chat(MockLlmConnection& connection, const ReceivedRequest& request, WireProtocol protocol);
  void Models(MockLlmConnection& connection, const ReceivedRequest& request);
  void MockRequests(MockLlmConnection& connection, const ReceivedRequest& request);
  // Whether the request may go on; otherwise it was answered.
  bool CheckAuth(MockLlmConnection& connection, const ReceivedRequest& request,
                 const std::shared_ptr<RequestLogEntry>& entry, WireProtocol protocol);

  Clock* clock_;
  MockPlanner planner_;
  MockLlmServerOptions options_;
  RequestLog log_;
  PromptCache prompt_cache_;
  std::unordered_map<uint64_t, std::shared_ptr<MockLlmConnection>> connections_;
  uint64_t next_connection_id_ = 1;
  bool stopped_ = false;
};

std::shared_ptr<RequestLogEntry> MockLlmServerState::NewEntry(const ReceivedRequest& request) {
  RequestLogEntry entry;
  entry.connection = request.connection;
  entry.wall_ms = clock_->WallMs();
  entry.received_ms = clock_->NowMs();
  entry.head_received_us = request.head_received_us;
  entry.method = request.method;
  entry.path = request.target;
  entry.task = request.Header("x-troupe-task").value_or("");
  return log_.Add(std::move(entry));
}

void MockLlmServerState::Refuse(MockLlmConnection& connection,
                                std::shared_ptr<RequestLogEntry> entry, WireProtocol protocol,
                                int status, const char* type, std::string message,
                                std::vector<HttpHeader> extra_headers) {
  std::vector<HttpHeader> headers = JsonHeaders();
  headers.insert(headers.end(), extra_headers.begin(), extra_headers.end());
  std::string body = ErrorBody(protocol, type, message);
  entry->outcome = "bad_request";
  entry->error = std::move(message);
  connection.Respond(std::move(entry), status, std::move(headers), std::move(body));
}

void MockLlmServerState::OnUnreadableRequest(MockLlmConnection& connection, ReceivedRequest request,
                                             int status, std::string reason) {
  auto entry = NewEntry(request);
  const WireProtocol protocol = ProtocolForPath(PathOf(request.target));
  const char* type =
      status == 413
          ? (protocol == WireProtocol::kAnthropic ? "request_too_large" : "invalid_request_error")
          : "invalid_request_error";
  Refuse(connection, std::move(entry), protocol, status, type, std::move(reason));
}

void MockLlmServerState::OnRequest(MockLlmConnection& connection, ReceivedRequest request) {
  const std::string_view path = PathOf(request.target);
  const std::string& method = request.method;
  if (path == "/health") {
    if (method == "GET") {
      // Answered, not recorded (see mock_llm_server.h).
      connection.Respond(nullptr, 200, JsonHeaders(), R"({"status":"ok"})");
      return;
    }
  } else if (path == "/v1/mock/requests") {
    if (method == "GET" || method == "DELETE") {
      MockRequests(connection, request);
      return;
    }
  } else if (path == "/v1/models" || path == "/models") {
    if (method == "GET") {
      Models(connection, request);
      return;
    }
  } else if (IsOpenAiChatPath(path) || IsOpenAiResponsesPath(path) || path == "/v1/messages") {
    if (method == "POST") {
      Chat(connection, request, ProtocolForPath(path));
      return;
    }
  } else {
    const WireProtocol protocol = ProtocolForPath(path);
    Refuse(connection, NewEntry(request), protocol, 404,
           protocol == WireProtocol::kAnthropic ? "not_found_error" : "invalid_request_error",
           fmt::format("no route for {} {}", method, path));
    return;
  }
  const char* allow = "POST";
  if (path == "/health") allow = "GET";
  if (path == "/v1/mock/requests") allow = "GET, DELETE";
  if (path == "/v1/models" || path == "/models") allow = "GET";
  Refuse(connection, NewEntry(request), ProtocolForPath(path), 405, "invalid_request_error",
         fmt::format("{} is not allowed on {} (allowed: {})", method, path, allow),
         {{"Allow", allow}});
}

bool MockLlmServerState::CheckAuth(MockLlmConnection& connection, const ReceivedRequest& request,
                                   const std::shared_ptr<RequestLogEntry>& entry,
                                   WireProtocol protocol) {
  if (!options_.require_auth) return true;
  if (protocol != WireProtocol::kAnthropic) {
    if (HasBearer(request)) return true;
    Refuse(connection, entry, protocol, 401, "invalid_request_error",
           "You didn't provide an API key: send it as `Authorization: Bearer <key>`.");
    return false;
  }
  if (!HasHeaderValue(request, "x-api-key") && !HasBearer(request)) {
    Refuse(connection, entry, protocol, 401, "authentication_error",
           "x-api-key header is required");
    return false;
  }
  if (!HasHeaderValue(request, "anthropic-version")) {
    Refuse(connection, entry, protocol, 400, "invalid_request_error",
           "anthropic-version: header is required");
    return false;
  }
  return true;
}

void MockLlmServerState::Chat(MockLlmConnection& connection, const ReceivedRequest& request,
                              WireProtocol protocol) {
  auto entry = NewEntry(request);
  entry->protocol = WireProtocolName(protocol);
  if (!CheckAuth(connection, request, entry, protocol)) return;

  ChatRequest chat;
  bool include_usage = false;
  if (protocol == WireProtocol::kOpenAi) {
    Result<OpenAiChatRequest> decoded = DecodeOpenAiRequest(request.body);
    if (!decoded.ok()) {
      Refuse(connection, entry, protocol, 400, "invalid_request_error", decoded.status().message());
      return;
    }
    chat = std::move(decoded->chat);
    include_usage = decoded->include_usage;
  } else if (protocol == WireProtocol::kOpenAiResponses) {
    Result<ChatRequest> decoded = DecodeOpenAiResponsesRequest(request.body);
    if (!decoded.ok()) {
      Refuse(connection, entry, protocol, 400, "invalid_request_error", decoded.status().message());
      return;
    }
    chat = std::move(decoded).value();
  } else {
    Result<ChatRequest> decoded = DecodeAnthropicRequest(request.body);
    if (!decoded.ok()) {
      Refuse(connection, entry, protocol, 400, "invalid_request_error", decoded.status().message());
      return;
    }
    chat = std::move(decoded).value();
  }
  entry->model = chat.model;
  entry->stream = chat.stream;
  entry->messages = int(chat.messages.size());
  for (const ToolSpec& tool : chat.tools) entry->tools.push_back(tool.name);
  if (options_.log_conversations) entry->conversation = ConversationJson(chat);

  MockPlan plan = planner_(chat);
  entry->marker = plan.marker;
  ChatResult& result = plan.result;
  result.message.role = ChatRole::kAssistant;
  if (!plan.http_error) {
    prompt_cache_.Apply(protocol, json::parse(request.body, nullptr, false), &result.usage);
    entry->usage = result.usage;
  }
  if (result.response_id.empty()) {
    result.response_id =
        protocol == WireProtocol::kOpenAi            ? fmt::format("chatcmpl-mock{}", entry->id)
        : protocol == WireProtocol::kOpenAiResponses ? fmt::format("resp_mock{}", entry->id)
                                                     : fmt::format("msg_mock{}", entry->id);
  }
  if (result.model.empty()) result.model = chat.model;
  ReplyOptions reply_options;
  reply_options.created_s = clock_->WallMs() / 1000;
  reply_options.include_usage = include_usage;
  reply_options.content_parts = plan.content_parts;
  auto encoder = MakeReplyEncoder(protocol, result, reply_options);
  std::vector<HttpHeader> headers = {
      {protocol == WireProtocol::kAnthropic ? "request-id" : "x-request-id",
       fmt::format("req_mock{}", entry->id)}};
  auto player = std::make_unique<PlanPlayer>(clock_, std::move(plan), protocol, std::move(encoder),
                                             chat.stream, std::move(headers), connection.sink());
  connection.Play(std::move(entry), std::move(player));
}

void MockLlmServerState::Models(MockLlmConnection& connection, const ReceivedRequest& request) {
  auto entry = NewEntry(request);
  // One list both SDKs read: OpenAI's {object, data[{id, object, created, owned_by}]} and
  // Anthropic's {data[{type, id, display_name, created_at}], has_more, first_id, last_id}.
  json data = json::array();
  for (const std::string& name : options_.models) {
    data.push_back({{"id", name},
                    {"object", "model"},
                    {"type", "model"},
                    {"display_name", name},
                    {"created", 0},
                    {"created_at", "1970-01-01T00:00:00Z"},
                    {"owned_by", "troupe-mock-llm"}});
  }
  json body{{"object", "list"}, {"data", data}, {"has_more", false}};
  body["first_id"] = options_.models.empty() ? json(nullptr) : json(options_.models.front());
  body["last_id"] = options_.models.empty() ? json(nullptr) : json(options_.models.back());
  entry->outcome = "completed";
  connection.Respond(std::move(entry), 200, JsonHeaders(), reply_json::Dump(body));
}

void MockLlmServerState::MockRequests(MockLlmConnection& connection,
                                      const ReceivedRequest& request) {
  // Not recorded (see mock_llm_server.h).
  if (request.method == "DELETE") {
    const size_t cleared = log_.size();
    log_.Clear();
    connection.Respond(nullptr, 200, JsonHeaders(), reply_json::Dump(json{{"cleared", cleared}}));
    return;
  }
  connection.Respond(nullptr, 200, JsonHeaders(), reply_json::Dump(log_.ToJson()));
}

// --- MockLlmServer ---

MockLlmServer::MockLlmServer(asio::io_context& io, std::shared_ptr<MockLlmServerState> state)
    : listener_(std::make_shared<Listener>(io)), state_(std::move(state)) {}

Result<std::unique_ptr<MockLlmServer>> MockLlmServer::Start(asio::io_context& io, Clock* clock,
                                                            MockPlanner planner,
                                                            MockLlmServerOptions options) {
  const uint16_t port = options.port;
  const std::string log_path = options.log_path;
  auto state = std::make_shared<MockLlmServerState>(clock, std::move(planner), std::move(options));
  if (!log_path.empty()) TROUPE_RETURN_IF_ERROR(state->log()->OpenFile(log_path));
  std::unique_ptr<MockLlmServer> server(new MockLlmServer(io, std::move(state)));
  Status listening =
      server->listener_->ListenTcp(tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), port));
  if (!listening.ok()) return Status::IoError("mock-llm: " + listening.message());
  server->port_ = static_cast<uint16_t>(server->listener_->tcp_port());
  // The state outlives the listener's callbacks: Close (in the destructor) ends them.
  server->listener_->Start([state = server->state_.get()](StreamSocket socket, bool) {
    state->Adopt(std::move(socket));
  });
  return server;
}

MockLlmServer::~MockLlmServer() {
  listener_->Close();
  state_->CloseAll();
}

std::string MockLlmServer::Url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

RequestLog& MockLlmServer::log() { return *state_->log(); }

size_t MockLlmServer::open_connections() const { return state_->open_connections(); }

size_t MockLlmServer::busy_connections() const { return state_->busy_connections(); }

}  // namespace troupe
