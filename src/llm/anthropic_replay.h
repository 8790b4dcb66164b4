// What the Anthropic Messages API needs back, unchanged, on later turns of a conversation:
// every signed `thinking` block and every `redacted_thinking` block of an assistant reply, in
// their order and in their place among its `tool_use` blocks (interleaved thinking gives several
// signed blocks in one reply; the API refuses a tool loop whose thinking was altered or dropped).
//
// They are kept in ChatMessage::provider_replay["anthropic"]: an array of {"block": <the block
// as the API sent it>, "tool_calls_before": <tool_use blocks before it in the reply>}. The codec
// (anthropic_codec.h) writes and reads it; mock-llm writes it for the blocks it decodes and its
// scripted model for the blocks it plans, so all three agree on one shape. Pure.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llm/chat_types.h"

namespace troupe::anthropic_replay {

// The key of ChatMessage::provider_replay this wire reads and writes.
inline constexpr const char* kReplayKey = "anthropic";

// Appends a block the reply had (a thinking or redacted_thinking block, as sent).
void Keep(ChatMessage* m, nlohmann::json block, int tool_calls_before);
void KeepThinking(ChatMessage* m, const std::string& thinking, const std::string& signature,
                  int tool_calls_before);
void KeepRedactedThinking(ChatMessage* m, const std::string& data, int tool_calls_before);

// The blocks an assistant message kept, grouped by where they go back: group i before its tool
// call i, group `calls` after the last call. Empty when the message kept none under our key (then
// `reasoning` is all there is). Stored data is trusted only as far as its shape checks out: an
// entry that is not a thinking or redacted_thinking block is skipped.
std::vector<std::vector<nlohmann::json>> Groups(const ChatMessage& m, int calls);

}  // namespace troupe::anthropic_replay
