#include "dashboard/random_secret.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <cstdio>
#include <cstdlib>

namespace troupe {

namespace {
constexpr size_t kSecretBytes = 32;
constexpr size_t kSecretChars = 43;  // base64 of 32 bytes, without the '=' padding
}  // namespace

std::string RandomSecret() {
  std::array<unsigned char, kSecretBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    std::fputs("troupe: the system's random number generator failed\n", stderr);
    std::abort();
  }
  // EVP_EncodeBlock writes standard base64 with padding and a NUL: 44 + 1 bytes for 32.
  std::array<unsigned char, 4 * ((kSecretBytes + 2) / 3) + 1> encoded{};
  const int length = EVP_EncodeBlock(encoded.data(), bytes.data(), static_cast<int>(bytes.size()));
  std::string out(reinterpret_cast<const char*>(encoded.data()), static_cast<size_t>(length));
  while (!out.empty() && out.back() == '=') out.pop_back();
  for (char& c : out) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  return out;
}

std::string Sha256Hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int length = 0;
  EVP_Digest(text.data(), text.size(), digest.data(), &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned int i = 0; i < length; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0xf];
  }
  return out;
}

bool LooksLikeSecret(std::string_view text) {
  if (text.size() != kSecretChars) return false;
  for (char c : text) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace troupe
