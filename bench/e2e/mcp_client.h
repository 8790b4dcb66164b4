// Just enough of an MCP client over the daemon's streamable HTTP endpoint (/mcp on its Unix
// socket) for the completion-notice benchmark: initialize, tools/call answered at once, and the
// session's GET stream (notifications/message when one of its tasks ends).
//
// Threading: CallTool from one thread at a time; the stream runs on its own thread.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "e2e/sse_follower.h"

namespace troupe::bench {

class McpClient {
 public:
  // Initializes a session (protocol 2025-06-18) and sends notifications/initialized.
  static Result<std::unique_ptr<McpClient>> Connect(const std::string& socket);
  ~McpClient();
  McpClient(const McpClient&) = delete;
  McpClient& operator=(const McpClient&) = delete;

  // tools/call `name`; the JSON-RPC result (an answer sent as an event stream is read to its
  // response).
  Result<nlohmann::json> CallTool(const std::string& name, const nlohmann::json& arguments);

  // Opens the session's GET stream; `on_message` gets each JSON-RPC message on it with the time
  // its bytes arrived. Returns once the stream is open.
  Status OpenStream(
      std::function<void(const nlohmann::json& message, int64_t arrival_us)> on_message);

  const std::string& session_id() const { return session_id_; }

 private:
  McpClient() = default;
  // POSTs one JSON-RPC message; the body of the answer and its content type.
  Result<std::string> Post(const nlohmann::json& message, std::string* content_type);

  std::string socket_;
  std::string session_id_;
  void* curl_ = nullptr;  // CURL*, kept for keep-alive
  int64_t next_id_ = 1;
  std::unique_ptr<SseFollower> stream_;
};

}  // namespace troupe::bench
