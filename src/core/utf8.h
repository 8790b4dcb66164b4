// UTF-8 as troupe handles text from outside (files, process output, requests, config): checking
// it, repairing it, and cutting it at character boundaries. Well-formed means RFC 3629: no
// overlong forms, no surrogates, nothing past U+10FFFF. Pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace troupe {

// True when `s` is well-formed UTF-8.
bool IsValidUtf8(std::string_view s);

// `text` with every byte that is not part of a well-formed UTF-8 sequence replaced by U+FFFD, so
// file contents and process output can go into JSON.
std::string ToValidUtf8(std::string_view text);

// The longest prefix of `text` of at most `max_bytes` that does not end inside a UTF-8 sequence.
std::string_view Utf8Prefix(std::string_view text, size_t max_bytes);
// The longest suffix of `text` of at most `max_bytes` that does not start inside a sequence.
std::string_view Utf8Suffix(std::string_view text, size_t max_bytes);

// A continuation byte (10xxxxxx): never the start of a character.
inline bool IsUtf8Continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

}  // namespace troupe
