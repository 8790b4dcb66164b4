// Secrets a browser is given (login codes, session cookies) and how they are kept: random bytes
// from OpenSSL's CSPRNG written as base64url, and the SHA-256 under which a secret is stored
// (the store never holds a secret itself).
#pragma once

#include <string>
#include <string_view>

namespace troupe {

// 32 random bytes (OpenSSL RAND_bytes) as unpadded base64url: 43 characters of [A-Za-z0-9_-].
// Aborts if the system has no randomness (RAND_bytes fails), rather than hand out a guessable
// secret.
std::string RandomSecret();

// The lower-case hex SHA-256 of `text` (64 characters).
std::string Sha256Hex(std::string_view text);

// Whether `text` is what RandomSecret makes: 43 base64url characters. Anything else is refused
// before it is hashed or looked up.
bool LooksLikeSecret(std::string_view text);

}  // namespace troupe
