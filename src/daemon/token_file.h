// The bearer token of the daemon's TCP listener (<data dir>/token): 256 random bits from
// /dev/urandom written as 64 lowercase hex characters and a newline, mode 0600, created on the
// daemon's first start and reused after. Clients (the CLI, scripts) read the same file.
//
// A token file that others could read, that another user owns, or that is not a regular file
// is refused — whoever can read the token can drive the daemon over TCP.
#pragma once

#include <string>

#include "core/status.h"

namespace troupe {

// The token in `path`, creating the file (atomically: written aside, then linked into place, so
// no reader ever sees a half-written token and two starting daemons agree on one) when it does
// not exist yet. Errors: FailedPrecondition for a file with the wrong owner or mode (the message
// says what to do), Corruption for one that does not hold a token, IoError otherwise.
Result<std::string> LoadOrCreateToken(const std::string& path);

// The token in an existing `path`, with the same checks; NotFound when there is no file.
Result<std::string> ReadToken(const std::string& path);

// 64 lowercase hex characters from /dev/urandom.
Result<std::string> GenerateToken();

}  // namespace troupe
