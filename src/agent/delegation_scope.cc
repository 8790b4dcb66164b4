#include "agent/delegation_scope.h"

#include <fmt/format.h>

#include "core/utf8.h"

namespace troupe {

DelegationScope DelegationScope::ChildrenOf(std::string parent_session_id) {
  std::string who = "the session that delegated it (" + parent_session_id + ")";
  return DelegationScope(Kind::kChildren, std::move(parent_session_id), "session", std::move(who));
}

DelegationScope DelegationScope::OwnedBy(std::string owner, std::string noun, std::string who) {
  return DelegationScope(Kind::kOwner, std::move(owner), std::move(noun), std::move(who));
}

DelegationScope DelegationScope::Everything(std::string owner) {
  return DelegationScope(Kind::kAll, std::move(owner), "caller", "the caller");
}

Status DelegationScope::Check(std::string_view what) const {
  if (kind_ != Kind::kAll && id_.empty()) {
    return Status::InvalidArgument(fmt::format("there is no calling {}{}",
                                               kind_ == Kind::kChildren ? "session" : noun_, what));
  }
  return Status::Ok();
}

bool DelegationScope::MayRead(const DelegatedTask& task) const {
  return kind_ != Kind::kChildren || Holds(task);
}

bool DelegationScope::Holds(const DelegatedTask& task) const {
  switch (kind_) {
    case Kind::kChildren:
      return !id_.empty() && task.parent_session_id == id_;
    case Kind::kOwner:
      return !id_.empty() && task.owner == id_;
    case Kind::kAll:
      return true;
  }
  return false;
}

DelegationQuery DelegationScope::Held() const {
  DelegationQuery q;
  if (kind_ == Kind::kChildren) q.parent_session_id = id_;
  if (kind_ == Kind::kOwner) q.owner = id_;
  return q;
}

Status DelegationScope::NoSuchSession(const std::string& session_id) const {
  const std::string message =
      fmt::format("session {} does not exist; continue a session that delegate_task returned",
                  ToValidUtf8(session_id));
  return Status::NotFound(kind_ == Kind::kChildren ? message : "`session_id`: " + message);
}

Status DelegationScope::MayContinue(const DelegatedSession& s, const std::string& agent) const {
  switch (kind_) {
    case Kind::kChildren:
      if (s.parent_session_id != id_) {
        return Status::FailedPrecondition(fmt::format(
            "session {} was not delegated by session {}; only sessions it delegated can be "
            "continued",
            s.id, id_));
      }
      if (!agent.empty() && agent != s.agent) {
        return Status::InvalidArgument(fmt::format(
            "session {} belongs to agent {}, not {}; leave the agent out to continue it, or "
            "start a new task for {}",
            s.id, s.agent, agent, agent));
      }
      return Status::Ok();
    case Kind::kOwner:
    case Kind::kAll:
      if (kind_ == Kind::kOwner && !s.parent_session_id.empty()) {
        return Status::FailedPrecondition(fmt::format(
            "`session_id`: session {} was delegated by agent session {} and belongs to it; "
            "continue only sessions launched from outside",
            s.id, s.parent_session_id));
      }
      if (!agent.empty() && agent != s.agent) {
        return Status::InvalidArgument(
            fmt::format("`agent`: session {} belongs to agent {}, not {}; leave `agent` out to "
                        "continue it",
                        s.id, s.agent, agent));
      }
      return Status::Ok();
  }
  return Status::Ok();
}

void DelegationScope::PlaceLaunch(DelegateRequest* request) const {
  request->parent_session_id = kind_ == Kind::kChildren ? id_ : "";
  // A native parent session is told of its children's end through the outbox by session id.
  request->owner = kind_ == Kind::kChildren ? "" : id_;
}

std::string DelegationScope::CancelReason() const { return "cancelled by " + who_; }

const char* DelegationScope::verb() const {
  return kind_ == Kind::kChildren ? "delegated" : "launched";
}

std::string DelegationScope::NotVisible(std::string_view argument, const std::string& task_id,
                                        bool holding) const {
  const std::string id = ToValidUtf8(task_id);
  if (kind_ == Kind::kChildren) {
    return "no task `" + id +
           "` among the tasks this session delegated; use a task_id that delegate_task "
           "returned to you";
  }
  if (holding && kind_ == Kind::kOwner) {
    return fmt::format(
        "`{}`: no task {} among the tasks this {} launched; cancel only your own tasks (see "
        "background_list)",
        argument, id, noun_);
  }
  return fmt::format("`{}`: no task {}; use {} that delegate_task or background_list returned",
                     argument, id, argument == "task_ids" ? "task ids" : "a task_id");
}

}  // namespace troupe
