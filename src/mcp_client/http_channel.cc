#include "mcp_client/http_channel.h"

#include <boost/asio/post.hpp>

#include "core/text_case.h"
#include "mcp_client/mcp_revision.h"
#include "wire/jsonrpc.h"
#include "wire/sse_parser.h"

namespace troupe {

struct HttpChannel::Post {
  nlohmann::json id;  // null for notifications and responses
  std::unique_ptr<HttpCall> call;
  int status = 0;
  bool sse = false;
  bool answered = false;
  std::string body;
  std::unique_ptr<SseParser> parser;
};

HttpChannel::HttpChannel(HttpClient* http, HttpServerSpec spec)
    : http_(http), spec_(std::move(spec)) {}

HttpChannel::~HttpChannel() { Close(); }

Status HttpChannel::Open(McpChannelCallbacks callbacks) {
  callbacks_ = std::move(callbacks);
  return Status::Ok();
}

std::string HttpChannel::Describe() const { return "http " + UrlForDisplay(spec_.url); }

void HttpChannel::AnswerWithError(const nlohmann::json& id, const std::string& why,
                                  nlohmann::json data) {
  if (id.is_null() || !callbacks_.on_message) return;
  callbacks_.on_message(
      jsonrpc::ErrorResponse(id, jsonrpc::Error{jsonrpc::kInternalError, why, std::move(data)}));
}

namespace {

// The 2026-07-28 request headers of `message` (a request whose params._meta carries the
// protocol version): MCP-Protocol-Version from the body, Mcp-Method, and Mcp-Name for the
// methods that name something.
void AddModernHeaders(const nlohmann::json& message, std::vector<HttpHeader>* headers) {
  const nlohmann::json& params = message.contains("params") ? message["params"] : nlohmann::json();
  headers->push_back(
      {"MCP-Protocol-Version", params["_meta"][kMcpMetaProtocolVersion].get<std::string>()});
  const std::string method = message.value("method", "");
  if (message.contains("id")) headers->push_back({"Mcp-Method", method});
  const char* source = McpNameSource(method);
  if (source != nullptr && params.contains(source) && params[source].is_string()) {
    headers->push_back({"Mcp-Name", EncodeMcpHeaderValue(params[source].get<std::string>())});
  }
}

bool IsModernMessage(const nlohmann::json& message) {
  if (!message.contains("params") || !message["params"].is_object()) return false;
  const nlohmann::json& params = message["params"];
  return params.contains("_meta") && params["_meta"].is_object() &&
         params["_meta"].contains(kMcpMetaProtocolVersion) &&
         params["_meta"][kMcpMetaProtocolVersion].is_string();
}

// The JSON-RPC error object of an HTTP error's body, null when the body is not one.
nlohmann::json RpcErrorOfBody(const std::string& body) {
  nlohmann::json parsed = nlohmann::json::parse(body, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object() || !parsed.contains("error") ||
      !parsed["error"].is_object()) {
    return nullptr;
  }
  return parsed["error"];
}

}  // namespace

void HttpChannel::Send(const nlohmann::json& message) { SendWithHeaders(message, {}); }

void HttpChannel::SendWithHeaders(const nlohmann::json& message,
                                  const std::vector<std::pair<std::string, std::string>>& headers) {
  if (closed_) return;
  const uint64_t post_id = next_post_++;
  auto post = std::make_unique<Post>();
  if (message.contains("method") && message.contains("id")) post->id = message["id"];
  HttpRequest request;
  request.method = "POST";
  request.url = spec_.url;
  request.headers = spec_.headers;
  request.headers.push_back({"Content-Type", "application/json"});
  request.headers.push_back({"Accept", "application/json, text/event-stream"});
  if (IsModernMessage(message)) {
    AddModernHeaders(message, &request.headers);
  } else {
    if (!session_id_.empty()) request.headers.push_back({"Mcp-Session-Id", session_id_});
    if (!protocol_version_.empty()) {
      request.headers.push_back({"MCP-Protocol-Version", protocol_version_});
    }
  }
  for (const auto& [name, value] : headers) request.headers.push_back({name, value});
  request.body = jsonrpc::Serialize(message);
  request.connect_timeout_ms = 10'000;
  const bool is_initialize = message.value("method", "") == "initialize";
  Post* p = post.get();
  posts_[post_id] = std::move(post);
  std::weak_ptr<bool> alive = alive_;
  HttpCallbacks cb;
  cb.on_head = [this, p, alive, is_initialize](const HttpResponseHead& head) {
    if (alive.expired()) return;
    p->status = head.status;
    const std::string type = AsciiLowercase(head.Header("content-type").value_or(""));
    p->sse = type.rfind("text/event-stream", 0) == 0;
    if (p->sse) p->parser = std::make_unique<SseParser>(SseParserOptions{});
    if (is_initialize && head.status / 100 == 2) {
      if (auto sid = head.Header("mcp-session-id")) session_id_ = *sid;
    }
  };
  cb.on_data = [this, p, post_id, alive](std::string_view chunk) {
    if (alive.expired() || closed_) return;
    if (p->status / 100 != 2 || !p->sse) {
      if (p->body.size() + chunk.size() > static_cast<size_t>(spec_.max_response_bytes)) {
        p->call.reset();
        AnswerWithError(p->id, "the server's answer is over " +
                                   std::to_string(spec_.max_response_bytes) + " bytes");
        p->answered = true;
        Finish(post_id);
        return;
      }
      p->body.append(chunk);
      return;
    }
    std::vector<SseEvent> events;
    p->parser->Feed(chunk, &events);
    for (SseEvent& e : events) {
      if (e.data.empty()) continue;
      nlohmann::json message = nlohmann::json::parse(e.data, nullptr, false);
      if (message.is_discarded() || !message.is_object()) continue;
      if (!p->id.is_null() && message.contains("id") && message["id"] == p->id &&
          !message.contains("method")) {
        p->answered = true;
      }
      if (callbacks_.on_message) callbacks_.on_message(std::move(message));
      if (alive.expired() || closed_ || !posts_.count(post_id)) return;
    }
    if (!p->parser->status().ok()) {
      p->call.reset();
      if (!p->answered)
        AnswerWithError(p->id,
                        "the server's event stream is malformed: " + p->parser->status().message());
      p->answered = true;
      Finish(post_id);
    }
  };
  cb.on_done = [this, p, post_id, alive](Status status, HttpErrorKind) {
    if (alive.expired() || closed_) return;
    if (!status.ok()) {
      if (!p->answered) AnswerWithError(p->id, status.message(), {{"transport", true}});
    } else if (p->status == 404 && !session_id_.empty()) {
      Finish(post_id);
      closed_ = true;
      auto on_closed = std::move(callbacks_.on_closed);
      callbacks_ = {};
      posts_.clear();
      if (on_closed) on_closed(Status::Unavailable("the server ended the session (HTTP 404)"));
      return;
    } else if (p->status / 100 != 2) {
      std::string text = p->body.substr(0, 200);
      nlohmann::json data = {{"httpStatus", p->status}};
      if (nlohmann::json rpc = RpcErrorOfBody(p->body); !rpc.is_null()) data["rpcError"] = rpc;
      AnswerWithError(p->id,
                      "HTTP " + std::to_string(p->status) + (text.empty() ? "" : ": " + text),
                      std::move(data));
    } else if (!p->sse && !p->body.empty()) {
      nlohmann::json message = nlohmann::json::parse(p->body, nullptr, false);
      if (message.is_discarded() || !message.is_object()) {
        AnswerWithError(p->id, "the server's answer is not a JSON-RPC message");
      } else if (callbacks_.on_message) {
        callbacks_.on_message(std::move(message));
      }
    } else if (!p->id.is_null() && !p->answered) {
      AnswerWithError(p->id, "the server ended its answer without a response");
    }
    Finish(post_id);
  };
  p->call = http_->Start(std::move(request), std::move(cb));
}

void HttpChannel::Finish(uint64_t post_id) { posts_.erase(post_id); }

void HttpChannel::Abandon(const nlohmann::json& id) {
  for (auto it = posts_.begin(); it != posts_.end(); ++it) {
    if (it->second->id == id) {
      posts_.erase(it);  // destroying the call aborts the POST
      return;
    }
  }
}

void HttpChannel::Close() {
  if (closed_) return;
  closed_ = true;
  posts_.clear();
  callbacks_ = {};
  if (!session_id_.empty()) {
    // Best effort; nobody waits for it. The call is kept by the client until it ends.
    HttpRequest request;
    request.method = "DELETE";
    request.url = spec_.url;
    request.headers = spec_.headers;
    request.headers.push_back({"Mcp-Session-Id", session_id_});
    request.total_timeout_ms = 2000;
    auto call = std::make_shared<std::unique_ptr<HttpCall>>();
    HttpCallbacks cb;
    cb.on_done = [call](Status, HttpErrorKind) { call->reset(); };  // breaks the cycle
    *call = http_->Start(std::move(request), std::move(cb));
  }
}

}  // namespace troupe
