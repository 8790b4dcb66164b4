#include "config/mcp_servers_config.h"

#include <algorithm>
#include <filesystem>

#include "config/config_formats.h"
#include "config/config_keys.h"
#include "config/message_text.h"

namespace troupe {

namespace {

using json = nlohmann::json;

ConfigPlace Child(const ConfigPlace& at, std::string_view key) {
  return {AppendJsonPointer(at.pointer, key), at.path + "." + std::string(key)};
}
ConfigPlace Element(const ConfigPlace& at, size_t i) {
  return {AppendJsonPointer(at.pointer, std::to_string(i)),
          at.path + "[" + std::to_string(i) + "]"};
}

constexpr std::string_view kServerTypes = "\"stdio\" or \"http\"";

}  // namespace

bool IsProjectConfigFile(std::string_view path) {
  const std::filesystem::path p(path);
  return p.parent_path().filename() == ".troupe";
}

bool IsMcpServerName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  if (name.find("__") != std::string_view::npos) return false;
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  return std::all_of(name.begin(), name.end(), ok) && name[0] != '_' && name[0] != '-';
}

McpToolPattern ParseMcpToolPattern(std::string_view entry) {
  if (!entry.starts_with("mcp:")) return {};
  entry.remove_prefix(4);
  const size_t slash = entry.find('/');
  McpToolPattern p;
  p.server = std::string(entry.substr(0, slash));
  p.tool_glob = slash == std::string_view::npos ? "*" : std::string(entry.substr(slash + 1));
  if (p.tool_glob.empty()) p.tool_glob = "*";
  return p;
}

bool GlobMatch(std::string_view glob, std::string_view name) {
  // Iterative matching with one backtrack point (the last '*').
  size_t g = 0, n = 0, star = std::string_view::npos, mark = 0;
  while (n < name.size()) {
    if (g < glob.size() && glob[g] == '*') {
      star = g++;
      mark = n;
    } else if (g < glob.size() && glob[g] == name[n]) {
      ++g;
      ++n;
    } else if (star != std::string_view::npos) {
      g = star + 1;
      n = ++mark;
    } else {
      return false;
    }
  }
  while (g < glob.size() && glob[g] == '*') ++g;
  return g == glob.size();
}

Result<std::string> ExpandEnvReferences(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '$' || i + 1 >= text.size()) {
      out += text[i];
    } else if (text[i + 1] == '$') {
      out += '$';
      ++i;
    } else if (text[i + 1] == '{') {
      const size_t end = text.find('}', i + 2);
      if (end == std::string_view::npos) {
        return Status::InvalidArgument("\"${\" without a closing \"}\"");
      }
      const std::string name(text.substr(i + 2, end - i - 2));
      if (!IsEnvVarName(name)) {
        return Status::InvalidArgument("\"${" + Snippet(name) +
                                       "}\" is not an environment variable name (capital letters, "
                                       "digits and '_')");
      }
      std::optional<std::string> value = lookup(name);
      if (!value) return Status::InvalidArgument("environment variable " + name + " is not set");
      out += *value;
      i = end;
    } else {
      out += text[i];
    }
  }
  return out;
}

McpSectionReader::McpSectionReader(const std::string& file, const JsoncDocument& doc,
                                   Config* config, McpConfigState* state,
                                   std::vector<ConfigDiagnostic>* errors,
                                   std::vector<ConfigDiagnostic>* warnings)
    : file_(file),
      doc_(doc),
      config_(config),
      state_(state),
      errors_(errors),
      warnings_(warnings),
      project_(IsProjectConfigFile(file)) {}

void McpSectionReader::Error(const ConfigPlace& at, std::string message, bool at_key) {
  const TextPosition p = at_key ? doc_.KeyPosition(at.pointer) : doc_.ValuePosition(at.pointer);
  errors_->push_back({file_, p.line, p.column, at.path + ": " + std::move(message)});
}

void McpSectionReader::Warn(const ConfigPlace& at, std::string message) {
  const TextPosition p = doc_.KeyPosition(at.pointer);
  warnings_->push_back({file_, p.line, p.column, at.path + ": " + std::move(message)});
}

bool McpSectionReader::String(const json& v, const ConfigPlace& at, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
    return true;
  }
  Error(at, "expected a string, got " + DescribeJsonValue(v));
  return false;
}

bool McpSectionReader::Strings(const json& v, const ConfigPlace& at,
                               std::vector<std::string>* out) {
  if (!v.is_array()) {
    Error(at, "expected an array of strings, got " + DescribeJsonValue(v));
    return false;
  }
  std::vector<std::string> items;
  for (size_t i = 0; i < v.size(); ++i) {
    std::string s;
    if (!String(v[i], Element(at, i), &s)) return false;
    items.push_back(std::move(s));
  }
  *out = std::move(items);
  return true;
}

bool McpSectionReader::StringMap(const json& v, const ConfigPlace& at,
                                 std::map<std::string, std::string>* out, bool header_names) {
  if (!v.is_object()) {
    Error(at, "expected an object of strings, got " + DescribeJsonValue(v));
    return false;
  }
  std::map<std::string, std::string> items;
  bool ok = true;
  for (const auto& [key, value] : v.items()) {
    const ConfigPlace entry = Child(at, key);
    if (header_names ? !IsHeaderName(key) : !IsEnvVarName(key)) {
      Error(entry,
            header_names ? "expected a header name (letters, digits and !#$%&'*+-.^_`|~)"
                         : "expected an environment variable name (capital letters, digits, '_')",
            true);
      ok = false;
      continue;
    }
    // Values may hold secrets: never echoed.
    if (!value.is_string()) {
      Error(entry, "expected a string, got " + DescribeJsonType(value));
      ok = false;
      continue;
    }
    std::string text = value.get<std::string>();
    if (header_names && text.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos) {
      Error(entry, "a header value must not contain line breaks or NUL characters");
      ok = false;
      continue;
    }
    if (header_names && IsCredentialHeader(key) && text.find("${") == std::string::npos) {
      Error(entry,
            "credentials must not be written in config files: put the secret in an environment "
            "variable and write \"${VARIABLE}\" here (for example \"Bearer ${GITHUB_TOKEN}\")",
            true);
      ok = false;
      continue;
    }
    items[key] = std::move(text);
  }
  if (ok) *out = std::move(items);
  return ok;
}

bool McpSectionReader::Integer(const json& v, const ConfigPlace& at, int64_t min, int64_t max,
                               int64_t* out) {
  if (v.is_number_integer() &&
      !(v.is_number_unsigned() && v.get<uint64_t>() > uint64_t{INT64_MAX})) {
    const int64_t n = v.get<int64_t>();
    if (n >= min && n <= max) {
      *out = n;
      return true;
    }
  }
  Error(at, "expected an integer from " + std::to_string(min) + " to " + std::to_string(max) +
                ", got " + DescribeJsonValue(v));
  return false;
}

void McpSectionReader::Servers(const json& v, const ConfigPlace& at) {
  if (!v.is_object()) {
    Error(at, "expected an object of MCP servers by name, got " + DescribeJsonValue(v));
    return;
  }
  for (const auto& [name, entry] : v.items()) Server(name, entry, Child(at, name));
}

bool McpSectionReader::ServerName(const std::string& name, const ConfigPlace& at) {
  if (!IsMcpServerName(name)) {
    Error(at,
          "an MCP server name uses lowercase letters, digits, '_' and '-' (no \"__\", at most 64 "
          "characters); it becomes the prefix of its tools, \"<server>__<tool>\"",
          true);
    return false;
  }
  return true;
}

void McpSectionReader::Server(const std::string& name, const json& v, const ConfigPlace& at) {
  if (!ServerName(name, at)) return;
  if (!v.is_object()) {
    Error(at, "expected an object (\"command\" for a stdio server, \"url\" for HTTP), got " +
                  DescribeJsonValue(v));
    return;
  }
  McpServerConfig& server = config_->mcp_servers[name];
  server.name = name;
  server.file = file_;
  const TextPosition key = doc_.KeyPosition(at.pointer);
  const ConfigDiagnostic where{file_, key.line, key.column, at.path};
  state_->origin[name] = where;
  if (project_) state_->set_by_project[name] = where;
  const ConfigSection& section = FindConfigSection("mcp_servers.*");
  for (const auto& [k, value] : v.items()) {
    const ConfigPlace place = Child(at, k);
    const ConfigKey* known = section.Find(k);
    if (known == nullptr) {
      std::string message = "unknown key " + json(k).dump() + " in an MCP server";
      if (std::optional<std::string_view> near = section.Suggest(k)) {
        message += " (did you mean \"" + std::string(*near) + "\"?)";
      }
      Warn(place, std::move(message));
    } else if (k == "type") {
      // Claude Code writes "type"; "sse" (the old transport) is not spoken.
      std::string type;
      if (!String(value, place, &type)) continue;
      if (type != "stdio" && type != "http" && type != "streamable-http") {
        Error(place, "expected " + std::string(kServerTypes) + " (streamable HTTP), got " +
                         DescribeJsonValue(value) +
                         (type == "sse" ? "; the old HTTP+SSE transport is not supported" : ""));
      }
    } else if (k == "command") {
      if (String(value, place, &server.command) && server.command.empty()) {
        Error(place, "expected the program to run, got an empty string");
      }
    } else if (k == "args") {
      Strings(value, place, &server.args);
    } else if (k == "env") {
      StringMap(value, place, &server.env, false);
    } else if (k == "cwd") {
      String(value, place, &server.cwd);
    } else if (k == "url") {
      std::string url;
      if (!value.is_string()) {
        Error(place, "expected a string, got " + DescribeJsonType(value));
      } else if (url = value.get<std::string>();
                 !url.starts_with("http://") && !url.starts_with("https://")) {
        Error(place, "expected an http:// or https:// URL");
      } else {
        server.url = url;
      }
    } else if (k == "headers") {
      StringMap(value, place, &server.headers, true);
    } else if (k == "timeout_ms") {
      Integer(value, place, 1, kMaxDurationMs, &server.timeout_ms);
    } else if (k == "startup_timeout_ms") {
      Integer(value, place, 1, kMaxDurationMs, &server.startup_timeout_ms);
    } else if (k == "research") {
      if (value.is_boolean()) {
        server.research = value.get<bool>();
      } else {
        Error(place, "expected true or false, got " + DescribeJsonValue(value));
      }
    } else if (k == "shared") {
      if (!value.is_boolean()) {
        Error(place, "expected true or false, got " + DescribeJsonValue(value));
      } else if (v.contains("url")) {
        Error(place,
              "\"shared\" is for stdio servers (whether one process serves every task); an HTTP "
              "server is always shared",
              true);
      } else {
        server.shared = value.get<bool>();
      }
    }
  }
}

void McpSectionReader::OpenCodeServers(const json& v, const ConfigPlace& at) {
  if (!v.is_object()) {
    Error(at, "expected an object of MCP servers by name (OpenCode's shape), got " +
                  DescribeJsonValue(v));
    return;
  }
  // OpenCode's newer (v2) form keeps the servers one level down, in `mcp.servers`; a server of
  // the older form that happens to be named "servers" has a "type" of its own.
  auto nested = v.find("servers");
  if (nested != v.end() && nested->is_object() && !nested->contains("type")) {
    for (const auto& [k, value] : v.items()) {
      if (k != "servers") {
        Warn(Child(at, k),
             "unknown key " + json(k).dump() + " beside \"servers\" (OpenCode's mcp.servers form)");
      }
    }
    const ConfigPlace servers_at = Child(at, "servers");
    for (const auto& [name, entry] : nested->items()) {
      OpenCodeServer(name, entry, Child(servers_at, name));
    }
    return;
  }
  for (const auto& [name, entry] : v.items()) OpenCodeServer(name, entry, Child(at, name));
}

void McpSectionReader::OpenCodeServer(const std::string& name, const json& v,
                                      const ConfigPlace& at) {
  if (!ServerName(name, at)) return;
  if (!v.is_object()) {
    Error(at,
          "expected an object ({\"type\": \"local\", \"command\": [...]} or {\"type\": "
          "\"remote\", \"url\": ...}), got " +
              DescribeJsonValue(v));
    return;
  }
  const bool disabled =
      (v.contains("enabled") && v["enabled"].is_boolean() && !v["enabled"].get<bool>()) ||
      (v.contains("disabled") && v["disabled"].is_boolean() && v["disabled"].get<bool>());
  if (disabled) {
    // Disabled in OpenCode's way (`enabled: false`, or `disabled: true` in the mcp.servers
    // form): not defined here (a later file may define it again).
    config_->mcp_servers.erase(name);
    state_->origin.erase(name);
    state_->set_by_project.erase(name);
    return;
  }
  McpServerConfig server;
  server.name = name;
  server.file = file_;
  const ConfigSection& section = FindConfigSection("mcp.*");
  std::string type;
  bool ok = true;
  for (const auto& [k, value] : v.items()) {
    const ConfigPlace place = Child(at, k);
    const ConfigKey* known = section.Find(k);
    if (known == nullptr) {
      std::string message =
          "unknown key " + json(k).dump() + " in an MCP server (OpenCode's shape)";
      if (std::optional<std::string_view> near = section.Suggest(k)) {
        message += " (did you mean \"" + std::string(*near) + "\"?)";
      }
      Warn(place, std::move(message));
    } else if (k == "type") {
      if (!String(value, place, &type)) {
        ok = false;
      } else if (type != "local" && type != "remote") {
        Error(place,
              "expected \"local\" (a program over stdio) or \"remote\" (streamable HTTP), "
              "got " +
                  DescribeJsonValue(value));
        ok = false;
      }
    } else if (k == "command") {
      std::vector<std::string> command;
      if (!Strings(value, place, &command)) {
        ok = false;
      } else if (command.empty() || command[0].empty()) {
        Error(place,
              "expected the program and its arguments, e.g. [\"npx\", \"-y\", \"server\"], "
              "got " +
                  DescribeJsonValue(value));
        ok = false;
      } else {
        server.command = command[0];
        server.args.assign(command.begin() + 1, command.end());
      }
    } else if (k == "environment") {
      ok = StringMap(value, place, &server.env, false) && ok;
    } else if (k == "enabled" || k == "disabled") {
      if (!value.is_boolean()) {
        Error(place, "expected true or false, got " + DescribeJsonValue(value));
        ok = false;
      }
    } else if (k == "url") {
      if (!value.is_string()) {
        Error(place, "expected a string, got " + DescribeJsonType(value));
        ok = false;
      } else if (const std::string url = value.get<std::string>();
                 !url.starts_with("http://") && !url.starts_with("https://")) {
        Error(place, "expected an http:// or https:// URL");
        ok = false;
      } else {
        server.url = url;
      }
    } else if (k == "headers") {
      ok = StringMap(value, place, &server.headers, true) && ok;
    } else if (k == "timeout") {
      // OpenCode's timeout bounds connecting and listing the tools.
      ok = Integer(value, place, 1, kMaxDurationMs, &server.startup_timeout_ms) && ok;
    }
  }
  if (!ok) return;
  if (type.empty()) {
    Error(at, "an MCP server in OpenCode's shape needs \"type\": \"local\" or \"remote\"", true);
    return;
  }
  if (type == "local" && server.command.empty()) {
    Error(at, "a \"local\" MCP server needs \"command\": [program, arguments…]", true);
    return;
  }
  if (type == "remote" && server.url.empty()) {
    Error(at, "a \"remote\" MCP server needs \"url\"", true);
    return;
  }
  if ((type == "local") != server.url.empty() || (type == "remote") != server.command.empty()) {
    Error(at,
          "a \"" + type + "\" MCP server takes " +
              (type == "local" ? "\"command\", not \"url\"" : "\"url\", not \"command\""),
          true);
    return;
  }
  config_->mcp_servers[name] = std::move(server);
  const TextPosition key = doc_.KeyPosition(at.pointer);
  const ConfigDiagnostic where{file_, key.line, key.column, at.path};
  state_->origin[name] = where;
  if (project_) state_->set_by_project[name] = where;
}

void McpSectionReader::Allowed(const json& v, const ConfigPlace& at) {
  std::vector<std::string> names;
  if (!Strings(v, at, &names)) return;
  if (project_) {
    Error(at,
          "only your own config file (not a project's .troupe/troupe.jsonc) may allow MCP "
          "servers",
          true);
    return;
  }
  state_->allowed.insert(names.begin(), names.end());
}

void McpSectionReader::WebFetch(const json& v, const ConfigPlace& at) {
  if (!v.is_object()) {
    Error(at, "expected an object, got " + DescribeJsonValue(v));
    return;
  }
  WebFetchConfig& wf = config_->webfetch;
  const ConfigSection& section = FindConfigSection("webfetch");
  for (const auto& [k, value] : v.items()) {
    const ConfigPlace place = Child(at, k);
    if (section.Find(k) == nullptr) {
      Warn(place, "unknown key " + json(k).dump() + " in webfetch");
    } else if (k == "allow_hosts" || k == "deny_hosts") {
      std::vector<std::string> hosts;
      if (!Strings(value, place, &hosts)) continue;
      for (size_t i = 0; i < hosts.size(); ++i) {
        if (hosts[i].empty() || hosts[i].find_first_of(":/ ") != std::string::npos) {
          Error(Element(place, i),
                "expected a host name pattern like \"docs.rs\" or \"*.example.com\", got " +
                    DescribeJsonValue(value[i]));
          hosts.clear();
          break;
        }
      }
      (k == "allow_hosts" ? wf.allow_hosts : wf.deny_hosts) = std::move(hosts);
    } else if (k == "max_bytes") {
      Integer(value, place, 1024, int64_t{1} << 30, &wf.max_bytes);
    } else if (k == "timeout_ms") {
      Integer(value, place, 1, kMaxDurationMs, &wf.timeout_ms);
    } else if (k == "max_redirects") {
      int64_t n = 0;
      if (Integer(value, place, 0, 20, &n)) wf.max_redirects = static_cast<int>(n);
    }
  }
}

void McpSectionReader::AgentToolPattern(const std::string& entry, const ConfigPlace& at) {
  const McpToolPattern p = ParseMcpToolPattern(entry);
  if (p.server != "@research" && !IsMcpServerName(p.server)) {
    Error(at,
          "expected \"mcp:<server>\" or \"mcp:<server>/<tool pattern>\" (or "
          "\"mcp:@research\"), got " +
              json(entry).dump());
    return;
  }
  const TextPosition pos = doc_.ValuePosition(at.pointer);
  state_->agent_patterns.push_back({p.server, {file_, pos.line, pos.column, at.path}});
}

void FinishMcpServers(Config* config, const McpConfigState& state,
                      std::vector<ConfigDiagnostic>* errors,
                      std::vector<ConfigDiagnostic>* warnings) {
  for (auto& [name, server] : config->mcp_servers) {
    const ConfigDiagnostic& at = state.origin.at(name);
    auto error = [&](std::string message) {
      errors->push_back({at.file, at.line, at.column, at.message + ": " + std::move(message)});
    };
    if (server.command.empty() == server.url.empty()) {
      error(server.command.empty()
                ? "an MCP server needs \"command\" (stdio) or \"url\" (streamable HTTP)"
                : "an MCP server has \"command\" (stdio) or \"url\" (streamable HTTP), not both");
      continue;
    }
    if (!server.url.empty() && (!server.args.empty() || !server.env.empty())) {
      error("\"args\" and \"env\" are for stdio servers; this one has a \"url\"");
    }
    if (auto p = state.set_by_project.find(name);
        p != state.set_by_project.end() && !state.allowed.count(name)) {
      server.blocked = "MCP server \"" + name + "\" comes from the project file " + p->second.file +
                       ", which may not start programs or send your secrets; to allow it, add \"" +
                       name + "\" to \"mcp_servers_allowed\" in your user config";
      warnings->push_back({p->second.file, p->second.line, p->second.column,
                           p->second.message + ": not started: " + server.blocked});
    }
  }
  for (const auto& [server, at] : state.agent_patterns) {
    if (server == "@research" || config->mcp_servers.count(server)) continue;
    std::string known;
    for (const auto& [name, _] : config->mcp_servers) known += (known.empty() ? "" : ", ") + name;
    errors->push_back({at.file, at.line, at.column,
                       at.message + ": unknown MCP server \"" + server + "\"; configured: " +
                           (known.empty() ? "none (see mcp_servers)" : known)});
  }
}

}  // namespace troupe
