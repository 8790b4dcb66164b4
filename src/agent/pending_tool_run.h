// The ToolRun every built-in tool returns: it delivers one result to `done`, on the loop, from a
// later turn, and Cancel (or destruction) drops that delivery and kills the run's child process
// group, if it has one, before returning.
#pragma once

#include <functional>
#include <memory>

#include "agent/process_runner.h"
#include "agent/tool.h"

namespace troupe {

class PendingToolRun : public ToolRun {
 public:
  // Runs `work` on context.executor, for context.task_id, and delivers its result. `work` runs on
  // a worker thread: it must own everything it touches (copies of the arguments, the workspace
  // root). `process` (may be null) is the handle `work` runs its child under; Cancel kills it.
  // Work with a process, or `waits` set, is waiting work (BlockingWork::waits). Work that has not
  // started when the run is cancelled never starts. With no executor the result is a tool error.
  static std::unique_ptr<ToolRun> Blocking(const ToolContext& context,
                                           std::function<ToolResult()> work,
                                           std::function<void(ToolResult)> done,
                                           std::shared_ptr<ProcessHandle> process = nullptr,
                                           bool waits = false);

  // Delivers a result computed already (a validation error, a cheap answer) from a later loop
  // turn: through context.clock's timer when there is a clock, else through the executor.
  static std::unique_ptr<ToolRun> Answer(const ToolContext& context, ToolResult result,
                                         std::function<void(ToolResult)> done);

  ~PendingToolRun() override { Cancel(); }
  void Cancel() override;

 private:
  // Loop-thread state shared with the delivery callback; `done` is cleared once used or
  // cancelled.
  struct State {
    std::function<void(ToolResult)> done;
  };

  explicit PendingToolRun(std::function<void(ToolResult)> done);
  // The callback that delivers into `state_`, at most once.
  std::function<void(ToolResult)> Deliverer() const;

  std::shared_ptr<State> state_;
  std::shared_ptr<ProcessHandle> process_;
  std::shared_ptr<std::atomic<bool>> abandoned_;  // set by Cancel, read by the executor
  Clock* clock_ = nullptr;
  TimerId timer_ = 0;
};

}  // namespace troupe
