// JSON-RPC 2.0 message parsing and building (see jsonrpc.h).
#include "wire/jsonrpc.h"

#include <utility>
#include <vector>

#include "core/json_depth.h"

namespace troupe::jsonrpc {
namespace {

using nlohmann::json;

// Deepest nesting of arrays/objects in a parsed value (core/json_depth.h measures text),
// without recursion.
int ValueNestingDepth(const json& value, int limit) {
  std::vector<std::pair<const json*, int>> stack;
  stack.emplace_back(&value, value.is_structured() ? 1 : 0);
  int max_depth = 0;
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > max_depth) {
      max_depth = depth;
      if (max_depth > limit) return max_depth;
    }
    if (!node->is_structured()) continue;
    for (const json& child : *node) {
      if (child.is_structured()) stack.emplace_back(&child, depth + 1);
    }
  }
  return max_depth;
}

Invalid MakeInvalid(json id, int code, std::string message) {
  Invalid invalid;
  invalid.id = std::move(id);
  invalid.error.code = code;
  invalid.error.message = std::move(message);
  return invalid;
}

Invalid TooDeep() {
  return MakeInvalid(
      nullptr, kInvalidRequest,
      "message nests arrays/objects deeper than " + std::to_string(kMaxNestingDepth) + " levels");
}

// Classifies a parsed value whose size and depth were checked. Takes it by value so that the
// text path can move params and results out instead of copying them.
Message Classify(json message) {
  if (message.is_array()) {
    return MakeInvalid(nullptr, kInvalidRequest,
                       "batches are not supported: send one JSON-RPC message at a time "
                       "(MCP 2025-06-18 removed JSON-RPC batching)");
  }
  if (!message.is_object()) {
    return MakeInvalid(
        nullptr, kInvalidRequest,
        std::string("message: expected a JSON-RPC object, got ") + DescribeType(message));
  }

  // The id to echo in an error about this message, when it is usable.
  json reply_id = nullptr;
  auto id_it = message.find("id");
  const bool has_id = id_it != message.end();
  if (has_id && IsValidId(*id_it)) reply_id = *id_it;

  auto version = message.find("jsonrpc");
  if (version == message.end()) {
    return MakeInvalid(reply_id, kInvalidRequest, "jsonrpc: missing; expected \"2.0\"");
  }
  if (!version->is_string() || version->get_ref<const std::string&>() != "2.0") {
    return MakeInvalid(reply_id, kInvalidRequest, "jsonrpc: expected \"2.0\"");
  }

  auto method = message.find("method");
  if (method != message.end()) {
    if (!method->is_string()) {
      return MakeInvalid(reply_id, kInvalidRequest,
                         std::string("method: expected a string, got ") + DescribeType(*method));
    }
    if (has_id && !IsValidId(*id_it)) {
      return MakeInvalid(
          nullptr, kInvalidRequest,
          std::string("id: expected a string or an integer, got ") + DescribeType(*id_it));
    }
    json params = nullptr;
    auto params_it = message.find("params");
    if (params_it != message.end()) {
      if (!params_it->is_object() && !params_it->is_array()) {
        return MakeInvalid(
            reply_id, kInvalidRequest,
            std::string("params: expected an object or an array, got ") + DescribeType(*params_it));
      }
      params = std::move(*params_it);
    }
    if (has_id) {
      Request request;
      request.id = std::move(*id_it);
      request.method = std::move(method->get_ref<std::string&>());
      request.params = std::move(params);
      return request;
    }
    Notification notification;
    notification.method = std::move(method->get_ref<std::string&>());
    notification.params = std::move(params);
    return notification;
  }

  auto result = message.find("result");
  auto error = message.find("error");
  const bool has_result = result != message.end();
  const bool has_error = error != message.end();
  if (!has_result && !has_error) {
    return MakeInvalid(reply_id, kInvalidRequest,
                       "message: expected \"method\" (a request or notification) or \"result\" "
                       "or \"error\" (a response)");
  }
  if (has_result && has_error) {
    return MakeInvalid(reply_id, kInvalidRequest,
                       "message: a response has either \"result\" or \"error\", not both");
  }
  // An error response may carry a null id (the peer could not read ours); a result may not.
  if (!has_id || !(IsValidId(*id_it) || (has_error && id_it->is_null()))) {
    return MakeInvalid(nullptr, kInvalidRequest,
                       std::string("id: expected a string or an integer, got ") +
                           (has_id ? DescribeType(*id_it) : "nothing"));
  }
  Response response;
  response.id = std::move(*id_it);
  if (has_result) {
    response.result = std::move(*result);
    return response;
  }
  if (!error->is_object()) {
    return MakeInvalid(reply_id, kInvalidRequest,
                       std::string("error: expected an object, got ") + DescribeType(*error));
  }
  auto code = error->find("code");
  if (code == error->end() || !code->is_number_integer()) {
    return MakeInvalid(reply_id, kInvalidRequest, "error.code: expected an integer");
  }
  auto text = error->find("message");
  if (text == error->end() || !text->is_string()) {
    return MakeInvalid(reply_id, kInvalidRequest, "error.message: expected a string");
  }
  response.is_error = true;
  response.error.code = code->get<int>();
  response.error.message = text->get<std::string>();
  if (auto data = error->find("data"); data != error->end()) response.error.data = *data;
  return response;
}

}  // namespace

Message ParseMessage(std::string_view text) {
  if (Status size = CheckMessageSize(text.size()); !size.ok()) {
    return MakeInvalid(nullptr, kInvalidRequest, size.message());
  }
  json message = json::parse(text.begin(), text.end(), /*cb=*/nullptr,
                             /*allow_exceptions=*/false);
  if (message.is_discarded()) {
    return MakeInvalid(nullptr, kParseError, "parse error: the message is not valid JSON");
  }
  // The parser is iterative, so a deep value is safe to hold; refuse it before anything copies.
  if (JsonNestingDepth(text, kMaxNestingDepth) > kMaxNestingDepth) return TooDeep();
  return Classify(std::move(message));
}

Message ClassifyMessage(const json& message) {
  if (ValueNestingDepth(message, kMaxNestingDepth) > kMaxNestingDepth) return TooDeep();
  return Classify(message);
}

Status CheckMessageSize(size_t bytes) {
  if (bytes <= kMaxMessageBytes) return Status::Ok();
  return Status::ResourceExhausted("message is " + std::to_string(bytes) + " bytes; the limit is " +
                                   std::to_string(kMaxMessageBytes) + " bytes");
}

bool IsValidId(const json& id) { return id.is_string() || id.is_number_integer(); }

std::string IdKey(const json& id) {
  if (id.is_string()) return "s:" + id.get_ref<const std::string&>();
  return "n:" + id.dump();
}

json ResultResponse(const json& id, json result) {
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"result", std::move(result)}};
}

json ErrorResponse(const json& id, const Error& error) {
  json body = {{"code", error.code}, {"message", error.message}};
  if (!error.data.is_null()) body["data"] = error.data;
  return json{{"jsonrpc", "2.0"}, {"id", id}, {"error", std::move(body)}};
}

json ErrorResponse(const json& id, int code, std::string message) {
  Error error;
  error.code = code;
  error.message = std::move(message);
  return ErrorResponse(id, error);
}

json MakeNotification(std::string method, json params) {
  json message = {{"jsonrpc", "2.0"}, {"method", std::move(method)}};
  if (!params.is_null()) message["params"] = std::move(params);
  return message;
}

std::string Serialize(const json& message) {
  return message.dump(-1, ' ', false, json::error_handler_t::replace);
}

const char* DescribeType(const json& value) {
  switch (value.type()) {
    case json::value_t::null:
      return "null";
    case json::value_t::object:
      return "an object";
    case json::value_t::array:
      return "an array";
    case json::value_t::string:
      return "a string";
    case json::value_t::boolean:
      return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "an integer";
    case json::value_t::number_float:
      return "a number";
    case json::value_t::binary:
      return "binary data";
    case json::value_t::discarded:
      return "an invalid value";
  }
  return "an unknown value";
}

}  // namespace troupe::jsonrpc
