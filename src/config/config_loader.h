// Loading configuration: JSONC files (comments and trailing commas allowed), the user file then
// the project file merged on top, validated with errors that name file:line:col.
#pragma once

#include <string>
#include <vector>

#include "config/config.h"
#include "core/status.h"

namespace troupe {

// A problem found in a config file, with its position (1-based line and column; 0 when the
// problem is about the file as a whole).
struct ConfigDiagnostic {
  std::string file;
  int line = 0;
  int column = 0;
  std::string message;  // says what was wrong, what was expected, and what was found
  // "file:line:col: message"
  std::string ToString() const;
};

struct LoadedConfig {
  Config config;
  std::vector<ConfigDiagnostic> warnings;  // e.g. unknown keys; the config still loads
  std::vector<std::string> files;          // the files that were read, in merge order
};

// One source of configuration: a name used in messages (usually a path) and its text.
struct ConfigSource {
  std::string name;
  std::string text;
};

// Parses and validates `sources` in order, each merged on top of the ones before (objects merge
// key by key; other values replace), then fills defaults. On any error returns InvalidArgument
// whose message lists every error, one per line, as "file:line:col: message".
Result<LoadedConfig> LoadConfigFromSources(const std::vector<ConfigSource>& sources);

// The files troupe reads, in merge order: $XDG_CONFIG_HOME/troupe/troupe.jsonc (else
// ~/.config/troupe/troupe.jsonc), then <workspace>/.troupe/troupe.jsonc.
std::vector<std::string> DefaultConfigPaths(const std::string& workspace);

// Reads the files in `paths` that exist (a missing file is skipped; an unreadable one is an
// error) and loads them as LoadConfigFromSources does.
Result<LoadedConfig> LoadConfigFiles(const std::vector<std::string>& paths);

}  // namespace troupe
