// The OpenAI Responses API wire format (POST /v1/responses), which OpenAI's newest and coding
// models are served through (some only through it): ChatRequest -> request JSON, and the typed
// SSE events of a streamed response (or one `response` object) -> ChatResult. Pure: no sockets,
// no clock. Shapes as in OpenAI's API reference and the `openai` SDK's types
// (ResponseCreateParams, ResponseStreamEvent).
//
// Stateless use: troupe sends `store: false` and keeps the conversation itself. Reasoning items
// cannot then be referred to by id, so the request asks for `include:
// ["reasoning.encrypted_content"]` and the reasoning items a reply carries (with their
// encrypted_content) are kept in ChatMessage::provider_replay["openai-responses"] and sent back,
// unchanged, before that turn's message and calls. A reasoning item without encrypted_content is
// not kept: sent back, its id would name an item the server never stored (a 404).
//
// Everything from the server is untrusted: malformed JSON, wrong types and impossible sequences
// give an InvalidArgument Status saying where ("openai-responses stream: event 7
// (response.output_item.added): item.call_id is not a string (it is a number)"); nothing throws.
//
// Normalisations (as in openai_codec.h, so ChatResults compare across providers):
//  - Usage.input_tokens counts the input tokens neither read from nor written to the cache:
//    input_tokens minus input_tokens_details.cached_tokens (-> cache_read_tokens) and
//    input_tokens_details.cache_write_tokens (-> cache_write_tokens, when reported).
//    Usage.reasoning_tokens is output_tokens_details.reasoning_tokens (part of output).
//  - A function call's id is its `call_id` (what function_call_output answers), not the item id.
//    One with empty arguments gets "{}", except when the output limit cut the reply: then every
//    call keeps exactly what arrived, so a cut call reads as cut, never as a valid `{}`.
//  - The finish: `response.incomplete` with incomplete_details.reason "max_output_tokens" is
//    kLength, "content_filter" kContentFilter; a completed response is kToolCalls when it holds
//    function calls, else kStop; a refusal (`refusal` content, `response.refusal.delta`) makes it
//    kRefusal. raw_finish_reason and the message's stop_reason are the response status, or the
//    incomplete reason when there is one.
//  - Reasoning text is the reasoning summary (`response.reasoning_summary_text.delta`) or, from
//    servers that stream raw reasoning (`response.reasoning_text.delta`), that; summary parts are
//    separated by a blank line.
//  - `response.failed` and the `error` event end the stream with the server's error: kUnavailable
//    (retried) for server_error, rate_limit_exceeded and unknown codes, kInvalidArgument for the
//    request-side ones (invalid_prompt, invalid_image…).
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

// The key of ChatMessage::provider_replay this wire reads and writes: {"reasoning_items": […]}.
inline constexpr const char* kOpenAiResponsesReplayKey = "openai-responses";

// The request body for POST /responses.
//  - The system prompt goes in `instructions`; the conversation in `input`: user messages as
//    {"role":"user","content"}, an assistant turn as its kept reasoning items, then
//    {"role":"assistant","content"} when it has text (or only a refusal), then one
//    {"type":"function_call","call_id","name","arguments"} per call; a tool result as
//    {"type":"function_call_output","call_id","output"} (is_error has no wire field).
//  - `tools` in the Responses function shape {"type":"function","name","description",
//    "parameters","strict":false}; `tool_choice` only with tools.
//  - `max_output_tokens`; `temperature` except for OpenAI's reasoning models
//    (IsOpenAiReasoningModel), which refuse it.
//  - `reasoning` {"effort","summary":"auto"} and `include: ["reasoning.encrypted_content"]` when
//    an effort is set or the model is a reasoning model (others refuse `reasoning`).
//  - `store: false`; `prompt_cache_key` when caching is enabled and its key is set.
nlohmann::json EncodeOpenAiResponsesRequest(const ChatRequest& request);

// The parts EncodeOpenAiResponsesRequest is made of, for llm/request_text.h: `input`, one entry
// of `tools`, and every other field except `instructions` and `tools`.
nlohmann::json EncodeOpenAiResponsesInput(const ChatRequest& request);
nlohmann::json EncodeOpenAiResponsesTool(const ToolSpec& tool);
nlohmann::json EncodeOpenAiResponsesOptions(const ChatRequest& request);

// Assembles a streamed response from its SSE events. Feed every event in order to OnEvent, then
// call Finish. An event's type is its data's `type` (the `event:` line, when the data has none).
// Output items are told apart by `output_index`; event types this code does not know (web
// search, annotations, …) are skipped. StreamDelta::index of a tool call is its position among
// this response's function calls.
//
// Threading: a plain value; one per stream, used from one thread at a time.
class OpenAiResponsesStreamDecoder {
 public:
  OpenAiResponsesStreamDecoder() = default;

  // Consumes one event and appends what it added to the reply to `*deltas`. An error (a
  // malformed event, `response.failed`, an `error` event) is sticky: this and every later call,
  // Finish included, return it. Events after the final one (response.completed /
  // response.incomplete) are ignored.
  Status OnEvent(const SseEvent& event, std::vector<StreamDelta>* deltas);

  // True once response.completed or response.incomplete arrived.
  bool done() const { return done_; }

  // The assembled reply. An error when OnEvent failed, or when the stream ended before
  // response.completed / response.incomplete: the reply was truncated.
  Result<ChatResult> Finish() const;

  // Applies a whole `response` object (a non-streamed body, or the final event's): its id,
  // model, the output items not already seen, status and usage. For DecodeOpenAiResponsesResponse.
  Status ApplyResponse(const nlohmann::json& response, const std::string& path,
                       std::vector<StreamDelta>* deltas);

 private:
  struct Item {
    std::string type;       // "message", "function_call", "reasoning", …
    int call = -1;          // function_call: position in calls_
    bool got_text = false;  // message: text or refusal arrived in deltas
    bool got_reasoning = false;
    int64_t summary_index = -1;  // the reasoning summary part being streamed
    bool done = false;           // output_item.done applied
  };

  Status ProcessEvent(const std::string& type, const nlohmann::json& event,
                      std::vector<StreamDelta>* deltas);
  // The item at the event's output_index, made when new.
  Status ItemOf(const nlohmann::json& event, Item** item);
  Status AddItem(int64_t output_index, const nlohmann::json& item, const std::string& path,
                 std::vector<StreamDelta>* deltas);
  Status FinishItem(int64_t output_index, const nlohmann::json& item, const std::string& path,
                    std::vector<StreamDelta>* deltas);
  Status AppendArguments(int call, std::string fragment, std::vector<StreamDelta>* deltas);
  void AppendReasoning(Item* item, int64_t summary_index, std::string fragment,
                       std::vector<StreamDelta>* deltas);

  Status status_;
  bool done_ = false;
  int64_t events_ = 0;
  std::string status_text_;        // the response status ("completed", "incomplete")
  std::string incomplete_reason_;  // incomplete_details.reason
  ChatResult result_;
  std::map<int64_t, Item> items_;  // by output_index
  nlohmann::json reasoning_items_ = nlohmann::json::array();
};

// Decodes a non-streamed response body (a `response` object). A body holding an `error` object
// gives that error.
Result<ChatResult> DecodeOpenAiResponsesResponse(std::string_view body);

}  // namespace troupe
