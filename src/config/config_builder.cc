// Over 600 lines on purpose: one reader walks a file's sections with shared position-aware
// helpers (ReadInteger, ReadCost, Members, ...); splitting it per section would spread those
// helpers over files without making any section easier to read.
#include "config/config_builder.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <tuple>
#include <utility>

#include "config/config_formats.h"
#include "config/config_keys.h"
#include "config/mcp_servers_config.h"
#include "config/message_text.h"
#include "core/text_case.h"

namespace troupe {

namespace {

using json = nlohmann::json;

constexpr std::string_view kApiKeyAdvice =
    "API keys must never be written in config files: put the key in an environment variable "
    "and name that variable in \"api_key_env\" (for example \"api_key_env\": \"OPENAI_API_KEY\")";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsSpace(char c) { return std::isspace(static_cast<unsigned char>(c)) != 0; }

// Dotted key when it reads unambiguously, ["quoted"] otherwise.
bool IsPlainKey(std::string_view key) {
  if (key.empty() || IsDigit(key[0]) || key[0] == '-') return false;
  return std::all_of(key.begin(), key.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '-';
  });
}

}  // namespace

// Validates one file and applies it to the builder's Config.
class ConfigFileReader {
 public:
  ConfigFileReader(ConfigBuilder* builder, const std::string& file, const JsoncDocument& doc)
      : b_(builder), file_(file), doc_(doc) {}

  void Run() {
    for (const std::string& pointer : doc_.scan.duplicate_keys) {
      const At at = FromPointer(pointer);
      Warn(doc_.KeyPosition(pointer),
           at.path + ": the key appears more than once in its object; the last one is used");
    }
    if (!doc_.value.is_object()) {
      Error(doc_.ValuePosition(""),
            "expected an object at the top level ({ ... }), got " + DescribeJsonValue(doc_.value));
      return;
    }
    Members(doc_.value, At{}, FindConfigSection(""),
            [&](const ConfigKey& key, const json& v, const At& at) { TopLevel(key, v, at); });
  }

 private:
  // A value's place: its JSON pointer (for positions) and its path as shown in messages.
  struct At {
    std::string pointer;
    std::string path;
  };

  static At Child(const At& parent, std::string_view key) {
    At at{AppendJsonPointer(parent.pointer, key), parent.path};
    if (IsPlainKey(key)) {
      if (!at.path.empty()) at.path += '.';
      at.path += key;
    } else {
      at.path += "[" + json(key).dump(-1, ' ', false, json::error_handler_t::replace) + "]";
    }
    return at;
  }
  static At Element(const At& parent, size_t index) {
    return {AppendJsonPointer(parent.pointer, std::to_string(index)),
            parent.path + "[" + std::to_string(index) + "]"};
  }
  static At FromPointer(std::string_view pointer) {
    At at;
    while (!pointer.empty()) {
      pointer.remove_prefix(1);  // '/'
      const size_t end = std::min(pointer.find('/'), pointer.size());
      std::string token;
      for (size_t i = 0; i < end; ++i) {
        if (pointer[i] == '~' && i + 1 < end) {
          token += pointer[++i] == '1' ? '/' : '~';
        } else {
          token += pointer[i];
        }
      }
      at = Child(at, token);
      pointer.remove_prefix(end);
    }
    return at;
  }

  void Error(TextPosition p, std::string message) {
    b_->errors_.push_back({file_, p.line, p.column, std::move(message)});
  }
  void Warn(TextPosition p, std::string message) {
    b_->warnings_.push_back({file_, p.line, p.column, std::move(message)});
  }
  void ValueError(const At& at, const std::string& message) {
    Error(doc_.ValuePosition(at.pointer), at.path + ": " + message);
  }
  void KeyError(const At& at, const std::string& message) {
    Error(doc_.KeyPosition(at.pointer), at.path + ": " + message);
  }

  // Calls f(key, value, at) for each member of `object` known in `section`; warns about the
  // others, and refuses keys that would hold an API key.
  template <typename F>
  void Members(const json& object, const At& at, const ConfigSection& section, F f) {
    for (const auto& [name, value] : object.items()) {
      const At child = Child(at, name);
      const ConfigKey* key = section.Find(name);
      if ((key && key->type == ConfigValueType::kRefused) || (!key && LooksLikeApiKeyField(name))) {
        KeyError(child, std::string(kApiKeyAdvice));
      } else if (key) {
        f(*key, value, child);
      } else {
        std::string message = "unknown key " + json(name).dump() + " ";
        message += at.path.empty() ? "at the top level" : "in " + at.path;
        if (std::optional<std::string_view> near = section.Suggest(name)) {
          message += " (did you mean \"" + std::string(*near) + "\"?)";
        }
        Warn(doc_.KeyPosition(child.pointer), std::move(message));
      }
    }
  }

  bool ExpectObject(const json& v, const At& at) {
    if (v.is_object()) return true;
    ValueError(at, "expected an object, got " + DescribeJsonValue(v));
    return false;
  }

  bool ReadString(const json& v, const At& at, std::string* out, bool secret = false) {
    if (v.is_string()) {
      *out = v.get<std::string>();
      return true;
    }
    ValueError(at,
               "expected a string, got " + (secret ? DescribeJsonType(v) : DescribeJsonValue(v)));
    return false;
  }

  bool ReadBool(const json& v, const At& at, bool* out) {
    if (v.is_boolean()) {
      *out = v.get<bool>();
      return true;
    }
    ValueError(at, "expected true or false, got " + DescribeJsonValue(v));
    return false;
  }

  // `network`: true, false, or an array of host patterns, each checked where it is written.
  bool ReadNetwork(const json& v, const At& at, NetworkAccess* out) {
    if (v.is_boolean()) {
      *out = NetworkAccess(v.get<bool>());
      return true;
    }
    if (!v.is_array()) {
      ValueError(at,
                 "expected true, false, or an array of host patterns ([\"github.com\", "
                 "\"*.npmjs.org\"]), got " +
                     DescribeJsonValue(v));
      return false;
    }
    std::vector<HostPattern> hosts;
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      if (!v[i].is_string()) {
        ValueError(Element(at, i),
                   "expected a host pattern (\"github.com\", \"*.npmjs.org\", "
                   "\"github.com:443\"), got " +
                       DescribeJsonValue(v[i]));
        ok = false;
        continue;
      }
      Result<HostPattern> pattern = ParseHostPattern(v[i].get<std::string>());
      if (!pattern.ok()) {
        ValueError(Element(at, i), pattern.status().message());
        ok = false;
        continue;
      }
      hosts.push_back(std::move(*pattern));
    }
    if (!ok) return false;
    *out = NetworkAccess::Hosts(std::move(hosts));
    return true;
  }

  // An integer within the key's bounds.
  bool ReadInteger(const ConfigKey& key, const json& v, const At& at, int64_t* out) {
    std::string expected =
        key.minimum == 1 ? "an integer > 0" : "an integer >= " + std::to_string(key.minimum);
    if (v.is_number_integer()) {
      // Unsigned values above INT64_MAX are above every maximum.
      const bool too_big = v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX};
      const int64_t n = too_big ? INT64_MAX : v.get<int64_t>();
      if (n >= key.minimum && n <= key.maximum) {
        *out = n;
        return true;
      }
      if (n > key.maximum) {
        expected =
            "an integer from " + std::to_string(key.minimum) + " to " + std::to_string(key.maximum);
      }
    }
    if (!key.unit.empty()) expected += " (" + std::string(key.unit) + ")";
    ValueError(at, "expected " + expected + ", got " + DescribeJsonValue(v));
    return false;
  }

  bool ReadInt(const ConfigKey& key, const json& v, const At& at, int* out) {
    int64_t n = 0;
    if (!ReadInteger(key, v, at, &n)) return false;
    *out = static_cast<int>(n);  // bounds of int keys fit an int
    return true;
  }

  bool ReadNumber(const ConfigKey& key, const json& v, const At& at, double* out) {
    if (v.is_number()) {
      const double d = v.get<double>();
      if (d >= static_cast<double>(key.minimum) && d <= static_cast<double>(key.maximum)) {
        *out = d;
        return true;
      }
    }
    ValueError(at, "expected a number from " + std::to_string(key.minimum) + " to " +
                       std::to_string(key.maximum) + ", got " + DescribeJsonValue(v));
    return false;
  }

  // An object of integers; valid entries are merged into `out` key by key.
  void ReadIntegerMap(const ConfigKey& key, const json& v, const At& at,
                      std::map<std::string, int>* out) {
    if (!ExpectObject(v, at)) return;
    for (const auto& [name, value] : v.items()) {
      const At entry = Child(at, name);
      if (name.empty()) {
        KeyError(entry, "expected a non-empty name");
        continue;
      }
      int n = 0;
      if (ReadInt(key, value, entry, &n)) (*out)[name] = n;
    }
  }

  // An array of non-empty strings ("an array of tool names"); false, with an error, otherwise.
  bool ReadNames(const json& v, const At& at, std::string_view what,
                 std::vector<std::string>* out) {
    if (!v.is_array()) {
      ValueError(at,
                 "expected an array of " + std::string(what) + "s, got " + DescribeJsonValue(v));
      return false;
    }
    bool ok = true;
    for (size_t i = 0; i < v.size(); ++i) {
      if (v[i].is_string() && !v[i].get<std::string>().empty()) {
        out->push_back(v[i].get<std::string>());
      } else {
        ValueError(Element(at, i), "expected a" + std::string(what[0] == 'a' ? "n " : " ") +
                                       std::string(what) + ", got " + DescribeJsonValue(v[i]));
        ok = false;
      }
    }
    return ok;
  }

  // A model setting: "provider/model", or an alias checked once all files are merged.
  void ReadModel(const json& v, const At& at, std::string* out) {
    std::string model;
    if (!ReadString(v, at, &model)) return;
    if (std::all_of(model.begin(), model.end(), IsSpace) ||
        (model.find('/') != std::string::npos && !IsQualifiedModel(model))) {
      ValueError(at, "expected \"provider/model\" or an alias from model_aliases, got " +
                         DescribeJsonValue(v));
      return;
    }
    b_->model_origins_[at.path] = {file_, doc_.ValuePosition(at.pointer), at.path, model};
    *out = std::move(model);
  }

  void TopLevel(const ConfigKey& key, const json& v, const At& at) {
    Config& config = b_->config_;
    if (key.name == "$schema") {
      std::string ignored;
      ReadString(v, at, &ignored);
    } else if (key.name == "background_task") {
      if (!ExpectObject(v, at)) return;
      Members(v, at, FindConfigSection("background_task"),
              [&](const ConfigKey& k, const json& value, const At& where) {
                BackgroundTask(k, value, where);
              });
    } else if (key.name == "sandbox") {
      if (!ExpectObject(v, at)) return;
      Members(v, at, FindConfigSection("sandbox"),
              [&](const ConfigKey& k, const json& value, const At& where) {
                Sandbox(k, value, where);
              });
    } else if (key.name == "providers" || key.name == "agents") {
      if (!ExpectObject(v, at)) return;
      for (const auto& [name, entry] : v.items()) {
        const At entry_at = Child(at, name);
        if (key.name == "providers") {
          Provider(name, entry, entry_at);
        } else {
          Agent(name, entry, entry_at);
        }
      }
    } else if (key.name == "model_aliases") {
      if (!ExpectObject(v, at)) return;
      for (const auto& [alias, target] : v.items()) {
        const At entry = Child(at, alias);
        if (alias.empty() || alias.find('/') != std::string::npos ||
            std::any_of(alias.begin(), alias.end(), IsSpace)) {
          KeyError(entry, "an alias is a name without '/' or spaces, like \"opus\"");
          continue;
        }
        std::string model;
        if (!ReadString(target, entry, &model)) continue;
        if (!IsQualifiedModel(model)) {
          ValueError(entry, "expected \"provider/model\", got " + DescribeJsonValue(target));
          continue;
        }
        config.model_aliases[alias] = model;
      }
    } else if (key.name == "default_model") {
      ReadModel(v, at, &config.default_model);
    } else if (key.name == "prices") {
      if (!ExpectObject(v, at)) return;
      for (const auto& [model, entry] : v.items()) Price(model, entry, Child(at, model));
    } else if (key.name == "mcp_servers" || key.name == "mcpServers" || key.name == "mcp" ||
               key.name == "mcp_servers_allowed" || key.name == "webfetch") {
      McpSectionReader mcp(file_, doc_, &config, &b_->mcp_state_, &b_->errors_, &b_->warnings_);
      const ConfigPlace place{at.pointer, at.path};
      if (key.name == "mcp_servers_allowed") {
        mcp.Allowed(v, place);
      } else if (key.name == "webfetch") {
        mcp.WebFetch(v, place);
      } else if (key.name == "mcp") {
        mcp.OpenCodeServers(v, place);
      } else {
        mcp.Servers(v, place);
      }
    } else if (key.name == "budgets") {
      if (!ExpectObject(v, at)) return;
      Members(
          v, at, FindConfigSection("budgets"),
          [&](const ConfigKey& k, const json& value, const At& where) { Budget(k, value, where); });
    }
  }

  // A cost budget: a number of USD above 0.
  bool ReadCost(const ConfigKey& key, const json& v, const At& at, double* out) {
    if (v.is_number() && v.get<double>() > 0 &&
        v.get<double>() <= static_cast<double>(key.maximum)) {
      *out = v.get<double>();
      return true;
    }
    ValueError(at, "expected an amount of USD > 0 (at most " + std::to_string(key.maximum) +
                       "), got " + DescribeJsonValue(v));
    return false;
  }

  // One entry of `prices`: input and output are required, the cache prices default to input.
  void Price(const std::string& model, const json& v, const At& at) {
    if (!IsQualifiedModel(model)) {
      KeyError(at, "a price is for a \"provider/model\", like \"anthropic/claude-sonnet-4-5\"");
      return;
    }
    if (!ExpectObject(v, at)) return;
    ModelPrice price;
    std::optional<double> input, output, cache_write, cache_read;
    bool ok = true;
    Members(v, at, FindConfigSection("prices.*"),
            [&](const ConfigKey& key, const json& value, const At& where) {
              double d = 0;
              if (!ReadNumber(key, value, where, &d)) {
                ok = false;
                return;
              }
              if (key.name == "input") input = d;
              if (key.name == "output") output = d;
              if (key.name == "cache_write") cache_write = d;
              if (key.name == "cache_read") cache_read = d;
            });
    for (const char* name : {"input", "output"}) {
      if (!v.contains(name)) {
        KeyError(at, std::string("\"") + name + "\" is missing (USD per million tokens)");
        ok = false;
      }
    }
    if (!ok) return;
    price.input = *input;
    price.output = *output;
    price.cache_write = cache_write.value_or(*input);
    price.cache_read = cache_read.value_or(*input);
    b_->config_.prices[CanonicalModelName(model)] = price;
  }

  void Budget(const ConfigKey& key, const json& v, const At& at) {
    BudgetConfig& budgets = b_->config_.budgets;
    const std::string_view name = key.name;
    double cost = 0;
    int64_t n = 0;
    if (name == "task_max_tokens") {
      if (ReadInteger(key, v, at, &n)) budgets.task_max_tokens = n;
    } else if (name == "task_max_cost_usd") {
      if (ReadCost(key, v, at, &cost)) budgets.task_max_cost_usd = cost;
    } else if (name == "tree_max_cost_usd") {
      if (ReadCost(key, v, at, &cost)) budgets.tree_max_cost_usd = cost;
    } else if (name == "tree_max_tasks") {
      ReadInt(key, v, at, &budgets.tree_max_tasks);
    } else if (name == "tree_max_running") {
      ReadInt(key, v, at, &budgets.tree_max_running);
    } else if (name == "daily_max_cost_usd") {
      if (ReadCost(key, v, at, &cost)) budgets.daily_max_cost_usd = cost;
    } else if (name == "allow_unpriced_models") {
      ReadBool(v, at, &budgets.allow_unpriced_models);
    }
  }

  void BackgroundTask(const ConfigKey& key, const json& v, const At& at) {
    BackgroundTaskConfig& bt = b_->config_.background_task;
    const std::string_view name = key.name;
    if (name == "defaultConcurrency") {
      ReadInt(key, v, at, &bt.default_concurrency);
    } else if (name == "globalConcurrency") {
      ReadInt(key, v, at, &bt.global_concurrency);
    } else if (name == "providerConcurrency") {
      ReadIntegerMap(key, v, at, &bt.provider_concurrency);
      if (!v.is_object()) return;
      for (const auto& [provider, limit] : v.items()) {
        if (provider.find('/') == std::string::npos) continue;
        Warn(doc_.KeyPosition(Child(at, provider).pointer),
             Child(at, provider).path +
                 ": this is a model name, so this limit never applies; limits per model go in "
                 "background_task.modelConcurrency");
      }
    } else if (name == "modelConcurrency") {
      ReadIntegerMap(key, v, at, &bt.model_concurrency);
    } else if (name == "taskTtlMs") {
      ReadInteger(key, v, at, &bt.task_ttl_ms);
    } else if (name == "pendingTtlMs") {
      ReadInteger(key, v, at, &bt.pending_ttl_ms);
    } else if (name == "staleTimeoutMs") {
      ReadInteger(key, v, at, &bt.stale_timeout_ms);
    } else if (name == "maxDepth") {
      ReadInt(key, v, at, &bt.max_depth);
    } else if (name == "resumeInterrupted") {
      ReadBool(v, at, &bt.resume_interrupted);
    }
  }

  void Sandbox(const ConfigKey& key, const json& v, const At& at) {
    SandboxConfig& sb = b_->config_.sandbox;
    const std::string_view name = key.name;
    if (name == "mode") {
      std::string mode;
      if (!ReadString(v, at, &mode)) return;
      if (mode != "bwrap" && mode != "none") {
        ValueError(at, "expected \"bwrap\" (the default) or \"none\" (no sandbox), got " +
                           DescribeJsonValue(v));
        return;
      }
      sb.mode = std::move(mode);
    } else if (name == "network") {
      ReadNetwork(v, at, &sb.network);
    } else if (name == "hide") {
      std::vector<std::string> paths;
      if (!ReadNames(v, at, "path", &paths)) return;
      for (size_t i = 0; i < paths.size(); ++i) {
        if (paths[i][0] != '/' && paths[i].rfind("~/", 0) != 0) {
          ValueError(Element(at, i), "expected an absolute path or one starting with \"~/\", got " +
                                         DescribeJsonValue(v[i]));
          return;
        }
      }
      sb.hide = std::move(paths);
    } else if (name == "max_processes") {
      ReadInteger(key, v, at, &sb.max_processes);
    } else if (name == "cpu_seconds") {
      ReadInteger(key, v, at, &sb.cpu_seconds);
    } else if (name == "memory_mb") {
      ReadInteger(key, v, at, &sb.memory_mb);
    } else if (name == "file_size_mb") {
      ReadInteger(key, v, at, &sb.file_size_mb);
    } else if (name == "bwrap") {
      ReadString(v, at, &sb.bwrap);
    }
  }

  void Provider(const std::string& name, const json& v, const At& at) {
    if (!IsProviderName(name)) {
      KeyError(at,
               "a provider name uses lowercase letters, digits, '.', '_' and '-', and starts "
               "with a letter or digit");
      return;
    }
    if (!ExpectObject(v, at)) return;
    b_->provider_origins_[name] = {file_, doc_.KeyPosition(at.pointer), at.path, name};
    ProviderConfig& provider = b_->config_.providers[name];
    provider.name = name;
    Members(v, at, FindConfigSection("providers.*"),
            [&](const ConfigKey& key, const json& value, const At& where) {
              ProviderSetting(name, &provider, key, value, where);
            });
  }

  void ProviderSetting(const std::string& name, ProviderConfig* provider, const ConfigKey& key,
                       const json& v, const At& at) {
    if (key.name == "type") {
      std::string type;
      if (ReadString(v, at, &type) &&
          std::find(std::begin(kProviderTypes), std::end(kProviderTypes), type) ==
              std::end(kProviderTypes)) {
        std::string message = "expected " + ProviderTypeChoices() + ", got " + DescribeJsonValue(v);
        for (std::string_view known : kProviderTypes) {
          if (EditDistance(AsciiLowercase(type), known) <= 2) {
            message += " (did you mean \"" + std::string(known) + "\"?)";
            break;
          }
        }
        ValueError(at, message);
        type.clear();
      }
      if (type.empty()) {
        b_->providers_with_bad_type_.insert(name);
      } else {
        provider->type = type;
      }
    } else if (key.name == "base_url") {
      // Never echoed: a URL may carry a key in its query string.
      std::string url;
      if (!ReadString(v, at, &url, /*secret=*/true)) return;
      const bool https = url.rfind("https://", 0) == 0;
      const bool http = url.rfind("http://", 0) == 0;
      const std::string_view rest = std::string_view(url).substr(https ? 8 : http ? 7 : 0);
      const std::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
      if ((!http && !https) || authority.empty() || std::any_of(url.begin(), url.end(), IsSpace)) {
        ValueError(at,
                   "expected an http:// or https:// URL without spaces, like "
                   "\"https://api.openai.com/v1\"");
      } else if (authority.find('@') != std::string_view::npos) {
        ValueError(at, "must not contain a user name or password; " + std::string(kApiKeyAdvice));
      } else {
        provider->base_url = url;
      }
    } else if (key.name == "api_key_env") {
      // Never echoed: a user may have pasted the key itself here.
      std::string env;
      if (!ReadString(v, at, &env, /*secret=*/true)) return;
      if (!IsEnvVarName(env)) {
        ValueError(at,
                   "expected the name of an environment variable (capital letters, digits and "
                   "'_', like \"OPENAI_API_KEY\"), not the key itself; put the key in that "
                   "variable");
        return;
      }
      provider->api_key_env = env;
    } else if (key.name == "api_key_header") {
      std::string header;
      if (!ReadString(v, at, &header)) return;
      if (!IsHeaderName(header)) {
        ValueError(at,
                   "expected a header name (letters, digits and !#$%&'*+-.^_`|~), like "
                   "\"api-key\"");
      } else {
        provider->api_key_header = header;
      }
    } else if (key.name == "headers") {
      if (!ExpectObject(v, at)) return;
      for (const auto& [header, value] : v.items()) {
        const At entry = Child(at, header);
        if (!IsHeaderName(header)) {
          KeyError(entry, "expected a header name (letters, digits and !#$%&'*+-.^_`|~)");
        } else if (IsCredentialHeader(header)) {
          std::string message =
              "credentials must not be written in config files; troupe sends the "
              "key from the environment variable named in \"api_key_env\"";
          if (const std::string lower = AsciiLowercase(header);
              lower == "api-key" || lower == "x-api-key") {
            message += ", in the header named in \"api_key_header\" (\"api_key_header\": \"" +
                       header + "\")";
          }
          KeyError(entry, message);
        } else if (std::string text; ReadString(value, entry, &text, /*secret=*/true)) {
          if (text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
            ValueError(entry, "a header value must not contain line breaks or NUL characters");
          } else {
            provider->headers[header] = std::move(text);
          }
        }
      }
    } else if (key.name == "max_reply_bytes") {
      ReadInteger(key, v, at, &provider->max_reply_bytes);
    } else if (key.name == "max_output_tokens") {
      ReadIntegerMap(key, v, at, &provider->max_output_tokens);
    } else if (key.name == "script") {
      if (std::string script; ReadString(v, at, &script)) {
        provider->mock_script = std::move(script);
        b_->script_origins_[name] = {file_, doc_.KeyPosition(at.pointer), at.path, ""};
      }
    }
  }

  void Agent(const std::string& name, const json& v, const At& at) {
    if (name.empty()) {
      KeyError(at, "an agent name must not be empty");
      return;
    }
    if (!ExpectObject(v, at)) return;
    AgentConfig& agent = b_->config_.agents[name];
    Members(v, at, FindConfigSection("agents.*"),
            [&](const ConfigKey& key, const json& value, const At& where) {
              AgentSetting(&agent, key, value, where);
            });
  }

  void AgentSetting(AgentConfig* agent, const ConfigKey& key, const json& v, const At& at) {
    const std::string_view name = key.name;
    auto read_int = [&](std::optional<int>* field) {
      if (int n = 0; ReadInt(key, v, at, &n)) *field = n;
    };
    auto read_int64 = [&](std::optional<int64_t>* field) {
      if (int64_t n = 0; ReadInteger(key, v, at, &n)) *field = n;
    };
    auto read_string = [&](std::optional<std::string>* field) {
      if (std::string s; ReadString(v, at, &s)) *field = std::move(s);
    };
    if (name == "model") {
      std::string model;
      ReadModel(v, at, &model);
      if (!model.empty()) agent->model = std::move(model);
    } else if (name == "tools") {
      if (std::vector<std::string> tools; ReadNames(v, at, "tool name", &tools)) {
        McpSectionReader mcp(file_, doc_, &b_->config_, &b_->mcp_state_, &b_->errors_,
                             &b_->warnings_);
        for (size_t i = 0; i < tools.size(); ++i) {
          const At element = Element(at, i);
          if (tools[i].starts_with("mcp:"))
            mcp.AgentToolPattern(tools[i], {element.pointer, element.path});
        }
        agent->tools = std::move(tools);
      }
    } else if (name == "delegates_to") {
      if (std::vector<std::string> agents; ReadNames(v, at, "agent name", &agents)) {
        agent->delegates_to = std::move(agents);
      }
    } else if (name == "network") {
      if (NetworkAccess access; ReadNetwork(v, at, &access)) agent->network = std::move(access);
    } else if (name == "isolation") {
      std::string isolation;
      if (!ReadString(v, at, &isolation)) return;
      if (isolation != "none" && isolation != "worktree") {
        ValueError(at, "expected one of none, worktree, got " + DescribeJsonValue(v));
        return;
      }
      agent->isolation = std::move(isolation);
    } else if (name == "max_turns") {
      read_int(&agent->max_turns);
    } else if (name == "max_tool_calls") {
      read_int(&agent->max_tool_calls);
    } else if (name == "temperature") {
      if (double t = 0; ReadNumber(key, v, at, &t)) agent->temperature = t;
    } else if (name == "max_output_tokens") {
      read_int(&agent->max_output_tokens);
    } else if (name == "thinking_budget") {
      read_int(&agent->thinking_budget);
    } else if (name == "reasoning_effort") {
      std::string effort;
      if (!ReadString(v, at, &effort)) return;
      if (!IsReasoningEffort(effort)) {
        ValueError(at, "expected one of " + std::string(kReasoningEffortChoices) + ", got " +
                           DescribeJsonValue(v));
        return;
      }
      agent->reasoning_effort = std::move(effort);
    } else if (name == "prompt_caching") {
      if (bool on = true; ReadBool(v, at, &on)) agent->prompt_caching = on;
    } else if (name == "prompt") {
      read_string(&agent->prompt);
    } else if (name == "prompt_append") {
      read_string(&agent->prompt_append);
    } else if (name == "description") {
      read_string(&agent->description);
    } else if (name == "taskTtlMs") {
      read_int64(&agent->task_ttl_ms);
    } else if (name == "pendingTtlMs") {
      read_int64(&agent->pending_ttl_ms);
    } else if (name == "staleTimeoutMs") {
      read_int64(&agent->stale_timeout_ms);
    } else if (name == "max_tokens") {
      read_int64(&agent->max_tokens);
    } else if (name == "max_cost_usd") {
      if (double cost = 0; ReadCost(key, v, at, &cost)) agent->max_cost_usd = cost;
    } else if (name == "fallback_models") {
      if (!v.is_array()) {
        ValueError(at, "expected an array of \"provider/model\" names or aliases, got " +
                           DescribeJsonValue(v));
        return;
      }
      std::vector<std::string> models;
      for (size_t i = 0; i < v.size(); ++i) {
        std::string model;
        ReadModel(v[i], Element(at, i), &model);
        if (!model.empty()) models.push_back(std::move(model));
      }
      agent->fallback_models = std::move(models);
    } else if (name == "loop_repeats") {
      read_int(&agent->loop_repeats);
    } else if (name == "loop_idle_turns") {
      read_int(&agent->loop_idle_turns);
    }
  }

  ConfigBuilder* b_;
  const std::string& file_;
  const JsoncDocument& doc_;
};

void ConfigBuilder::AddFile(const std::string& file, const JsoncDocument& doc) {
  file_order_.push_back(file);
  if (doc.scan.empty) return;
  ConfigFileReader(this, file, doc).Run();
}

void ConfigBuilder::AddError(ConfigDiagnostic error) {
  file_order_.push_back(error.file);
  errors_.push_back(std::move(error));
}

// An agent's model and fallback_models name each model once, aliases resolved: a model named
// twice would be fallen back to again and again, and every launch of the agent would be refused
// for it — better said once, where it is written.
void ConfigBuilder::CheckModelLists() {
  auto resolved = [&](const std::string& name) {
    auto alias = config_.model_aliases.find(name);
    if (alias == config_.model_aliases.end()) {
      for (auto it = config_.model_aliases.begin(); it != config_.model_aliases.end(); ++it) {
        if (CanonicalModelName(it->first) == CanonicalModelName(name)) alias = it;
      }
    }
    return CanonicalModelName(alias == config_.model_aliases.end() ? name : alias->second);
  };
  for (const auto& [agent, settings] : config_.agents) {
    if (!settings.fallback_models || settings.fallback_models->empty()) continue;
    const std::vector<std::string>& fallbacks = *settings.fallback_models;
    std::map<std::string, std::string> seen;  // resolved model -> where it was named
    const std::string at = "agents." + agent + ".";
    if (settings.model) seen.emplace(resolved(*settings.model), at + "model");
    for (size_t i = 0; i < fallbacks.size(); ++i) {
      const std::string& name = fallbacks[i];
      const std::string path = at + "fallback_models[" + std::to_string(i) + "]";
      auto [first, inserted] = seen.emplace(resolved(name), path);
      if (inserted) continue;
      auto origin = model_origins_.find(path);
      if (origin == model_origins_.end()) continue;
      errors_.push_back(
          {origin->second.file, origin->second.position.line, origin->second.position.column,
           path + ": " + json(name).dump() + " is already in the agent's model list (" +
               first->second + "); each model is tried once"});
    }
  }
}

Result<LoadedConfig> ConfigBuilder::Finish(std::vector<std::string> files) {
  // Checks of the merged result, reported where the setting was last written.
  for (const auto& [name, origin] : provider_origins_) {
    if (config_.providers[name].type.empty() && !providers_with_bad_type_.count(name)) {
      errors_.push_back({origin.file, origin.position.line, origin.position.column,
                         origin.path + ": \"type\" is missing (" + ProviderTypeChoices() + ")"});
    }
  }
  for (const auto& [name, origin] : script_origins_) {
    const std::string& type = config_.providers[name].type;
    if (!type.empty() && type != "mock") {
      warnings_.push_back({origin.file, origin.position.line, origin.position.column,
                           origin.path +
                               ": only a provider of type \"mock\" uses a script; "
                               "this one is of type \"" +
                               type + "\", so it is ignored"});
    }
  }
  FinishMcpServers(&config_, mcp_state_, &errors_, &warnings_);
  std::set<std::string> aliases;
  for (const auto& [alias, target] : config_.model_aliases)
    aliases.insert(CanonicalModelName(alias));
  for (const auto& [path, origin] : model_origins_) {
    if (origin.value.find('/') != std::string::npos ||
        aliases.count(CanonicalModelName(origin.value))) {
      continue;
    }
    errors_.push_back({origin.file, origin.position.line, origin.position.column,
                       origin.path +
                           ": expected \"provider/model\" or an alias from "
                           "model_aliases, got " +
                           json(origin.value).dump()});
  }

  CheckModelLists();

  auto file_rank = [&](const std::string& file) {
    return std::find(file_order_.begin(), file_order_.end(), file) - file_order_.begin();
  };
  auto by_place = [&](const ConfigDiagnostic& a, const ConfigDiagnostic& b) {
    return std::make_tuple(file_rank(a.file), a.line, a.column) <
           std::make_tuple(file_rank(b.file), b.line, b.column);
  };
  std::stable_sort(errors_.begin(), errors_.end(), by_place);
  std::stable_sort(warnings_.begin(), warnings_.end(), by_place);

  if (!errors_.empty()) {
    std::string message;
    for (const ConfigDiagnostic& error : errors_) {
      if (!message.empty()) message += '\n';
      message += error.ToString();
    }
    return Status::InvalidArgument(std::move(message));
  }
  LoadedConfig loaded;
  loaded.config = std::move(config_);
  loaded.warnings = std::move(warnings_);
  loaded.files = std::move(files);
  return loaded;
}

}  // namespace troupe
