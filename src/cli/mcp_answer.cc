#include "cli/mcp_answer.h"

#include <fmt/format.h>

#include <cctype>
#include <utility>
#include <variant>

#include "cli/daemon_launcher.h"
#include "mcp/mcp_modern.h"
#include "wire/jsonrpc.h"

namespace troupe {

using nlohmann::json;

namespace {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// Whether the bridge acts on this method's params (and so keeps them).
bool KeepsParams(const std::string& method) {
  return method == "initialize" || method == "logging/setLevel" ||
         method == "notifications/cancelled";
}

// {"jsonrpc": …, "id": …, "error": {…}}: a JSON-RPC error response (not the REST API's
// {"error": {…}} body, which has neither "jsonrpc" nor "id").
bool IsJsonRpcError(const json& body) {
  if (!body.is_object() || !body.contains("jsonrpc") || !body.contains("id")) return false;
  auto error = body.find("error");
  return error != body.end() && error->is_object();
}

bool IsResponseTo(const json& message, const json& id) {
  if (!message.is_object() || message.contains("method")) return false;
  auto found = message.find("id");
  return found != message.end() && *found == id &&
         (message.contains("result") || message.contains("error"));
}

}  // namespace

McpForwarded McpForwarded::Classify(std::string_view line) {
  McpForwarded f;
  jsonrpc::Message message = jsonrpc::ParseMessage(line);
  if (auto* request = std::get_if<jsonrpc::Request>(&message)) {
    f.kind = Kind::kRequest;
    f.id = std::move(request->id);
    f.method = std::move(request->method);
    if (IsMcpModernRequest(f.method, request->params)) {
      f.modern = true;
      McpEnvelope envelope;
      f.modern_error = ReadMcpEnvelope(request->params, &envelope);
      const json& meta = request->params["_meta"];
      auto version = meta.find(kMcpMetaProtocolVersion);
      if (version != meta.end() && version->is_string()) f.modern_version = *version;
      if (const char* key = McpNameSource(f.method)) {
        auto found = request->params.find(key);
        if (found != request->params.end() && found->is_string()) f.name = *found;
      }
    }
    if (KeepsParams(f.method)) f.params = std::move(request->params);
  } else if (auto* notification = std::get_if<jsonrpc::Notification>(&message)) {
    f.kind = Kind::kNotification;
    f.method = std::move(notification->method);
    if (KeepsParams(f.method)) f.params = std::move(notification->params);
  } else if (std::holds_alternative<jsonrpc::Response>(message)) {
    f.kind = Kind::kResponse;
  } else {
    f.kind = Kind::kInvalid;
    f.id = std::move(std::get<jsonrpc::Invalid>(message).id);
  }
  return f;
}

McpAnswerDecoder::McpAnswerDecoder(const McpForwarded& sent, std::string where)
    : kind_(sent.kind), id_(sent.id), method_(sent.method), where_(std::move(where)) {}

void McpAnswerDecoder::OnHead(int status, std::string_view content_type) {
  status_ = status;
  event_stream_ = status == 200 && StartsWithNoCase(content_type, "text/event-stream");
}

void McpAnswerDecoder::OnData(std::string_view bytes, McpRouted* out) {
  if (event_stream_) {
    const bool was_ok = sse_.status().ok();
    std::vector<SseEvent> events;
    sse_.Feed(bytes, &events);
    for (SseEvent& event : events) {
      if (event.data.empty()) continue;  // a keep-alive
      json message = json::parse(event.data, nullptr, /*allow_exceptions=*/false);
      if (message.is_discarded()) {
        out->logs.push_back(fmt::format("{} sent an event that is not JSON ({} bytes); dropped it",
                                        where_, event.data.size()));
        continue;
      }
      Emit(std::move(message), out);
    }
    if (was_ok && !sse_.status().ok()) {
      out->logs.push_back(
          fmt::format("{} sent an event stream this bridge cannot read: {}; ignoring the rest",
                      where_, sse_.status().message()));
    }
    return;
  }
  if (body_overflow_) return;
  if (body_.size() + bytes.size() > kMcpMaxAnswerBytes) {
    body_overflow_ = true;
    std::string().swap(body_);
    return;
  }
  body_.append(bytes);
}

void McpAnswerDecoder::OnEnd(McpRouted* out) {
  if (event_stream_) {
    std::vector<SseEvent> unused;  // an event cut short is discarded, as EventSource does
    sse_.Finish(&unused);
    Fail(fmt::format("{} ended the event stream without answering", where_), out);
    return;
  }
  if (body_overflow_) {
    Fail(fmt::format("{} answered HTTP {} with a body over {} bytes", where_, status_,
                     kMcpMaxAnswerBytes),
         out);
    return;
  }
  json body = body_.empty() ? json(json::value_t::discarded)
                            : json::parse(body_, nullptr, /*allow_exceptions=*/false);
  if (status_ >= 200 && status_ < 300) {
    if (!body_.empty() && body.is_discarded()) {
      Fail(fmt::format("{} answered HTTP {} with a body that is not JSON", where_, status_), out);
      return;
    }
    if (!body_.empty()) Emit(std::move(body), out);
    Fail(fmt::format("{} answered HTTP {} without a response", where_, status_), out);
    return;
  }
  if (IsJsonRpcError(body)) {
    switch (kind_) {
      case McpForwarded::Kind::kRequest:
        // Refused before the daemon read the id (no session, a bad header): it is this request's.
        if (body["id"].is_null()) body["id"] = id_;
        Emit(std::move(body), out);
        break;
      case McpForwarded::Kind::kInvalid:
        Emit(std::move(body), out);
        break;
      case McpForwarded::Kind::kNotification:
      case McpForwarded::Kind::kResponse:
        Fail(fmt::format("{} refused it (HTTP {}): {}", where_, status_,
                         body["error"].value("message", std::string())),
             out);
        return;
    }
  }
  Fail(DescribeStatus(), out);
}

void McpAnswerDecoder::OnFailure(std::string_view reason, McpRouted* out) {
  Fail(fmt::format("lost the connection to {} before it answered: {}", where_, reason), out);
}

void McpAnswerDecoder::Emit(json message, McpRouted* out) {
  if (kind_ == McpForwarded::Kind::kRequest && IsResponseTo(message, id_)) {
    if (answered_) return;  // a second response to one request is not passed on
    answered_ = true;
  } else if (answered_ && message.is_object() &&
             message.value("method", json()) == "notifications/progress") {
    // The request is over: its client has forgotten the progress token, and the TypeScript SDK
    // reports a late notification as an error ("unknown token"). The daemon sends none (it
    // stops a call's progress before its answer); this holds it for any server behind /mcp.
    return;
  }
  wrote_any_ = true;
  out->messages.push_back(std::move(message));
}

void McpAnswerDecoder::Fail(const std::string& what, McpRouted* out) {
  switch (kind_) {
    case McpForwarded::Kind::kRequest:
      if (answered_) return;
      answered_ = true;
      out->messages.push_back(jsonrpc::ErrorResponse(id_, jsonrpc::kInternalError, what));
      return;
    case McpForwarded::Kind::kInvalid:
      if (wrote_any_) return;
      wrote_any_ = true;
      out->messages.push_back(jsonrpc::ErrorResponse(id_, jsonrpc::kInternalError, what));
      return;
    case McpForwarded::Kind::kNotification:
    case McpForwarded::Kind::kResponse:
      if (status_ >= 200 && status_ < 300 && !event_stream_) return;  // 202: as expected
      out->logs.push_back(
          fmt::format("{}: {}", method_.empty() ? std::string("a response") : method_, what));
      return;
  }
}

std::string McpAnswerDecoder::DescribeStatus() const {
  std::string detail;
  const json body = json::parse(body_, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_object()) {
    detail = body["error"].value("message", std::string());  // the REST API's error shape
  }
  if (detail.empty()) detail = FirstLine(body_);
  if (detail.size() > 200) detail = detail.substr(0, 200) + "…";
  return fmt::format("{} answered HTTP {}{}{}", where_, status_, detail.empty() ? "" : ": ",
                     detail);
}

}  // namespace troupe
