#include "engine/pool.h"

#include <cassert>
#include <iterator>

namespace troupe {

bool Pool::TryAcquire() {
  if (!HasFreeSlot()) return false;
  ++in_use_;
  return true;
}

void Pool::Release() {
  assert(in_use_ > 0);
  --in_use_;
}

std::optional<std::pair<uint64_t, Ticket>> Pool::Head() const {
  if (waiters_.empty()) return std::nullopt;
  return *waiters_.begin();
}

int Pool::PositionOf(uint64_t seq) const {
  auto it = waiters_.find(seq);
  if (it == waiters_.end()) return 0;
  return static_cast<int>(std::distance(waiters_.begin(), it)) + 1;
}

}  // namespace troupe
