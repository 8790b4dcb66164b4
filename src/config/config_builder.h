// Builds a Config from parsed config files in merge order: each file is validated against
// config_keys.h and applied on top of the ones before (objects merge key by key, other values
// replace), then what can only be checked on the merged result is checked.
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "config/config.h"
#include "config/config_loader.h"
#include "config/jsonc.h"
#include "config/mcp_servers_config.h"
#include "core/status.h"

namespace troupe {

class ConfigBuilder {
 public:
  ConfigBuilder() = default;
  ConfigBuilder(const ConfigBuilder&) = delete;
  ConfigBuilder& operator=(const ConfigBuilder&) = delete;

  // Validates the document of file `file` and applies its settings. An empty document adds
  // nothing; `doc` must have no syntax error (report those with AddError).
  void AddFile(const std::string& file, const JsoncDocument& doc);

  // Records an error found outside AddFile (e.g. a syntax error).
  void AddError(ConfigDiagnostic error);

  // Finishes the merge: the config with defaults for everything no file set, and the warnings;
  // or InvalidArgument listing every error of every file, one per line, in file order and then
  // position order.
  Result<LoadedConfig> Finish(std::vector<std::string> files);

 private:
  friend class ConfigFileReader;

  void CheckModelLists();

  // Where a setting was last written, for errors found after the merge.
  struct Origin {
    std::string file;
    TextPosition position;
    std::string path;   // as in messages: "agents.explore.model"
    std::string value;  // the value written there
  };

  Config config_;
  std::vector<ConfigDiagnostic> errors_;
  std::vector<ConfigDiagnostic> warnings_;
  std::map<std::string, Origin> provider_origins_;  // provider name -> its key, last file
  std::map<std::string, Origin> model_origins_;     // model setting's path -> its value
  std::map<std::string, Origin> script_origins_;    // provider name -> its "script" key
  std::set<std::string> providers_with_bad_type_;   // their missing type is not reported again
  std::vector<std::string> file_order_;             // files in the order they were seen
  McpConfigState mcp_state_;                        // mcp_servers across files
};

}  // namespace troupe
