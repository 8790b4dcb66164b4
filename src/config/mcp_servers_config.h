// The `mcp_servers` section (also read under Claude Code's name `mcpServers`, in the shape its
// `.mcp.json` uses, and under OpenCode's `mcp`, in its shape: `{"type": "local", "command":
// [program, args…], "environment", "enabled", "timeout"}` or `{"type": "remote", "url",
// "headers", "enabled", "timeout"}`), `mcp_servers_allowed` and `webfetch`: read from one file at a time by
// McpSectionReader, then checked on the merged result by FinishMcpServers.
//
// Trust: a project file (<workspace>/.troupe/troupe.jsonc, see IsProjectConfigFile) comes with
// the repository a user cloned, so it must not start programs or send the user's secrets to a
// URL of its choice. A server that a project file defines or changes is loaded but *blocked*
// (McpServerConfig::blocked says why and how to allow it) unless a file that is not a project
// file lists its name in `mcp_servers_allowed`; a project file's own `mcp_servers_allowed` is an
// error. troupe never starts a blocked server; `troupe config check` warns about each.
#pragma once

#include <functional>
#include <optional>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "config/config.h"
#include "config/config_loader.h"
#include "config/jsonc.h"
#include "core/status.h"

namespace troupe {

// Whether `path` is a project's config file: its directory is named ".troupe".
bool IsProjectConfigFile(std::string_view path);

// A server name: [a-z0-9][a-z0-9_-]*, at most 64 characters, without "__" (the separator of
// `<server>__<tool>`).
bool IsMcpServerName(std::string_view name);

// Where a value is: its JSON pointer and its path as messages show it.
struct ConfigPlace {
  std::string pointer;
  std::string path;
};

// What the MCP section needs to know across files.
struct McpConfigState {
  std::set<std::string> allowed;                  // from non-project files
  std::map<std::string, ConfigDiagnostic> set_by_project;  // server -> where a project set it
  std::map<std::string, ConfigDiagnostic> origin;  // server -> its key, last file
  // agents.<a>.tools entries "mcp:<server>/..." -> where written (checked once merged)
  std::vector<std::pair<std::string, ConfigDiagnostic>> agent_patterns;
};

// Reads the MCP sections of one file into `config` and `state`.
class McpSectionReader {
 public:
  McpSectionReader(const std::string& file, const JsoncDocument& doc, Config* config,
                   McpConfigState* state, std::vector<ConfigDiagnostic>* errors,
                   std::vector<ConfigDiagnostic>* warnings);

  // `mcp_servers` or `mcpServers` (an object of servers) at `at`.
  void Servers(const nlohmann::json& v, const ConfigPlace& at);
  // OpenCode's `mcp` (an object of servers in its shape) at `at`. A server with "enabled":
  // false is not defined (nor one of that name from an earlier file).
  void OpenCodeServers(const nlohmann::json& v, const ConfigPlace& at);
  // `mcp_servers_allowed`.
  void Allowed(const nlohmann::json& v, const ConfigPlace& at);
  // `webfetch`.
  void WebFetch(const nlohmann::json& v, const ConfigPlace& at);
  // An entry of an agent's `tools` that starts with "mcp:": its syntax now, its server once all
  // files are merged.
  void AgentToolPattern(const std::string& entry, const ConfigPlace& at);

 private:
  void Server(const std::string& name, const nlohmann::json& v, const ConfigPlace& at);
  void OpenCodeServer(const std::string& name, const nlohmann::json& v, const ConfigPlace& at);
  // Checks `name` and records where server `name` is defined; false when the name is refused.
  bool ServerName(const std::string& name, const ConfigPlace& at);
  void Error(const ConfigPlace& at, std::string message, bool at_key = false);
  void Warn(const ConfigPlace& at, std::string message);
  bool String(const nlohmann::json& v, const ConfigPlace& at, std::string* out);
  bool Strings(const nlohmann::json& v, const ConfigPlace& at, std::vector<std::string>* out);
  bool StringMap(const nlohmann::json& v, const ConfigPlace& at,
                 std::map<std::string, std::string>* out, bool header_names);
  bool Integer(const nlohmann::json& v, const ConfigPlace& at, int64_t min, int64_t max,
               int64_t* out);

  const std::string& file_;
  const JsoncDocument& doc_;
  Config* config_;
  McpConfigState* state_;
  std::vector<ConfigDiagnostic>* errors_;
  std::vector<ConfigDiagnostic>* warnings_;
  bool project_;
};

// Checks of the merged result: each server is stdio or HTTP (not both, not neither), blocked
// servers are marked (and warned about), and every "mcp:<server>" of an agent names a server.
void FinishMcpServers(Config* config, const McpConfigState& state,
                      std::vector<ConfigDiagnostic>* errors,
                      std::vector<ConfigDiagnostic>* warnings);

// The parts of an agent's tool pattern "mcp:<server>[/<tool glob>]": server "" when `entry` is
// not one. "mcp:@research" names every server marked `research`.
struct McpToolPattern {
  std::string server;     // a server name or "@research"
  std::string tool_glob;  // "*" when absent
};
McpToolPattern ParseMcpToolPattern(std::string_view entry);

// Whether `name` matches `glob`, where '*' matches any run of characters (none included).
bool GlobMatch(std::string_view glob, std::string_view name);

// `text` with every "${VAR}" replaced by `lookup(VAR)` ("$$" is a literal '$'); InvalidArgument
// naming the variable when lookup has none ("environment variable GITHUB_TOKEN is not set").
Result<std::string> ExpandEnvReferences(
    std::string_view text,
    const std::function<std::optional<std::string>(const std::string&)>& lookup);

}  // namespace troupe
