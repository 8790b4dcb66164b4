#include "mcp/mcp_engine_tasks.h"

#include <fmt/format.h>

#include <map>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/duration_format.h"
#include "core/utf8.h"
#include "engine/engine_delegator.h"

namespace troupe {

McpTaskStatus McpTaskStatusOf(TaskState state) {
  switch (state) {
    case TaskState::kCompleted:
      return McpTaskStatus::kCompleted;
    case TaskState::kError:
      return McpTaskStatus::kFailed;
    case TaskState::kCancelled:
      return McpTaskStatus::kCancelled;
    case TaskState::kPending:
    case TaskState::kRunning:
    case TaskState::kInterrupted:
      return McpTaskStatus::kWorking;
  }
  return McpTaskStatus::kWorking;
}

std::string McpTaskStatusMessage(const TaskView& view, int64_t now_wall_ms) {
  const TaskRecord& r = view.task;
  const DelegatedTask t = DelegatedTaskOf(view, now_wall_ms);
  switch (r.state) {
    case TaskState::kPending: {
      if (view.queue_position <= 0) return "queued: waiting for a slot";
      std::string message =
          fmt::format("queued: position {} in pool {}", view.queue_position, view.pool);
      if (!view.waiting_reason.empty()) {
        message.append(" (").append(view.waiting_reason).append(")");
      }
      return message;
    }
    case TaskState::kRunning: {
      std::string message = fmt::format("running for {}", FormatDuration(t.duration_ms));
      if (!r.last_tool.empty()) message.append("; last tool: ").append(r.last_tool);
      return message;
    }
    case TaskState::kInterrupted:
      return "interrupted: the daemon stopped while it ran; it resumes when the daemon starts "
             "again";
    case TaskState::kCompleted:
      return fmt::format("completed in {}", FormatDuration(t.duration_ms));
    case TaskState::kError:
      return ToValidUtf8(r.error.empty() ? std::string("failed") : r.error);
    case TaskState::kCancelled:
      return ToValidUtf8(r.error.empty() ? std::string("cancelled") : r.error);
  }
  return "";
}

McpTask McpTaskOf(const TaskView& view, int64_t now_wall_ms) {
  McpTask task;
  task.task_id = view.task.id;
  task.status = McpTaskStatusOf(view.task.state);
  task.status_message = McpTaskStatusMessage(view, now_wall_ms);
  task.created_at_ms = view.task.created_at_ms;
  task.updated_at_ms = view.task.updated_at_ms;
  return task;
}

nlohmann::json McpTaskNoticeDetails(const TaskView& view, int64_t now_wall_ms) {
  const DelegatedTask t = DelegatedTaskOf(view, now_wall_ms);
  return {{"task_id", t.task_id},
          {"session_id", t.session_id},
          {"agent", t.agent},
          {"description", ToValidUtf8(t.description)},
          {"state", t.state},
          {"duration_ms", t.duration_ms},
          {"summary", ToValidUtf8(TaskCompletionSummary(view.task))}};
}

// --- McpTaskEvents ---------------------------------------------------------------------------

struct McpTaskEvents::Registry {
  using Index = std::unordered_multimap<std::string, uint64_t>;

  uint64_t next_id = 1;
  // Shared so that a callback may end its own watch (or another) while it runs.
  std::map<uint64_t, std::shared_ptr<Callback>> callbacks;
  Index by_recipient;
  Index by_task;

  static void Collect(const Index& index, const std::string& key, std::vector<uint64_t>* ids) {
    auto [begin, end] = index.equal_range(key);
    for (auto it = begin; it != end; ++it) ids->push_back(it->second);
  }

  void Dispatch(const EngineEvent& e) {
    if (e.task == nullptr) return;
    std::vector<uint64_t> ids;
    Collect(by_task, e.task->id, &ids);
    const TaskRecord& t = *e.task;
    if (e.kind == EngineEvent::Kind::kState && IsFinal(t.state) && e.from != t.state) {
      Collect(by_recipient, t.parent_session_id.empty() ? t.owner : t.parent_session_id, &ids);
    }
    for (uint64_t id : ids) {
      auto it = callbacks.find(id);
      if (it == callbacks.end()) continue;  // ended by an earlier callback
      std::shared_ptr<Callback> callback = it->second;
      (*callback)(e);
    }
  }

  void Remove(Index* index, const std::string& key, uint64_t id) {
    callbacks.erase(id);
    auto [begin, end] = index->equal_range(key);
    for (auto it = begin; it != end; ++it) {
      if (it->second == id) {
        index->erase(it);
        return;
      }
    }
  }
};

class McpTaskEvents::Watch : public McpTaskWatch {
 public:
  Watch(std::weak_ptr<Registry> registry, Registry::Index Registry::*index, std::string key,
        uint64_t id)
      : registry_(std::move(registry)), index_(index), key_(std::move(key)), id_(id) {}
  ~Watch() override {
    if (auto registry = registry_.lock()) registry->Remove(&((*registry).*index_), key_, id_);
  }

 private:
  std::weak_ptr<Registry> registry_;
  Registry::Index Registry::*index_;
  std::string key_;
  uint64_t id_;
};

McpTaskEvents::McpTaskEvents(EventBus* bus) : bus_(bus), registry_(std::make_shared<Registry>()) {
  std::weak_ptr<Registry> registry = registry_;
  subscription_ = bus_->Subscribe([registry](const EngineEvent& e) {
    if (auto r = registry.lock()) r->Dispatch(e);
  });
}

McpTaskEvents::~McpTaskEvents() { bus_->Unsubscribe(subscription_); }

std::unique_ptr<McpTaskWatch> McpTaskEvents::WatchEnds(const std::string& recipient,
                                                       Callback callback) {
  const uint64_t id = registry_->next_id++;
  registry_->callbacks.emplace(id, std::make_shared<Callback>(std::move(callback)));
  registry_->by_recipient.emplace(recipient, id);
  return std::make_unique<Watch>(registry_, &Registry::by_recipient, recipient, id);
}

std::unique_ptr<McpTaskWatch> McpTaskEvents::WatchTask(const std::string& task_id,
                                                       Callback callback) {
  const uint64_t id = registry_->next_id++;
  registry_->callbacks.emplace(id, std::make_shared<Callback>(std::move(callback)));
  registry_->by_task.emplace(task_id, id);
  return std::make_unique<Watch>(registry_, &Registry::by_task, task_id, id);
}

size_t McpTaskEvents::watches() const { return registry_->callbacks.size(); }

}  // namespace troupe
