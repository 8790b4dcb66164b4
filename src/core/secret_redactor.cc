#include "core/secret_redactor.h"

#include <algorithm>

namespace troupe {

SecretRedactor::SecretRedactor(std::vector<std::string> secrets) {
  for (const std::string& s : secrets) Add(s);
}

void SecretRedactor::Add(std::string_view secret) {
  const auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
  while (!secret.empty() && space(secret.front())) secret.remove_prefix(1);
  while (!secret.empty() && space(secret.back())) secret.remove_suffix(1);
  if (secret.size() < kMinSecretLength) return;
  if (std::find(secrets_.begin(), secrets_.end(), secret) != secrets_.end()) return;
  secrets_.emplace_back(secret);
  std::stable_sort(secrets_.begin(), secrets_.end(),
                   [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
}

std::string SecretRedactor::Redact(std::string text) const {
  for (const std::string& secret : secrets_) {
    size_t at = 0;
    while ((at = text.find(secret, at)) != std::string::npos) {
      text.replace(at, secret.size(), kReplacement);
      at += kReplacement.size();
    }
  }
  return text;
}

}  // namespace troupe
