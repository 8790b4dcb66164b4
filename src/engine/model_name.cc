#include "engine/model_name.h"

#include <cctype>

namespace troupe {
namespace {

std::string Fold(std::string_view name) {
  std::string out;
  out.reserve(name.size());
  for (unsigned char c : name) {
    if (std::isspace(c)) continue;
    out.push_back(static_cast<char>(std::tolower(c)));
  }
  return out;
}

}  // namespace

std::string CanonicalModel(std::string_view name,
                           const std::map<std::string, std::string>& aliases) {
  std::string folded = Fold(name);
  for (const auto& [alias, target] : aliases) {
    if (Fold(alias) == folded) return Fold(target);
  }
  return folded;
}

std::string_view ProviderOf(std::string_view canonical_model) {
  size_t slash = canonical_model.find('/');
  return slash == std::string_view::npos ? std::string_view() : canonical_model.substr(0, slash);
}

std::string_view BareModelOf(std::string_view canonical_model) {
  size_t slash = canonical_model.find('/');
  return slash == std::string_view::npos ? canonical_model : canonical_model.substr(slash + 1);
}

}  // namespace troupe
