// `troupe mcp`: an MCP server on stdio that forwards every message to the daemon's Streamable HTTP
// endpoint (/mcp, mcp/mcp_http.h), so AI tools that spawn MCP servers share the one daemon.
//
// McpBridge is the protocol logic without I/O: it is told of stdin lines and of the HTTP
// exchanges' progress, and acts through McpBridgeIo (start or abort an exchange, write a line,
// log, reconnect, arm its timer, finish). cli/mcp_command.h runs it on libcurl and threads; tests
// drive it with a fake McpBridgeIo.
//
// Behaviour (docs/CLI.md, `troupe mcp`):
// - Each stdin message is one POST /mcp. The client's initialize goes without a session; its
//   answer's Mcp-Session-Id header and protocolVersion are then sent with every later exchange.
//   Messages read while an initialize is in flight wait in a queue and are sent once it is
//   answered.
// - Before a session exists (no initialize yet, or it was refused) the daemon could only refuse
//   a message in HTTP terms (no Mcp-Session-Id), so the bridge answers as an MCP server does
//   before initialize (mcp/mcp_server.h, McpPreInitializeError), without the daemon: ping gets
//   {}, server/discover (the 2026-07-28 revision's probe) -32601 so the client falls back to
//   initialize, any other request -32600 "server not initialized"; notifications and responses
//   are dropped with a line on stderr. Lines that are not JSON-RPC still go to the daemon, which
//   says what is wrong with them.
// - Answers are routed by McpAnswerDecoder (cli/mcp_answer.h): every request gets exactly one
//   response on stdout, unless the client cancelled it.
// - Once notifications/initialized has been forwarded, a GET /mcp stream stays open for messages
//   tied to no request; it is reopened after it drops, 200 ms after the first failure, doubling up
//   to 5 s, back to 200 ms once a stream is accepted again.
// - A 404 for our session id means the daemon forgot the session (it restarted, or the session
//   expired): the bridge initializes a new one with the client's saved initialize params under a
//   request id of its own (the answer is not written), sends notifications/initialized if the
//   client had, re-applies the last logging/setLevel, reopens the stream, then retries the
//   message (once per message). Messages read meanwhile wait in the queue. A 404 on the GET
//   stream re-initializes too — but not twice in a row without a stream accepted in between (a
//   daemon refusing every stream must not make the bridge loop): then the next message does.
//   If the new initialize fails, the waiting requests are answered with its error and the next
//   message tries again.
// - A broken connection after the daemon accepted it is not retried (the daemon may have acted
//   on the message): the request is answered with a -32603 error.
// - An unreachable daemon (nothing answered: refused, no socket): McpBridgeIo::Reconnect (which
//   may start one) at most once per message, then the message is sent again; if the daemon is
//   still unreachable, a request is answered with a -32603 error naming the daemon and the reason.
//   The bridge never stops because of the daemon; the next message tries again.
// - notifications/cancelled for a request in flight aborts its exchange (its response is never
//   written) and is forwarded.
// - Stdin ended: once every forwarded message has been answered, DELETE /mcp (bounded) and finish
//   with 0. Stop() (a signal, stdout gone): abort everything, DELETE, finish with 0.
//
// Threading: one thread (the event loop's); McpBridgeIo calls are made on it and must not call
// back into the bridge synchronously.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "cli/mcp_answer.h"
#include "core/status.h"

namespace troupe {

// One HTTP exchange with the daemon's /mcp.
struct McpHttpCall {
  enum class Method { kPost, kGet, kDelete };
  uint64_t id = 0;  // the bridge's, unique: names the exchange in On* calls and AbortCall
  Method method = Method::kPost;
  std::string body;              // kPost: one JSON-RPC message
  std::string session_id;        // Mcp-Session-Id; "" = none
  std::string protocol_version;  // MCP-Protocol-Version; "" = none
  // An initialize that asks the daemon to give the new session this id again (the session the
  // daemon forgot): Troupe-Resume-Session. "" = none.
  std::string resume_session;
  // MCP 2026-07-28 requests: the Mcp-Method and Mcp-Name headers ("" = none).
  std::string mcp_method;
  std::string mcp_name;
  int64_t timeout_ms = 0;  // total time allowed; 0 = none (calls may wait for minutes)
};

// How an exchange ended.
struct McpCallEnd {
  bool completed = true;     // a whole HTTP answer arrived (whatever its status)
  bool unreachable = false;  // !completed and the daemon never answered (refused, no socket)
  std::string reason;        // !completed: what happened, e.g. "connection refused"
};

class McpBridgeIo {
 public:
  virtual ~McpBridgeIo() = default;
  // Starts `call`; its head, body and end are reported through McpBridge::OnCallHead,
  // OnCallData and OnCallDone, never from inside this call.
  virtual void StartCall(const McpHttpCall& call) = 0;
  // Drops an exchange: nothing more is reported for it.
  virtual void AbortCall(uint64_t id) = 0;
  // Writes one message line (without its '\n') to stdout.
  virtual void WriteLine(const std::string& line) = 0;
  // Writes "troupe mcp: <line>" to stderr.
  virtual void Log(const std::string& line) = 0;
  // Finds the daemon again, starting one if allowed (DaemonClient::Connect). May block.
  virtual Status Reconnect() = 0;
  // "the troupe daemon at <socket or url>", for messages.
  virtual std::string Where() const = 0;
  // Arms the one timer (replacing it): McpBridge::OnTimer after `delay_ms`.
  virtual void StartTimer(int64_t delay_ms) = 0;
  virtual void CancelTimer() = 0;
  // The bridge is done; the process should exit with `exit_code`.
  virtual void Finish(int exit_code) = 0;
};

class McpBridge {
 public:
  static constexpr int64_t kStreamRetryMinMs = 200;
  static constexpr int64_t kStreamRetryMaxMs = 5'000;
  static constexpr int64_t kDeleteTimeoutMs = 1'000;

  // `io` must outlive the bridge.
  explicit McpBridge(McpBridgeIo* io) : io_(io) {}
  McpBridge(const McpBridge&) = delete;
  McpBridge& operator=(const McpBridge&) = delete;

  // One line of stdin (McpLineFramer: not blank, within the size limit).
  void OnStdinLine(std::string line);
  // A line of `bytes` bytes was above jsonrpc::kMaxMessageBytes and dropped: answered with -32600.
  void OnTooLongLine(size_t bytes);
  void OnStdinEnd();

  // The answer's head: its status (after any 1xx), Content-Type and Mcp-Session-Id.
  void OnCallHead(uint64_t id, int status, std::string_view content_type,
                  std::string_view session_id);
  void OnCallData(uint64_t id, std::string_view bytes);
  void OnCallDone(uint64_t id, const McpCallEnd& end);
  void OnTimer();

  // Ends the bridge now: every exchange aborted, DELETE of the session (bounded), then Finish(0).
  void Stop();

  const std::string& session_id() const { return session_id_; }
  const std::string& protocol_version() const { return protocol_version_; }
  bool finishing() const { return finishing_; }

 private:
  enum class Phase {
    kNoSession,       // no initialize yet (or it failed): messages go without a session
    kInitializing,    // the client's initialize is in flight: messages queue
    kReady,           // the session is known
    kReinitializing,  // our own initialize (after a 404) is in flight: messages queue
    kLost,            // re-initializing failed: the next message tries again
  };
  // One message to forward: the client's, or the bridge's own (internal: its answer is not
  // written).
  struct Outgoing {
    std::string text;
    McpForwarded message;
    bool internal = false;
    bool opens_session = false;  // an initialize sent without a session
    std::string resume_session;  // an initialize that asks for this session id again
    bool reconnect_tried = false;
    bool reinitialize_tried = false;
  };
  struct Call {
    McpHttpCall::Method method = McpHttpCall::Method::kPost;
    std::string session_sent;
    std::optional<Outgoing> out;  // kPost
    std::optional<McpAnswerDecoder> decoder;
    int status = 0;
    std::string session_header;
  };

  void Submit(Outgoing out);
  uint64_t Send(Outgoing out);
  uint64_t StartCall(McpHttpCall call, Call state);
  void PostDone(Call call, const McpCallEnd& end);
  void StreamDone(const Call& call, const McpCallEnd& end);
  // Writes (or, for our own messages, inspects) what an answer produced.
  // `out`: what was sent (null for the GET stream); `session_header`: its answer's Mcp-Session-Id.
  void Deliver(const Outgoing* out, const std::string& session_header, const McpRouted& routed);
  // The response to `out` (a request) arrived, or was synthesized.
  void OnResponse(const Outgoing& out, const std::string& session_header,
                  const nlohmann::json& response);
  void CancelRequest(const nlohmann::json& params);

  void SessionLost();
  void StartReinitialize();
  void Reinitialized();
  void ReinitializeFailed(const std::string& why);
  void FlushQueue();
  // Answers a message that cannot be forwarded: an error for a request, a log line otherwise.
  void Refuse(const Outgoing& out, const std::string& why);
  // Answers `out`, read while no session exists, as an MCP server does before initialize.
  // False for a line that is not JSON-RPC (the daemon answers it).
  bool AnswerBeforeInitialize(const Outgoing& out);

  void OpenStream();
  void CloseStream();
  void MaybeFinish();
  void SendDelete();

  Outgoing Internal(const std::string& method, nlohmann::json params, bool request);
  McpAnswerDecoder NewDecoder(const Outgoing& out) const;

  McpBridgeIo* io_;
  Phase phase_ = Phase::kNoSession;
  std::string session_id_;
  std::string protocol_version_;
  nlohmann::json init_params_;       // the client's initialize params (null before)
  nlohmann::json log_level_params_;  // its last logging/setLevel params (null: none)
  bool client_initialized_ = false;  // the client sent notifications/initialized

  uint64_t next_call_id_ = 1;
  uint64_t next_internal_id_ = 1;
  std::map<uint64_t, Call> calls_;
  std::map<std::string, uint64_t> call_of_request_;  // jsonrpc::IdKey → call id (client requests)
  std::deque<Outgoing> queue_;

  uint64_t stream_call_ = 0;  // the GET stream's call id; 0 = none open
  bool stream_unsupported_ = false;
  int stream_refusals_ = 0;  // GETs answered 404 since a stream was last accepted
  bool stream_timer_armed_ = false;
  int64_t stream_retry_ms_ = kStreamRetryMinMs;

  bool stdin_ended_ = false;
  bool finishing_ = false;  // DELETE sent (or about to be), nothing new starts
  uint64_t delete_call_ = 0;
  bool done_ = false;  // Finish was called
};

}  // namespace troupe
