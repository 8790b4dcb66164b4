// The scripted mock model: turns a ChatRequest into a MockPlan (llm/mock_plan.h), which the
// in-process `mock` provider (llm/mock_provider.h) and `troupe mock-llm` (mock_llm/) play.
//
// Unscripted, it behaves like a small search agent (llm/mock_agent.h): it calls the offered
// grep/glob tools for the prompt's keywords, reads the first file they name, and answers with a
// summary of what the tool results contained. `#mock` directives in the last user message, the
// system prompt, or the model's default directives script everything else: replies, tool calls
// turn by turn, pacing, HTTP errors, stream faults (syntax: llm/mock_directives.h).
//
// The reply is tokenised as a real model streams it: a text or reasoning delta per word with the
// whitespace that follows it (words cut at 64 bytes), a kToolCallStart per tool call followed by
// its arguments in fragments of up to 16 bytes. Tool call ids are `call_mock_<T>_<i>`, T = 1 +
// the assistant messages of the request, i = the call's position from 1. `plan.result` is always
// the same reply assembled, with finish reason kToolCalls ("tool_calls") when it calls tools,
// kLength ("length") when the text was cut at request.max_tokens deltas, else kStop ("stop").
// Usage, unless scripted: input = the request's characters / 4, output = the number of deltas.
//
// Bad directives never fail the caller: the plan is an HTTP 400 whose message names the
// directive and what was expected. Plans are deterministic: the same options (seed included)
// and the same sequence of requests give the same plans.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>

#include "core/status.h"
#include "llm/chat_types.h"
#include "llm/mock_directives.h"
#include "llm/mock_plan.h"

namespace troupe {

struct MockModelOptions {
  // Directives applied below those of the request (`#mock` optional on each line), e.g. the
  // config's providers.<name>.script.
  std::string default_directives;
  // Pacing when no directive sets it; the defaults look like a real model in a demo.
  int64_t head_delay_ms = 0;
  int64_t first_token_delay_ms = 300;
  double tokens_per_second = 80;
  // Picks the filler words of `tokens=N`.
  uint64_t seed = 0;
};

// The blocks `signed_thinking` gives turn `turn` (1-based, since the last user message) of a
// reply with `calls` tool calls, as provider_replay["anthropic"] keeps them
// (llm/anthropic_replay.h): a signed thinking block and a redacted_thinking block before
// everything, then a signed thinking block before each tool call after the first. Signatures
// and data are opaque strings derived from the turn and the text, so any change shows.
nlohmann::json MockSignedThinking(int turn, size_t calls);

// Threading: Plan counts requests for `times=` and numbers responses, so a MockModel is used
// from one thread only (the event loop's).
class MockModel {
 public:
  explicit MockModel(MockModelOptions options);

  // The plan for `request`; see above.
  MockPlan Plan(const ChatRequest& request);

  // OK, or why the default directives are refused (every plan would then be that 400).
  const Status& default_directives_status() const { return defaults_status_; }

 private:
  Result<MockDirectives> Directives(const ChatRequest& request, const std::string& prompt) const;
  // Whether a request with fault directives `d` is among the first `times` of its script key.
  bool ShouldFault(const ChatRequest& request, const MockDirectives& d, const std::string& prompt);

  MockModelOptions options_;
  MockDirectives defaults_;
  Status defaults_status_;
  uint64_t plans_ = 0;
  std::unordered_map<uint64_t, int64_t> fault_counts_;  // script key hash -> requests seen
};

}  // namespace troupe
