// The reply side of OpenAI's Responses API, as OpenAI's servers write it:
//  - streamed: typed events, each `event: <type>` with the same `type` and a `sequence_number`
//    in its data: response.created and response.in_progress; then the output items one after
//    the other, each opened by response.output_item.added and closed by
//    response.output_item.done carrying the whole item: a reasoning item
//    (response.reasoning_summary_part.added, response.reasoning_summary_text.delta), a message
//    (response.content_part.added, response.output_text.delta, .done), function calls
//    (response.function_call_arguments.delta, .done); a refusal as a message whose refusal part
//    streams in response.refusal.delta; then response.completed, or response.incomplete with
//    incomplete_details.reason "max_output_tokens" (FinishReason::kLength) or "content_filter",
//    whose `response` lists every output item and the usage. An error mid-stream is an `error`
//    event {"type":"error","code","message","param"}.
//  - not streamed: the one `response` object.
// A reasoning item carries an opaque encrypted_content ("mock-encrypted:<response id>:<index>"),
// as OpenAI sends it when asked for with store: false. Usage is written so that
// OpenAiResponsesStreamDecoder reads back the same Usage: input_tokens is input + cache_read +
// cache_write tokens, input_tokens_details.cached_tokens the cache_read ones and
// cache_write_tokens (only when not 0) the cache_write ones; output_tokens_details
// .reasoning_tokens the reasoning ones.
#pragma once

#include <memory>

#include "mock_llm/reply_encoder.h"

namespace troupe {

std::unique_ptr<ReplyEncoder> MakeOpenAiResponsesReplyEncoder(ChatResult result,
                                                              ReplyOptions options);

}  // namespace troupe
