// TaskManager: a session's messages and todo list, for the agent loop. Writes join the current
// batch (or open their own), so a message and the transition it leads to commit together.
#include <fmt/format.h>

#include <memory>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

Status TaskManager::AppendMessage(MessageRecord* message) {
  BatchScope batch(this);
  if (message->created_at_ms == 0) message->created_at_ms = clock_->WallMs();
  const size_t mark = WriteMark();
  auto copy = std::make_shared<MessageRecord>(*message);
  Status s = Write([copy](Store* st) { return st->AppendMessage(copy.get()); }, nullptr, copy);
  Status touched = Write([id = message->session_id, at = message->created_at_ms](Store* st) {
    return st->TouchSession(id, at);
  });
  if (s.ok()) s = touched;
  if (!s.ok()) {
    // A message of a running task is part of what is already running: it is held and saved
    // when the store works again (its seq is then assigned). Anything else is refused.
    auto busy = busy_sessions_.find(message->session_id);
    auto task = busy == busy_sessions_.end() ? active_.end() : active_.find(busy->second);
    const bool running = task != active_.end() && task->second->rec.state == TaskState::kRunning;
    if (running && s.code() == StatusCode::kIoError) return Status::Ok();
    DropWritesSince(mark);
    return s;
  }
  message->seq = copy->seq;
  return s;
}

Result<std::vector<MessageRecord>> TaskManager::Messages(const std::string& session_id) {
  std::vector<MessageRecord> out;
  TROUPE_ASSIGN_OR_RETURN(out, store_->ListMessages(session_id, 0));
  // Then those held for the store, in order (a run that starts meanwhile reads its prompt).
  int64_t seq = out.empty() ? 0 : out.back().seq;
  auto add_held = [&](const JournalEntry& e) {
    if (!e.message || e.message->session_id != session_id) return;
    out.push_back(*e.message);
    out.back().seq = ++seq;
  };
  for (const JournalEntry& e : unsaved_) add_held(e);
  for (const JournalEntry& e : journal_) {
    if (!e.done) add_held(e);
  }
  return out;
}

Status TaskManager::ReplaceTodos(const std::string& session_id,
                                 const std::vector<TodoItem>& items) {
  BatchScope batch(this);
  const size_t mark = WriteMark();
  Status s = Write([session_id, items](Store* st) { return st->ReplaceTodos(session_id, items); });
  if (!s.ok()) DropWritesSince(mark);
  return s;
}

Result<std::vector<TodoItem>> TaskManager::Todos(const std::string& session_id) {
  return store_->GetTodos(session_id);
}

Result<std::optional<SessionRecord>> TaskManager::Session(const std::string& session_id) {
  return store_->GetSession(session_id);
}

}  // namespace troupe
