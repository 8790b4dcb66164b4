// Outbound HTTP for the whole daemon: libcurl's multi interface driven by the event loop (see
// core/curl_multi_loop.h). One client serves any number of concurrent calls without a thread
// each; a streaming call costs a curl easy handle, a socket and a few buffers.
//
// What libcurl provides and this client keeps switched on:
//  - TLS with peer and host verification (HttpClientOptions::verify_tls), system CA store.
//  - Keep-alive: finished connections wait in the multi handle's cache and are reused.
//  - HTTP/2 over TLS when the server offers it (ALPN), multiplexing calls to one host on one
//    connection.
//  - Proxies from the environment, unless HttpClientOptions::proxy is set: `http_proxy` (lower
//    case only, as libcurl ignores HTTP_PROXY), `https_proxy`/`HTTPS_PROXY`, `all_proxy`/
//    `ALL_PROXY` and `no_proxy`/`NO_PROXY`, read at each call.
// Only http:// and https:// URLs are accepted; redirects are not followed unless the request
// asks (HttpRequest::max_redirects).
//
// Threading: not thread-safe. Construct, call and destroy on the thread running `io`; every
// callback runs there, never from inside Start or Cancel, and never while libcurl is on the
// stack, so a callback may Start or Cancel any call or destroy the HttpClient.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/http_message.h"
#include "core/status.h"

namespace troupe {

// Why a call failed; lets callers decide whether to retry without parsing messages.
enum class HttpErrorKind {
  kNone,
  kConnect,      // no connection: DNS, refused, unreachable, TLS handshake or verification,
                 // proxy, or connect_timeout_ms. The request was not sent.
  kTimeout,      // total_timeout_ms passed
  kIdleTimeout,  // idle_timeout_ms passed without a byte from the server
  kReset,        // the connection broke before the response ended (closed, reset, truncated)
  kProtocol,     // the server's response was not valid HTTP, or too many redirects
  kCancelled,    // not reported by HttpClient (a cancelled call gets no callback); for callers
  kOther,        // a bad URL or method, out of memory, or anything else
};

// "connect", "timeout", "idle timeout", ...
const char* HttpErrorKindName(HttpErrorKind kind);

struct HttpCallbacks {
  // Once, when the final head has arrived (after any 1xx and followed redirects), before any
  // on_data. Not called when the call fails first.
  std::function<void(const HttpResponseHead&)> on_head;
  // Body bytes as they arrive, in order; a chunk is whatever one read brought in.
  std::function<void(std::string_view chunk)> on_data;
  // Exactly once unless cancelled, last. OK when the body ended cleanly, whatever the HTTP status
  // (a 500 with a complete body is OK here). Otherwise the status says what failed and names the
  // method and URL (without query string or credentials); `kind` classifies it.
  std::function<void(Status status, HttpErrorKind kind)> on_done;
};

// A call in flight. Destroying it cancels the call.
class HttpCall {
 public:
  virtual ~HttpCall() = default;
  // Aborts the call now: its easy handle leaves the multi handle (its connection is closed unless
  // it can be reused safely) and no callback of this call runs afterwards. Safe at any moment,
  // from inside any callback (this call's or another's), after on_done, and after the HttpClient
  // is gone. Idempotent.
  virtual void Cancel() = 0;
};

struct HttpClientOptions {
  int max_total_connections = 0;     // open connections over all hosts; 0 = unlimited. Calls
                                     // beyond it wait inside libcurl (their connect timeout runs)
  int max_connections_per_host = 0;  // 0 = unlimited
  int max_idle_connections = 64;     // size of the keep-alive connection cache
  std::string user_agent = "troupe/0.1";
  bool verify_tls = true;            // verify the server certificate and host name
  std::string ca_bundle_path;        // PEM file of trusted CAs; empty = the system's store
  std::optional<std::string> proxy;  // unset: from the environment; "" disables proxies
};

class HttpClient {
 public:
  // `io` must outlive the client.
  explicit HttpClient(boost::asio::io_context& io, HttpClientOptions options = {});
  // Aborts every call in flight without running any callback.
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Starts sending `request`. Never runs a callback before returning: a request that cannot be
  // started (bad URL, unsupported scheme) reports through on_done from the loop. Missing callbacks
  // are fine.
  std::unique_ptr<HttpCall> Start(HttpRequest request, HttpCallbacks callbacks);

  // Calls started and neither done (on_done has begun) nor cancelled.
  size_t active_calls() const;

 private:
  class Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace troupe
