#include "mcp/mcp_params.h"

#include <fmt/format.h>

#include <charconv>
#include <string_view>
#include <utility>

namespace troupe::mcp_params {

using nlohmann::json;

namespace {

constexpr std::string_view kCursorPrefix = "offset:";

// The offset a cursor stands for, when it is one this server gave out for a list of `total`
// items.
std::optional<size_t> ParseCursor(std::string_view cursor, size_t total) {
  if (cursor.substr(0, kCursorPrefix.size()) != kCursorPrefix) return std::nullopt;
  cursor.remove_prefix(kCursorPrefix.size());
  size_t offset = 0;
  auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + cursor.size(), offset);
  if (ec != std::errc() || end != cursor.data() + cursor.size() || cursor.empty()) {
    return std::nullopt;
  }
  if (offset == 0 || offset >= total) return std::nullopt;
  return offset;
}

}  // namespace

jsonrpc::Error MakeError(int code, std::string message) {
  jsonrpc::Error error;
  error.code = code;
  error.message = std::move(message);
  return error;
}

jsonrpc::Error InvalidParams(std::string message) {
  return MakeError(jsonrpc::kInvalidParams, std::move(message));
}

std::string Expected(const std::string& where, const char* what, const json& got) {
  return fmt::format("{}: expected {}, got {}", where, what, jsonrpc::DescribeType(got));
}

std::optional<jsonrpc::Error> CheckParamsObject(const json& params) {
  if (params.is_null() || params.is_object()) return std::nullopt;
  return InvalidParams(Expected("params", "an object", params));
}

const json& Member(const json& object, const char* name) {
  static const json kNull;
  if (!object.is_object()) return kNull;
  auto it = object.find(name);
  return it == object.end() ? kNull : *it;
}

bool HasMember(const json& object, const char* name) {
  return object.is_object() && object.contains(name);
}

std::optional<jsonrpc::Error> ReadProgressToken(const json& params, json* token) {
  *token = nullptr;
  if (!HasMember(params, "_meta")) return std::nullopt;
  const json& meta = Member(params, "_meta");
  if (!meta.is_object()) return InvalidParams(Expected("params._meta", "an object", meta));
  if (!HasMember(meta, "progressToken")) return std::nullopt;
  const json& given = Member(meta, "progressToken");
  if (!jsonrpc::IsValidId(given)) {
    return InvalidParams(Expected("params._meta.progressToken", "a string or an integer", given));
  }
  *token = given;
  return std::nullopt;
}

std::optional<jsonrpc::Error> ReadPage(const json& params, size_t total, size_t page_size,
                                       Page* page) {
  size_t begin = 0;
  if (HasMember(params, "cursor")) {
    const json& cursor = Member(params, "cursor");
    if (!cursor.is_string()) {
      return InvalidParams(Expected("params.cursor", "a string", cursor));
    }
    const std::string& text = cursor.get_ref<const std::string&>();
    std::optional<size_t> parsed = ParseCursor(text, total);
    if (!parsed) {
      return InvalidParams(fmt::format(
          "params.cursor: \"{}\" is not a cursor this server gave out; start again without one",
          text));
    }
    begin = *parsed;
  }
  size_t end = total;
  if (page_size > 0 && end - begin > page_size) end = begin + page_size;
  page->begin = begin;
  page->end = end;
  page->next_cursor = end < total ? fmt::format("{}{}", kCursorPrefix, end) : std::string();
  return std::nullopt;
}

std::optional<jsonrpc::Error> ReadToolCall(const json& params, ToolCallParams* call) {
  const json& name = Member(params, "name");
  if (!name.is_string()) return InvalidParams(Expected("params.name", "a string", name));
  call->name = name.get<std::string>();
  if (HasMember(params, "arguments")) {
    const json& given = Member(params, "arguments");
    if (!given.is_object()) return InvalidParams(Expected("params.arguments", "an object", given));
    call->arguments = given;
  }
  return ReadProgressToken(params, &call->progress_token);
}

std::optional<jsonrpc::Error> ReadTaskId(const json& params, std::string* task_id) {
  if (auto error = CheckParamsObject(params)) return error;
  const json& given = Member(params, "taskId");
  if (!given.is_string()) return InvalidParams(Expected("params.taskId", "a string", given));
  *task_id = given.get<std::string>();
  return std::nullopt;
}

jsonrpc::Error HostError(const Status& status) {
  return MakeError(
      status.code() == StatusCode::kNotFound ? jsonrpc::kInvalidParams : jsonrpc::kInternalError,
      status.message());
}

}  // namespace troupe::mcp_params
