// Replacing a file's contents all at once: readers (and a crash) see the old file or the new
// one, never half of each. Used by the edit and write tools.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace troupe {

// Writes `content` to a temporary file beside `path`, flushes it to disk, and renames it over
// `path`. `mode` is the new file's permission bits; nullopt = 0666 minus the umask (a new file).
// The parent directory must exist. On error `path` is untouched and the temporary file removed.
Status WriteFileAtomically(const std::string& path, std::string_view content,
                           std::optional<mode_t> mode);

// WriteFileAtomically for the entry `name` (one path component) of the directory open as
// `dir_fd`: the temporary file is created (O_EXCL, so never through a link) and renamed relative to
// `dir_fd`, so whatever happens to the paths above it, the file lands in that directory. `shown`
// names the file in errors.
Status WriteFileAtomicallyAt(int dir_fd, const std::string& name, std::string_view content,
                             std::optional<mode_t> mode, const std::string& shown);

// The whole content of the open file `fd` (read from its current offset); errors name `shown`.
// Refuses files over `max_bytes` (ResourceExhausted).
Result<std::string> ReadWholeFd(int fd, size_t max_bytes, const std::string& shown);

// The whole file, or an IoError naming it. Refuses files over `max_bytes` (ResourceExhausted).
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);

}  // namespace troupe
