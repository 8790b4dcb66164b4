// The providers a daemon can use, built from config: each named entry of `providers` plus the
// implicit ones — "openai", "anthropic" and "mock" exist with their defaults unless the config
// names them itself. A model is named "provider/model"; the registry finds the provider and
// hands it the model id (the part after the first '/', which may hold more slashes, as in
// "openrouter/meta-llama/llama-3.3-70b").
//
// API keys are read from the environment variable the provider names (`api_key_env`, default
// OPENAI_API_KEY / ANTHROPIC_API_KEY) when the registry is built. A provider whose key is missing
// still exists, so that Check can say, when a task is launched, which variable to set. Keys go
// only into request headers: ProviderInfo and every message name the variable, never its value.
// As the official SDKs do, OPENAI_BASE_URL / ANTHROPIC_BASE_URL (when set and not empty) replace
// the default endpoint of every provider of that type whose config gives no `base_url`.
//
// Threading: the loop thread only.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "core/clock.h"
#include "core/http_client.h"
#include "core/status.h"
#include "llm/http_chat_client.h"
#include "llm/provider.h"

namespace troupe {

struct ProviderDeps {
  HttpClient* http = nullptr;  // for openai and anthropic providers
  Clock* clock = nullptr;
  RateLimitObserver* observer = nullptr;  // may be null
  // Reads an environment variable; unset = ::getenv.
  std::function<std::optional<std::string>(const std::string& name)> getenv;
  // Builds a provider of type mock. Unset = the scripted MockProvider (llm/mock_provider.h).
  std::function<std::unique_ptr<Provider>(const ProviderConfig& config)> make_mock;
};

// What `troupe pools` / `GET /v1/providers` may show about a provider.
struct ProviderInfo {
  std::string name;
  std::string type;  // openai, openai-responses, anthropic, mock
  std::string base_url;
  std::string base_url_env;  // the variable base_url came from; "" = the config or the default
  std::string api_key_env;   // "" for mock
  bool has_api_key = false;
  bool implicit = false;  // not in the config file
};

struct ResolvedModel {
  Provider* provider = nullptr;
  std::string model_id;  // without the provider prefix
  // The provider config's max_output_tokens for this model (its id compared without case);
  // nullopt when the config gives none (llm/model_limits.h then knows it, or not).
  std::optional<int> max_output_tokens;
};

class ProviderRegistry {
 public:
  // Fails only on configuration no request could ever use: an unknown type (the config loader
  // already refuses those), a base_url that is not http(s), a mock script that does not parse.
  static Result<std::unique_ptr<ProviderRegistry>> Create(const Config& config, ProviderDeps deps);

  // OK when a task on `model` ("provider/model", aliases resolved) could be sent: the provider
  // exists and has its key. Otherwise the reason and what to do, e.g. `provider "anthropic" has
  // no API key: set ANTHROPIC_API_KEY in the daemon's environment`.
  Status Check(std::string_view model) const;

  // The provider of `model` and the id to ask it for; the same errors as Check.
  Result<ResolvedModel> Resolve(std::string_view model);

  std::vector<ProviderInfo> List() const;

 private:
  struct Entry {
    ProviderConfig config;
    ProviderInfo info;
    HttpChatOptions http;                // openai and anthropic
    std::unique_ptr<Provider> provider;  // built at first use
  };

  explicit ProviderRegistry(ProviderDeps deps, std::map<std::string, std::string> aliases)
      : deps_(std::move(deps)), aliases_(std::move(aliases)) {}
  // The provider name of `model` after checking it can be used; its id goes to `*model_id`.
  Result<std::string> Find(std::string_view model, std::string* model_id) const;

  ProviderDeps deps_;
  std::map<std::string, std::string> aliases_;
  std::map<std::string, Entry, std::less<>> entries_;
};

}  // namespace troupe
