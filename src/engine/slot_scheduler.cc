#include "engine/slot_scheduler.h"

#include <fmt/format.h>

namespace troupe {

SlotScheduler::SlotScheduler(Clock* clock, ConcurrencyPolicy policy, GrantFn on_grant)
    : clock_(clock), policy_(std::move(policy)), on_grant_(std::move(on_grant)) {}

Pool* SlotScheduler::PoolFor(const std::string& model) {
  if (auto it = pool_by_model_.find(model); it != pool_by_model_.end()) return it->second;
  PoolSpec spec = policy_.Resolve(model);
  auto& slot = pools_[spec.key];
  if (!slot) slot = std::make_unique<Pool>(spec);
  pool_by_model_.emplace(model, slot.get());
  return slot.get();
}

bool SlotScheduler::CoolingDown(const Pool& pool) const {
  return cooldown_until_.count(pool.spec().provider) > 0;
}

bool SlotScheduler::Eligible(const Pool& pool) const {
  return pool.queued() > 0 && pool.HasFreeSlot() && !CoolingDown(pool);
}

bool SlotScheduler::GlobalFree() const {
  return policy_.global_limit() == 0 || global_in_use_ < policy_.global_limit();
}

void SlotScheduler::Refresh(Pool* pool) {
  if (auto it = ready_key_.find(pool); it != ready_key_.end()) {
    ready_.erase({it->second, pool});
    ready_key_.erase(it);
  }
  if (Eligible(*pool)) {
    uint64_t head_seq = pool->Head()->first;
    ready_.emplace(head_seq, pool);
    ready_key_.emplace(pool, head_seq);
  }
}

void SlotScheduler::Request(Ticket ticket, const std::string& model) {
  Pool* pool = PoolFor(model);
  Entry entry{pool, next_seq_++, false};
  entries_[ticket] = entry;
  pool->Enqueue(entry.seq, ticket);
  Refresh(pool);
  Dispatch();
}

bool SlotScheduler::Withdraw(Ticket ticket) {
  auto it = entries_.find(ticket);
  if (it == entries_.end() || it->second.holding) return false;
  Pool* pool = it->second.pool;
  pool->Remove(it->second.seq);
  entries_.erase(it);
  Refresh(pool);
  // Removing a head can expose a waiter behind it only if a slot is free, which Refresh files;
  // dispatch in case the pool just became eligible.
  Dispatch();
  return true;
}

void SlotScheduler::Release(Ticket ticket) {
  auto it = entries_.find(ticket);
  if (it == entries_.end()) return;
  if (!it->second.holding) {
    Withdraw(ticket);
    return;
  }
  Pool* pool = it->second.pool;
  entries_.erase(it);
  pool->Release();
  --global_in_use_;
  Refresh(pool);
  Dispatch();
}

void SlotScheduler::Dispatch() {
  if (dispatching_) {
    // A grant callback released or requested a slot: the outer loop picks the change up, which
    // keeps the stack flat however many grants chain.
    dispatch_again_ = true;
    return;
  }
  dispatching_ = true;
  do {
    dispatch_again_ = false;
    while (!paused_ && GlobalFree() && !ready_.empty()) {
      Pool* pool = ready_.begin()->second;
      auto [seq, ticket] = *pool->Head();
      pool->PopHead();
      pool->TryAcquire();
      ++global_in_use_;
      entries_[ticket].holding = true;
      Refresh(pool);
      on_grant_(ticket);
    }
  } while (dispatch_again_);
  dispatching_ = false;
}

void SlotScheduler::CoolDownProvider(const std::string& provider, int64_t until_ms) {
  const int64_t delay = until_ms - clock_->NowMs();
  if (delay <= 0) return;
  auto [it, inserted] = cooldown_until_.try_emplace(provider, until_ms);
  if (!inserted && it->second >= until_ms) return;  // an equal or longer cooldown is running
  it->second = until_ms;
  for (auto& [key, pool] : pools_) {
    if (pool->spec().provider == provider) Refresh(pool.get());
  }
  auto& timer = cooldown_timers_[provider];
  if (!timer) timer = std::make_unique<Timer>(clock_);
  timer->Start(delay, [this, provider] {
    cooldown_until_.erase(provider);
    for (auto& [key, pool] : pools_) {
      if (pool->spec().provider == provider) Refresh(pool.get());
    }
    Dispatch();
  });
}

void SlotScheduler::SetPaused(bool paused) {
  paused_ = paused;
  if (!paused_) Dispatch();
}

bool SlotScheduler::IsHolding(Ticket ticket) const {
  auto it = entries_.find(ticket);
  return it != entries_.end() && it->second.holding;
}

bool SlotScheduler::IsWaiting(Ticket ticket) const {
  auto it = entries_.find(ticket);
  return it != entries_.end() && !it->second.holding;
}

std::string SlotScheduler::PoolOf(Ticket ticket) const {
  auto it = entries_.find(ticket);
  return it == entries_.end() ? std::string() : it->second.pool->spec().key;
}

size_t SlotScheduler::waiting() const {
  size_t n = 0;
  for (const auto& [key, pool] : pools_) n += pool->queued();
  return n;
}

WaitInfo SlotScheduler::Describe(Ticket ticket) const {
  WaitInfo info;
  auto it = entries_.find(ticket);
  if (it == entries_.end() || it->second.holding) return info;
  const Pool& pool = *it->second.pool;
  info.waiting = true;
  info.pool = pool.spec().key;
  info.position = pool.PositionOf(it->second.seq);
  const std::string limit =
      pool.spec().limit == 0 ? "unlimited" : std::to_string(pool.spec().limit);
  if (paused_) {
    info.reason = "daemon is shutting down";
  } else if (auto cd = cooldown_until_.find(pool.spec().provider); cd != cooldown_until_.end()) {
    info.reason =
        fmt::format("provider {} is cooling down after a rate limit ({} ms left), position {}",
                    pool.spec().provider, cd->second - clock_->NowMs(), info.position);
  } else if (!pool.HasFreeSlot() || info.position > 1) {
    info.reason = fmt::format("pool {} full ({}/{} running), position {}", pool.spec().key,
                              pool.in_use(), limit, info.position);
  } else {
    info.reason = fmt::format("globalConcurrency reached ({}/{} running), position {}",
                              global_in_use_, policy_.global_limit(), info.position);
  }
  return info;
}

std::vector<PoolSnapshot> SlotScheduler::Snapshot() const {
  std::vector<PoolSnapshot> out;
  const int64_t wall_offset = clock_->WallMs() - clock_->NowMs();
  for (const auto& [key, pool] : pools_) {
    PoolSnapshot s;
    s.key = key;
    s.level = PoolLevelName(pool->spec().level);
    s.provider = pool->spec().provider;
    s.limit = pool->spec().limit;
    s.in_use = pool->in_use();
    s.queued = static_cast<int>(pool->queued());
    if (auto cd = cooldown_until_.find(s.provider); cd != cooldown_until_.end()) {
      s.cooldown_until_wall_ms = cd->second + wall_offset;
    }
    out.push_back(std::move(s));
  }
  PoolSnapshot global;
  global.key = "global";
  global.level = "global";
  global.limit = policy_.global_limit();
  global.in_use = global_in_use_;
  global.queued = static_cast<int>(waiting());
  out.push_back(std::move(global));
  return out;
}

Status SlotScheduler::CheckInvariants() const {
  int total_in_use = 0;
  std::map<const Pool*, int> holders;
  std::map<const Pool*, int> waiters;
  for (const auto& [ticket, entry] : entries_) {
    (entry.holding ? holders : waiters)[entry.pool]++;
  }
  for (const auto& [key, pool] : pools_) {
    const int limit = pool->spec().limit;
    if (limit > 0 && pool->in_use() > limit) {
      return Status::Internal(
          fmt::format("pool {} runs {} > limit {}", key, pool->in_use(), limit));
    }
    if (holders[pool.get()] != pool->in_use()) {
      return Status::Internal(fmt::format("pool {} counts {} in use but {} tickets hold it", key,
                                          pool->in_use(), holders[pool.get()]));
    }
    if (waiters[pool.get()] != static_cast<int>(pool->queued())) {
      return Status::Internal(fmt::format("pool {} queue has {} but {} tickets wait", key,
                                          pool->queued(), waiters[pool.get()]));
    }
    if (!paused_ && GlobalFree() && Eligible(*pool)) {
      return Status::Internal(fmt::format("pool {} has a free slot and {} waiting (idle capacity)",
                                          key, pool->queued()));
    }
    if (Eligible(*pool) != (ready_key_.count(pool.get()) > 0)) {
      return Status::Internal(fmt::format("pool {} ready-set membership is stale", key));
    }
    total_in_use += pool->in_use();
  }
  if (total_in_use != global_in_use_) {
    return Status::Internal(
        fmt::format("global count {} != sum of pools {}", global_in_use_, total_in_use));
  }
  if (policy_.global_limit() > 0 && global_in_use_ > policy_.global_limit()) {
    return Status::Internal(
        fmt::format("global {} > globalConcurrency {}", global_in_use_, policy_.global_limit()));
  }
  return Status::Ok();
}

}  // namespace troupe
