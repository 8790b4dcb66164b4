// Whose tasks a delegation call may see and act on. Every delegation call — an agent's tool, an
// MCP client's tool or MCP task request, a person at the CLI — carries a scope, and the
// DelegationService (agent/delegation_service.h) asks it, and only it, what is allowed:
//
//   scope            read, wait for            list, "all", cancel     continue a session
//   ChildrenOf(s)    tasks s delegated         tasks s delegated       sessions s delegated
//   OwnedBy(o)       any task, by its id       tasks o owns            top-level sessions
//   Everything()     any task                  any task                any session
//
// OwnedBy reads any task whose id it is given, as the reference system's tools do (an id is
// only known to whoever was given it); it lists, cancels and waits "for all of mine" only what
// it owns, and continues only top-level sessions: a session an agent delegated belongs to that
// agent. ChildrenOf is strict both ways: a task of another session is answered exactly like a
// task that does not exist, so nothing leaks between agents.
//
// A value type; pure.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "agent/agent_host.h"
#include "core/status.h"

namespace troupe {

class DelegationScope {
 public:
  enum class Kind { kChildren, kOwner, kAll };

  // The tasks session `parent_session_id` delegated ("" = no calling session: nothing is
  // allowed, see Check).
  static DelegationScope ChildrenOf(std::string parent_session_id);
  // The tasks of owner `owner` (e.g. "mcp:s1"); `who` names the caller in the reasons and
  // messages people read ("MCP session s1"), `noun` its kind ("MCP session").
  static DelegationScope OwnedBy(std::string owner, std::string noun, std::string who);
  // Every task (the CLI and the REST API: whoever holds the daemon's token); what it launches
  // is owned by `owner`.
  static DelegationScope Everything(std::string owner = "cli");

  Kind kind() const { return kind_; }
  // The parent session, or the owner (of what Everything launches).
  const std::string& id() const { return id_; }

  // OK when calls in this scope can be made at all: ChildrenOf("") cannot (`what` ends the
  // message, e.g. "delegated tasks belong to a session").
  Status Check(std::string_view what) const;

  // background_output and background_wait with task ids.
  bool MayRead(const DelegatedTask& task) const;
  // background_list, background_wait and background_cancel without ids, and cancelling by id.
  bool Holds(const DelegatedTask& task) const;
  // The tasks Holds, as a TaskDelegator query.
  DelegationQuery Held() const;
  // delegate_task(session_id): may `session` be continued from here, with `agent` ("" = the
  // session's own)? The refusal says why and what to do instead.
  Status MayContinue(const DelegatedSession& session, const std::string& agent) const;
  // The session id `session_id` names no session: the error to answer.
  Status NoSuchSession(const std::string& session_id) const;
  // Where a task launched here hangs: its parent session or owner.
  void PlaceLaunch(DelegateRequest* request) const;

  // Why a task cancelled from here was cancelled, as its error reads.
  std::string CancelReason() const;
  // How the caller's own tasks came to be: "delegated" (a session) or "launched".
  const char* verb() const;
  // The answer to a task id this scope may not read (`holding` false) or act on (true) —
  // the same whether the task belongs to someone else or does not exist. `argument` is the
  // argument that named it (task_id, task_ids).
  std::string NotVisible(std::string_view argument, const std::string& task_id, bool holding) const;

 private:
  DelegationScope(Kind kind, std::string id, std::string noun, std::string who)
      : kind_(kind), id_(std::move(id)), noun_(std::move(noun)), who_(std::move(who)) {}

  Kind kind_;
  std::string id_;
  std::string noun_;
  std::string who_;
};

}  // namespace troupe
