// The reply side of the Anthropic Messages wire format, as Anthropic's servers write it:
//  - streamed: `message_start` (the message with id, model, empty content and the input usage),
//    one `ping`, then per content block `content_block_start`, `content_block_delta`s
//    (text_delta, thinking_delta, input_json_delta with partial_json fragments) and
//    `content_block_stop` (a thinking block gets a `signature_delta` with the reply's
//    reasoning_signature just before its stop); then `message_delta` with stop_reason and
//    usage.output_tokens, and `message_stop`. An error mid-stream is `event: error` with
//    {"type":"error","error":{"type","message"}}.
//    Each delta of the plan goes into the open block when it is of the delta's kind; otherwise the
//    open block is stopped and a new one started (a kToolCallStart always starts one). The API
//    streams one block at a time, so arguments for a call whose block was already stopped have no
//    place on the wire and are left out.
//  - not streamed: one `message` object whose content is a thinking block (when there is
//    reasoning), a text block (when there is text) and a tool_use block per call, whose `input` is
//    the call's arguments parsed ({} when they are not a JSON object).
// The stop reason comes from ChatResult::finish (end_turn, tool_use, max_tokens, refusal); for
// kOther, raw_finish_reason when set, else "end_turn".
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mock_llm/reply_encoder.h"

namespace troupe {

std::unique_ptr<ReplyEncoder> MakeAnthropicReplyEncoder(ChatResult result);

std::string AnthropicStopReason(const ChatResult& result);

// {"type":"error","error":{"type":…,"message":…}}
std::string AnthropicErrorBody(std::string_view type, std::string_view message);

}  // namespace troupe
