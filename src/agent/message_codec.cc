#include "agent/message_codec.h"

#include <nlohmann/json.hpp>

namespace troupe {
namespace {

using nlohmann::json;

Status Bad(const std::string& what) { return Status::Corruption("stored message: " + what); }

// Reads an optional string field; absent or null leaves `*out` as is.
Status ReadString(const json& obj, const char* key, std::string* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return Bad(std::string(key) + " is not a string");
  *out = it->get<std::string>();
  return Status::Ok();
}

// Reads provider data kept verbatim (ChatMessage::provider_replay, ToolCall::provider_extra):
// absent or null leaves `*out` null; anything else must be a JSON object keyed by wire.
Status ReadReplay(const json& obj, const char* key, json* out) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_object()) return Bad(std::string(key) + " is not an object");
  *out = *it;
  return Status::Ok();
}

}  // namespace

const char* ChatRoleName(ChatRole role) {
  switch (role) {
    case ChatRole::kUser:
      return "user";
    case ChatRole::kAssistant:
      return "assistant";
    case ChatRole::kTool:
      return "tool";
  }
  return "user";
}

std::string EncodeStoredMessage(const ChatMessage& m) {
  json out{{"role", ChatRoleName(m.role)}, {"content", m.text}};
  if (!m.reasoning.empty()) out["reasoning"] = m.reasoning;
  if (!m.reasoning_signature.empty()) out["reasoning_signature"] = m.reasoning_signature;
  if (!m.tool_calls.empty()) {
    json calls = json::array();
    for (const ToolCall& c : m.tool_calls) {
      json call{{"id", c.id}, {"name", c.name}, {"arguments", c.arguments_json}};
      if (!c.provider_extra.is_null()) call["provider_extra"] = c.provider_extra;
      calls.push_back(std::move(call));
    }
    out["tool_calls"] = std::move(calls);
  }
  if (!m.provider_replay.is_null()) out["provider_replay"] = m.provider_replay;
  if (!m.stop_reason.empty()) out["stop_reason"] = m.stop_reason;
  if (!m.refusal.empty()) out["refusal"] = m.refusal;
  if (!m.tool_call_id.empty()) out["tool_call_id"] = m.tool_call_id;
  if (!m.tool_name.empty()) out["name"] = m.tool_name;
  if (m.is_error) out["is_error"] = true;
  // Tool output may hold invalid UTF-8 (a binary file, a process's bytes); store what can be.
  return out.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<ChatMessage> DecodeStoredMessage(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Bad("not valid JSON");
  if (!j.is_object()) return Bad("not a JSON object");
  ChatMessage m;
  std::string role;
  TROUPE_RETURN_IF_ERROR(ReadString(j, "role", &role));
  if (role == "user" || role == "system") {
    m.role = ChatRole::kUser;
  } else if (role == "assistant") {
    m.role = ChatRole::kAssistant;
  } else if (role == "tool") {
    m.role = ChatRole::kTool;
  } else {
    return Bad("role \"" + role + "\" is not user, assistant or tool");
  }
  TROUPE_RETURN_IF_ERROR(ReadString(j, "content", &m.text));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "reasoning", &m.reasoning));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "reasoning_signature", &m.reasoning_signature));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "tool_call_id", &m.tool_call_id));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "name", &m.tool_name));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "stop_reason", &m.stop_reason));
  TROUPE_RETURN_IF_ERROR(ReadString(j, "refusal", &m.refusal));
  TROUPE_RETURN_IF_ERROR(ReadReplay(j, "provider_replay", &m.provider_replay));
  if (auto e = j.find("is_error"); e != j.end() && !e->is_null()) {
    if (!e->is_boolean()) return Bad("is_error is not a boolean");
    m.is_error = e->get<bool>();
  }
  if (auto calls = j.find("tool_calls"); calls != j.end() && !calls->is_null()) {
    if (!calls->is_array()) return Bad("tool_calls is not an array");
    for (size_t i = 0; i < calls->size(); ++i) {
      const json& c = (*calls)[i];
      if (!c.is_object()) return Bad("tool_calls[" + std::to_string(i) + "] is not an object");
      ToolCall call;
      Status s = ReadString(c, "id", &call.id);
      if (s.ok()) s = ReadString(c, "name", &call.name);
      if (s.ok()) s = ReadString(c, "arguments", &call.arguments_json);
      if (s.ok()) s = ReadReplay(c, "provider_extra", &call.provider_extra);
      if (!s.ok()) return s.WithContext("tool_calls[" + std::to_string(i) + "]");
      m.tool_calls.push_back(std::move(call));
    }
  }
  return m;
}

}  // namespace troupe
