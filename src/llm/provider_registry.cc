#include "llm/provider_registry.h"

#include <fmt/format.h>

#include <cstdlib>
#include <utility>

#include "core/text_case.h"
#include "llm/mock_model.h"
#include "llm/mock_provider.h"

namespace troupe {
namespace {

// OpenAI's Responses API is OpenAI's: it takes OpenAI's key, endpoint and variables.
bool IsOpenAiType(const std::string& type) {
  return type == "openai" || type == "openai-responses";
}

std::string DefaultKeyEnv(const std::string& type) {
  if (IsOpenAiType(type)) return "OPENAI_API_KEY";
  if (type == "anthropic") return "ANTHROPIC_API_KEY";
  return "";
}

// The variable the official SDKs read an endpoint from.
std::string BaseUrlEnv(const std::string& type) {
  if (IsOpenAiType(type)) return "OPENAI_BASE_URL";
  if (type == "anthropic") return "ANTHROPIC_BASE_URL";
  return "";
}

std::string DefaultBaseUrl(const std::string& type) {
  if (IsOpenAiType(type)) return kDefaultOpenAiBaseUrl;
  if (type == "anthropic") return kDefaultAnthropicBaseUrl;
  return "";
}

// A key pasted with a trailing newline is common; one with control characters inside could
// smuggle headers into the request.
Result<std::string> CleanKey(std::string key, const std::string& env) {
  while (!key.empty() && (key.back() == '\n' || key.back() == '\r' || key.back() == ' ')) {
    key.pop_back();
  }
  size_t start = key.find_first_not_of(' ');
  key.erase(0, start == std::string::npos ? key.size() : start);
  for (unsigned char c : key) {
    if (c < 0x20 || c == 0x7f) {
      return Status::InvalidArgument(fmt::format(
          "the API key in {} contains a control character; set it to the key alone", env));
    }
  }
  return key;
}

}  // namespace

Result<std::unique_ptr<ProviderRegistry>> ProviderRegistry::Create(const Config& config,
                                                                   ProviderDeps deps) {
  if (!deps.getenv) {
    deps.getenv = [](const std::string& name) -> std::optional<std::string> {
      const char* v = std::getenv(name.c_str());
      if (v == nullptr) return std::nullopt;
      return std::string(v);
    };
  }
  std::unique_ptr<ProviderRegistry> registry(
      new ProviderRegistry(std::move(deps), config.model_aliases));

  std::map<std::string, ProviderConfig> all = config.providers;
  for (const char* implicit : {"openai", "anthropic", "mock"}) {
    if (!all.contains(implicit)) {
      ProviderConfig c;
      c.name = implicit;
      c.type = implicit;
      all.emplace(implicit, std::move(c));
    }
  }

  for (auto& [name, pc] : all) {
    Entry e;
    e.config = pc;
    e.config.name = name;
    e.info.name = name;
    e.info.type = pc.type;
    e.info.implicit = !config.providers.contains(name);
    if (!IsOpenAiType(pc.type) && pc.type != "anthropic" && pc.type != "mock") {
      return Status::InvalidArgument(
          fmt::format("providers.{}.type: expected \"openai\", \"openai-responses\", "
                      "\"anthropic\" or \"mock\", got \"{}\"",
                      name, pc.type));
    }
    if (pc.type == "mock") {
      // A broken script would turn every reply into a 400; say so when the daemon starts.
      MockModelOptions probe_options;
      probe_options.default_directives = pc.mock_script;
      MockModel probe(probe_options);
      if (!probe.default_directives_status().ok()) {
        return Status::InvalidArgument(fmt::format("providers.{}.script: {}", name,
                                                   probe.default_directives_status().message()));
      }
    } else {
      e.info.base_url = pc.base_url;
      if (e.info.base_url.empty()) {
        std::optional<std::string> from_env = registry->deps_.getenv(BaseUrlEnv(pc.type));
        if (from_env && !from_env->empty()) {
          e.info.base_url = *from_env;
          e.info.base_url_env = BaseUrlEnv(pc.type);
        } else {
          e.info.base_url = DefaultBaseUrl(pc.type);
        }
      }
      if (!e.info.base_url.starts_with("http://") && !e.info.base_url.starts_with("https://")) {
        const std::string where =
            e.info.base_url_env.empty()
                ? fmt::format("providers.{}.base_url", name)
                : fmt::format("{} (for provider {})", e.info.base_url_env, name);
        return Status::InvalidArgument(
            fmt::format("{}: expected an http:// or https:// URL, got \"{}\"", where,
                        UrlForDisplay(e.info.base_url)));
      }
      e.info.api_key_env = pc.api_key_env.empty() ? DefaultKeyEnv(pc.type) : pc.api_key_env;
      e.http.provider = name;
      e.http.format = pc.type == "anthropic"          ? WireFormat::kAnthropic
                      : pc.type == "openai-responses" ? WireFormat::kOpenAiResponses
                                                      : WireFormat::kOpenAi;
      e.http.base_url = e.info.base_url;
      e.http.api_key_header = pc.api_key_header;
      e.http.max_body_bytes = static_cast<size_t>(pc.max_reply_bytes);
      for (const auto& [header, value] : pc.headers)
        e.http.extra_headers.push_back({header, value});
      if (std::optional<std::string> key = registry->deps_.getenv(e.info.api_key_env)) {
        std::string cleaned;
        TROUPE_ASSIGN_OR_RETURN(cleaned, CleanKey(*key, e.info.api_key_env));
        e.http.api_key = std::move(cleaned);
        e.info.has_api_key = !e.http.api_key.empty();
      }
    }
    // Provider names compare without case, as the engine's pool keys do.
    registry->entries_.emplace(AsciiLowercase(name), std::move(e));
  }
  return registry;
}

Result<std::string> ProviderRegistry::Find(std::string_view model, std::string* model_id) const {
  std::string name(model);
  if (auto alias = aliases_.find(name); alias != aliases_.end()) name = alias->second;
  size_t slash = name.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == name.size()) {
    return Status::InvalidArgument(
               fmt::format(
                   "model \"{}\" must be written provider/model, e.g. anthropic/claude-sonnet-4-5",
                   name))
        .WithField("model");
  }
  std::string provider = AsciiLowercase(name.substr(0, slash));
  auto it = entries_.find(provider);
  if (it == entries_.end()) {
    std::string known;
    for (const auto& [n, e] : entries_) known += (known.empty() ? "" : ", ") + n;
    return Status::NotFound(
               fmt::format("model \"{}\": no provider named \"{}\" (known: {}); add it "
                           "under \"providers\" in the config",
                           name, provider, known))
        .WithField("model");
  }
  const Entry& e = it->second;
  if (e.config.type != "mock" && !e.info.has_api_key) {
    return Status::FailedPrecondition(
               fmt::format("provider \"{}\" has no API key: set {} in the daemon's environment (or "
                           "name another variable in providers.{}.api_key_env)",
                           provider, e.info.api_key_env, provider))
        .WithField("model");
  }
  if (model_id) *model_id = name.substr(slash + 1);
  return provider;
}

Status ProviderRegistry::Check(std::string_view model) const {
  return Find(model, nullptr).status();
}

Result<ResolvedModel> ProviderRegistry::Resolve(std::string_view model) {
  ResolvedModel out;
  std::string provider;
  TROUPE_ASSIGN_OR_RETURN(provider, Find(model, &out.model_id));
  Entry& e = entries_.find(provider)->second;
  for (const auto& [id, limit] : e.config.max_output_tokens) {
    if (EqualsIgnoringAsciiCase(id, out.model_id)) out.max_output_tokens = limit;
    if (id == out.model_id) break;  // an exact match wins over one differing in case
  }
  if (!e.provider) {
    if (e.config.type == "mock") {
      if (deps_.make_mock) {
        e.provider = deps_.make_mock(e.config);
      } else {
        if (deps_.clock == nullptr) {
          return Status::Internal("ProviderRegistry: no Clock to build " + e.info.name);
        }
        MockModelOptions options;
        options.default_directives = e.config.mock_script;
        e.provider =
            std::make_unique<MockProvider>(e.info.name, options, deps_.clock, deps_.observer);
      }
    } else {
      if (deps_.http == nullptr || deps_.clock == nullptr) {
        return Status::Internal("ProviderRegistry: no HttpClient or Clock to build " + e.info.name);
      }
      e.provider = MakeHttpChatProvider(deps_.http, deps_.clock, deps_.observer, e.http);
    }
  }
  out.provider = e.provider.get();
  return out;
}

std::vector<ProviderInfo> ProviderRegistry::List() const {
  std::vector<ProviderInfo> out;
  for (const auto& [name, e] : entries_) out.push_back(e.info);
  return out;
}

}  // namespace troupe
