// The HTTP exchanges of `troupe mcp` with the daemon's /mcp, all concurrent on libcurl's multi
// interface (an MCP request may wait for minutes: background_wait, a blocking
// background_output), over the daemon's Unix socket or loopback TCP with the bearer token.
//
// Every exchange has a connection of its own, never reused: a request never goes out on a
// connection the daemon has closed (idle keep-alive, a restart) — which could fail after the
// daemon read it — so "unreachable" (refused, no socket) always means "not delivered", and the
// bridge may send the message again. Connecting to a local socket costs microseconds.
//
// Poll waits for the transfers' sockets, Wakeup (from any thread) or a timeout; Perform moves the
// transfers on and reports each one's head, body bytes and end to the McpBridge — after libcurl
// has returned, so the bridge may start and abort exchanges from inside those reports.
//
// Threading: one thread (the bridge's event loop), except Wakeup.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/mcp_bridge.h"

namespace troupe {

// Where the daemon is, as DaemonClient::Connect found it.
struct McpDaemonAddress {
  std::string socket;    // the Unix socket ("" over TCP)
  std::string base_url;  // "http://localhost" over the socket, else the --url
  std::string token;     // bearer token over TCP, else ""
};

class McpTransport {
 public:
  McpTransport();
  // Aborts whatever is still running.
  ~McpTransport();
  McpTransport(const McpTransport&) = delete;
  McpTransport& operator=(const McpTransport&) = delete;

  // False when libcurl could not be set up.
  bool ok() const { return multi_ != nullptr; }

  // The daemon's address for exchanges started from now on; `reason_unknown` is what Start
  // reports for an exchange while no address is known (the last failure to find the daemon).
  void SetAddress(McpDaemonAddress address);
  void ForgetAddress(std::string reason_unknown);

  // Starts `call`. Without an address, it ends unreachable at the next Perform.
  void Start(const McpHttpCall& call);
  // Stops an exchange; nothing more is reported for it.
  void Abort(uint64_t id);

  // Waits up to `timeout_ms` for activity or a Wakeup.
  void Poll(int timeout_ms);
  // Runs the transfers and reports what happened to `bridge`.
  void Perform(McpBridge* bridge);
  // Makes Poll return; safe from any thread.
  void Wakeup();

  size_t active() const { return transfers_.size(); }

 private:
  struct Transfer;

  void Finish(uint64_t id, int curl_code, McpBridge* bridge);
  // Reports the head and body bytes that arrived since the last report.
  void Report(Transfer& transfer, McpBridge* bridge);

  void* multi_ = nullptr;  // CURLM*
  McpDaemonAddress address_;
  bool has_address_ = false;
  std::string reason_unknown_ = "the daemon has not been found yet";
  std::map<uint64_t, std::unique_ptr<Transfer>> transfers_;
  std::vector<uint64_t> unreachable_;  // started without an address
};

}  // namespace troupe
