// TaskManager: a session's messages and todo list, for the agent loop. Writes join the current
// batch (or open their own), so a message and the transition it leads to commit together.
#include <fmt/format.h>

#include "engine/task_manager.h"
#include "engine/task_manager_internal.h"

namespace troupe {

Status TaskManager::AppendMessage(MessageRecord* message) {
  BatchScope batch(this);
  if (message->created_at_ms == 0) message->created_at_ms = clock_->WallMs();
  Status s = [&]() -> Status {
    TROUPE_RETURN_IF_ERROR(BeginWrite());
    TROUPE_RETURN_IF_ERROR(store_->AppendMessage(message));
    return store_->TouchSession(message->session_id, message->created_at_ms);
  }();
  if (!s.ok()) {
    batch_failed_ = true;
    ++store_failures_;
  }
  return s;
}

Result<std::vector<MessageRecord>> TaskManager::Messages(const std::string& session_id) {
  return store_->ListMessages(session_id, 0);
}

Status TaskManager::ReplaceTodos(const std::string& session_id,
                                 const std::vector<TodoItem>& items) {
  BatchScope batch(this);
  Status s = [&]() -> Status {
    TROUPE_RETURN_IF_ERROR(BeginWrite());
    return store_->ReplaceTodos(session_id, items);
  }();
  if (!s.ok()) {
    batch_failed_ = true;
    ++store_failures_;
  }
  return s;
}

Result<std::vector<TodoItem>> TaskManager::Todos(const std::string& session_id) {
  return store_->GetTodos(session_id);
}

Result<std::optional<SessionRecord>> TaskManager::Session(const std::string& session_id) {
  return store_->GetSession(session_id);
}

}  // namespace troupe
