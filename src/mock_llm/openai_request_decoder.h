// The server side of the OpenAI Chat Completions wire format, for `troupe mock-llm`: a request
// body as a client sends it to POST /v1/chat/completions -> ChatRequest. The inverse of
// EncodeOpenAiRequest (llm/openai_codec.h): what that encoder writes decodes to the ChatRequest it
// was made from, except for what the wire cannot carry (a tool result's is_error, an assistant
// turn's reasoning unless it goes back as DeepSeek's reasoning_content). Pure: no sockets, no clock.
//
// The body is untrusted: invalid JSON and wrong types give an InvalidArgument naming the field
// ("messages[2].content is neither a string nor an array (it is an integer)"); nothing throws.
//
// Accepted shape (a superset of what EncodeOpenAiRequest writes, covering what other clients send):
//  - `model` (required string) and `messages` (required, non-empty array).
//  - Roles: `system` and `developer` messages go to ChatRequest::system, joined with "\n" when
//    there are several; `user`, `assistant` (with optional `tool_calls`, `refusal`, and the
//    replay data of llm/openai_replay.h: `reasoning_content`, also taken as the reasoning,
//    `reasoning_details`, and a call's `extra_content`) and `tool` (required `tool_call_id`). Any
//    other role is refused.
//  - `content` is a string, null, or an array of parts; the text parts are joined with "\n" and
//    other parts (images, audio) are skipped.
//  - A tool call's `function.arguments` is a string, or an object taken as its JSON text.
//  - A tool result gets the name of the call it answers (request_fields::ResolveToolNames).
//  - `tools[].function` {name, description, parameters}; tools of another type than "function"
//    are skipped. `tool_choice`: "auto", "none", "required", or {"type":"function","function":
//    {"name":…}}; absent means "auto".
//  - `max_completion_tokens` wins over `max_tokens`; absent leaves ChatRequest's default. `stream`
//    absent means false, as the API says.
#pragma once

#include <string_view>

#include "core/status.h"
#include "llm/chat_types.h"

namespace troupe {

struct OpenAiChatRequest {
  ChatRequest chat;
  bool include_usage = false;  // stream_options.include_usage: end the stream with a usage chunk
};

Result<OpenAiChatRequest> DecodeOpenAiRequest(std::string_view body);

}  // namespace troupe
