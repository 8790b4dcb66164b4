// `troupe mock-llm`: an HTTP/1.1 server speaking the OpenAI Chat Completions, OpenAI Responses
// and Anthropic Messages wire protocols, answering every request with a scripted model, so the
// rest of troupe (provider clients, retry policy, engine, CLI) is tested over real loopback HTTP,
// with latency, streaming rate, HTTP errors, dropped connections, malformed events and stalls on
// demand.
//
// The model is not here: a planner turns each decoded ChatRequest into a MockPlan
// (llm/mock_plan.h), and this server plays it (plan_player.h) in the request's protocol
// (reply_encoder.h). The same planner behind the in-process mock provider gives the same replies.
//
// Routes (the path's query string is ignored):
//   POST /v1/chat/completions, POST /chat/completions   OpenAI Chat Completions
//   POST /v1/responses, POST /responses                  OpenAI Responses
//   POST /v1/messages                                    Anthropic Messages
//   GET  /v1/models, GET /models     the configured model names, in a shape both SDKs read
//   GET  /health                     {"status":"ok"}
//   GET  /v1/mock/requests           the request log (request_log.h) as a JSON array, with each
//                                    request's conversation when log_conversations is set and
//                                    its body when log_bodies is
//   DELETE /v1/mock/requests         clears it
// Anything else: 404; a known path with another method: 405 with Allow. Errors have the JSON
// shape of the protocol the path belongs to (Anthropic for /v1/messages, else OpenAI).
// Request checks, in order: body size (413 over MockLlmServerOptions::max_body_bytes); when
// require_auth, credentials (401: OpenAI `Authorization: Bearer <key>`; Anthropic `x-api-key`
// or a bearer token) and Anthropic's `anthropic-version` header (400); the body (400 naming the
// offending field). Key values are never logged or echoed.
// Prompt caching: a reply's usage splits its input tokens into uncached, cache-read and
// cache-write tokens as OpenAI and Anthropic report them, from the prefixes earlier requests sent
// (prompt_cache.h); only for requests that ask for caching (`prompt_cache_key`, `cache_control`).
// The request log records the model routes, /v1/models and refused requests; /health and
// /v1/mock/* are not recorded, so polling them does not disturb what a test reads.
//
// Served by the daemon's HTTP transport (http/http_server.h: listener, connections, framing) on
// 127.0.0.1 only, without its bearer token (TcpAuth::kNone; the routes check the providers'
// credentials), with 64 KiB request heads, no idle limit and no cut-off of slow stream readers.
// Requests the transport refuses (400 not HTTP/1.1, 413, 431) are answered in the path's
// protocol shape and logged (HttpHandler::Refused). Each request is a MockExchange
// (mock_exchange.h). Many concurrent connections cost memory, not threads.
//
// Threading: runs on the caller's io_context; construct, use and destroy on its thread.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "llm/chat_types.h"
#include "llm/mock_plan.h"
#include "mock_llm/request_log.h"

namespace troupe {

// Decides what the model does for one request. Called on the loop thread, once per decoded chat
// request.
using MockPlanner = std::function<MockPlan(const ChatRequest&)>;

struct MockLlmServerOptions {
  uint16_t port = 0;                           // 0: an ephemeral port (see port())
  std::vector<std::string> models = {"mock"};  // listed by GET /v1/models
  bool require_auth = true;                    // see the request checks above
  size_t max_body_bytes = size_t{16} << 20;    // larger request bodies get 413
  size_t log_capacity = RequestLog::kDefaultCapacity;
  std::string log_path;  // JSON lines of the request log; "" = none
  // Keep each chat request's system prompt and messages in its log entry (`conversation`), to
  // check what a client showed the model. Off by default: they can be large.
  bool log_conversations = false;
  // Keep each chat request's body as sent (parsed JSON) in its log entry (`body`), to check
  // what a client sent against the providers' own request types. Off by default: large.
  bool log_bodies = false;
  // Monotonic microseconds for the request log's *_us fields (called on the loop thread);
  // null = the clock's NowMs() * 1000.
  std::function<int64_t()> now_us;
};

class MockLlmServerState;
class HttpServer;

class MockLlmServer {
 public:
  // Listens on 127.0.0.1:options.port and serves on `io`. `io` and `clock` (which paces the
  // replies; a LoopClock on `io` in production) must outlive the server. Fails when the port
  // cannot be bound or the log file cannot be opened.
  static Result<std::unique_ptr<MockLlmServer>> Start(boost::asio::io_context& io, Clock* clock,
                                                      MockPlanner planner,
                                                      MockLlmServerOptions options = {});
  // Closes the listener and every connection; requests in progress end as "server_stopped".
  ~MockLlmServer();
  MockLlmServer(const MockLlmServer&) = delete;
  MockLlmServer& operator=(const MockLlmServer&) = delete;

  uint16_t port() const { return port_; }
  // "http://127.0.0.1:<port>" + path.
  std::string Url(std::string_view path = "") const;

  RequestLog& log();
  // Open connections, and those of them with a response in progress.
  size_t open_connections() const;
  size_t busy_connections() const;

 private:
  explicit MockLlmServer(std::shared_ptr<MockLlmServerState> state);

  std::shared_ptr<MockLlmServerState> state_;  // the handler: outlives http_
  std::unique_ptr<HttpServer> http_;
  uint16_t port_ = 0;
};

}  // namespace troupe
