// Pure checks the HTTP transport makes on what a client sends and on what a handler asks it to
// send: the bearer token of a TCP request, whether a Host or Origin names this machine's
// loopback, and the headers a handler may add to a response.
// No I/O; each unit-tested alone (request_checks_test.cc).
#pragma once

#include <string_view>

namespace troupe {

// Equal-length strings compared without an early exit, so the time taken does not tell how much
// of a guessed token was right. Different lengths are simply unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

// Whether an Authorization header value is `Bearer <token>` (scheme case-insensitive, blanks
// around the credential ignored) with exactly `token`, compared in constant time. An empty
// `token` matches nothing.
bool HasBearerToken(std::string_view authorization, std::string_view token);

// Whether a Host header value names this machine's loopback — 127.0.0.1, localhost or [::1]
// (case-insensitive, blanks around ignored) — with exactly `port`, or with any port or none when
// `port` is 0. A port is 1–5 digits; anything else after the name is not a Host.
bool IsLoopbackHost(std::string_view host, int port = 0);

// Whether an Origin header value is `<scheme>://<IsLoopbackHost>` with nothing after it: the
// scheme `http` (case-insensitive), or `http` or `https` when `port` is 0. The one check behind
// the MCP endpoint's Origin rule (any local page, port 0) and the TCP listener's gate (its own
// origin only, dashboard/browser_guard.h).
bool IsLoopbackOrigin(std::string_view origin, int port = 0);

// A header a handler may set on a response: a token name, a value without control characters
// (tabs aside: no line breaks, no NUL), and not one of the framing headers the transport writes
// itself (Content-Length, Transfer-Encoding, Connection).
bool IsAllowedResponseHeader(std::string_view name, std::string_view value);

}  // namespace troupe
