// How an MCP client's messages reach a server and back: over a child process's stdin and
// stdout (stdio_channel.h) or over streamable HTTP POSTs (http_channel.h). The connection
// (mcp_connection.h) speaks the protocol over either, so it is tested over a fake channel.
//
// Threading: loop thread only. Callbacks run on the loop, never from inside Open, Send or Close.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace troupe {

struct McpChannelCallbacks {
  // One JSON-RPC message from the server (a response, a request or a notification).
  std::function<void(nlohmann::json message)> on_message;
  // Once, when the channel can no longer carry messages: the process exited, wrote garbage or
  // too much, the HTTP session ended. The status says what happened, for the server's users.
  std::function<void(Status why)> on_closed;
};

class McpChannel {
 public:
  virtual ~McpChannel() = default;
  // Starts the channel (spawns the process); an error when it cannot start at all.
  virtual Status Open(McpChannelCallbacks callbacks) = 0;
  // Sends one message. A request whose transport fails is answered through on_message with a
  // JSON-RPC error for its id (HTTP), or the channel closes (stdio).
  virtual void Send(const nlohmann::json& message) = 0;
  // Sends one message with `headers` added where the transport has headers (HTTP: a tools/call's
  // Mcp-Param-* headers); other transports send the message alone.
  virtual void SendWithHeaders(const nlohmann::json& message,
                               const std::vector<std::pair<std::string, std::string>>& headers) {
    (void)headers;
    Send(message);
  }
  // Whether SendWithHeaders' headers reach the server (the client must then mirror tool
  // parameters, and leave out tools whose annotations are invalid).
  virtual bool HasHeaders() const { return false; }
  // Forgets the request `id`: its answer, if any, is dropped (HTTP: its POST is aborted).
  virtual void Abandon(const nlohmann::json& id) = 0;
  // Ends the channel: kills the process group / ends the HTTP session. No callback afterwards.
  virtual void Close() = 0;
  // After initialize: the negotiated protocol version (HTTP sends it as a header).
  virtual void SetProtocolVersion(const std::string& version) { (void)version; }
  // Whether giving up a 2026-07-28 request is the aborted answer itself (HTTP) rather than
  // notifications/cancelled (stdio).
  virtual bool CancelsByClosing() const { return false; }
  // What it is, for listings: "stdio pid 1234", "http http://127.0.0.1:3001/mcp".
  virtual std::string Describe() const = 0;
};

}  // namespace troupe
