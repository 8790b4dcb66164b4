// The reply side of the OpenAI Chat Completions wire format, as OpenAI's own servers write it:
//  - streamed: `data: {chat.completion.chunk}` events. The first chunk carries the role
//    (delta {"role":"assistant","content":""}); then one chunk per delta: `content`,
//    `reasoning_content` (as DeepSeek, vLLM and OpenRouter send reasoning), or `tool_calls` (a
//    call's first chunk has index, id, type "function", function.name and empty arguments; later
//    ones only index and an arguments fragment); then a chunk with an empty delta and the
//    finish_reason; when include_usage was asked, a chunk with empty `choices` and `usage`; then
//    `data: [DONE]`. An error mid-stream is `data: {"error":{…}}`.
//  - not streamed: one `chat.completion` object, usage included.
// Usage is written so that OpenAiStreamDecoder reads back the same Usage: prompt_tokens is
// input + cache_read tokens, prompt_tokens_details.cached_tokens the cache_read ones. OpenAI has
// no field for cache writes; cache_write_tokens is not sent. Reasoning tokens go in
// completion_tokens_details.reasoning_tokens. A refusal (ChatMessage::refusal) is streamed as a
// `refusal` delta before the finish chunk, and written as `message.refusal` with null content.
// The finish reason comes from ChatResult::finish (stop, tool_calls, length, content_filter; a
// refusal finishes with "stop", as OpenAI's does); for
// kOther, raw_finish_reason when set, else "stop".
// With ReplyOptions::content_parts, `content` is a list of typed parts instead of a string, as
// Mistral's reasoning models send it: text as [{"type":"text","text"}], reasoning as
// [{"type":"thinking","thinking":[{"type":"text","text"}]}] (no reasoning_content).
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "mock_llm/reply_encoder.h"

namespace troupe {

std::unique_ptr<ReplyEncoder> MakeOpenAiReplyEncoder(ChatResult result, ReplyOptions options);

std::string OpenAiFinishReason(const ChatResult& result);

// {"error":{"message":…,"type":…,"param":null,"code":null}}
std::string OpenAiErrorBody(std::string_view type, std::string_view message);

}  // namespace troupe
