#include "mock_llm/mock_llm_server.h"

#include <fmt/format.h>
#include <strings.h>

#include <boost/asio/post.hpp>
#include <limits>
#include <unordered_map>
#include <utility>

#include "http/http_server.h"
#include "mock_llm/anthropic_request_decoder.h"
#include "mock_llm/mock_exchange.h"
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

// The handler the transport hands requests to, and the host of their MockExchanges.
class MockLlmServerState : public HttpHandler,
                           public MockExchangeHost,
                           public std::enable_shared_from_this<MockLlmServerState> {
 public:
  MockLlmServerState(asio::io_context& io, Clock* clock, MockPlanner planner,
                     MockLlmServerOptions options)
      : io_(io),
        clock_(clock),
        planner_(std::move(planner)),
        options_(std::move(options)),
        log_(options_.log_capacity) {}

  // MockExchangeHost
  Clock* clock() override { return clock_; }
  int64_t NowUs() override { return options_.now_us ? options_.now_us() : clock_->NowMs() * 1000; }
  RequestLog* log() override { return &log_; }
  void Finished(const std::shared_ptr<MockExchange>& exchange) override {
    auto it = active_.find(exchange.get());
    if (it == active_.end()) return;
    // Released from the loop: this may run inside the exchange's player.
    asio::post(io_, [released = std::move(it->second)] {});
    active_.erase(it);
  }

  // HttpHandler
  void Handle(std::shared_ptr<HttpExchange> http) override {
    auto exchange = std::make_shared<MockExchange>(std::move(http), weak_from_this());
    active_.emplace(exchange.get(), exchange);
    exchange->Start();
    OnRequest(*exchange, exchange->request());
  }
  size_t BodyLimit(std::string_view) const override { return options_.max_body_bytes; }
  std::optional<ApiResponse> Refused(const RefusedRequest& refused) override;
  void Shutdown() override {
    auto active = std::move(active_);
    active_.clear();
    for (auto& [raw, exchange] : active) exchange->Stop("server_stopped");
  }

  size_t busy_connections() const { return active_.size(); }

 private:
  std::shared_ptr<RequestLogEntry> NewEntry(const ReceivedRequest& request);
  // Answers with the protocol's error body; the request ends as "bad_request".
  void Refuse(MockExchange& connection, std::shared_ptr<RequestLogEntry> entry,
              WireProtocol protocol, int status, const char* type, std::string message,
              std::vector<HttpHeader> extra_headers = {});
  void OnRequest(MockExchange& connection, const ReceivedRequest& request);
  void Chat(MockExchange& connection, const ReceivedRequest& request, WireProtocol protocol);
  void Models(MockExchange& connection, const ReceivedRequest& request);
  void MockRequests(MockExchange& connection, const ReceivedRequest& request);
  // Whether the request may go on; otherwise it was answered.
  bool CheckAuth(MockExchange& connection, const ReceivedRequest& request,
                 const std::shared_ptr<RequestLogEntry>& entry, WireProtocol protocol);

  asio::io_context& io_;
  Clock* clock_;
  MockPlanner planner_;
  MockLlmServerOptions options_;
  RequestLog log_;
  // Requests whose answer is not over.
  std::unordered_map<MockExchange*, std::shared_ptr<MockExchange>> active_;
  PromptCache prompt_cache_;
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

void MockLlmServerState::Refuse(MockExchange& connection,
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

std::optional<ApiResponse> MockLlmServerState::Refused(const RefusedRequest& refused) {
  ReceivedRequest request;
  request.connection = refused.connection;
  request.head_received_us = refused.head_received_us;
  request.method = refused.method;
  request.target = refused.target;
  auto entry = NewEntry(request);
  const WireProtocol protocol = ProtocolForPath(PathOf(request.target));
  const char* type =
      refused.status == 413
          ? (protocol == WireProtocol::kAnthropic ? "request_too_large" : "invalid_request_error")
          : "invalid_request_error";
  ApiResponse response;
  response.status = refused.status;
  response.body = ErrorBody(protocol, type, refused.message);
  // The transport writes it: the entry is complete now, without byte times.
  entry->status = refused.status;
  entry->outcome = "bad_request";
  entry->error = refused.message;
  log_.Complete(*entry);
  return response;
}

void MockLlmServerState::OnRequest(MockExchange& connection, const ReceivedRequest& request) {
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

bool MockLlmServerState::CheckAuth(MockExchange& connection, const ReceivedRequest& request,
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

void MockLlmServerState::Chat(MockExchange& connection, const ReceivedRequest& request,
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
  if (options_.log_bodies) entry->body = json::parse(request.body, nullptr, false);

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

void MockLlmServerState::Models(MockExchange& connection, const ReceivedRequest& request) {
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

void MockLlmServerState::MockRequests(MockExchange& connection,
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

MockLlmServer::MockLlmServer(std::shared_ptr<MockLlmServerState> state)
    : state_(std::move(state)) {}

Result<std::unique_ptr<MockLlmServer>> MockLlmServer::Start(asio::io_context& io, Clock* clock,
                                                            MockPlanner planner,
                                                            MockLlmServerOptions options) {
  HttpServerOptions http;
  http.tcp_host = "127.0.0.1";
  http.tcp_port = options.port;
  http.tcp_auth = TcpAuth::kNone;  // the routes check the providers' own credentials
  http.max_header_bytes = 64 << 10;
  http.max_body_bytes = options.max_body_bytes;
  // A test server: nothing is cut off for being slow or idle.
  http.max_stream_buffer_bytes = std::numeric_limits<size_t>::max();
  http.idle_timeout_ms = 0;
  http.drain_timeout_ms = 0;
  const std::string log_path = options.log_path;
  auto state =
      std::make_shared<MockLlmServerState>(io, clock, std::move(planner), std::move(options));
  http.now_us = [state = state.get()] { return state->NowUs(); };
  if (!log_path.empty()) TROUPE_RETURN_IF_ERROR(state->log()->OpenFile(log_path));
  std::unique_ptr<MockLlmServer> server(new MockLlmServer(state));
  Result<std::unique_ptr<HttpServer>> started = HttpServer::Start(io, state.get(), std::move(http));
  if (!started.ok()) return Status::IoError("mock-llm: " + started.status().message());
  server->http_ = std::move(started).value();
  server->port_ = static_cast<uint16_t>(server->http_->tcp_port());
  return server;
}

MockLlmServer::~MockLlmServer() {
  // Ends the requests in progress ("server_stopped", Shutdown) and closes every connection.
  http_.reset();
}

std::string MockLlmServer::Url(std::string_view path) const {
  return fmt::format("http://127.0.0.1:{}{}", port_, path);
}

RequestLog& MockLlmServer::log() { return *state_->log(); }

size_t MockLlmServer::open_connections() const { return http_->connections(); }

size_t MockLlmServer::busy_connections() const { return state_->busy_connections(); }

}  // namespace troupe
