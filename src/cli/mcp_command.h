// `troupe mcp`: the stdio MCP server that forwards to the daemon (cli/mcp_bridge.h has the
// protocol; docs/CLI.md the behaviour).
//
// The process: one event loop thread runs the McpBridge over an McpTransport (libcurl multi); a
// reader thread frames stdin into lines (cli/mcp_line_framer.h) and hands them to the loop; the
// stop signals (SIGTERM, SIGINT, SIGHUP) are blocked in every thread and taken by a watcher
// thread with sigtimedwait, which wakes the loop — and exits the process itself if the loop has
// not finished 3 s later. SIGPIPE is ignored. stdout carries only the bridge's message lines;
// logs go to stderr.
#pragma once

#include "cli/command_env.h"

namespace troupe {

// Runs until stdin ends (0), a stop signal (0) or stdout closes (0); 1 when it cannot start.
int RunMcpCommand(CommandEnv& env);

}  // namespace troupe
