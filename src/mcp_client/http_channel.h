// An MCP server over streamable HTTP (MCP 2025-03-26 and later): each message is a POST to the
// endpoint; a request's answer comes back as one JSON body or as a server-sent-event stream
// (progress and server requests first, the response last). The session id the server gives at
// initialize (`Mcp-Session-Id`) and the negotiated `MCP-Protocol-Version` go on every later
// POST; Close ends the session with a DELETE. A 2026-07-28 message (its params._meta carries
// the protocol version) goes without a session, with the revision's MCP-Protocol-Version,
// Mcp-Method and Mcp-Name headers. A 404 on a session means it expired: the channel
// closes, and the owner starts a new one.
//
// A request whose POST fails (connection refused, an HTTP error, a body that is neither) is
// answered through on_message with a JSON-RPC error for its id, saying what happened.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/http_client.h"
#include "mcp_client/mcp_channel.h"

namespace troupe {

struct HttpServerSpec {
  std::string url;
  std::vector<HttpHeader> headers;  // already expanded
  int64_t max_response_bytes = 16 * 1024 * 1024;
};

class HttpChannel : public McpChannel {
 public:
  HttpChannel(HttpClient* http, HttpServerSpec spec);
  ~HttpChannel() override;

  Status Open(McpChannelCallbacks callbacks) override;
  void Send(const nlohmann::json& message) override;
  void SendWithHeaders(const nlohmann::json& message,
                       const std::vector<std::pair<std::string, std::string>>& headers) override;
  bool HasHeaders() const override { return true; }
  void Abandon(const nlohmann::json& id) override;
  void Close() override;
  void SetProtocolVersion(const std::string& version) override { protocol_version_ = version; }
  bool CancelsByClosing() const override { return true; }
  std::string Describe() const override;

 private:
  struct Post;
  void Finish(uint64_t post_id);
  // `data` says what kind of failure it was: {"transport": true} when the POST got no answer,
  // {"httpStatus": N, "rpcError": {...}} for an HTTP error (rpcError when its body was one).
  void AnswerWithError(const nlohmann::json& id, const std::string& why,
                       nlohmann::json data = nullptr);

  HttpClient* http_;
  HttpServerSpec spec_;
  McpChannelCallbacks callbacks_;
  std::string session_id_;
  std::string protocol_version_;
  uint64_t next_post_ = 1;
  std::map<uint64_t, std::unique_ptr<Post>> posts_;
  bool closed_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace troupe
