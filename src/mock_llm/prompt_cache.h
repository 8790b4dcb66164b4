// Prompt caching as OpenAI and Anthropic bill it, simulated for `troupe mock-llm`: the server
// remembers which request prefixes it has seen and splits a reply's input tokens into uncached,
// cache-read and cache-write tokens the way those providers report them, so that a client's
// caching (or its absence) shows in the usage it gets back. Pure: no sockets, no clock.
//
// A request is a sequence of blocks, in the order the provider caches them: Anthropic: each
// tool, each system block, each content block of each message (a string content is one
// block); OpenAI Chat Completions: each tool, then each message; OpenAI Responses:
// `instructions`, each tool, each input item. A block's tokens are its JSON text's characters
// / 4 (the mock model's estimate, llm/mock_model.h), `cache_control` markers left out.
//
//  - OpenAI (either API), only for a request with a `prompt_cache_key`: the cached prefix is the
//    longest block prefix seen before under the same model and key, counted when at least 1024
//    tokens and then in steps of 128 (1024, 1152, …), as OpenAI caches; it is reported as
//    cached tokens (Usage::cache_read_tokens). OpenAI reports no cache writes.
//  - Anthropic, only for a request with `cache_control` breakpoints: each breakpoint whose
//    prefix is at least 1024 tokens writes that prefix; a breakpoint reads the longest prefix
//    written before for the same model that ends at it or at one of the 19 blocks before it (the
//    API's lookback). Read tokens are the longest such prefix (cache_read_input_tokens); write
//    tokens the rest up to the last breakpoint (cache_creation_input_tokens); the tokens after
//    it stay input_tokens.
// The read and write tokens are capped by the reply's input tokens (which a script may have
// set lower than the request's size).
//
// Memory: at most `max_prefixes` remembered prefixes; past that everything is forgotten at
// once (a cache eviction), which a mock may do.
//
// Threading: a plain value, used from the server's loop thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "llm/chat_types.h"
#include "mock_llm/reply_encoder.h"

namespace troupe {

class PromptCache {
 public:
  explicit PromptCache(size_t max_prefixes = 1'000'000) : max_prefixes_(max_prefixes) {}

  // `usage->input_tokens` holds every prompt token of the reply to `body` (the request as sent
  // with `protocol`); splits it as described above and remembers the prefixes this request
  // wrote. A request that did not ask for caching, or whose reply's cache tokens were scripted
  // (`usage=IN/OUT/CACHE_READ/CACHE_WRITE`: the test says what the provider reports), leaves
  // `*usage` unchanged.
  void Apply(WireProtocol protocol, const nlohmann::json& body, Usage* usage);

  size_t prefixes() const { return prefixes_; }

 private:
  void Remember(const std::string& scope, uint64_t prefix);

  size_t max_prefixes_;
  size_t prefixes_ = 0;
  std::map<std::string, std::set<uint64_t>> seen_;  // by scope: the prefixes' hashes
};

}  // namespace troupe
