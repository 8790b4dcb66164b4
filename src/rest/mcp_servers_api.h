// GET /v1/mcp-servers: the MCP servers of the config, their state and tools (McpServers), for
// `troupe mcp-servers`. Mounted on the REST API at /v1/mcp-servers. Reading it starts nothing.
#pragma once

#include <nlohmann/json.hpp>

#include "http/http_exchange.h"
#include "mcp_client/mcp_servers.h"

namespace troupe {

// {"servers": [{name, transport, target, state, error, restarts, research, protocol_version,
// server, tools: [{name, tool, description, input_schema}]}]}; `name` is what agents' models
// see (<server>__<tool>), `tool` the server's own name.
nlohmann::json McpServersJson(const std::vector<McpServerStatus>& servers);

class McpServersApi : public HttpHandler {
 public:
  explicit McpServersApi(const McpServers* servers) : servers_(servers) {}
  void Handle(std::shared_ptr<HttpExchange> exchange) override;

 private:
  const McpServers* servers_;
};

}  // namespace troupe
