// A TaskDelegator over a map of tasks, for the tests of the delegation service and tools: tests
// launch, finish and inspect tasks directly. Waits answer from a later FakeClock turn, like the
// engine's. Like the engine, it decides nothing about who may do what.
#pragma once

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "agent/agent_host.h"
#include "core/fake_clock.h"

namespace troupe::testing {

class FakeDelegator : public TaskDelegator {
 public:
  explicit FakeDelegator(FakeClock* clock) : clock_(clock) {}

  Result<DelegatedTask> Delegate(const DelegateRequest& request) override {
    requests.push_back(request);
    if (!fail_delegate.ok()) return fail_delegate;
    DelegatedTask t;
    t.task_id = "bg_" + std::to_string(++next_);
    t.session_id = "ses_" + std::to_string(next_);
    t.agent = request.agent;
    if (!request.session_id.empty()) {
      std::optional<DelegatedSession> s = *Session(request.session_id);
      if (s) t.agent = s->agent;
      t.session_id = request.session_id;
    }
    t.model = request.model;
    t.description = request.description;
    t.prompt = request.prompt;
    t.state = launch_state;
    t.parent_session_id = request.parent_session_id;
    t.owner = request.owner;
    if (t.state == "pending") t.queue_position = 1;
    order_.push_back(t.task_id);
    tasks_[t.task_id] = t;
    return t;
  }

  // With defer_launches, the answer waits until AnswerLaunch (as a launch in a worktree waits
  // for git); otherwise at once.
  std::string DelegateLater(const DelegateRequest& request, DelegateDone done) override {
    if (!defer_launches) return TaskDelegator::DelegateLater(request, std::move(done));
    const std::string id = "launch_" + std::to_string(deferred_.size() + 1);
    deferred_.push_back({id, request, std::move(done)});
    return id;
  }

  void CancelLaunch(const std::string& launch_id) override {
    cancelled_launches.push_back(launch_id);
  }

  // Answers the oldest deferred launch: with `error`, or with the task launched now.
  void AnswerLaunch(const Status& error = Status::Ok()) {
    Deferred d = std::move(deferred_.front());
    deferred_.erase(deferred_.begin());
    if (!error.ok()) return d.done(error);
    d.done(Delegate(d.request));
  }
  size_t deferred_launches() const { return deferred_.size(); }

  Result<DelegatedTask> Get(const std::string& task_id) override {
    auto it = tasks_.find(task_id);
    if (it == tasks_.end()) return Status::NotFound("task " + task_id + " does not exist");
    return it->second;
  }

  Result<std::optional<DelegatedSession>> Session(const std::string& session_id) override {
    for (const std::string& id : order_) {
      const DelegatedTask& t = tasks_[id];
      if (t.session_id == session_id) {
        return std::optional<DelegatedSession>(
            DelegatedSession{t.session_id, t.agent, t.parent_session_id});
      }
    }
    return std::optional<DelegatedSession>();
  }

  Result<std::string> Transcript(const std::string& session_id) override {
    if (!transcript_error.ok()) return transcript_error;
    return "## Session " + session_id + " (1 message)";
  }

  Result<uint64_t> Wait(const std::vector<std::string>& task_ids, bool all, int64_t timeout_ms,
                        WaitCallback done) override {
    for (const auto& id : task_ids) {
      if (!tasks_.count(id)) return Status::NotFound("task " + id + " does not exist");
    }
    const uint64_t id = ++next_wait_;
    waits_[id] = {task_ids, all, std::move(done), 0};
    last_wait_timeout_ms = timeout_ms;
    waits_[id].timer = clock_->StartTimer(timeout_ms, [this, id] { Fire(id, true); });
    Check(id);
    return id;
  }

  void CancelWait(uint64_t wait_id) override {
    cancelled_waits.insert(wait_id);
    auto it = waits_.find(wait_id);
    if (it == waits_.end()) return;
    clock_->CancelTimer(it->second.timer);
    waits_.erase(it);
  }

  Result<std::vector<DelegatedTask>> Cancel(const std::vector<std::string>& task_ids,
                                            const std::string& reason) override {
    std::vector<DelegatedTask> before;
    for (const std::string& id : task_ids) {
      auto it = tasks_.find(id);
      if (it == tasks_.end()) return Status::NotFound("task " + id + " does not exist");
      before.push_back(it->second);
      if (!it->second.final()) End(id, "cancelled", "", reason);
    }
    return before;
  }

  Result<std::vector<DelegatedTask>> List(const DelegationQuery& query) override {
    queries.push_back(query);
    std::vector<DelegatedTask> out;
    for (const std::string& id : order_) {
      const DelegatedTask& t = tasks_[id];
      if (query.parent_session_id && t.parent_session_id != *query.parent_session_id) continue;
      if (query.owner && t.owner != *query.owner) continue;
      if (!query.states.empty() &&
          std::find(query.states.begin(), query.states.end(), t.state) == query.states.end()) {
        continue;
      }
      out.push_back(t);
    }
    return out;
  }

  // Moves a task to a final state and tells the waits (on a later turn).
  void End(const std::string& id, const std::string& state, const std::string& result,
           const std::string& error = "") {
    DelegatedTask& t = tasks_[id];
    t.state = state;
    t.result = result;
    t.error = error;
    t.duration_ms = 5'000;
    std::vector<uint64_t> ids;
    for (const auto& [wid, w] : waits_) ids.push_back(wid);
    for (uint64_t wid : ids) Check(wid);
  }

  // A task another session delegated.
  std::string Foreign(const std::string& parent_session_id = "ses_other") {
    DelegateRequest r;
    r.parent_session_id = parent_session_id;
    r.agent = "explore";
    r.prompt = "p";
    r.description = "theirs";
    return Delegate(r)->task_id;
  }

  // A top-level task of `owner`.
  std::string Owned(const std::string& owner, const std::string& description = "owned") {
    DelegateRequest r;
    r.owner = owner;
    r.agent = "explore";
    r.prompt = "p";
    r.description = description;
    return Delegate(r)->task_id;
  }

  size_t open_waits() const { return waits_.size(); }

  std::vector<DelegateRequest> requests;
  std::vector<DelegationQuery> queries;
  Status fail_delegate;
  Status transcript_error;
  std::string launch_state = "running";
  bool defer_launches = false;
  std::vector<std::string> cancelled_launches;
  std::set<uint64_t> cancelled_waits;
  int64_t last_wait_timeout_ms = -1;

 private:
  struct Deferred {
    std::string id;
    DelegateRequest request;
    DelegateDone done;
  };
  std::vector<Deferred> deferred_;

  struct Waiter {
    std::vector<std::string> ids;
    bool all;
    WaitCallback done;
    TimerId timer;
  };

  void Check(uint64_t wid) {
    const Waiter& w = waits_.at(wid);
    size_t final = 0;
    for (const auto& id : w.ids) final += tasks_[id].final() ? 1 : 0;
    if (final == w.ids.size() || (!w.all && final > 0)) {
      clock_->CancelTimer(w.timer);
      waits_.at(wid).timer = clock_->StartTimer(0, [this, wid] { Fire(wid, false); });
    }
  }

  void Fire(uint64_t wid, bool timed_out) {
    auto it = waits_.find(wid);
    if (it == waits_.end()) return;
    Waiter w = std::move(it->second);
    waits_.erase(it);
    std::vector<DelegatedTask> now;
    for (const auto& id : w.ids) now.push_back(tasks_[id]);
    w.done(std::move(now), timed_out);
  }

  FakeClock* clock_;
  int next_ = 0;
  uint64_t next_wait_ = 0;
  std::vector<std::string> order_;
  std::map<std::string, DelegatedTask> tasks_;
  std::map<uint64_t, Waiter> waits_;
};

}  // namespace troupe::testing
