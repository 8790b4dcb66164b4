#include "e2e/mcp_client.h"

#include <curl/curl.h>
#include <fmt/format.h>
#include <strings.h>

#include <vector>

#include "wire/sse_parser.h"

namespace troupe::bench {
namespace {

using json = nlohmann::json;

constexpr const char* kProtocolVersion = "2025-06-18";

struct Answer {
  std::string body;
  std::string content_type;
  std::string session_id;
};

size_t AppendBody(char* data, size_t size, size_t n, void* out) {
  static_cast<Answer*>(out)->body.append(data, size * n);
  return size * n;
}

// Keeps the headers the client needs.
size_t ReadHeader(char* data, size_t size, size_t n, void* out) {
  auto* answer = static_cast<Answer*>(out);
  std::string line(data, size * n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  const size_t colon = line.find(':');
  if (colon != std::string::npos) {
    const std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    value.erase(0, value.find_first_not_of(' '));
    if (strcasecmp(name.c_str(), "mcp-session-id") == 0) answer->session_id = value;
    if (strcasecmp(name.c_str(), "content-type") == 0) answer->content_type = value;
  }
  return size * n;
}

}  // namespace

Result<std::unique_ptr<McpClient>> McpClient::Connect(const std::string& socket) {
  std::unique_ptr<McpClient> c(new McpClient());
  c->socket_ = socket;
  c->curl_ = curl_easy_init();
  std::string content_type;
  json init = {{"jsonrpc", "2.0"},
               {"id", c->next_id_++},
               {"method", "initialize"},
               {"params",
                {{"protocolVersion", kProtocolVersion},
                 {"capabilities", json::object()},
                 {"clientInfo", {{"name", "e2e_bench"}, {"version", "1"}}}}}};
  auto answer = c->Post(init, &content_type);
  if (!answer.ok()) return answer.status();
  if (c->session_id_.empty()) return Status::Unavailable("initialize: no Mcp-Session-Id");
  auto initialized =
      c->Post({{"jsonrpc", "2.0"}, {"method", "notifications/initialized"}}, &content_type);
  if (!initialized.ok()) return initialized.status();
  return c;
}

McpClient::~McpClient() {
  stream_.reset();
  if (curl_ != nullptr) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<std::string> McpClient::Post(const json& message, std::string* content_type) {
  CURL* curl = static_cast<CURL*>(curl_);
  curl_easy_reset(curl);
  const std::string body = message.dump();
  Answer answer;
  curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Content-Type: application/json");
  headers = curl_slist_append(headers, "Accept: application/json, text/event-stream");
  const std::string version = fmt::format("MCP-Protocol-Version: {}", kProtocolVersion);
  headers = curl_slist_append(headers, version.c_str());
  const std::string session = fmt::format("Mcp-Session-Id: {}", session_id_);
  if (!session_id_.empty()) headers = curl_slist_append(headers, session.c_str());
  curl_easy_setopt(curl, CURLOPT_URL, "http://localhost/mcp");
  curl_easy_setopt(curl, CURLOPT_UNIX_SOCKET_PATH, socket_.c_str());
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.c_str());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, &AppendBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, &ReadHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &answer);
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 60'000L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(curl);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(headers);
  if (rc != CURLE_OK) {
    return Status::Unavailable(fmt::format("POST /mcp: {}", curl_easy_strerror(rc)));
  }
  if (status >= 300) {
    return Status::Unavailable(fmt::format("POST /mcp: HTTP {}: {}", status, answer.body));
  }
  if (!answer.session_id.empty()) session_id_ = answer.session_id;
  *content_type = answer.content_type;
  return answer.body;
}

Result<json> McpClient::CallTool(const std::string& name, const json& arguments) {
  const int64_t id = next_id_++;
  std::string content_type;
  auto body = Post({{"jsonrpc", "2.0"},
                    {"id", id},
                    {"method", "tools/call"},
                    {"params", {{"name", name}, {"arguments", arguments}}}},
                   &content_type);
  if (!body.ok()) return body.status();
  json response;
  if (content_type.rfind("text/event-stream", 0) == 0) {
    SseParser parser;
    std::vector<SseEvent> events;
    parser.Feed(*body, &events);
    parser.Finish(&events);
    for (const SseEvent& e : events) {
      json m = json::parse(e.data, nullptr, false);
      if (m.is_object() && m.contains("id") && m["id"] == id) response = std::move(m);
    }
  } else {
    response = json::parse(*body, nullptr, false);
  }
  if (!response.is_object() || !response.contains("result")) {
    return Status::Unavailable(fmt::format("tools/call {}: {}", name, *body));
  }
  return response["result"];
}

Status McpClient::OpenStream(
    std::function<void(const json& message, int64_t arrival_us)> on_message) {
  auto stream = SseFollower::Open(
      socket_, "/mcp",
      {fmt::format("Mcp-Session-Id: {}", session_id_),
       fmt::format("MCP-Protocol-Version: {}", kProtocolVersion)},
      [on_message = std::move(on_message)](const SseEvent& e, int64_t arrival_us) {
        json m = json::parse(e.data, nullptr, false);
        if (m.is_object()) on_message(m, arrival_us);
      });
  if (!stream.ok()) return stream.status();
  stream_ = std::move(*stream);
  return Status::Ok();
}

}  // namespace troupe::bench
