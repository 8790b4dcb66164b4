#include "mcp/mcp_wait_progress.h"

#include <fmt/format.h>

#include <utility>

namespace troupe {

McpWaitProgress::McpWaitProgress(Clock* clock, Report report,
                                 const std::vector<std::string>& open_ids, size_t total,
                                 McpWaitProgressOptions options)
    : clock_(clock),
      report_(std::move(report)),
      options_(options),
      open_(open_ids.begin(), open_ids.end()),
      total_(total),
      ended_(total > open_.size() ? total - open_.size() : 0),
      timer_(clock) {}

void McpWaitProgress::Begin(const std::string& message) { Step(message); }

bool McpWaitProgress::Ends(TaskState state) const {
  return IsFinal(state) || (options_.interrupted_ends && state == TaskState::kInterrupted);
}

void McpWaitProgress::OnEvent(const EngineEvent& e) {
  if (stopped_ || e.task == nullptr) return;
  const std::string& id = e.task->id;
  if (open_.count(id) == 0) return;
  if (e.kind == EngineEvent::Kind::kState) {
    const TaskState state = e.task->state;
    if (e.from == state) return;  // the launch
    if (!Ends(state)) {
      Step(fmt::format("{} {}", id, TaskStateName(state)));
      return;
    }
    open_.erase(id);
    ++ended_;
    if (options_.mode == WaitMode::kAny || open_.empty()) {
      Stop();  // the wait is over: its answer follows, and nothing may come after it
      return;
    }
    Step(fmt::format("{} {} ({} of {} finished)", id, TaskStateName(state), ended_, total_));
    return;
  }
  const ProgressUpdate* p = e.progress;
  if (p == nullptr) return;
  if (!p->tool.empty()) {
    Step(fmt::format("{} running {}", id, p->tool));
  } else if (!p->note.empty()) {
    Step(fmt::format("{}: {}", id, p->note));
  }
  // Bytes, tokens and turns alone are no step.
}

void McpWaitProgress::Step(std::string message) {
  if (stopped_) return;
  ++steps_;
  held_ = std::move(message);
  const int64_t now = clock_->NowMs();
  const int64_t next = last_sent_ms_ + options_.interval_ms;
  if (sent_any_ && now < next) {
    if (!timer_.armed()) timer_.Start(next - now, [this] { Flush(); });
    return;
  }
  Flush();
}

void McpWaitProgress::Flush() {
  timer_.Cancel();
  if (stopped_ || !held_) return;
  std::string message = std::move(*held_);
  held_.reset();
  sent_any_ = true;
  last_sent_ms_ = clock_->NowMs();
  report_(static_cast<double>(steps_), std::nullopt, message);
}

void McpWaitProgress::Stop() {
  stopped_ = true;
  held_.reset();
  timer_.Cancel();
}

}  // namespace troupe
