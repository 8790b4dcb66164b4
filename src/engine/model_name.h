// Model names as users write them ("Anthropic / Claude-Opus-4-5", "opus") and as troupe keys
// pools by them ("anthropic/claude-opus-4-5").
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace troupe {

// Lowercases, removes all whitespace, then resolves `aliases` (whose keys and values are
// canonicalised the same way; one level, no chains). "Anthropic / Claude-Opus-4-5" ->
// "anthropic/claude-opus-4-5".
std::string CanonicalModel(std::string_view name,
                           const std::map<std::string, std::string>& aliases);

// "openrouter/anthropic/claude-3.5" -> "openrouter"; "" when there is no '/'.
std::string_view ProviderOf(std::string_view canonical_model);
// "openrouter/anthropic/claude-3.5" -> "anthropic/claude-3.5"; the whole name without '/'.
std::string_view BareModelOf(std::string_view canonical_model);

}  // namespace troupe
