// The server side of the Anthropic Messages wire format, for `troupe mock-llm`: a request body as
// a client sends it to POST /v1/messages -> ChatRequest. The inverse of EncodeAnthropicRequest
// (llm/anthropic_codec.h): what that encoder writes decodes to the ChatRequest it was made from,
// as far as the wire carries it (unsigned reasoning and empty user turns are not sent, and a
// tool call's arguments come back as the compact JSON of its `input` object). Pure: no sockets,
// no clock.
//
// The body is untrusted: invalid JSON and wrong types give an InvalidArgument naming the field
// ("messages[1].content[0].tool_use_id is missing"); nothing throws.
//
// Accepted shape:
//  - `model` (required string), `max_tokens` (required, as the API requires it), `messages`
//    (required, non-empty array of {role: user|assistant|system, content}).
//  - `system`: a string or an array of text blocks, joined with "\n". A `system` message in the
//    conversation (Claude Code sends them: beta "mid-conversation-system") is more of the system
//    prompt, appended after a "\n", as the OpenAI decoder does with its system messages.
//  - `content`: a string, or an array of blocks. In a user message, `text` blocks make one user
//    ChatMessage (joined with "\n") and each `tool_result` block ({tool_use_id, content as a
//    string or text blocks, is_error}) a tool ChatMessage, in block order. An assistant message
//    is one ChatMessage: `text` blocks concatenated, `thinking` blocks into reasoning (the last
//    signature kept), `tool_use` blocks ({id, name, input object}) into tool calls; every
//    `thinking` and `redacted_thinking` block also verbatim, in place, in
//    provider_replay["anthropic"] (llm/anthropic_replay.h), so the scripted model can check they
//    came back unchanged. Images, documents and unknown block types are skipped.
//  - A tool result gets the name of the call it answers (request_fields::ResolveToolNames).
//  - `tools[]` {name, description, input_schema}; server tools (a `type` other than "custom")
//    are skipped. `tool_choice` {type: auto|any|none|tool (+ name)}; "any" becomes "required".
//  - `stream` absent means false.
#pragma once

#include <string_view>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

Result<ChatRequest> DecodeAnthropicRequest(std::string_view body);

}  // namespace troupe
