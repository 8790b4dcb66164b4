// The production providers: OpenAI-compatible Chat Completions, OpenAI's Responses API and the
// Anthropic Messages API, over the daemon's HttpClient (core/http_client.h). One attempt = one
// HTTP request whose body is streamed through the SSE parser into the wire codec's decoder; StartWithRetries
// (llm/chat_attempt.h) retries attempts under the SDKs' policy.
//
// Failure handling, attempt by attempt:
//  - an HTTP error response becomes the codec's error Status ("anthropic: HTTP 529
//    overloaded_error: Overloaded") and goes to the retry policy with its status and headers;
//    429 and 529 also report a cool-down for the whole provider;
//  - no response (refused, DNS, timeouts) and a stream that breaks or ends without its end marker
//    are transport errors, retried; deltas already delivered are announced as discarded
//    (RetryNotice::discarded_partial) and the reply starts over — nothing is silently truncated;
//  - a malformed reply (bad JSON, impossible event order) is not retried: it names the chunk.
// The API key goes into one request header and nowhere else: not into Status messages, logs or
// the request log of the mock server.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/http_client.h"
#include "core/http_message.h"
#include "llm/chat_attempt.h"
#include "llm/provider.h"
#include "llm/request_text.h"

namespace troupe {

// kOpenAiResponses: OpenAI's Responses API (POST /responses, llm/openai_responses_codec.h), with
// the OpenAI style's base URL, key header and error bodies.
enum class WireFormat { kOpenAi, kAnthropic, kOpenAiResponses };

inline constexpr const char* kDefaultOpenAiBaseUrl = "https://api.openai.com/v1";
inline constexpr const char* kDefaultAnthropicBaseUrl = "https://api.anthropic.com";
inline constexpr const char* kAnthropicVersion = "2023-06-01";

struct HttpChatOptions {
  std::string provider;  // name, for messages and cool-downs
  WireFormat format = WireFormat::kOpenAi;
  // OpenAI style includes the version ("https://api.openai.com/v1", ".../v1" of vLLM or Ollama);
  // Anthropic style does not ("https://api.anthropic.com"), as in the official SDKs.
  std::string base_url;
  std::string api_key;                    // "" = send no key (local servers)
  // The header carrying the key: "Authorization" gets "Bearer <key>", any other the key as is.
  // "" = DefaultApiKeyHeader.
  std::string api_key_header;
  std::vector<HttpHeader> extra_headers;  // sent after troupe's own, in order
  int64_t connect_timeout_ms = 10'000;
  // No byte for this long aborts the attempt (a retryable timeout). Models may think silently
  // for minutes before their first token; the engine's stale timer is the outer limit.
  int64_t idle_timeout_ms = 5 * 60'000;
  int64_t total_timeout_ms = 0;              // 0 = none: the task's TTL bounds it
  // The response body of one attempt, streamed or not: past it the attempt fails
  // (ResourceExhausted, not retried). Config: providers.<name>.max_reply_bytes.
  size_t max_body_bytes = size_t{32} << 20;
  RetryOptions retry;
};

// The URL an attempt posts to: base_url without trailing '/' + "/chat/completions",
// "/responses" or "/v1/messages". A query in base_url stays at the end: Azure OpenAI's
// "https://R.openai.azure.com/openai/deployments/D?api-version=2024-10-21" gives
// ".../openai/deployments/D/chat/completions?api-version=2024-10-21".
std::string ChatEndpointUrl(const HttpChatOptions& options);

// The header the key goes in when HttpChatOptions::api_key_header is empty: "x-api-key" for
// Anthropic; for OpenAI style "api-key" when base_url's host is Azure OpenAI's
// (*.openai.azure.com, *.cognitiveservices.azure.com), else "Authorization".
std::string DefaultApiKeyHeader(WireFormat format, std::string_view base_url);

// The HTTP request of one attempt: URL, headers (key, version, content type, extras), body.
// The body is EncodeOpenAiRequestText's / EncodeOpenAiResponsesRequestText's /
// EncodeAnthropicRequestText's (model-family rules,
// such as `max_completion_tokens` for OpenAI's reasoning models, are the codec's).
// `cache` (may be null) keeps the encoded system prompt and tools across requests
// (llm/request_text.h).
HttpRequest BuildChatHttpRequest(const HttpChatOptions& options, const ChatRequest& request,
                                 RequestTextCache* cache = nullptr);

// One attempt over `http` (for StartWithRetries). `observer` (may be null) hears the rate-limit
// headers of every response; `cache` (may be null) is BuildChatHttpRequest's.
std::unique_ptr<ChatCall> StartHttpChatAttempt(
    HttpClient* http, Clock* clock, const HttpChatOptions& options, RateLimitObserver* observer,
    const ChatRequest& request, AttemptCallbacks callbacks, RequestTextCache* cache = nullptr);

// A Provider over `http` and `clock`, which must outlive it.
std::unique_ptr<Provider> MakeHttpChatProvider(HttpClient* http, Clock* clock,
                                               RateLimitObserver* observer,
                                               HttpChatOptions options);

}  // namespace troupe
