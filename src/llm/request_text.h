// The text of a chat request's body, assembled from the codecs' parts (EncodeOpenAiOptions and
// friends) with the parts that repeat from request to request taken from a cache.
//
// An agent's requests all carry the same system prompt and tool schemas, ~10 KB of JSON that
// is most of a short request. Building that as a JSON tree and escaping it again for every
// request was a sixth of the daemon's CPU per task; RequestTextCache keeps the encoded text of
// the last few system prompts and tool lists it saw and checks a new request's against them by
// value (a string comparison, a JSON tree comparison), which costs far less than encoding.
//
// The body reads as EncodeOpenAiRequest / EncodeAnthropicRequest would, parsed (the keys'
// order differs; JSON objects are unordered). Invalid UTF-8 in any text is replaced (U+FFFD)
// rather than making the request unsendable.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "llm/chat_types.h"

namespace troupe {

// Not thread-safe: one per provider, used on its loop thread.
class RequestTextCache {
 public:
  using TextEncoder = nlohmann::json (*)(const std::string& text);
  using ToolEncoder = nlohmann::json (*)(const ToolSpec& tool);

  // The JSON text of `encode(text)` (e.g. the system prompt as the wire wants it).
  const std::string& Text(const std::string& text, TextEncoder encode);
  // The JSON array of `tools`, each encoded by `encode`, the last one by `encode_last` when set
  // (Anthropic's cache breakpoint).
  const std::string& ToolArray(const std::vector<ToolSpec>& tools, ToolEncoder encode,
                               ToolEncoder encode_last = nullptr);

  int64_t hits() const { return hits_; }
  int64_t misses() const { return misses_; }

 private:
  static constexpr size_t kEntries = 8;  // per kind; the oldest goes first
  struct Encoded {
    TextEncoder encode = nullptr;
    std::string text;
    std::string encoded;
  };
  struct Tools {
    ToolEncoder encode = nullptr;
    ToolEncoder encode_last = nullptr;
    std::vector<ToolSpec> tools;
    std::string encoded;
  };
  std::vector<Encoded> texts_;
  std::vector<Tools> tools_;
  size_t next_text_ = 0;
  size_t next_tools_ = 0;
  int64_t hits_ = 0;
  int64_t misses_ = 0;
};

// The body of POST /chat/completions. EncodeOpenAiOptions already names the output limit
// `max_completion_tokens` for the models it knows want it; `max_completion_tokens` = true does
// so for any model (e.g. a reasoning model behind a deployment name that does not tell).
// `cache` may be null (everything is encoded).
std::string EncodeOpenAiRequestText(const ChatRequest& request, bool max_completion_tokens,
                                    RequestTextCache* cache);

// The body of POST /responses (llm/openai_responses_codec.h). `cache` may be null.
std::string EncodeOpenAiResponsesRequestText(const ChatRequest& request, RequestTextCache* cache);

// The body of POST /v1/messages. `cache` may be null.
std::string EncodeAnthropicRequestText(const ChatRequest& request, RequestTextCache* cache);

}  // namespace troupe
