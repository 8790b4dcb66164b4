// One concurrency bucket: a limit, the slots in use, and the FIFO queue of tasks waiting for one.
#pragma once

#include <cstdint>
#include <map>
#include <optional>

#include "engine/concurrency_policy.h"

namespace troupe {

// Identifies one request for a slot (the engine keeps one per queued or running task).
using Ticket = uint64_t;

class Pool {
 public:
  explicit Pool(PoolSpec spec) : spec_(std::move(spec)) {}

  const PoolSpec& spec() const { return spec_; }
  int in_use() const { return in_use_; }
  size_t queued() const { return waiters_.size(); }
  bool HasFreeSlot() const { return spec_.limit == 0 || in_use_ < spec_.limit; }

  // Takes a slot if one is free.
  bool TryAcquire();
  // Gives back a slot taken by TryAcquire.
  void Release();

  // Waiters are ordered by `seq`, which the caller makes increase with arrival (FIFO).
  void Enqueue(uint64_t seq, Ticket ticket) { waiters_.emplace(seq, ticket); }
  bool Remove(uint64_t seq) { return waiters_.erase(seq) > 0; }
  // The longest-waiting (seq, ticket), if any.
  std::optional<std::pair<uint64_t, Ticket>> Head() const;
  void PopHead() { waiters_.erase(waiters_.begin()); }
  // 1-based position of the waiter with `seq`; 0 if it is not waiting here.
  int PositionOf(uint64_t seq) const;

 private:
  PoolSpec spec_;
  int in_use_ = 0;
  std::map<uint64_t, Ticket> waiters_;
};

}  // namespace troupe
