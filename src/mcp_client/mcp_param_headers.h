// Tool parameters mirrored into HTTP headers (MCP 2026-07-28, "Custom Headers from Tool
// Parameters", SEP-2243): a property of a tool's inputSchema may carry `"x-mcp-header": "Name"`;
// a client on streamable HTTP then sends that argument's value as `Mcp-Param-Name` with each
// tools/call, and must leave out (not offer) a tool whose annotations break the rules:
// - the value is a non-empty HTTP token (RFC 9110 tchar), unique ignoring case in the schema;
// - the property's `type` is "string", "integer" or "boolean" (not "number");
// - the property is reached from the root through `properties` keys alone (not through items,
//   oneOf/anyOf/allOf/not, if/then/else, $ref or anything else).
// Values: a string as is, an integer in decimal, a boolean as true/false, each in the
// `=?base64?…?=` form when not plain header-safe ASCII; a value that is absent or null sends no
// header. Pure functions, no I/O.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace troupe {

struct McpParamHeader {
  std::vector<std::string> path;  // the chain of property names from the arguments' root
  std::string name;               // the annotation: the header is "Mcp-Param-" + name
};

// The annotated parameters of `input_schema`; InvalidArgument saying what is wrong (which
// property, which rule) when an annotation breaks a rule (the tool must then be left out).
Result<std::vector<McpParamHeader>> McpParamHeadersOf(const nlohmann::json& input_schema);

// The headers a tools/call with `arguments` carries: ("Mcp-Param-<name>", encoded value) for
// each annotated parameter with a value of its kind (string, integer, boolean).
std::vector<std::pair<std::string, std::string>> McpParamHeaderValues(
    const std::vector<McpParamHeader>& params, const nlohmann::json& arguments);

}  // namespace troupe
