// Reading the params of MCP requests: members by name, the -32602 errors that name what was
// expected and what came, and the cursors of paginated lists. Pure functions, shared by the
// parts of mcp/mcp_server.h.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "core/status.h"
#include "wire/jsonrpc.h"

namespace troupe::mcp_params {

jsonrpc::Error MakeError(int code, std::string message);
// -32602 with `message`.
jsonrpc::Error InvalidParams(std::string message);
// "<where>: expected <what>, got <type of got>".
std::string Expected(const std::string& where, const char* what, const nlohmann::json& got);

// params as an object: absent params read as {}; anything else than an object is an error.
std::optional<jsonrpc::Error> CheckParamsObject(const nlohmann::json& params);

// object[name], or null when `object` is no object or has no such member.
const nlohmann::json& Member(const nlohmann::json& object, const char* name);
bool HasMember(const nlohmann::json& object, const char* name);

// params._meta.progressToken into `*token` (left null when absent), or the error when _meta is
// no object or the token no string or integer.
std::optional<jsonrpc::Error> ReadProgressToken(const nlohmann::json& params,
                                                nlohmann::json* token);

// The params of tools/call: name (a string), arguments (an object; {} when absent) and
// _meta.progressToken (null when absent).
struct ToolCallParams {
  std::string name;
  nlohmann::json arguments = nlohmann::json::object();
  nlohmann::json progress_token;
};
std::optional<jsonrpc::Error> ReadToolCall(const nlohmann::json& params, ToolCallParams* call);

// params.taskId (a string), or the -32602 error.
std::optional<jsonrpc::Error> ReadTaskId(const nlohmann::json& params, std::string* task_id);

// A tool host's failure as a JSON-RPC error: NotFound is the client's wrong id (-32602),
// anything else the server's (-32603).
jsonrpc::Error HostError(const Status& status);

// One page of a list of `total` items: [begin, end), and the cursor of the next page ("" for
// none).
struct Page {
  size_t begin = 0;
  size_t end = 0;
  std::string next_cursor;
};

// The page params.cursor asks for, `page_size` items long (0 = all), or the -32602 error for a
// cursor that is no string or was not given out for a list this long.
std::optional<jsonrpc::Error> ReadPage(const nlohmann::json& params, size_t total, size_t page_size,
                                       Page* page);

}  // namespace troupe::mcp_params
