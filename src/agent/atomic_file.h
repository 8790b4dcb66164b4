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

// The whole file, or an IoError naming it. Refuses files over `max_bytes` (ResourceExhausted).
Result<std::string> ReadWholeFile(const std::string& path, size_t max_bytes);

}  // namespace troupe
