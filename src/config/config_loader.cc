#include "config/config_loader.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <system_error>
#include <utility>

#include "config/config_builder.h"
#include "config/jsonc.h"

namespace troupe {

namespace {

namespace fs = std::filesystem;

// Larger than any sensible config file, even with long prompts.
constexpr off_t kMaxConfigFileBytes = 4 << 20;

std::string ErrnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

std::string HomeDirectory() {
  const char* home = std::getenv("HOME");
  if (home != nullptr && home[0] != '\0') return home;
  struct passwd pw;
  struct passwd* result = nullptr;
  char buffer[4096];
  if (getpwuid_r(getuid(), &pw, buffer, sizeof buffer, &result) == 0 && result != nullptr &&
      result->pw_dir != nullptr) {
    return result->pw_dir;
  }
  return "";
}

enum class ReadOutcome { kRead, kMissing, kFailed };

// Reads the regular file at `path` into *text; on failure sets *error to a message naming it.
ReadOutcome ReadConfigFile(const std::string& path, std::string* text, std::string* error) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    const int open_errno = errno;
    struct stat link;
    if (open_errno == ENOENT && lstat(path.c_str(), &link) == 0) {
      *error = path + ": the config file is a symbolic link to a file that does not exist";
      return ReadOutcome::kFailed;
    }
    if (open_errno == ENOENT || open_errno == ENOTDIR) return ReadOutcome::kMissing;
    *error = path + ": cannot open the config file: " + ErrnoText(open_errno) +
             " (check the permissions of the file and its directories)";
    return ReadOutcome::kFailed;
  }
  struct stat st;
  ReadOutcome outcome = ReadOutcome::kRead;
  if (fstat(fd, &st) != 0) {
    *error = path + ": cannot read the config file: " + ErrnoText(errno);
    outcome = ReadOutcome::kFailed;
  } else if (S_ISDIR(st.st_mode)) {
    *error = path + ": is a directory; the config file must be a regular file";
    outcome = ReadOutcome::kFailed;
  } else if (!S_ISREG(st.st_mode)) {
    *error = path + ": is not a regular file";
    outcome = ReadOutcome::kFailed;
  } else if (st.st_size > kMaxConfigFileBytes) {
    *error = path + ": the config file is larger than 4 MiB";
    outcome = ReadOutcome::kFailed;
  } else {
    text->clear();
    char buffer[16384];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n == 0) break;
      if (n < 0) {
        if (errno == EINTR) continue;
        *error = path + ": cannot read the config file: " + ErrnoText(errno);
        outcome = ReadOutcome::kFailed;
        break;
      }
      text->append(buffer, static_cast<size_t>(n));
      if (text->size() > static_cast<size_t>(kMaxConfigFileBytes)) {
        *error = path + ": the config file is larger than 4 MiB";
        outcome = ReadOutcome::kFailed;
        break;
      }
    }
  }
  close(fd);
  return outcome;
}

}  // namespace

std::string ConfigDiagnostic::ToString() const {
  std::string out = file;
  if (line > 0) {
    out += ":" + std::to_string(line);
    if (column > 0) out += ":" + std::to_string(column);
  }
  return out + ": " + message;
}

Result<LoadedConfig> LoadConfigFromSources(const std::vector<ConfigSource>& sources) {
  ConfigBuilder builder;
  std::vector<std::string> files;
  for (const ConfigSource& source : sources) {
    files.push_back(source.name);
    const JsoncDocument doc = ParseJsonc(source.text);
    if (!doc.ok()) {
      const JsoncError& e = *doc.scan.error;
      builder.AddError(
          {source.name, e.position.line, e.position.column, "invalid JSON: " + e.message});
      continue;
    }
    builder.AddFile(source.name, doc);
  }
  return builder.Finish(std::move(files));
}

std::vector<std::string> DefaultConfigPaths(const std::string& workspace) {
  std::vector<std::string> paths;
  // The XDG Base Directory spec says to ignore a relative XDG_CONFIG_HOME.
  const char* xdg = std::getenv("XDG_CONFIG_HOME");
  if (xdg != nullptr && xdg[0] == '/') {
    paths.push_back((fs::path(xdg) / "troupe" / "troupe.jsonc").string());
  } else if (const std::string home = HomeDirectory(); !home.empty()) {
    paths.push_back((fs::path(home) / ".config" / "troupe" / "troupe.jsonc").string());
  }
  if (!workspace.empty()) {
    paths.push_back((fs::path(workspace) / ".troupe" / "troupe.jsonc").string());
  }
  return paths;
}

Result<LoadedConfig> LoadConfigFiles(const std::vector<std::string>& paths) {
  std::vector<ConfigSource> sources;
  std::string errors;
  for (const std::string& path : paths) {
    ConfigSource source{path, ""};
    std::string error;
    switch (ReadConfigFile(path, &source.text, &error)) {
      case ReadOutcome::kRead:
        sources.push_back(std::move(source));
        break;
      case ReadOutcome::kMissing:
        break;
      case ReadOutcome::kFailed:
        if (!errors.empty()) errors += '\n';
        errors += error;
        break;
    }
  }
  if (!errors.empty()) return Status::IoError(std::move(errors));
  return LoadConfigFromSources(sources);
}

}  // namespace troupe
