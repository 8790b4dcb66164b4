#include "cli/mcp_transport.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <sys/stat.h>

#include <mutex>
#include <string_view>
#include <utility>

#include "core/http_head_parser.h"
#include "daemon/daemon_paths.h"
#include "mcp/mcp_modern.h"

namespace troupe {

namespace {

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace

struct McpTransport::Transfer {
  uint64_t id = 0;
  CURL* easy = nullptr;
  curl_slist* headers = nullptr;
  std::string body;
  std::string socket;
  char error[CURL_ERROR_SIZE] = {0};
  // Filled by libcurl's callbacks.
  HttpHeadParser head{/*follows_redirects=*/false};  // the final head, past any 1xx
  bool head_done = false;
  int status = 0;
  std::string content_type;
  std::string session_id;
  std::string data;
  // Reported to the bridge.
  bool head_reported = false;

  ~Transfer() {
    if (easy != nullptr) curl_easy_cleanup(easy);
    if (headers != nullptr) curl_slist_free_all(headers);
  }

  static size_t OnHeader(char* bytes, size_t size, size_t count, void* user) {
    auto* t = static_cast<Transfer*>(user);
    if (t->head.AddLine(std::string_view(bytes, size * count))) {
      const HttpResponseHead& head = t->head.head();
      t->status = head.status;
      t->content_type = head.Header("content-type").value_or("");
      t->session_id = head.Header("mcp-session-id").value_or("");
      t->head_done = true;
    }
    return size * count;
  }

  static size_t OnBody(char* bytes, size_t size, size_t count, void* user) {
    static_cast<Transfer*>(user)->data.append(bytes, size * count);
    return size * count;
  }
};

McpTransport::McpTransport() {
  GlobalInit();
  multi_ = curl_multi_init();
}

McpTransport::~McpTransport() {
  while (!transfers_.empty()) Abort(transfers_.begin()->first);
  if (multi_ != nullptr) curl_multi_cleanup(static_cast<CURLM*>(multi_));
}

void McpTransport::SetAddress(McpDaemonAddress address) {
  address_ = std::move(address);
  has_address_ = true;
}

void McpTransport::ForgetAddress(std::string reason_unknown) {
  has_address_ = false;
  reason_unknown_ = std::move(reason_unknown);
}

void McpTransport::Start(const McpHttpCall& call) {
  if (has_address_ && !address_.socket.empty()) {
    // As DaemonClient: never a request to a socket that is not this user's.
    if (Status trusted = CheckSocketDir(address_.socket); !trusted.ok()) {
      ForgetAddress(fmt::format("will not talk to a troupe daemon at {}: {}", address_.socket,
                                trusted.message()));
    }
  }
  if (!has_address_ || multi_ == nullptr) {
    unreachable_.push_back(call.id);
    return;
  }
  auto transfer = std::make_unique<Transfer>();
  Transfer* t = transfer.get();
  t->id = call.id;
  t->easy = curl_easy_init();
  t->socket = address_.socket;
  if (t->easy == nullptr) {
    unreachable_.push_back(call.id);
    return;
  }
  auto header = [t](const std::string& line) {
    curl_slist* list = curl_slist_append(t->headers, line.c_str());
    if (list != nullptr) t->headers = list;
  };
  header("Expect:");  // no 100-continue round trip for large bodies
  if (!address_.token.empty()) header(fmt::format("Authorization: Bearer {}", address_.token));
  if (!call.session_id.empty()) header(fmt::format("Mcp-Session-Id: {}", call.session_id));
  if (!call.protocol_version.empty()) {
    header(fmt::format("MCP-Protocol-Version: {}", call.protocol_version));
  }
  if (!call.mcp_method.empty()) header(fmt::format("Mcp-Method: {}", call.mcp_method));
  if (!call.mcp_name.empty()) header(fmt::format("Mcp-Name: {}", EncodeMcpHeaderValue(call.mcp_name)));
  if (!call.resume_session.empty()) {
    header(fmt::format("Troupe-Resume-Session: {}", call.resume_session));
  }
  CURL* e = t->easy;
  const std::string url = address_.base_url + "/mcp";
  curl_easy_setopt(e, CURLOPT_URL, url.c_str());
  if (!address_.socket.empty()) curl_easy_setopt(e, CURLOPT_UNIX_SOCKET_PATH, t->socket.c_str());
  curl_easy_setopt(e, CURLOPT_PROXY, "");
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "troupe-mcp/0.1");
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, &Transfer::OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t);
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, &Transfer::OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t);
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->error);
  curl_easy_setopt(e, CURLOPT_PRIVATE, t);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, 3'000L);
  // A connection per exchange, never reused (see the header).
  curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
  curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
  if (call.timeout_ms > 0)
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, static_cast<long>(call.timeout_ms));
  switch (call.method) {
    case McpHttpCall::Method::kPost:
      header("Content-Type: application/json");
      header("Accept: application/json, text/event-stream");
      t->body = call.body;
      curl_easy_setopt(e, CURLOPT_POST, 1L);
      curl_easy_setopt(e, CURLOPT_POSTFIELDS, t->body.data());
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(t->body.size()));
      break;
    case McpHttpCall::Method::kGet:
      header("Accept: text/event-stream");
      curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
      break;
    case McpHttpCall::Method::kDelete:
      curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "DELETE");
      curl_easy_setopt(e, CURLOPT_NOBODY, 0L);
      break;
  }
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->headers);
  if (curl_multi_add_handle(static_cast<CURLM*>(multi_), e) != CURLM_OK) {
    unreachable_.push_back(call.id);
    return;
  }
  transfers_[call.id] = std::move(transfer);
}

void McpTransport::Abort(uint64_t id) {
  std::erase(unreachable_, id);
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), it->second->easy);
  transfers_.erase(it);
}

void McpTransport::Poll(int timeout_ms) {
  if (multi_ == nullptr) return;
  curl_multi_poll(static_cast<CURLM*>(multi_), nullptr, 0, timeout_ms, nullptr);
}

void McpTransport::Wakeup() {
  if (multi_ != nullptr) curl_multi_wakeup(static_cast<CURLM*>(multi_));
}

void McpTransport::Perform(McpBridge* bridge) {
  // Exchanges started while the daemon's address was unknown.
  std::vector<uint64_t> unreachable;
  unreachable.swap(unreachable_);
  for (uint64_t id : unreachable) {
    McpCallEnd end;
    end.completed = false;
    end.unreachable = true;
    end.reason = reason_unknown_;
    bridge->OnCallDone(id, end);
  }
  if (multi_ == nullptr) return;
  CURLM* multi = static_cast<CURLM*>(multi_);
  int running = 0;
  curl_multi_perform(multi, &running);

  // Ends first collected: the bridge's reactions may remove handles, and with them the messages.
  std::vector<std::pair<uint64_t, CURLcode>> ended;
  int queued = 0;
  while (CURLMsg* msg = curl_multi_info_read(multi, &queued)) {
    if (msg->msg != CURLMSG_DONE) continue;
    Transfer* t = nullptr;
    curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &t);
    if (t != nullptr) ended.emplace_back(t->id, msg->data.result);
  }

  std::vector<uint64_t> ids;
  ids.reserve(transfers_.size());
  for (const auto& [id, t] : transfers_) ids.push_back(id);
  for (uint64_t id : ids) {
    auto it = transfers_.find(id);  // an earlier report may have aborted it
    if (it != transfers_.end()) Report(*it->second, bridge);
  }
  for (const auto& [id, code] : ended) Finish(id, code, bridge);
}

void McpTransport::Report(Transfer& transfer, McpBridge* bridge) {
  const uint64_t id = transfer.id;
  if (transfer.head_done && !transfer.head_reported) {
    transfer.head_reported = true;
    bridge->OnCallHead(id, transfer.status, transfer.content_type, transfer.session_id);
  }
  auto it = transfers_.find(id);
  if (it == transfers_.end() || !transfer.head_reported || transfer.data.empty()) return;
  std::string data;
  data.swap(transfer.data);
  bridge->OnCallData(id, data);
}

void McpTransport::Finish(uint64_t id, int curl_code, McpBridge* bridge) {
  auto it = transfers_.find(id);
  if (it == transfers_.end()) return;
  Report(*it->second, bridge);
  it = transfers_.find(id);
  if (it == transfers_.end()) return;
  std::unique_ptr<Transfer> t = std::move(it->second);
  transfers_.erase(it);
  curl_multi_remove_handle(static_cast<CURLM*>(multi_), t->easy);

  McpCallEnd end;
  const auto code = static_cast<CURLcode>(curl_code);
  if (code == CURLE_OK && t->head_done) {
    bridge->OnCallDone(id, end);
    return;
  }
  end.completed = false;
  const bool no_socket = !t->socket.empty() && !PathExists(t->socket);
  if (no_socket) {
    end.reason = fmt::format("no socket at {}", t->socket);
  } else if (code == CURLE_COULDNT_CONNECT) {
    end.reason = "connection refused";
  } else if (code == CURLE_OPERATION_TIMEDOUT) {
    end.reason = "no answer in time";
  } else {
    end.reason = t->error[0] != '\0' ? std::string(t->error) : curl_easy_strerror(code);
  }
  end.unreachable = !t->head_done && (no_socket || code == CURLE_COULDNT_CONNECT ||
                                      code == CURLE_COULDNT_RESOLVE_HOST);
  bridge->OnCallDone(id, end);
}

}  // namespace troupe
