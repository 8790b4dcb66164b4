#include "cli/mcp_bridge.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>
#include <vector>

#include "mcp/mcp_server.h"
#include "wire/jsonrpc.h"

namespace troupe {

using nlohmann::json;

namespace {

bool IsResponseTo(const json& message, const json& id) {
  if (!message.is_object() || message.contains("method")) return false;
  auto found = message.find("id");
  return found != message.end() && *found == id &&
         (message.contains("result") || message.contains("error"));
}

std::string ErrorText(const json& response) {
  auto error = response.find("error");
  if (error == response.end() || !error->is_object()) return "no result in the answer";
  return fmt::format("{} ({})", error->value("message", std::string("no message")),
                     error->value("code", 0));
}

}  // namespace

void McpBridge::OnStdinLine(std::string line) {
  if (finishing_) return;
  Outgoing out;
  out.message = McpForwarded::Classify(line);
  out.text = std::move(line);
  const McpForwarded& m = out.message;
  if (m.is_request() && m.modern) {
    if (m.modern_error) {  // as the daemon would answer it (mcp/mcp_modern.h)
      McpRouted routed;
      routed.messages.push_back(jsonrpc::ErrorResponse(m.id, *m.modern_error));
      Deliver(&out, "", routed);
      return;
    }
    // 2026-07-28: stateless, straight to the daemon (with the session, if the client opened
    // one: the daemon then refuses the other era's request).
    Send(std::move(out));
    return;
  }
  if (m.is_request() && m.method == "initialize" &&
      (phase_ == Phase::kNoSession || phase_ == Phase::kLost)) {
    // The client starts a session: later messages wait for its id.
    init_params_ = m.params;
    phase_ = Phase::kInitializing;
    session_id_.clear();
    protocol_version_.clear();
    out.opens_session = true;
    Send(std::move(out));
    return;
  }
  if (m.is_request() && m.method == "logging/setLevel") log_level_params_ = m.params;
  if (m.kind == McpForwarded::Kind::kNotification) {
    if (m.method == "notifications/initialized") client_initialized_ = true;
    if (m.method == "notifications/cancelled") CancelRequest(m.params);
  }
  Submit(std::move(out));
}

void McpBridge::OnTooLongLine(size_t bytes) {
  if (done_) return;
  io_->WriteLine(jsonrpc::Serialize(jsonrpc::ErrorResponse(
      json(), jsonrpc::kInvalidRequest,
      fmt::format("message of {} bytes is above the limit of {} bytes (one JSON-RPC message per "
                  "line); it was dropped",
                  bytes, jsonrpc::kMaxMessageBytes))));
}

void McpBridge::OnStdinEnd() {
  stdin_ended_ = true;
  MaybeFinish();
}

void McpBridge::Submit(Outgoing out) {
  switch (phase_) {
    case Phase::kNoSession:
      if (AnswerBeforeInitialize(out)) return;
      Send(std::move(out));
      return;
    case Phase::kReady:
      Send(std::move(out));
      return;
    case Phase::kInitializing:
    case Phase::kReinitializing:
      queue_.push_back(std::move(out));
      return;
    case Phase::kLost:
      queue_.push_back(std::move(out));
      StartReinitialize();
      return;
  }
}

uint64_t McpBridge::Send(Outgoing out) {
  McpHttpCall call;
  call.method = McpHttpCall::Method::kPost;
  call.body = out.text;
  call.session_id = session_id_;
  call.protocol_version = protocol_version_;
  call.resume_session = out.resume_session;
  if (out.message.modern) {
    call.protocol_version = out.message.modern_version;
    call.mcp_method = out.message.method;
    call.mcp_name = out.message.name;
  }
  Call state;
  state.method = McpHttpCall::Method::kPost;
  state.session_sent = session_id_;
  state.decoder.emplace(NewDecoder(out));
  state.out = std::move(out);
  return StartCall(std::move(call), std::move(state));
}

uint64_t McpBridge::StartCall(McpHttpCall call, Call state) {
  const uint64_t id = next_call_id_++;
  call.id = id;
  if (state.out && !state.out->internal && state.out->message.is_request()) {
    call_of_request_[jsonrpc::IdKey(state.out->message.id)] = id;
  }
  calls_.emplace(id, std::move(state));
  io_->StartCall(call);
  return id;
}

void McpBridge::OnCallHead(uint64_t id, int status, std::string_view content_type,
                           std::string_view session_id) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call& call = it->second;
  call.status = status;
  call.session_header = std::string(session_id);
  if (call.decoder) call.decoder->OnHead(status, content_type);
  if (call.method == McpHttpCall::Method::kGet && status == 200) {
    stream_retry_ms_ = kStreamRetryMinMs;
    stream_refusals_ = 0;
  }
}

void McpBridge::OnCallData(uint64_t id, std::string_view bytes) {
  auto it = calls_.find(id);
  if (it == calls_.end() || !it->second.decoder) return;
  McpRouted routed;
  it->second.decoder->OnData(bytes, &routed);
  // Deliver may start calls (never end this one): `it` stays valid in the map.
  const Call& call = it->second;
  Deliver(call.out ? &*call.out : nullptr, call.session_header, routed);
}

void McpBridge::OnCallDone(uint64_t id, const McpCallEnd& end) {
  auto it = calls_.find(id);
  if (it == calls_.end()) return;
  Call call = std::move(it->second);
  calls_.erase(it);
  if (call.out && !call.out->internal && call.out->message.is_request()) {
    auto r = call_of_request_.find(jsonrpc::IdKey(call.out->message.id));
    if (r != call_of_request_.end() && r->second == id) call_of_request_.erase(r);
  }
  switch (call.method) {
    case McpHttpCall::Method::kDelete:
      if (!done_) {
        done_ = true;
        io_->Finish(0);
      }
      return;
    case McpHttpCall::Method::kGet:
      if (id == stream_call_) {
        stream_call_ = 0;
        StreamDone(call, end);
      }
      break;
    case McpHttpCall::Method::kPost:
      PostDone(std::move(call), end);
      break;
  }
  MaybeFinish();
}

void McpBridge::PostDone(Call call, const McpCallEnd& end) {
  Outgoing out = std::move(*call.out);
  if (!end.completed && end.unreachable && call.status == 0 && !finishing_) {
    std::string why;
    if (!out.reconnect_tried) {
      out.reconnect_tried = true;
      Status found = io_->Reconnect();
      if (found.ok()) {
        // The initialize in flight goes again as it is; anything else as the phase says (a new
        // daemon answers it 404 for the old session, and the session is re-initialized).
        if (out.opens_session) {
          Send(std::move(out));
        } else {
          Submit(std::move(out));
        }
        return;
      }
      why = found.message();
    } else {
      why = fmt::format("cannot reach {}: {}", io_->Where(), end.reason);
    }
    Refuse(out, why);
    return;
  }
  if (end.completed && call.status == 404 && !call.session_sent.empty() &&
      !out.reinitialize_tried && !finishing_) {
    out.reinitialize_tried = true;
    if (phase_ == Phase::kReady && call.session_sent == session_id_) SessionLost();
    // The bridge's own setLevel and initialized are redone by the re-initialization itself.
    if (!out.internal) Submit(std::move(out));
    return;
  }
  McpRouted routed;
  if (end.completed) {
    call.decoder->OnEnd(&routed);
  } else {
    call.decoder->OnFailure(end.reason, &routed);
  }
  Deliver(&out, call.session_header, routed);
  if (out.message.kind == McpForwarded::Kind::kNotification &&
      out.message.method == "notifications/initialized" && end.completed &&
      call.status / 100 == 2 && call.session_sent == session_id_) {
    OpenStream();
  }
}

void McpBridge::Deliver(const Outgoing* out, const std::string& session_header,
                        const McpRouted& routed) {
  for (const std::string& line : routed.logs) io_->Log(line);
  // The bridge's own messages are answered to the bridge only.
  const bool write = out == nullptr || !out->internal;
  for (const json& message : routed.messages) {
    if (write && !done_) io_->WriteLine(jsonrpc::Serialize(message));
    if (out != nullptr && out->message.is_request() && IsResponseTo(message, out->message.id)) {
      OnResponse(*out, session_header, message);
    }
  }
}

void McpBridge::OnResponse(const Outgoing& out, const std::string& session_header,
                           const json& response) {
  if (out.opens_session) {
    auto result = response.find("result");
    const bool ok = result != response.end() && result->is_object();
    if (ok) {
      session_id_ = session_header;
      auto version = result->find("protocolVersion");
      protocol_version_ =
          version != result->end() && version->is_string() ? version->get<std::string>() : "";
      if (out.internal) {
        Reinitialized();
      } else {
        phase_ = Phase::kReady;
        FlushQueue();
      }
    } else if (out.internal) {
      ReinitializeFailed(ErrorText(response));
    } else {
      // The client's initialize was refused: what waited for it goes without a session (and is
      // refused by the daemon in turn) while the client tries again.
      phase_ = Phase::kNoSession;
      FlushQueue();
    }
    return;
  }
  if (out.internal && response.contains("error")) {
    io_->Log(fmt::format("re-applying {} in the new session failed: {}", out.message.method,
                         ErrorText(response)));
  }
}

void McpBridge::CancelRequest(const json& params) {
  if (!params.is_object()) return;
  const json request_id = params.value("requestId", json());
  if (!jsonrpc::IsValidId(request_id)) return;
  const std::string key = jsonrpc::IdKey(request_id);
  auto found = call_of_request_.find(key);
  if (found != call_of_request_.end()) {
    const uint64_t id = found->second;
    call_of_request_.erase(found);
    auto call = calls_.find(id);
    if (call != calls_.end()) {
      const bool initialize = call->second.out && call->second.out->opens_session;
      calls_.erase(call);
      io_->AbortCall(id);
      if (initialize) {  // MCP forbids it; treat it as a failed initialize
        phase_ = Phase::kNoSession;
        FlushQueue();
      }
    }
  }
  std::erase_if(queue_, [&](const Outgoing& o) {
    return !o.internal && o.message.is_request() && jsonrpc::IdKey(o.message.id) == key;
  });
}

void McpBridge::SessionLost() {
  io_->Log(fmt::format(
      "{} no longer knows MCP session {} (it restarted, or the session expired); initializing a "
      "new session",
      io_->Where(), session_id_));
  StartReinitialize();
}

void McpBridge::StartReinitialize() {
  phase_ = Phase::kReinitializing;
  // The daemon is asked for the same session id, so the tasks launched through it stay this
  // client's (ownership, background_list, tasks/*, notices piggy-backed while it was away).
  std::string previous = std::move(session_id_);
  session_id_.clear();
  protocol_version_.clear();
  CloseStream();
  Outgoing init = Internal("initialize", init_params_, /*request=*/true);
  init.opens_session = true;
  init.resume_session = std::move(previous);
  Send(std::move(init));
}

void McpBridge::Reinitialized() {
  phase_ = Phase::kReady;
  if (client_initialized_) {
    Send(Internal("notifications/initialized", json(), /*request=*/false));
  }
  if (!log_level_params_.is_null()) {
    Send(Internal("logging/setLevel", log_level_params_, /*request=*/true));
  }
  FlushQueue();
}

void McpBridge::ReinitializeFailed(const std::string& why) {
  phase_ = Phase::kLost;
  const std::string what =
      fmt::format("could not initialize a new MCP session with {}: {}", io_->Where(), why);
  io_->Log(what);
  std::deque<Outgoing> waiting;
  waiting.swap(queue_);
  for (const Outgoing& out : waiting) Refuse(out, what);
}

void McpBridge::FlushQueue() {
  std::deque<Outgoing> waiting;
  waiting.swap(queue_);
  while (!waiting.empty()) {
    Outgoing out = std::move(waiting.front());
    waiting.pop_front();
    if (phase_ == Phase::kInitializing || phase_ == Phase::kReinitializing) {
      queue_.push_back(std::move(out));  // a message in the queue started a new initialize
    } else {
      Submit(std::move(out));
    }
  }
}

bool McpBridge::AnswerBeforeInitialize(const Outgoing& out) {
  const McpForwarded& m = out.message;
  McpRouted routed;
  switch (m.kind) {
    case McpForwarded::Kind::kRequest:
      routed.messages.push_back(
          m.method == "ping" ? jsonrpc::ResultResponse(m.id, json::object())
                             : jsonrpc::ErrorResponse(m.id, McpPreInitializeError(m.method)));
      break;
    case McpForwarded::Kind::kNotification:
    case McpForwarded::Kind::kResponse:
      if (out.internal) return true;
      routed.logs.push_back(
          fmt::format("dropped {}: no MCP session yet (the client has not initialized one)",
                      m.method.empty() ? std::string("a response") : m.method));
      break;
    case McpForwarded::Kind::kInvalid:
      return false;  // the daemon answers what is wrong with it (-32700, -32600)
  }
  Deliver(&out, "", routed);
  return true;
}

void McpBridge::Refuse(const Outgoing& out, const std::string& why) {
  McpRouted routed;
  switch (out.message.kind) {
    case McpForwarded::Kind::kRequest:
    case McpForwarded::Kind::kInvalid:
      routed.messages.push_back(
          jsonrpc::ErrorResponse(out.message.id, jsonrpc::kInternalError, why));
      break;
    case McpForwarded::Kind::kNotification:
    case McpForwarded::Kind::kResponse:
      if (!out.internal) {
        routed.logs.push_back(fmt::format(
            "dropped {}: {}",
            out.message.method.empty() ? std::string("a response") : out.message.method, why));
      }
      break;
  }
  Deliver(&out, "", routed);
}

void McpBridge::OpenStream() {
  if (finishing_ || phase_ != Phase::kReady || !client_initialized_ || stream_call_ != 0 ||
      stream_unsupported_) {
    return;
  }
  if (stream_timer_armed_) {
    stream_timer_armed_ = false;
    io_->CancelTimer();
  }
  McpHttpCall call;
  call.method = McpHttpCall::Method::kGet;
  call.session_id = session_id_;
  call.protocol_version = protocol_version_;
  Call state;
  state.method = McpHttpCall::Method::kGet;
  state.session_sent = session_id_;
  McpForwarded stream;
  stream.kind = McpForwarded::Kind::kNotification;
  stream.method = "GET /mcp";
  state.decoder.emplace(stream, io_->Where());
  stream_call_ = StartCall(std::move(call), std::move(state));
}

void McpBridge::CloseStream() {
  if (stream_call_ != 0) {
    calls_.erase(stream_call_);
    io_->AbortCall(stream_call_);
    stream_call_ = 0;
  }
  if (stream_timer_armed_) {
    stream_timer_armed_ = false;
    io_->CancelTimer();
  }
}

void McpBridge::StreamDone(const Call& call, const McpCallEnd& end) {
  if (finishing_) return;
  if (end.completed && call.status == 404 && !call.session_sent.empty() &&
      call.session_sent == session_id_ && phase_ == Phase::kReady) {
    if (++stream_refusals_ == 1) {
      SessionLost();
    } else {
      // Refused again right after a new session was made: do not loop; the next message
      // initializes a new session.
      phase_ = Phase::kLost;
      io_->Log(
          fmt::format("{} refused the event stream of MCP session {} too; the next message "
                      "initializes a new session",
                      io_->Where(), session_id_));
    }
    return;
  }
  if (end.completed && call.status == 405) {
    stream_unsupported_ = true;
    io_->Log(
        fmt::format("{} offers no GET /mcp event stream (HTTP 405): only answers to requests "
                    "will arrive",
                    io_->Where()));
    return;
  }
  // Dropped, refused or ended: open it again later.
  stream_timer_armed_ = true;
  io_->StartTimer(stream_retry_ms_);
  stream_retry_ms_ = std::min(stream_retry_ms_ * 2, kStreamRetryMaxMs);
}

void McpBridge::OnTimer() {
  stream_timer_armed_ = false;
  OpenStream();
}

void McpBridge::MaybeFinish() {
  if (!stdin_ended_ || finishing_) return;
  if (!queue_.empty() || phase_ == Phase::kInitializing || phase_ == Phase::kReinitializing) {
    return;
  }
  for (const auto& [id, call] : calls_) {
    if (call.method == McpHttpCall::Method::kPost) return;
  }
  finishing_ = true;
  CloseStream();
  SendDelete();
}

void McpBridge::Stop() {
  if (done_ || delete_call_ != 0) return;
  finishing_ = true;
  std::vector<uint64_t> ids;
  for (const auto& [id, call] : calls_) ids.push_back(id);
  calls_.clear();
  call_of_request_.clear();
  queue_.clear();
  stream_call_ = 0;
  for (uint64_t id : ids) io_->AbortCall(id);
  if (stream_timer_armed_) {
    stream_timer_armed_ = false;
    io_->CancelTimer();
  }
  SendDelete();
}

void McpBridge::SendDelete() {
  if (session_id_.empty()) {
    done_ = true;
    io_->Finish(0);
    return;
  }
  McpHttpCall call;
  call.method = McpHttpCall::Method::kDelete;
  call.session_id = session_id_;
  call.protocol_version = protocol_version_;
  call.timeout_ms = kDeleteTimeoutMs;
  Call state;
  state.method = McpHttpCall::Method::kDelete;
  state.session_sent = session_id_;
  delete_call_ = StartCall(std::move(call), std::move(state));
}

McpBridge::Outgoing McpBridge::Internal(const std::string& method, json params, bool request) {
  json message = {{"jsonrpc", "2.0"}};
  if (request) message["id"] = fmt::format("troupe-mcp-{}", next_internal_id_++);
  message["method"] = method;
  if (!params.is_null()) message["params"] = std::move(params);
  Outgoing out;
  out.internal = true;
  out.text = jsonrpc::Serialize(message);
  out.message = McpForwarded::Classify(out.text);
  return out;
}

McpAnswerDecoder McpBridge::NewDecoder(const Outgoing& out) const {
  return McpAnswerDecoder(out.message, io_->Where());
}

}  // namespace troupe
