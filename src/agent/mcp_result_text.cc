#include "agent/mcp_result_text.h"

#include "agent/tool_output.h"

namespace troupe {

namespace {

using json = nlohmann::json;

std::string Str(const json& object, const char* key) {
  if (object.is_object() && object.contains(key) && object[key].is_string()) {
    return object[key].get<std::string>();
  }
  return "";
}

// Bytes of base64 data, roughly (for the note; never decoded).
std::string DataSize(const json& item) {
  const std::string data = Str(item, "data");
  return FormatBytes(data.size() / 4 * 3);
}

std::string ItemText(const json& item) {
  const std::string type = Str(item, "type");
  if (type == "text") return Str(item, "text");
  if (type == "image" || type == "audio") {
    const std::string mime = Str(item, "mimeType");
    return "[" + type + ": " + (mime.empty() ? "unknown type" : mime) + ", " + DataSize(item) +
           " — not shown: this tool result is text only]";
  }
  if (type == "resource_link") {
    std::string note = "[resource link: " + Str(item, "uri");
    if (const std::string name = Str(item, "name"); !name.empty()) note += " (" + name + ")";
    if (const std::string d = Str(item, "description"); !d.empty()) note += ": " + d;
    return note + "]";
  }
  if (type == "resource" && item.contains("resource") && item["resource"].is_object()) {
    const json& r = item["resource"];
    std::string note = "[resource: " + Str(r, "uri");
    if (const std::string mime = Str(r, "mimeType"); !mime.empty()) note += " (" + mime + ")";
    note += "]";
    if (r.contains("text") && r["text"].is_string()) return note + "\n" + Str(r, "text");
    if (r.contains("blob")) return note + " binary, " + FormatBytes(Str(r, "blob").size() / 4 * 3);
    return note;
  }
  return "[content of type \"" + type + "\" — not shown]";
}

}  // namespace

ToolResult McpResultToToolResult(const json& result, size_t max_bytes) {
  if (!result.is_object()) {
    return ToolResult::Error("the MCP server's answer is not a CallToolResult object");
  }
  std::string text;
  bool has_text = false;
  if (result.contains("content") && result["content"].is_array()) {
    for (const json& item : result["content"]) {
      if (!text.empty()) text += "\n";
      text += ItemText(item);
      has_text = has_text || Str(item, "type") == "text";
    }
  }
  if (result.contains("structuredContent") && !result["structuredContent"].is_null() &&
      !has_text) {
    if (!text.empty()) text += "\n";
    text += result["structuredContent"].dump(2, ' ', false, json::error_handler_t::replace);
  }
  if (text.empty()) text = "(the tool returned no content)";
  const bool is_error = result.value("isError", false);
  text = CapToolText(text, max_bytes, "the tool's answer");
  return is_error ? ToolResult::Error(std::move(text)) : ToolResult::Ok(std::move(text));
}

}  // namespace troupe
