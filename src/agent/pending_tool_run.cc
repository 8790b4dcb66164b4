#include "agent/pending_tool_run.h"

namespace troupe {

PendingToolRun::PendingToolRun(std::function<void(ToolResult)> done)
    : state_(std::make_shared<State>()) {
  state_->done = std::move(done);
}

std::function<void(ToolResult)> PendingToolRun::Deliverer() const {
  return [state = state_](ToolResult result) {
    if (!state->done) return;
    auto done = std::move(state->done);
    state->done = nullptr;
    done(std::move(result));
  };
}

std::unique_ptr<ToolRun> PendingToolRun::Blocking(const ToolContext& context,
                                                  std::function<ToolResult()> work,
                                                  std::function<void(ToolResult)> done,
                                                  std::shared_ptr<ProcessHandle> process,
                                                  bool waits) {
  if (context.executor == nullptr) {
    return Answer(context, ToolResult::Error("internal error: no executor to run the tool on"),
                  std::move(done));
  }
  std::unique_ptr<PendingToolRun> run(new PendingToolRun(std::move(done)));
  BlockingWork what;
  what.owner = context.task_id;
  what.waits = waits || process != nullptr;
  what.abandoned = std::make_shared<std::atomic<bool>>(false);
  run->abandoned_ = what.abandoned;
  run->process_ = std::move(process);
  context.executor->RunFor(what, std::move(work), run->Deliverer());
  return run;
}

std::unique_ptr<ToolRun> PendingToolRun::Answer(const ToolContext& context, ToolResult result,
                                                std::function<void(ToolResult)> done) {
  std::unique_ptr<PendingToolRun> run(new PendingToolRun(std::move(done)));
  if (context.clock != nullptr) {
    run->clock_ = context.clock;
    run->timer_ = context.clock->StartTimer(
        0, [deliver = run->Deliverer(), result = std::move(result)]() mutable {
          deliver(std::move(result));
        });
  } else if (context.executor != nullptr) {
    context.executor->Run([result = std::move(result)] { return result; }, run->Deliverer());
  }
  // With neither clock nor executor there is no loop to answer on: `done` is never called. The
  // agent loop always provides both.
  return run;
}

void PendingToolRun::Cancel() {
  state_->done = nullptr;
  if (abandoned_ != nullptr) abandoned_->store(true);
  if (process_ != nullptr) process_->Kill();
  if (clock_ != nullptr && timer_ != 0) clock_->CancelTimer(timer_);
  timer_ = 0;
}

}  // namespace troupe
