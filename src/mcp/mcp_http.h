// MCP's Streamable HTTP transport (specification 2025-06-18 / 2025-11-25) at one endpoint of the
// daemon (mounted at /mcp): each client is an McpSession (mcp/mcp_server.h) keyed by the
// Mcp-Session-Id this handler assigns in the initialize response.
//
// - POST carries one JSON-RPC message. A notification or a response is answered 202 with no
//   body. A request is answered `application/json` when its reply is ready at once (even if the
//   client also accepts SSE); otherwise (a tools/call or tasks/result that waits) a
//   `text/event-stream` is opened on that POST and carries the request's progress
//   notifications, then its response, then ends.
// - GET (Accept: text/event-stream) opens the session's stream for messages tied to no request
//   (notifications/message, notifications/tasks/status when one of its tasks ends). One per
//   session: a new GET replaces the previous stream. Messages sent while no GET stream is open
//   are dropped (no resumability: no event ids); tasks/get and tasks/list still tell the state.
// - DELETE ends the session (204); its calls in flight are cancelled and its streams closed.
//
// Errors: a body that is not valid JSON-RPC is 400 with a JSON-RPC error body (id null); a
// missing Mcp-Session-Id on anything but initialize is 400; an unknown or ended session is 404
// (the client then initializes again); an unsupported MCP-Protocol-Version header is 400 (absent
// is allowed, the specification then assumes 2025-03-26); an Origin header that is not a
// loopback origin is 403 (DNS-rebinding protection); a body over jsonrpc::kMaxMessageBytes is
// 413; a request id already awaiting its response in the session is 409.
//
// A client that disconnects from a POST's event stream before the response cancels that call:
// without resumability the response could never reach it. (The specification lets a server
// treat a lost stream as no cancellation; keeping the call would only waste a worker.)
//
// Revision 2026-07-28 (mcp/mcp_modern.h): a POST without Mcp-Session-Id whose
// MCP-Protocol-Version is 2026-07-28 or whose request carries the _meta envelope is served on
// its own, by an McpSession made for it and ended with its response: MCP-Protocol-Version,
// Mcp-Method and Mcp-Name must match the body (else 400, -32020); a version troupe does not
// speak is 400 with -32022; the response is JSON when ready at once, else an event stream on
// that POST (progress, then the response); closing it cancels the request. subscriptions/listen
// is such a stream that stays open. GET and DELETE with MCP-Protocol-Version 2026-07-28 are 405.
// A 2026 request sent with the Mcp-Session-Id of a 2025 session is -32022 (400), naming the
// session's version.
//
// Resuming: an initialize may carry `Troupe-Resume-Session: <id>`, the id of a session this
// handler no longer has (the daemon restarted, or it expired). The new session then gets that
// id again when it has the shape of the ids made here and no live session has it, so the tasks
// launched through the old one (owner "mcp:<id>") stay the client's: listed, cancellable,
// reachable through tasks/*, and their notices piggy-backed. `troupe mcp` sends it when it
// re-initializes after a 404. Any client of the daemon could ask for any dead id; they are all
// the same user (the socket is 0600, TCP needs the token), so this gives nobody new access.
//
// Sessions: at most max_sessions; when full, initialize evicts the least recently used session
// that has nothing in flight and no stream open, else answers 503. A session unused for
// idle_expiry_ms (no request, no call in flight, no stream open) ends.
//
// Threading: loop thread only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "http/http_exchange.h"
#include "mcp/mcp_server.h"
#include "mcp/mcp_tool_host.h"

namespace troupe {

struct McpHttpOptions {
  size_t max_sessions = 1000;
  int64_t idle_expiry_ms = 60 * 60 * 1000;
  // Template for every session (server name, version, instructions, page size, log level);
  // session_id is set per session.
  McpSessionOptions session;
};

// True for a session id as McpHttpHandler makes them: 32 lowercase hex digits.
bool IsSessionIdShape(std::string_view id);

class McpHttpHandler : public HttpHandler {
 public:
  // `clock` and `host` must outlive the handler.
  McpHttpHandler(Clock* clock, McpToolHost* host, McpHttpOptions options = {});
  // Shutdown()s.
  ~McpHttpHandler() override;
  McpHttpHandler(const McpHttpHandler&) = delete;
  McpHttpHandler& operator=(const McpHttpHandler&) = delete;

  void Handle(std::shared_ptr<HttpExchange> exchange) override;
  // jsonrpc::kMaxMessageBytes, above the server's default; a larger body is answered 413 with a
  // JSON-RPC error (-32600), as every other refusal here.
  size_t BodyLimit(std::string_view path) const override;
  std::optional<ApiResponse> BodyTooLarge(std::string_view path, size_t limit) const override;
  // Ends every session: calls cancelled, streams closed. Later requests are answered 503.
  void Shutdown() override;

  // Sends notifications/message to every session, on its GET stream: dropped by a session whose
  // client set a higher level, and for one with no GET stream open.
  void Log(McpLogLevel level, const std::string& logger, const nlohmann::json& data);

  size_t sessions() const { return sessions_.size(); }

 private:
  struct Session;

  void HandlePost(const std::shared_ptr<HttpExchange>& exchange);
  void HandleGet(const std::shared_ptr<HttpExchange>& exchange);
  void HandleDelete(const std::shared_ptr<HttpExchange>& exchange);
  void Initialize(const std::shared_ptr<HttpExchange>& exchange, const nlohmann::json& id);
  // A POST of revision 2026-07-28 (no session): the headers checked, the request served by an
  // ephemeral McpSession that ends with its response.
  void HandleModernPost(const std::shared_ptr<HttpExchange>& exchange,
                        const jsonrpc::Request* request);
  // End(id) from the loop, later (never from inside the session's `send`).
  void EndLater(const std::string& id);
  // The session named by the request's Mcp-Session-Id; answers 400/404 and returns null when
  // there is none.
  Session* FindSession(HttpExchange& exchange);
  // Feeds a request to the session and answers the POST with the reply or an event stream.
  void Forward(Session* session, const std::shared_ptr<HttpExchange>& exchange,
               const nlohmann::json& id, const nlohmann::json& params);
  // Opens the event stream on the POST awaiting request `key`, if not yet open.
  void OpenStream(Session* session, const std::string& key);
  // Where `session`'s McpSession output goes.
  void Route(Session* session, nlohmann::json message);
  // `exchange`, the POST awaiting request `key`, went away before its response: cancel the
  // call (from a timer, since this may run inside the session's `send`).
  void Abandon(const std::string& session_id, const std::string& key, const HttpExchange* exchange);
  void Touch(Session* session);
  void OnIdle(const std::string& id);
  bool MakeRoom();
  void End(const std::string& id);
  std::string NewSessionId();
  // `asked` (Troupe-Resume-Session) when it has the shape of an id this handler makes and no
  // live session has it; otherwise a new id.
  std::string ResumableSessionId(const std::string& asked);

  Clock* clock_;
  McpToolHost* host_;
  McpHttpOptions options_;
  bool shut_down_ = false;
  uint64_t id_fallback_ = 0;
  std::map<std::string, std::unique_ptr<Session>> sessions_;
  // Deferred callbacks hold a weak_ptr to this: once the handler is gone they do nothing.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace troupe
