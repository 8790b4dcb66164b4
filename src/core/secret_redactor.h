// Keeps the daemon's secrets (the providers' API keys, the daemon's token) out of what is stored
// or shown: a tool's output that printed one, a provider error that echoed the key. Every
// occurrence of a secret is replaced by "[redacted]". The sandbox keeps secrets from tool
// processes; this catches what still gets through (a key in a file of the workspace, a provider
// that quotes the request).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace troupe {

class SecretRedactor {
 public:
  // Secrets shorter than this are ignored: replacing every "abc" would garble outputs, and a
  // value that short is no secret.
  static constexpr size_t kMinSecretLength = 8;
  static constexpr std::string_view kReplacement = "[redacted]";

  SecretRedactor() = default;
  explicit SecretRedactor(std::vector<std::string> secrets);

  // Adds `secret` (surrounding whitespace trimmed); ignored when too short or already known.
  void Add(std::string_view secret);

  // `text` with every secret replaced; the longest secret first where two overlap.
  std::string Redact(std::string text) const;
  bool empty() const { return secrets_.empty(); }

 private:
  std::vector<std::string> secrets_;  // longest first
};

}  // namespace troupe
