// Which pool a model's tasks wait in, and its limit: DESIGN.md "Concurrency".
//   1. modelConcurrency["provider/model"] (or the reference's bare "model" key), else
//   2. providerConcurrency["provider"], else
//   3. defaultConcurrency, one pool per model.
// The pool is the level that gave the limit, so a provider limit is shared by all its models.
#pragma once

#include <map>
#include <string>

#include "config/config.h"

namespace troupe {

enum class PoolLevel { kModel, kProvider, kDefault };
const char* PoolLevelName(PoolLevel level);

struct PoolSpec {
  std::string key;  // "model:anthropic/claude-opus-4-5", "provider:anthropic", "default:mock/x"
  PoolLevel level = PoolLevel::kDefault;
  std::string provider;  // provider of the model(s) in it; cooldowns apply by provider
  int limit = 0;         // 0 = unlimited
};

class ConcurrencyPolicy {
 public:
  ConcurrencyPolicy() = default;
  ConcurrencyPolicy(const BackgroundTaskConfig& config, std::map<std::string, std::string> aliases);

  // The pool for a model name as written by a user; the name is canonicalised first.
  PoolSpec Resolve(const std::string& model) const;
  std::string Canonical(const std::string& model) const;
  int global_limit() const { return global_limit_; }

 private:
  std::map<std::string, std::string> aliases_;
  std::map<std::string, int> model_limits_;     // canonical keys
  std::map<std::string, int> provider_limits_;  // canonical keys
  int default_limit_ = 5;
  int global_limit_ = 0;
};

}  // namespace troupe
