// How many tokens a model may be asked to write in one reply. Asking more than a model allows
// is a 400 from its provider; asking less cuts answers short.
//
// A model's output limit is the config's figure for it (providers.<name>.max_output_tokens),
// else the documented maximum of its family from a table of well-known models (as of 2026-12),
// else unknown. What a request asks for (ChooseOutputTokens) is the agent's max_output_tokens,
// narrowed to the model's limit; without one, the model's limit capped at kDefaultOutputCap so
// that one reply does not claim most of the context window, or kFallbackMaxOutputTokens, which
// every current chat model accepts, when the limit is unknown. A request never asks more than
// the model's limit, extended thinking included.
#pragma once

#include <optional>
#include <string_view>

#include "llm/chat_types.h"

namespace troupe {

inline constexpr int kFallbackMaxOutputTokens = 8192;
inline constexpr int kDefaultOutputCap = 32000;
// Anthropic's smallest extended-thinking budget.
inline constexpr int kMinThinkingBudgetTokens = 1024;

// The documented maximum output of `model_id`'s family, or nullopt for a model the table does
// not know. `model_id` is the provider's id ("claude-sonnet-4-5-20250929", "gpt-4o-mini"),
// without the "provider/" prefix; matched by family prefix, case-insensitively; a router's
// vendor prefix ("anthropic/claude-…") is ignored.
std::optional<int> KnownMaxOutputTokens(std::string_view model_id);

// What a request for `model_id` asks when nothing else says: its limit from the table capped at
// kDefaultOutputCap, or kFallbackMaxOutputTokens.
int DefaultMaxOutputTokens(std::string_view model_id);

// What one request may ask of a model.
struct OutputTokens {
  int max_tokens = kFallbackMaxOutputTokens;  // never above the model's limit, when known
  ReasoningSettings reasoning;  // the agent's, with the thinking budget fitted below max_tokens
};

// `model_limit`: the model's limit (the config's, else KnownMaxOutputTokens), nullopt when
// unknown. `agent_max`: the agent's max_output_tokens, which only narrows the limit. With an
// extended-thinking budget (Anthropic needs max_tokens above it), max_tokens is raised by the
// budget, up to the limit; a budget that still does not fit is lowered to max_tokens - 1, and
// thinking is turned off when that is below kMinThinkingBudgetTokens.
OutputTokens ChooseOutputTokens(std::string_view model_id, std::optional<int> model_limit,
                                std::optional<int> agent_max, const ReasoningSettings& reasoning);

}  // namespace troupe
