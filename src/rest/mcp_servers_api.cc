#include "rest/mcp_servers_api.h"

#include "agent/tools/mcp_tool.h"
#include "http/api_error.h"

namespace troupe {

nlohmann::json McpServersJson(const std::vector<McpServerStatus>& servers) {
  nlohmann::json list = nlohmann::json::array();
  for (const McpServerStatus& s : servers) {
    nlohmann::json tools = nlohmann::json::array();
    for (const McpToolInfo& t : s.tools) {
      tools.push_back({{"name", McpToolName(s.name, t.name)},
                       {"tool", t.name},
                       {"description", t.description},
                       {"input_schema", t.input_schema}});
    }
    list.push_back({{"name", s.name},
                    {"transport", s.transport},
                    {"target", s.target},
                    {"state", McpServerStateName(s.state)},
                    {"error", s.last_error},
                    {"restarts", s.restarts},
                    {"research", s.research},
                    {"shared", s.shared},
                    {"processes", s.processes},
                    {"protocol_version", s.protocol_version},
                    {"server", s.server_info},
                    {"tools", tools},
                    {"rejected_tools", s.rejected_tools}});
  }
  return {{"servers", list}};
}

void McpServersApi::Handle(std::shared_ptr<HttpExchange> exchange) {
  const ApiRequest& request = exchange->request();
  if (request.path != "/v1/mcp-servers") {
    exchange->Respond(ApiErrorResponse(
        ApiError::Of(404, "not_found", "no route " + request.path)));
    return;
  }
  if (request.method != "GET") {
    ApiResponse r = ApiErrorResponse(ApiError::Of(
        405, "method_not_allowed", request.method + " /v1/mcp-servers: only GET is allowed"));
    r.headers.push_back({"Allow", "GET"});
    exchange->Respond(std::move(r));
    return;
  }
  ApiResponse response;
  response.body = McpServersJson(servers_->List()).dump() + "\n";
  exchange->Respond(std::move(response));
}

}  // namespace troupe
