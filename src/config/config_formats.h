// The formats of names and values in config files, beyond their JSON types: provider names,
// environment variable names, header names, model names. schema/troupe.schema.json states the
// same rules as patterns.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

// The values of a provider's "type".
inline constexpr std::string_view kProviderTypes[] = {"openai", "openai-responses", "anthropic",
                                                      "mock"};
// kProviderTypes for a message: "openai", "openai-responses", "anthropic" or "mock".
std::string ProviderTypeChoices();

// A provider name: [a-z0-9][a-z0-9._-]*
bool IsProviderName(std::string_view s);

// An environment variable name: [A-Z_][A-Z0-9_]*
bool IsEnvVarName(std::string_view s);

// An HTTP header name (an RFC 9110 token).
bool IsHeaderName(std::string_view s);

// A header that carries credentials (Authorization, Proxy-Authorization, x-api-key, api-key; any
// case). troupe sends those itself, from the key in the environment.
bool IsCredentialHeader(std::string_view name);

// A key that would hold a literal API key: "api_key", "apiKey", "API-KEY", ...
bool LooksLikeApiKeyField(std::string_view key);

// "provider/model": a '/' with non-blank text on both sides. The model part may hold more '/'.
bool IsQualifiedModel(std::string_view s);

// Lowercase without whitespace, as the engine canonicalises model names before comparing them.
std::string CanonicalModelName(std::string_view s);

}  // namespace troupe
