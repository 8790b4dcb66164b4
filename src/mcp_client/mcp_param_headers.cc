#include "mcp_client/mcp_param_headers.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "config/config_formats.h"
#include "mcp_client/mcp_revision.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr const char* kAnnotation = "x-mcp-header";
constexpr int64_t kMaxSafeInteger = (int64_t{1} << 53) - 1;

std::string PathText(const std::vector<std::string>& path) {
  std::string out;
  for (const std::string& p : path) out += (out.empty() ? "" : ".") + p;
  return out;
}

// Every annotation in `schema`, wherever it is: a key "x-mcp-header" of a schema object. The
// keys of a `properties` object are property names (a property may be named "x-mcp-header"),
// so only their values are searched.
int CountAnnotations(const json& schema, bool names) {
  int count = 0;
  if (schema.is_object()) {
    for (const auto& [key, value] : schema.items()) {
      if (!names && key == kAnnotation) ++count;
      count += CountAnnotations(value, !names && key == "properties" && value.is_object());
    }
  } else if (schema.is_array()) {
    for (const json& v : schema) count += CountAnnotations(v, false);
  }
  return count;
}

// The annotations reached through `properties` alone, checked.
Status Collect(const json& schema, std::vector<std::string>* path,
               std::vector<McpParamHeader>* out) {
  if (!schema.is_object() || !schema.contains("properties") || !schema["properties"].is_object()) {
    return Status::Ok();
  }
  for (const auto& [name, property] : schema["properties"].items()) {
    path->push_back(name);
    if (property.is_object() && property.contains(kAnnotation)) {
      const json& value = property[kAnnotation];
      const std::string where = "x-mcp-header of property " + PathText(*path);
      if (!value.is_string() || value.get<std::string>().empty() ||
          !IsHeaderName(value.get<std::string>())) {
        return Status::InvalidArgument(where + " must be a non-empty HTTP token, got " +
                                       value.dump());
      }
      const json type = property.contains("type") ? property["type"] : json();
      if (!type.is_string() || (type != "string" && type != "integer" && type != "boolean")) {
        return Status::InvalidArgument(
            where + " is on a property whose type is " +
            (type.is_null() ? std::string("not given") : type.dump()) +
            "; only \"string\", \"integer\" and \"boolean\" may be mirrored");
      }
      out->push_back({*path, value.get<std::string>()});
    }
    Status nested = Collect(property, path, out);
    if (!nested.ok()) return nested;
    path->pop_back();
  }
  return Status::Ok();
}

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

}  // namespace

Result<std::vector<McpParamHeader>> McpParamHeadersOf(const json& input_schema) {
  std::vector<McpParamHeader> out;
  std::vector<std::string> path;
  Status collected = Collect(input_schema, &path, &out);
  if (!collected.ok()) return collected;
  if (CountAnnotations(input_schema, false) != static_cast<int>(out.size())) {
    return Status::InvalidArgument(
        "an x-mcp-header annotation is not on a property reached through \"properties\" alone "
        "(items, oneOf/anyOf/allOf/not, if/then/else and $ref are not allowed on the way)");
  }
  std::set<std::string> seen;
  for (const McpParamHeader& p : out) {
    if (!seen.insert(Lower(p.name)).second) {
      return Status::InvalidArgument("x-mcp-header \"" + p.name +
                                     "\" is used twice (names are compared ignoring case)");
    }
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> McpParamHeaderValues(
    const std::vector<McpParamHeader>& params, const json& arguments) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const McpParamHeader& p : params) {
    const json* at = &arguments;
    for (const std::string& key : p.path) {
      if (!at->is_object() || !at->contains(key)) {
        at = nullptr;
        break;
      }
      at = &(*at)[key];
    }
    if (at == nullptr) continue;
    std::string text;
    if (at->is_string()) {
      text = at->get<std::string>();
    } else if (at->is_boolean()) {
      text = at->get<bool>() ? "true" : "false";
    } else if (at->is_number_integer() &&
               !(at->is_number_unsigned() && at->get<uint64_t>() > uint64_t(kMaxSafeInteger))) {
      const int64_t n = at->get<int64_t>();
      if (n < -kMaxSafeInteger || n > kMaxSafeInteger) continue;
      text = std::to_string(n);
    } else {
      continue;  // null, or not of its kind: the server's validation answers that
    }
    out.push_back({"Mcp-Param-" + p.name, EncodeMcpHeaderValue(text)});
  }
  return out;
}

}  // namespace troupe
