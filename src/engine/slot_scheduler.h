// Hands out running slots: every task waits in the pool its model resolves to (ConcurrencyPolicy),
// and optionally under a global cap. Invariants (tested by slot_scheduler_test and the engine's
// property test):
//   - a pool never has more slots in use than its limit; the global cap likewise;
//   - FIFO inside a pool;
//   - a full pool never delays another pool's waiters (no head-of-line blocking);
//   - work-conserving: after any call returns, no waiter could be granted a slot and is not;
//   - a freed slot goes to the next waiter before Release returns (same event-loop turn);
//   - under the global cap, free global slots go to the longest-waiting eligible task.
// Not thread-safe: loop thread only. Re-entrant: the grant callback may call any method.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "engine/concurrency_policy.h"
#include "engine/pool.h"

namespace troupe {

// Why a ticket is not running yet, for status views.
struct WaitInfo {
  bool waiting = false;
  std::string pool;    // pool key
  int position = 0;    // 1-based in the pool queue
  std::string reason;  // e.g. "pool model:x/y full (2/2 running), position 3"
};

struct PoolSnapshot {
  std::string key;
  std::string level;  // "model", "provider", "default", "global"
  std::string provider;
  int limit = 0;  // 0 = unlimited
  int in_use = 0;
  int queued = 0;
  int64_t cooldown_until_wall_ms = 0;  // 0 = not cooling down
};

class SlotScheduler {
 public:
  using GrantFn = std::function<void(Ticket)>;

  // `on_grant(ticket)` is called once per granted request, on the caller's stack, possibly before
  // the call that caused it returns. `clock` must outlive this.
  SlotScheduler(Clock* clock, ConcurrencyPolicy policy, GrantFn on_grant);

  // Asks for a slot in the pool of `model`. The ticket must not be waiting or holding already.
  void Request(Ticket ticket, const std::string& model);
  // Removes a waiting ticket. False if it was not waiting (holding or unknown).
  bool Withdraw(Ticket ticket);
  // Frees the slot a granted ticket holds and grants waiters before returning. Unknown or
  // waiting tickets are ignored (a waiting one is withdrawn instead).
  void Release(Ticket ticket);

  // No new grants until `until_ms` (clock time) for pools of `provider`; slots held are kept.
  void CoolDownProvider(const std::string& provider, int64_t until_ms);
  // While paused no slot is granted (used during shutdown). Resuming dispatches.
  void SetPaused(bool paused);

  bool IsHolding(Ticket ticket) const;
  bool IsWaiting(Ticket ticket) const;
  WaitInfo Describe(Ticket ticket) const;
  // The pool a ticket waits or runs in ("" if unknown).
  std::string PoolOf(Ticket ticket) const;
  std::vector<PoolSnapshot> Snapshot() const;
  const ConcurrencyPolicy& policy() const { return policy_; }
  int running() const { return global_in_use_; }
  size_t waiting() const;

  // Checks every invariant above; a failure names the broken one. For tests.
  Status CheckInvariants() const;

 private:
  struct Entry {
    Pool* pool = nullptr;
    uint64_t seq = 0;
    bool holding = false;
  };

  Pool* PoolFor(const std::string& model);
  bool CoolingDown(const Pool& pool) const;
  bool Eligible(const Pool& pool) const;  // has a waiter, a free slot, and no cooldown
  void Refresh(Pool* pool);               // re-files pool in ready_
  bool GlobalFree() const;
  void Dispatch();

  Clock* clock_;
  ConcurrencyPolicy policy_;
  GrantFn on_grant_;
  std::map<std::string, std::unique_ptr<Pool>> pools_;
  std::unordered_map<std::string, Pool*> pool_by_model_;  // cache of policy_.Resolve
  std::unordered_map<Ticket, Entry> entries_;
  // Eligible pools ordered by the seq of their head waiter.
  std::set<std::pair<uint64_t, Pool*>> ready_;
  std::unordered_map<const Pool*, uint64_t> ready_key_;
  std::map<std::string, int64_t> cooldown_until_;                  // provider -> clock ms
  std::map<std::string, std::unique_ptr<Timer>> cooldown_timers_;  // provider -> expiry
  uint64_t next_seq_ = 1;
  int global_in_use_ = 0;
  bool paused_ = false;
  bool dispatching_ = false;
  bool dispatch_again_ = false;
};

}  // namespace troupe
