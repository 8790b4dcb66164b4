// How a session's messages are stored: each ChatMessage as one JSON object in
// MessageRecord::content. The form is troupe's own (provider-neutral), so a session started on
// one provider can be continued on another:
//   {"role":"user","content":"…"}
//   {"role":"assistant","content":"…","reasoning":"…","reasoning_signature":"…",
//    "tool_calls":[{"id":"…","name":"…","arguments":"<JSON text>","provider_extra":{…}}],
//    "provider_replay":{"anthropic":[…]},"stop_reason":"max_tokens","refusal":"…"}
//   {"role":"tool","tool_call_id":"…","name":"…","content":"…","is_error":true}
// Optional fields are left out when empty. Reading is lenient about missing optional fields and
// strict about types: stored data that does not fit is Corruption naming the field.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

std::string EncodeStoredMessage(const ChatMessage& message);
Result<ChatMessage> DecodeStoredMessage(std::string_view json);

// "user", "assistant", "tool".
const char* ChatRoleName(ChatRole role);

}  // namespace troupe
