#include "config/config_formats.h"

#include <algorithm>
#include <cctype>
#include <iterator>

#include "core/text_case.h"

namespace troupe {

namespace {

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }
bool IsUpperAlnumOrUnderscore(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}
bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

}  // namespace

std::string ProviderTypeChoices() {
  constexpr size_t kCount = std::size(kProviderTypes);
  std::string out;
  for (size_t i = 0; i < kCount; ++i) {
    if (i > 0) out += i + 1 == kCount ? " or " : ", ";
    out += "\"" + std::string(kProviderTypes[i]) + "\"";
  }
  return out;
}

std::string CanonicalModelName(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (!IsSpace(c)) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

bool IsProviderName(std::string_view s) {
  if (s.empty() || !IsLowerAlnum(s[0])) return false;
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-'; });
}

bool IsEnvVarName(std::string_view s) {
  if (s.empty() || IsDigit(s[0])) return false;
  return std::all_of(s.begin(), s.end(), IsUpperAlnumOrUnderscore);
}

bool IsHeaderName(std::string_view s) {
  static constexpr std::string_view kSymbols = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || kSymbols.find(c) != kSymbols.npos;
  });
}

bool IsCredentialHeader(std::string_view name) {
  const std::string lower = AsciiLowercase(name);
  return lower == "authorization" || lower == "proxy-authorization" || lower == "x-api-key" ||
         lower == "api-key";
}

bool LooksLikeApiKeyField(std::string_view key) {
  std::string normalized;
  for (char c : key) {
    if (c != '_' && c != '-') {
      normalized += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return normalized == "apikey";
}

bool IsQualifiedModel(std::string_view s) {
  const size_t slash = s.find('/');
  if (slash == std::string_view::npos) return false;
  auto blank = [](std::string_view part) { return std::all_of(part.begin(), part.end(), IsSpace); };
  return !blank(s.substr(0, slash)) && !blank(s.substr(slash + 1));
}

}  // namespace troupe
