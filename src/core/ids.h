// Identifiers for tasks (bg_…), sessions (ses_…) and other records: unique, and sortable by
// creation as plain strings (a later id compares greater), like ULIDs.
#pragma once

#include <cstdint>
#include <random>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace troupe {

// Layout after the prefix: 10 characters of Crockford base32 (lowercase) holding the wall time
// in milliseconds, then 8 holding 40 bits that are random for the first id of a millisecond and
// incremented for the following ones, so ids from one generator strictly increase.
class IdGenerator {
 public:
  // `clock` must outlive the generator. `seed` 0 seeds from std::random_device.
  explicit IdGenerator(const Clock* clock, uint64_t seed = 0);

  std::string NewTaskId() { return Next("bg_"); }
  std::string NewSessionId() { return Next("ses_"); }
  // Any other prefix, e.g. "msg_".
  std::string Next(std::string_view prefix);

 private:
  const Clock* clock_;
  std::mt19937_64 rng_;
  int64_t last_ms_ = -1;
  uint64_t last_tail_ = 0;
};

// True when `id` is `prefix` followed by 18 base32 characters.
bool IsWellFormedId(std::string_view id, std::string_view prefix);

}  // namespace troupe
