// How many tokens a model may be asked to write in one reply, when the config does not say
// (agents.<name>.max_output_tokens). Asking more than a model allows is a 400 from its
// provider; asking less cuts answers short. The table holds the documented maximum output of
// well-known model families (as of 2026-12), capped at kDefaultOutputCap so that one reply does
// not claim most of the context window; unknown models get kFallbackMaxOutputTokens, which
// every current chat model accepts.
#pragma once

#include <string_view>

namespace troupe {

inline constexpr int kFallbackMaxOutputTokens = 8192;
inline constexpr int kDefaultOutputCap = 32000;

// `model_id` is the provider's id ("claude-sonnet-4-5-20250929", "gpt-4o-mini"), without the
// "provider/" prefix; matched by family prefix, case-insensitively.
int DefaultMaxOutputTokens(std::string_view model_id);

}  // namespace troupe
