// MCP tasks over troupe's own tasks: a troupe task ("bg_…") is an MCP task with the same id.
// - McpTaskOf maps a task to MCP's Task: pending, running and interrupted are "working",
//   completed "completed", error "failed", cancelled "cancelled", with a status message for
//   people (queue position and pool, running time and last tool, the error, …).
// - McpTaskEvents fans the engine's events out, through one EventBus subscription, to watches
//   keyed by the recipient of a task's completion notice (an MCP session's owner name) and by
//   task id: an event costs one lookup per key, however many sessions watch.
//
// Threading: loop thread only (the TaskManager's).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "engine/event_bus.h"
#include "engine/task_manager.h"
#include "mcp/mcp_tool_host.h"

namespace troupe {

McpTaskStatus McpTaskStatusOf(TaskState state);

// The Task.statusMessage of `view` at `now_wall_ms`, e.g. "queued: position 2 in pool
// default:anthropic/claude-sonnet-4 (…)", "running for 12s; last tool: grep", "completed in
// 3.2s", the error of a failed task, the reason of a cancelled one.
std::string McpTaskStatusMessage(const TaskView& view, int64_t now_wall_ms);

McpTask McpTaskOf(const TaskView& view, int64_t now_wall_ms);

// What notifications/message says of a finished task: task_id, session_id, agent, description,
// state, duration_ms, summary.
nlohmann::json McpTaskNoticeDetails(const TaskView& view, int64_t now_wall_ms);

class McpTaskEvents {
 public:
  using Callback = std::function<void(const EngineEvent& event)>;

  // `bus` must outlive this.
  explicit McpTaskEvents(EventBus* bus);
  // Unsubscribes; watches still held stay valid and call nothing.
  ~McpTaskEvents();
  McpTaskEvents(const McpTaskEvents&) = delete;
  McpTaskEvents& operator=(const McpTaskEvents&) = delete;

  // Calls `callback` with each state change that ends a task (completed, error, cancelled)
  // whose completion notice goes to `recipient` (its parent session, or else its owner), until
  // the watch is destroyed.
  std::unique_ptr<McpTaskWatch> WatchEnds(const std::string& recipient, Callback callback);
  // Calls `callback` with each event (state change or progress) of task `task_id`, until the
  // watch is destroyed.
  std::unique_ptr<McpTaskWatch> WatchTask(const std::string& task_id, Callback callback);

  // Watches alive.
  size_t watches() const;

 private:
  struct Registry;
  class Watch;

  EventBus* bus_;
  EventBus::SubscriptionId subscription_ = 0;
  std::shared_ptr<Registry> registry_;
};

}  // namespace troupe
