// The server side of OpenAI's Responses API, for `troupe mock-llm`: a request body as a client
// sends it to POST /v1/responses -> ChatRequest. The inverse of EncodeOpenAiResponsesRequest
// (llm/openai_responses_codec.h): what that encoder writes decodes to the ChatRequest it was made
// from, except for what the wire cannot carry (a tool result's is_error; an assistant turn's
// reasoning text, which comes back only as the summary of its reasoning items). Pure: no
// sockets, no clock.
//
// The body is untrusted: invalid JSON and wrong types give an InvalidArgument naming the field
// ("input[2].call_id is missing"); nothing throws.
//
// Accepted shape (a superset of what the encoder writes, covering what other clients send):
//  - `model` (required string); `input`: a string (one user message) or a non-empty array of
//    items; `instructions` (string) is the system prompt, followed by the text of any `system`
//    or `developer` input messages.
//  - Items: messages {"role","content"} (`type` "message" or absent; roles user, assistant,
//    system, developer; `content` a string or parts whose input_text / output_text / text parts
//    are joined with "\n", `refusal` parts giving an assistant's refusal, others skipped);
//    {"type":"function_call","call_id","name","arguments"}; {"type":"function_call_output",
//    "call_id","output"} (a string, or parts joined as content is); {"type":"reasoning",…}, kept
//    unchanged in the assistant turn's provider_replay["openai-responses"] with its summary as
//    the reasoning text. Other item types are refused.
//  - Items of one assistant turn (reasoning, message, function calls) make one assistant
//    ChatMessage, as they come from one response: a function call joins the assistant message
//    before it; a reasoning item or an assistant message joins it only while it holds nothing
//    but reasoning (so text after text, or after calls, starts a new turn).
//  - `tools[]` {"type":"function","name","description","parameters"}; other tool types are
//    skipped. `tool_choice`: "auto", "none", "required" or {"type":"function","name"}.
//  - `max_output_tokens`, `temperature`, `reasoning.effort`, `prompt_cache_key` (caching on,
//    with that key); `stream` absent means false.
#pragma once

#include <string_view>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

Result<ChatRequest> DecodeOpenAiResponsesRequest(std::string_view body);

}  // namespace troupe
