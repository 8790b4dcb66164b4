// The OpenAI Chat Completions wire format, as OpenAI, OpenRouter, vLLM, llama.cpp, Ollama and
// Gemini's OpenAI-compatible endpoint speak it: ChatRequest -> request JSON, and response JSON or
// SSE events -> ChatResult. Pure: no sockets, no clock.
//
// Everything from the server is untrusted: malformed JSON, wrong types and impossible sequences
// give an InvalidArgument Status saying where ("openai stream: chunk 12:
// choices[0].delta.tool_calls[0].index is not an integer (it is a string)"); nothing throws.
//
// Normalisations (the same in anthropic_codec.h, so ChatResults compare across providers):
//  - Usage.input_tokens counts prompt tokens NOT read from the cache: prompt_tokens minus
//    prompt_tokens_details.cached_tokens (DeepSeek: prompt_cache_hit_tokens), which go to
//    cache_read_tokens. OpenAI reports no cache writes.
//  - Usage.reasoning_tokens is completion_tokens_details.reasoning_tokens (part of output).
//  - A tool call with empty arguments gets "{}", except when the output limit cut the reply
//    (finish_reason "length"): then every call keeps exactly what arrived, so a cut call's
//    input reads as cut (invalid or empty JSON), never as a valid `{}`. One without an id gets
//    "call_<position>".
//  - finish_reason "stop" with tool calls present maps to kToolCalls (llama.cpp and Ollama say
//    "stop"); raw_finish_reason keeps what the server said, and so does the message's
//    stop_reason.
//  - A refusal (`message.refusal`, streamed as `delta.refusal` fragments) goes to
//    ChatMessage::refusal and makes the finish kRefusal, whatever finish_reason said ("stop").
//  - `content` may be a string or a list of typed parts, as Mistral's reasoning models stream
//    it: {"type":"text","text"} parts are text, {"type":"thinking","thinking":[text parts]} are
//    reasoning; other part types are skipped.
//  - What a server needs back on later turns (DeepSeek's reasoning_content, OpenRouter's
//    reasoning_details, Gemini's tool call extra_content) is kept: openai_replay.h.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "llm/chat_types.h"
#include "wire/sse_parser.h"

namespace troupe {

// The request body for POST /chat/completions.
//  - The system prompt is the first message ({"role":"system"}).
//  - Assistant reasoning text is not sent back as such; what a server requires back
//    (provider_replay["openai"], ToolCall::provider_extra) is, as openai_replay.h says: DeepSeek's
//    reasoning_content on assistant messages carrying tool calls, OpenRouter's
//    reasoning_details, Gemini's extra_content on tool calls. A refusal goes back as `refusal`.
//  - A tool result's is_error has no wire field; its content is sent as is.
//  - The output limit goes out as `max_tokens`, which every compatible server accepts, except
//    for OpenAI's reasoning models (IsOpenAiReasoningModel), which get `max_completion_tokens`
//    and no `temperature` (they refuse both).
//  - ReasoningSettings::effort goes out as `reasoning_effort` when set.
//  - CachingSettings::key goes out as `prompt_cache_key` (OpenAI's automatic prompt caching
//    routes requests with the same key and prefix together) when caching is enabled, the key is
//    set and the model is one of OpenAI's (gpt-…, chatgpt-…, codex-…, o1/o3/o4…, also behind a
//    router's "vendor/" prefix); other servers may refuse the unknown field.
//  - `tools` and `tool_choice` are sent only when there are tools (OpenAI rejects tool_choice
//    without tools).
nlohmann::json EncodeOpenAiRequest(const ChatRequest& request);

// OpenAI's reasoning models: the o1, o3, o4 and gpt-5 families (gpt-5-chat… excepted, a chat
// model), also behind a router's "vendor/" prefix ("openai/o3-mini").
bool IsOpenAiReasoningModel(std::string_view model);

// The parts EncodeOpenAiRequest is made of, for llm/request_text.h, which assembles the body's
// text from them and caches the parts that repeat (the system prompt, the tools): the system
// message, the other messages, one entry of `tools`, and every other field.
nlohmann::json EncodeOpenAiSystemMessage(const std::string& system);
nlohmann::json EncodeOpenAiMessages(const ChatRequest& request);
nlohmann::json EncodeOpenAiTool(const ToolSpec& tool);
nlohmann::json EncodeOpenAiOptions(const ChatRequest& request);

// Assembles a streamed reply from its SSE events. Feed every event of the stream in order to
// OnEvent, then call Finish.
//
// Tool call deltas are assembled by index and id: a delta whose id is new starts a new call even
// at an index already in use (some servers send every parallel call at index 0); a delta whose id
// is that of a call so far continues it; a delta without an id continues the latest call at its
// index. Name fragments are concatenated, except that a fragment equal to the whole name so far
// is taken as a repeat and dropped (some servers repeat the name on every delta).
// StreamDelta::index is the call's position in ChatResult::message.tool_calls, not the wire
// index.
//
// Of `reasoning_content` and `reasoning` in one delta, only reasoning_content is used (servers
// that send both send the same text).
//
// Threading: a plain value; one per stream, used from one thread at a time.
class OpenAiStreamDecoder {
 public:
  OpenAiStreamDecoder() = default;

  // Consumes one event and appends what it added to the reply to `*deltas`. An error (a
  // malformed chunk, or an `error` object the server sent mid-stream) is sticky: this and every
  // later call, Finish included, return it. Events after `data: [DONE]` are ignored.
  Status OnEvent(const SseEvent& event, std::vector<StreamDelta>* deltas);

  // True once `data: [DONE]` arrived.
  bool done() const { return done_; }

  // The assembled reply. An error when OnEvent failed, or when the stream ended with neither
  // [DONE] nor a finish_reason: the reply was truncated and must not be taken as complete.
  Result<ChatResult> Finish() const;

 private:
  struct Call {
    int64_t wire_index = 0;
    ToolCall call;
  };

  Status ProcessChunk(const nlohmann::json& chunk, std::vector<StreamDelta>* deltas);
  Status ProcessToolCallDelta(const nlohmann::json& delta, const std::string& path,
                              std::vector<StreamDelta>* deltas);

  Status status_;
  bool done_ = false;
  bool reasoning_content_ = false;  // reasoning came in `reasoning_content` (openai_replay.h)
  nlohmann::json reasoning_details_;
  int64_t chunks_ = 0;  // data events seen, [DONE] excluded
  bool saw_finish_reason_ = false;
  ChatResult result_;
  std::vector<Call> calls_;
};

// Decodes a non-streamed response body (a `chat.completion` object). A body holding an `error`
// object gives that error.
Result<ChatResult> DecodeOpenAiResponse(std::string_view body);

// The Status for a failed HTTP response: "openai: HTTP 401 invalid_api_key: Incorrect API key
// provided ...". Understands {"error":{"message","type","code"}}, {"error":"..."} (Ollama),
// {"message":...} (vLLM) and a list holding one such object (Gemini); otherwise quotes the body
// trimmed to 500 bytes. The code follows StatusCodeForHttpStatus (provider_error.h).
Status DecodeOpenAiError(int http_status, std::string_view body);

}  // namespace troupe
