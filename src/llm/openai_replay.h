// What OpenAI-compatible servers attach to an assistant turn that must go back to them, unchanged,
// on later turns of the same conversation (ChatMessage::provider_replay["openai"] and
// ToolCall::provider_extra, llm/chat_types.h). troupe does not interpret any of it:
//  - DeepSeek thinking mode: `reasoning_content`. Inside a tool loop (an assistant message
//    carrying tool calls) DeepSeek requires it back and answers 400 "Missing reasoning_content"
//    otherwise; on other assistant messages it is ignored, so it is sent only with tool calls.
//    (Older DeepSeek reasoners refused it in input; the current API requires it.)
//  - OpenRouter: `reasoning_details`, an array of typed items ("reasoning.text" with a
//    signature, "reasoning.summary", "reasoning.encrypted" with opaque data), sent back on every
//    assistant message that had them. Streamed, they come in fragments: a fragment with the same
//    `index` and `type` as the latest item continues it (its `text`, `summary` and `data` are
//    appended, its other fields replace the item's).
//  - Gemini's OpenAI-compatible endpoint: `extra_content` on a tool call
//    ({"google":{"thought_signature":"…"}}), required back on that call in the history by
//    Gemini 3. Kept in ToolCall::provider_extra as {"extra_content": …}, whose members are
//    merged into the call on the way back.
// Pure: JSON in, JSON out.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe::openai_replay {

// The key of ChatMessage::provider_replay this wire reads and writes.
inline constexpr const char* kReplayKey = "openai";

// Appends the `reasoning_details` items of a delta or message at `path` to `*details` (a JSON
// array), merging streamed fragments as described above. Absent or null: nothing.
Status AppendReasoningDetails(const nlohmann::json& object, const std::string& path,
                              nlohmann::json* details);

// Reads a tool call's `extra_content` (an object) at `path` into `*extra` as
// {"extra_content": …}; absent or null leaves `*extra` as is.
Status ReadToolCallExtra(const nlohmann::json& call, const std::string& path, nlohmann::json* extra);

// The provider_replay of an assistant turn: {"openai": {…}} with `reasoning_content` (when the
// reasoning came in that field) and `reasoning_details` (when non-empty); null when neither.
nlohmann::json MakeReplay(const std::string& reasoning_content, const nlohmann::json& details);

// Adds to the encoded assistant message `*out` what `m` must carry back (see above), and to each
// encoded call of `(*out)["tool_calls"]` its provider_extra.
void AddReplay(const ChatMessage& m, nlohmann::json* out);

}  // namespace troupe::openai_replay
