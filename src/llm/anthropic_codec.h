// The Anthropic Messages API wire format: ChatRequest -> request JSON, and response JSON or SSE
// events -> ChatResult. Pure: no sockets, no clock.
//
// Everything from the server is untrusted: malformed JSON, wrong types and impossible sequences
// (a delta for a block that never started) give an InvalidArgument Status saying where
// ("anthropic stream: event 7 (content_block_delta): delta.text is not a string (it is an
// integer)"); nothing throws.
//
// Normalisations (the same in openai_codec.h):
//  - Usage.input_tokens is Anthropic's input_tokens (tokens neither read from nor written to
//    the cache); cache_read_input_tokens and cache_creation_input_tokens go to cache_read_tokens
//    and cache_write_tokens.
//  - Text blocks are concatenated into ChatMessage::text, thinking blocks' text into reasoning
//    (for people to read; reasoning_signature is the last block's signature). Every signed
//    thinking block and every redacted_thinking block is also kept verbatim, in order, in
//    ChatMessage::provider_replay["anthropic"]: an array of {"block": <the block as the API
//    sent it>, "tool_calls_before": <tool_use blocks before it in the reply>}, because the API
//    requires them back unchanged (interleaved thinking gives several signed blocks in one
//    reply). Server tool blocks and citations are dropped.
//  - ChatMessage::stop_reason is the API's stop_reason. "refusal" is FinishReason::kRefusal,
//    with ChatMessage::refusal saying so (the API gives no reason beyond the partial reply);
//    "max_tokens" is kLength, and then a tool_use cut off by the limit keeps its input exactly as
//    far as it came (possibly not valid JSON), so the agent loop can tell it was cut.
//  - A tool_use whose input is empty gets "{}" (except when cut off, above).
//  - Usage.input_tokens is Anthropic's input_tokens alone; the prompt's total is input_tokens
//    + cache_read_tokens + cache_write_tokens (UsageInputTotal in chat_types.h).
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"
#include "wire/sse_parser.h"

namespace troupe {

// The request body for POST /v1/messages.
//  - Tool results become `tool_result` blocks of a user message. Consecutive messages of the same
//    wire role (user text and tool results; assistant turns) are merged into one message, as the
//    API requires alternating roles; in a merged user message the tool_result blocks come first,
//    as the API requires.
//  - An assistant turn's thinking goes back as the blocks kept in provider_replay["anthropic"],
//    unchanged and in their order (each placed before the tool_use it preceded); a message with
//    no such replay (stored by an older troupe) sends its reasoning as one `thinking` block, only
//    with its signature (the API rejects unsigned thinking).
//  - Prompt caching (ChatRequest::caching.enabled, the default): `cache_control` ephemeral
//    breakpoints on the last tool, the system prompt, and the last block of the last two user
//    messages (a rolling breakpoint: this turn's end is written, last turn's end is read) —
//    four, the API's maximum. The system prompt is then sent as an array of one text block.
//  - Extended thinking (ChatRequest::reasoning.budget_tokens): `thinking` {type: enabled,
//    budget_tokens}; the API then refuses `temperature` other than 1 and tool_choice any/tool,
//    so temperature is left out and tool_choice is sent as auto; max_tokens must exceed the
//    budget, so when it does not it is sent as budget + max_tokens.
//  - Empty text blocks are left out (the API rejects them); a message left with no blocks is
//    dropped.
//  - A tool call whose arguments_json is empty, not valid JSON, or not a JSON object is sent with
//    input {}: `input` must be an object, and the engine has already answered such a call with an
//    error result, which tells the model what went wrong.
//  - tool_choice "required" is sent as {"type":"any"}; `tools` and `tool_choice` only when there
//    are tools.
nlohmann::json EncodeAnthropicRequest(const ChatRequest& request);

// The parts EncodeAnthropicRequest is made of besides `system`, for llm/request_text.h (see
// EncodeOpenAiOptions): the messages, one entry of `tools`, and every other field.
nlohmann::json EncodeAnthropicMessages(const ChatRequest& request);
nlohmann::json EncodeAnthropicTool(const ToolSpec& tool);
// The last tool of a cached request: EncodeAnthropicTool with a cache_control breakpoint.
nlohmann::json EncodeAnthropicCachedTool(const ToolSpec& tool);
// `system` of a cached request: one text block with a cache_control breakpoint.
nlohmann::json EncodeAnthropicCachedSystem(const std::string& system);
nlohmann::json EncodeAnthropicOptions(const ChatRequest& request);

// Assembles a streamed reply from its SSE events. Feed every event in order to OnEvent, then call
// Finish. The event type is the `type` in the event's data (the `event:` field when data has
// none); unknown types are ignored, as the API's versioning policy asks. StreamDelta::index is a
// tool call's position in ChatResult::message.tool_calls, not the content block index.
//
// Threading: a plain value; one per stream, used from one thread at a time.
class AnthropicStreamDecoder {
 public:
  AnthropicStreamDecoder() = default;

  // Consumes one event and appends what it added to the reply to `*deltas`. An error (a malformed
  // event, or an `error` event: "anthropic: overloaded_error: Overloaded", kUnavailable for
  // overload, rate limit and API errors) is sticky: this and every later call, Finish included,
  // return it. Events after message_stop are ignored.
  Status OnEvent(const SseEvent& event, std::vector<StreamDelta>* deltas);

  // True once message_stop arrived.
  bool done() const { return done_; }

  // The assembled reply. An error when OnEvent failed or when no message_stop arrived: the reply
  // was truncated and must not be taken as complete.
  Result<ChatResult> Finish() const;

 private:
  enum class BlockType { kText, kThinking, kRedactedThinking, kToolUse, kIgnored };
  struct Block {
    BlockType type = BlockType::kIgnored;
    bool open = true;
    int tool_position = -1;     // kToolUse: index into tool_calls_
    int tool_calls_before = 0;  // tool_use blocks before this one
    std::string start_input;    // kToolUse: `input` of content_block_start when not empty
    std::string thinking;       // kThinking: the text so far
    std::string signature;      // kThinking: the signature so far
    std::string data;           // kRedactedThinking: the encrypted data
  };

  Status ProcessEvent(const std::string& type, const nlohmann::json& data,
                      std::vector<StreamDelta>* deltas);
  Status StartBlock(const nlohmann::json& data, std::vector<StreamDelta>* deltas);
  Status DeltaBlock(const nlohmann::json& data, std::vector<StreamDelta>* deltas);
  Status StopBlock(const nlohmann::json& data);
  // Reads `index` and finds its block; `*block` is nullptr when it was never started.
  Status FindBlock(const nlohmann::json& data, int64_t* index, Block** block);

  Status status_;
  bool done_ = false;
  int64_t events_ = 0;  // events seen, pings included
  ChatResult result_;
  std::vector<ToolCall> tool_calls_;
  std::map<int64_t, Block> blocks_;
};

// Decodes a non-streamed response body (a `message` object). A body of type "error" gives that
// error.
Result<ChatResult> DecodeAnthropicResponse(std::string_view body);

// The Status for a failed HTTP response: "anthropic: HTTP 529 overloaded_error: Overloaded".
// Understands {"type":"error","error":{"type","message"}}; otherwise quotes the body trimmed to
// 500 bytes. The code follows StatusCodeForHttpStatus (provider_error.h).
Status DecodeAnthropicError(int http_status, std::string_view body);

}  // namespace troupe
