// Case folding for names people type in more than one way. ASCII only: the names are config keys,
// agent and tool names, provider names and HTTP header names, never prose.
#pragma once

#include <string>
#include <string_view>

namespace troupe {

// "OpenRouter" -> "openrouter". Bytes outside A-Z are kept as they are.
std::string AsciiLowercase(std::string_view s);

// Lowercase without '_' and '-', so that "maxTurns", "max-turns" and "max_turns" are one name.
std::string FoldIdentifier(std::string_view s);

// Whether `a` and `b` are equal but for the case of A-Z: HTTP header names, "Bearer".
bool EqualsIgnoringAsciiCase(std::string_view a, std::string_view b);

}  // namespace troupe
